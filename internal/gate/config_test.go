package gate

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
)

func TestDefault(t *testing.T) {
	got := Default()
	want := &Config{
		SensitiveNamespaceLabel: "data-classification=restricted",
		Rules: map[string]RuleConfig{
			"undeclared-egress":    {Severity: Error},
			"internet-egress":      {Severity: Error},
			"sensitive-ingress":    {Severity: Error},
			"missing-default-deny": {Severity: Warning},
			"new-cross-namespace":  {Severity: Warning},
		},
		FailOn:        []Severity{Error},
		InventoryFile: "subprocessors.yaml",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Default() mismatch (-want +got):\n%s", diff)
	}
	// Each call is a fresh value: callers may edit it.
	got.Rules[RuleInternetEgress] = RuleConfig{Severity: Off}
	if Default().Rules[RuleInternetEgress].Severity != Error {
		t.Errorf("Default() shares state between calls")
	}
}

func TestParseDesignExample(t *testing.T) {
	data, err := os.ReadFile("testdata/reachdiff.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, diags := Parse(".github/reachdiff.yaml", data)
	if len(diags) != 0 {
		t.Fatalf("Parse(design example) diagnostics = %v; want none", diags)
	}
	want := Default()
	want.Rules = map[string]RuleConfig{
		"undeclared-egress":    {Severity: Error, Line: 6},
		"internet-egress":      {Severity: Error, Line: 7},
		"sensitive-ingress":    {Severity: Error, AllowFrom: []string{"ingress-nginx", "monitoring"}, Line: 8},
		"missing-default-deny": {Severity: Warning, Line: 9},
		"new-cross-namespace":  {Severity: Warning, Line: 10},
	}
	want.Acknowledge = []Ack{{Hash: "3f9a1c0e", Reason: "payments may call PayCo's new range, approved in SEC-142", Line: 12}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(design example) mismatch (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	const head = "apiVersion: reachdiff.dev/v1\nkind: GateConfig\n"
	tests := []struct {
		name string
		in   string
		// edit turns Default() into the wanted config.
		edit func(c *Config)
	}{
		{
			name: "header only keeps every default",
			in:   head,
			edit: func(c *Config) {},
		},
		{
			name: "absent rules keep defaults, present ones replace",
			in:   head + "rules:\n  internet-egress: {severity: warning}\n  new-cross-namespace:\n    severity: off\n",
			edit: func(c *Config) {
				c.Rules[RuleInternetEgress] = RuleConfig{Severity: Warning, Line: 4}
				c.Rules[RuleNewCrossNamespace] = RuleConfig{Severity: Off, Line: 5}
			},
		},
		{
			name: "rule without severity keeps the default severity",
			in:   head + "rules:\n  sensitive-ingress: {allowFrom: [monitoring, monitoring, kube-system]}\n",
			edit: func(c *Config) {
				c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Error, AllowFrom: []string{"kube-system", "monitoring"}, Line: 4}
			},
		},
		{
			name: "custom label",
			in:   head + "sensitiveNamespaceLabel: example.com/tier=pci\n",
			edit: func(c *Config) { c.SensitiveNamespaceLabel = "example.com/tier=pci" },
		},
		{
			name: "label with empty value",
			in:   head + "sensitiveNamespaceLabel: 'pii='\n",
			edit: func(c *Config) { c.SensitiveNamespaceLabel = "pii=" },
		},
		{
			name: "hashes are case-insensitive and stored lower case",
			in:   head + "acknowledge:\n  - {hash: 3F9A1C0E, reason: ok}\n",
			edit: func(c *Config) { c.Acknowledge = []Ack{{Hash: "3f9a1c0e", Reason: "ok", Line: 4}} },
		},
		{
			name: "null sections",
			in:   head + "rules:\nacknowledge:\n",
			edit: func(c *Config) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Parse("c.yaml", []byte(tt.in))
			if len(diags) != 0 {
				t.Fatalf("Parse(%q) diagnostics = %v; want none", tt.in, diags)
			}
			want := Default()
			tt.edit(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const head = "apiVersion: reachdiff.dev/v1\nkind: GateConfig\n"
	tests := []struct {
		name string
		in   string
		want []string // "line: message substring", errors only, in order
	}{
		{"unknown rule", head + "rules:\n  undeclared-egres: {severity: error}\n",
			[]string{`4: unknown rule "undeclared-egres"`}},
		{"unknown top-level field", head + "rulez: {}\n",
			[]string{`3: unknown field "rulez" in gate config`}},
		{"unknown rule field", head + "rules:\n  internet-egress:\n    severity: error\n    allow: [x]\n",
			[]string{`6: unknown field "allow" in rule internet-egress`}},
		{"unknown ack field", head + "acknowledge:\n  - hash: 3f9a1c0e\n    reason: r\n    by: me\n",
			[]string{`6: unknown field "by" in acknowledge entry`}},
		{"bad severity", head + "rules:\n  internet-egress: {severity: fatal}\n",
			[]string{`4: rule internet-egress: bad severity "fatal"`}},
		{"severity not a string", head + "rules:\n  internet-egress: {severity: [error]}\n",
			[]string{`4: rule internet-egress severity: want a string, got a list`}},
		{"malformed label", head + "sensitiveNamespaceLabel: restricted\n",
			[]string{`3: sensitiveNamespaceLabel "restricted": want key=value`}},
		{"bad label key", head + "sensitiveNamespaceLabel: 'bad key=x'\n",
			[]string{`3: sensitiveNamespaceLabel "bad key=x": bad label key`}},
		{"bad label value", head + "sensitiveNamespaceLabel: 'k=a b'\n",
			[]string{`3: sensitiveNamespaceLabel "k=a b": bad label value`}},
		{"bad hash", head + "acknowledge:\n  - {hash: 3f9a1c0, reason: r}\n  - {hash: zzzzzzzz, reason: r}\n",
			[]string{`4: acknowledge hash "3f9a1c0"`, `5: acknowledge hash "zzzzzzzz"`}},
		{"ack without hash", head + "acknowledge:\n  - reason: r\n",
			[]string{`4: acknowledge entry has no hash`}},
		{"ack without reason", head + "acknowledge:\n  - hash: 3f9a1c0e\n",
			[]string{`4: acknowledge 3f9a1c0e has no reason`}},
		{"allowFrom on another rule", head + "rules:\n  new-cross-namespace: {allowFrom: [a]}\n",
			[]string{`4: rule new-cross-namespace: allowFrom applies only to sensitive-ingress`}},
		{"allowFrom not a namespace", head + "rules:\n  sensitive-ingress:\n    allowFrom: [Monitoring]\n",
			[]string{`5: rule sensitive-ingress allowFrom: "Monitoring" is not a namespace name`}},
		{"allowFrom scalar", head + "rules:\n  sensitive-ingress: {allowFrom: monitoring}\n",
			[]string{`4: rule sensitive-ingress allowFrom: want a list of namespaces`}},
		{"repeated rule", head + "rules:\n  internet-egress: {severity: off}\n  internet-egress: {severity: error}\n",
			[]string{`5: field "internet-egress" repeated`}},
		{"wrong apiVersion", "apiVersion: v1\nkind: GateConfig\n",
			[]string{`1: apiVersion "v1": want reachdiff.dev/v1`}},
		{"wrong kind", "apiVersion: reachdiff.dev/v1\nkind: SubprocessorInventory\n",
			[]string{`2: kind "SubprocessorInventory": want GateConfig`}},
		{"missing header", "rules: {}\n",
			[]string{`1: gate config has no apiVersion`, `1: gate config has no kind`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`1: gate config: want a mapping, got a list`}},
		{"rules not a mapping", head + "rules: [internet-egress]\n",
			[]string{`3: rules: want a mapping, got a list`}},
		{"yaml syntax error", head + "rules: {internet-egress: [\n",
			[]string{`: parse gate config: yaml:`}},
		{"empty file", "",
			[]string{`0: empty gate config`}},
		{"two documents", head + "---\n" + head,
			[]string{`: gate config holds more than one YAML document`}},
		{"alias", head + "x: &a {severity: off}\nrules:\n  internet-egress: *a\n",
			[]string{`3: unknown field "x"`, `5: rule internet-egress: YAML aliases are not supported`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, diags := Parse("c.yaml", []byte(tt.in))
			if cfg != nil {
				t.Errorf("Parse(%q) config = %+v; want nil on errors", tt.in, cfg)
			}
			var got []string
			for _, d := range diags {
				if d.Severity != diag.Error {
					continue
				}
				if d.File != "c.yaml" {
					t.Errorf("Parse(%q) diagnostic %v: file %q; want c.yaml", tt.in, d, d.File)
				}
				got = append(got, strings.TrimPrefix(d.String(), "c.yaml:"))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Parse(%q) errors = %q; want %d matching %q", tt.in, got, len(tt.want), tt.want)
			}
			for i := range got {
				if strings.HasPrefix(tt.want[i], ":") {
					// No line known in advance (yaml syntax): check the message.
					if !strings.Contains(got[i], tt.want[i][1:]) {
						t.Errorf("Parse(%q) error %d = %q; want it to contain %q", tt.in, i, got[i], tt.want[i][1:])
					}
					continue
				}
				line, msg, _ := strings.Cut(tt.want[i], ": ")
				wantPrefix := line + ": error: " + msg
				if line == "0" {
					wantPrefix = " error: " + msg
				}
				if !strings.HasPrefix(got[i], wantPrefix) {
					t.Errorf("Parse(%q) error %d = %q; want prefix %q", tt.in, i, got[i], wantPrefix)
				}
			}
		})
	}
}

func TestParseYAMLSyntaxLine(t *testing.T) {
	in := "apiVersion: reachdiff.dev/v1\nkind: GateConfig\nrules:\n  a: b\n c: d\n"
	_, diags := Parse("c.yaml", []byte(in))
	if len(diags) != 1 || diags[0].Line == 0 {
		t.Errorf("Parse(%q) = %v; want one error with a line", in, diags)
	}
}

func TestParseDuplicateAckWarns(t *testing.T) {
	in := "apiVersion: reachdiff.dev/v1\nkind: GateConfig\nacknowledge:\n  - {hash: 3f9a1c0e, reason: first}\n  - {hash: 3F9A1C0E, reason: second}\n"
	cfg, diags := Parse("c.yaml", []byte(in))
	want := []diag.Diagnostic{{Severity: diag.Warning, File: "c.yaml", Line: 5,
		Message: "acknowledge 3f9a1c0e repeated (first at line 4); the first reason is used"}}
	if diff := cmp.Diff(want, diags); diff != "" {
		t.Errorf("Parse(%q) diagnostics mismatch (-want +got):\n%s", in, diff)
	}
	if cfg == nil || len(cfg.Acknowledge) != 1 || cfg.Acknowledge[0].Reason != "first" {
		t.Errorf("Parse(%q) = %+v; want one ack with reason first", in, cfg)
	}
}
