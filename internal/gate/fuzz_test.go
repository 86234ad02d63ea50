package gate

import (
	"testing"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// FuzzParse checks that no input panics Parse, that errors always come with
// a nil config and a file name, and that an accepted config only holds
// known rules, valid severities, a valid label and valid hashes, and
// evaluates without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte("apiVersion: reachdiff.dev/v1\nkind: GateConfig\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, diags := Parse("f.yaml", data)
		for _, d := range diags {
			if d.File != "f.yaml" || d.Message == "" {
				t.Fatalf("Parse(%q) diagnostic %+v; want file f.yaml and a message", data, d)
			}
		}
		if diag.HasErrors(diags) {
			if cfg != nil {
				t.Fatalf("Parse(%q) = %+v with errors %v; want nil config", data, cfg, diags)
			}
			return
		}
		if cfg == nil {
			t.Fatalf("Parse(%q) = nil without errors", data)
		}
		if err := checkLabel(cfg.SensitiveNamespaceLabel); err != nil {
			t.Fatalf("Parse(%q) accepted label %q: %v", data, cfg.SensitiveNamespaceLabel, err)
		}
		for name, rc := range cfg.Rules {
			if _, ok := defaultSeverity[name]; !ok {
				t.Fatalf("Parse(%q) accepted unknown rule %q", data, name)
			}
			if _, err := ParseSeverity(string(rc.Severity)); err != nil {
				t.Fatalf("Parse(%q) accepted rule %s: %v", data, name, err)
			}
		}
		for _, a := range cfg.Acknowledge {
			if h, ok := normalizeHash(a.Hash); !ok || h != a.Hash || a.Reason == "" {
				t.Fatalf("Parse(%q) accepted ack %+v", data, a)
			}
		}
		r := Evaluate(cfg, Input{Opened: []Path{undeclared, crossNS, fromIngress}, HeadNamespaces: headNamespaces})
		if r.Conclusion != Success && r.Conclusion != Failure {
			t.Fatalf("Evaluate(Parse(%q)).Conclusion = %q", data, r.Conclusion)
		}
	})
}
