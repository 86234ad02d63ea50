package gate

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// Paths used across the tests.
var (
	undeclared = Path{Src: "shop/frontend[Deployment]", Dst: "203.0.113.0/24", SrcNamespace: "shop",
		External: true, Undeclared: true, Opened: "TCP 443", PolicyFile: "base/netpol.yaml", PolicyLine: 14}
	declared = Path{Src: "shop/frontend[Deployment]", Dst: "198.51.100.0/24", SrcNamespace: "shop",
		External: true, Subprocessor: "Stripe", Opened: "TCP 443"}
	internet = Path{Src: "shop/frontend[Deployment]", Dst: "0.0.0.0/0", SrcNamespace: "shop",
		External: true, Internet: true, Undeclared: true, Opened: "All Connections", PolicyFile: "base/egress.yaml", PolicyLine: 3}
	crossNS = Path{Src: "shop/frontend[Deployment]", Dst: "payments/db[StatefulSet]", SrcNamespace: "shop",
		DstNamespace: "payments", Opened: "TCP 5432", PolicyFile: "payments/netpol.yaml", PolicyLine: 9}
	sameNS = Path{Src: "payments/api[Deployment]", Dst: "payments/db[StatefulSet]", SrcNamespace: "payments",
		DstNamespace: "payments", Opened: "TCP 5432"}
	fromMonitoring = Path{Src: "monitoring/prometheus[Deployment]", Dst: "payments/db[StatefulSet]", SrcNamespace: "monitoring",
		DstNamespace: "payments", Opened: "TCP 9187"}
	fromIngress = Path{Src: "{ingress-controller}", Dst: "payments/api[Deployment]",
		DstNamespace: "payments", Opened: "TCP 8080"}
	fromExternal = Path{Src: "192.0.2.0/24", Dst: "cards/vault[Deployment]", DstNamespace: "cards", Opened: "TCP 8200"}
	intoShop     = Path{Src: "payments/api[Deployment]", Dst: "shop/cart[Deployment]", SrcNamespace: "payments",
		DstNamespace: "shop", Opened: "TCP 80"}
)

// guarded is a namespace with workloads and default-deny both ways.
func guarded(name string, labels map[string]string) Namespace {
	return Namespace{Name: name, Labels: labels, HasWorkloads: true, DefaultDenyIngress: true, DefaultDenyEgress: true}
}

var headNamespaces = []Namespace{
	guarded("shop", nil),
	guarded("payments", map[string]string{"data-classification": "restricted"}),
	guarded("monitoring", nil),
	guarded("cards", map[string]string{"example.com/tier": "pci"}),
}

// summary prints a violation compactly: "severity rule subject".
func summary(v Violation) string {
	subject := v.Namespace
	if v.Path != nil {
		subject = v.Path.Src + " -> " + v.Path.Dst
	}
	s := fmt.Sprintf("%s %s %s", v.Severity, v.Rule, subject)
	if v.Acknowledged {
		s += " (acknowledged: " + v.AckReason + ")"
	}
	return s
}

func summaries(r Result) []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, summary(v))
	}
	return out
}

func TestEvaluateRules(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(c *Config) // edits Default(); nil keeps it
		opened []Path
		base   []Namespace // nil: same as head
		head   []Namespace // nil: headNamespaces
		want   []string
		conc   string
	}{
		{name: "nothing opened", conc: Success},
		{
			name:   "undeclared egress",
			opened: []Path{undeclared},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24"},
			conc:   Failure,
		},
		{name: "egress to a declared sub-processor", opened: []Path{declared}, conc: Success},
		{
			name:   "internet egress is also undeclared",
			opened: []Path{internet},
			want: []string{
				"error internet-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"error undeclared-egress shop/frontend[Deployment] -> 0.0.0.0/0",
			},
			conc: Failure,
		},
		{
			name:   "internet egress off leaves undeclared egress",
			cfg:    func(c *Config) { c.Rules[RuleInternetEgress] = RuleConfig{Severity: Off} },
			opened: []Path{internet},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 0.0.0.0/0"},
			conc:   Failure,
		},
		{
			name: "egress rules as warnings do not fail",
			cfg: func(c *Config) {
				c.Rules[RuleInternetEgress] = RuleConfig{Severity: Warning}
				c.Rules[RuleUndeclaredEgress] = RuleConfig{Severity: Warning}
			},
			opened: []Path{internet},
			want: []string{
				"warning internet-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"warning undeclared-egress shop/frontend[Deployment] -> 0.0.0.0/0",
			},
			conc: Success,
		},
		{
			name:   "into a sensitive namespace from another namespace",
			opened: []Path{crossNS},
			want: []string{
				"error sensitive-ingress shop/frontend[Deployment] -> payments/db[StatefulSet]",
				"warning new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]",
			},
			conc: Failure,
		},
		{name: "inside a sensitive namespace", opened: []Path{sameNS}, conc: Success},
		{
			name:   "into a namespace that is not sensitive",
			opened: []Path{intoShop},
			want:   []string{"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]"},
			conc:   Success,
		},
		{
			name: "from a namespace outside allowFrom",
			cfg: func(c *Config) {
				c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Error, AllowFrom: []string{"ingress-nginx"}}
			},
			opened: []Path{fromMonitoring},
			want: []string{
				"error sensitive-ingress monitoring/prometheus[Deployment] -> payments/db[StatefulSet]",
				"warning new-cross-namespace monitoring/prometheus[Deployment] -> payments/db[StatefulSet]",
			},
			conc: Failure,
		},
		{
			name: "from an allowFrom namespace",
			cfg: func(c *Config) {
				c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Error, AllowFrom: []string{"monitoring"}}
			},
			opened: []Path{fromMonitoring},
			want:   []string{"warning new-cross-namespace monitoring/prometheus[Deployment] -> payments/db[StatefulSet]"},
			conc:   Success,
		},
		{
			name: "non-workload sources count as outside",
			cfg: func(c *Config) {
				c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Error, AllowFrom: []string{"monitoring"}}
			},
			opened: []Path{fromIngress},
			want:   []string{"error sensitive-ingress {ingress-controller} -> payments/api[Deployment]"},
			conc:   Failure,
		},
		{
			name:   "external source into a namespace with the default label",
			opened: []Path{fromExternal},
			conc:   Success, // cards carries tier=pci, not the default label
		},
		{
			name:   "custom label",
			cfg:    func(c *Config) { c.SensitiveNamespaceLabel = "example.com/tier=pci" },
			opened: []Path{fromExternal, crossNS},
			want: []string{
				"error sensitive-ingress 192.0.2.0/24 -> cards/vault[Deployment]",
				"warning new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]",
			},
			conc: Failure,
		},
		{
			name:   "label value must match",
			cfg:    func(c *Config) { c.SensitiveNamespaceLabel = "example.com/tier=internal" },
			opened: []Path{fromExternal},
			conc:   Success,
		},
		{
			name:   "sensitive namespace labelled only at base",
			opened: []Path{crossNS},
			base:   []Namespace{guarded("shop", nil), guarded("payments", map[string]string{"data-classification": "restricted"})},
			head:   []Namespace{guarded("shop", nil), guarded("payments", nil)},
			want:   []string{"warning new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]"},
			conc:   Success,
		},
		{
			name:   "destination namespace unknown",
			opened: []Path{crossNS},
			head:   []Namespace{guarded("shop", nil)},
			base:   []Namespace{guarded("shop", nil)},
			want:   []string{"warning new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]"},
			conc:   Success,
		},
		{
			name:   "sensitive ingress as warning",
			cfg:    func(c *Config) { c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Warning} },
			opened: []Path{crossNS},
			want: []string{
				"warning new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]",
				"warning sensitive-ingress shop/frontend[Deployment] -> payments/db[StatefulSet]",
			},
			conc: Success,
		},
		{
			name: "sensitive ingress and cross namespace off",
			cfg: func(c *Config) {
				c.Rules[RuleSensitiveIngress] = RuleConfig{Severity: Off}
				c.Rules[RuleNewCrossNamespace] = RuleConfig{Severity: Off}
			},
			opened: []Path{crossNS, fromIngress},
			conc:   Success,
		},
		{
			name:   "cross namespace as error",
			cfg:    func(c *Config) { c.Rules[RuleNewCrossNamespace] = RuleConfig{Severity: Error} },
			opened: []Path{intoShop},
			want:   []string{"error new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]"},
			conc:   Failure,
		},
		{
			name:   "fail on warnings",
			cfg:    func(c *Config) { c.FailOn = []Severity{Error, Warning} },
			opened: []Path{intoShop},
			want:   []string{"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]"},
			conc:   Failure,
		},
		{
			name:   "empty FailOn means errors",
			cfg:    func(c *Config) { c.FailOn = nil },
			opened: []Path{undeclared, intoShop},
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Failure,
		},
		{
			name:   "same path listed twice",
			opened: []Path{undeclared, undeclared},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24"},
			conc:   Failure,
		},
		{
			name: "new namespace without default-deny",
			base: []Namespace{guarded("shop", nil)},
			head: []Namespace{guarded("shop", nil), {Name: "batch", HasWorkloads: true, DefaultDenyIngress: true}},
			want: []string{"warning missing-default-deny batch"},
			conc: Success,
		},
		{
			name: "new namespace without workloads",
			base: []Namespace{guarded("shop", nil)},
			head: []Namespace{guarded("shop", nil), {Name: "empty"}},
			conc: Success,
		},
		{
			name: "namespace gets its first workloads",
			base: []Namespace{{Name: "batch"}},
			head: []Namespace{{Name: "batch", HasWorkloads: true}},
			want: []string{"warning missing-default-deny batch"},
			conc: Success,
		},
		{
			name: "namespace lost default-deny egress",
			base: []Namespace{guarded("shop", nil)},
			head: []Namespace{{Name: "shop", HasWorkloads: true, DefaultDenyIngress: true}},
			want: []string{"warning missing-default-deny shop"},
			conc: Success,
		},
		{
			name: "namespace already without default-deny is a note only",
			base: []Namespace{{Name: "legacy", HasWorkloads: true, DefaultDenyIngress: true}},
			head: []Namespace{{Name: "legacy", HasWorkloads: true, DefaultDenyIngress: true}},
			conc: Success,
		},
		{
			name: "missing default-deny as error",
			cfg:  func(c *Config) { c.Rules[RuleMissingDefaultDeny] = RuleConfig{Severity: Error} },
			base: []Namespace{},
			head: []Namespace{{Name: "batch", HasWorkloads: true}},
			want: []string{"error missing-default-deny batch"},
			conc: Failure,
		},
		{
			name: "missing default-deny off",
			cfg:  func(c *Config) { c.Rules[RuleMissingDefaultDeny] = RuleConfig{Severity: Off} },
			base: []Namespace{},
			head: []Namespace{{Name: "batch", HasWorkloads: true}},
			conc: Success,
		},
		{
			name:   "errors sort before warnings, then by rule",
			cfg:    func(c *Config) { c.Rules[RuleNewCrossNamespace] = RuleConfig{Severity: Error} },
			opened: []Path{intoShop, internet, crossNS, undeclared},
			base:   []Namespace{},
			head:   append([]Namespace{{Name: "batch", HasWorkloads: true}}, headNamespaces...),
			want: []string{
				"error internet-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"error new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
				"error new-cross-namespace shop/frontend[Deployment] -> payments/db[StatefulSet]",
				"error sensitive-ingress shop/frontend[Deployment] -> payments/db[StatefulSet]",
				"error undeclared-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24",
				"warning missing-default-deny batch",
			},
			conc: Failure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			if tt.cfg != nil {
				tt.cfg(cfg)
			}
			head := tt.head
			if head == nil {
				head = headNamespaces
			}
			base := tt.base
			if base == nil {
				base = head
			}
			in := Input{Opened: tt.opened, BaseNamespaces: base, HeadNamespaces: head}
			got := Evaluate(cfg, in)
			if diff := cmp.Diff(tt.want, summaries(got)); diff != "" {
				t.Errorf("Evaluate(%+v) violations mismatch (-want +got):\n%s", in, diff)
			}
			if got.Conclusion != tt.conc {
				t.Errorf("Evaluate(%+v).Conclusion = %s; want %s", in, got.Conclusion, tt.conc)
			}
		})
	}
}

func TestEvaluateViolationDetails(t *testing.T) {
	in := Input{
		Opened:         []Path{undeclared, crossNS, fromIngress},
		BaseNamespaces: headNamespaces[:3],
		HeadNamespaces: append([]Namespace{{Name: "batch", HasWorkloads: true, DefaultDenyEgress: true}}, headNamespaces[:3]...),
	}
	got := Evaluate(nil, in)
	p := func(p Path) *Path { return &p }
	want := []Violation{
		{
			Rule: "sensitive-ingress", Severity: Error, Path: p(crossNS), Namespace: "payments",
			Message: "shop/frontend[Deployment] can newly reach payments/db[StatefulSet] (TCP 5432) in namespace payments, labelled sensitive (data-classification=restricted)",
			Hash:    ViolationHash("sensitive-ingress", "shop/frontend[Deployment]", "payments/db[StatefulSet]", "TCP 5432"),
			Fix: "narrow the rule at payments/netpol.yaml:9 to sources inside payments, add shop to allowFrom of sensitive-ingress in the gate config, or acknowledge with hash " +
				ViolationHash("sensitive-ingress", "shop/frontend[Deployment]", "payments/db[StatefulSet]", "TCP 5432"),
		},
		{
			Rule: "sensitive-ingress", Severity: Error, Path: p(fromIngress), Namespace: "payments",
			Message: "{ingress-controller} can newly reach payments/api[Deployment] (TCP 8080) in namespace payments, labelled sensitive (data-classification=restricted)",
			Hash:    ViolationHash("sensitive-ingress", "{ingress-controller}", "payments/api[Deployment]", "TCP 8080"),
			Fix:     "narrow the rule that opens it to sources inside payments, or acknowledge with hash " + ViolationHash("sensitive-ingress", "{ingress-controller}", "payments/api[Deployment]", "TCP 8080"),
		},
		{
			Rule: "undeclared-egress", Severity: Error, Path: p(undeclared),
			Message: "shop/frontend[Deployment] can newly reach 203.0.113.0/24 (TCP 443), which no sub-processor in the inventory owns",
			Hash:    ViolationHash("undeclared-egress", "shop/frontend[Deployment]", "203.0.113.0/24", "TCP 443"),
			Fix: "declare 203.0.113.0/24 in subprocessors.yaml, narrow the rule at base/netpol.yaml:14, or acknowledge with hash " +
				ViolationHash("undeclared-egress", "shop/frontend[Deployment]", "203.0.113.0/24", "TCP 443"),
		},
		{
			Rule: "missing-default-deny", Severity: Warning, Namespace: "batch",
			Message: "namespace batch has workloads but no default-deny ingress policy; it is new in this change",
			Hash:    ViolationHash("missing-default-deny", "", "batch", "ingress"),
			Fix:     "add a NetworkPolicy in batch with podSelector: {}, policyTypes [Ingress] and no rules, or acknowledge with hash " + ViolationHash("missing-default-deny", "", "batch", "ingress"),
		},
		{
			Rule: "new-cross-namespace", Severity: Warning, Path: p(crossNS),
			Message: "shop/frontend[Deployment] can newly reach payments/db[StatefulSet] (TCP 5432) across namespaces shop -> payments",
			Hash:    ViolationHash("new-cross-namespace", "shop/frontend[Deployment]", "payments/db[StatefulSet]", "TCP 5432"),
			Fix:     "if the path is not intended, narrow the rule at payments/netpol.yaml:9, or acknowledge with hash " + ViolationHash("new-cross-namespace", "shop/frontend[Deployment]", "payments/db[StatefulSet]", "TCP 5432"),
		},
	}
	if diff := cmp.Diff(want, got.Violations); diff != "" {
		t.Errorf("Evaluate(nil, %+v) violations mismatch (-want +got):\n%s", in, diff)
	}
	if got.Conclusion != Failure {
		t.Errorf("Evaluate(nil, %+v).Conclusion = %s; want %s", in, got.Conclusion, Failure)
	}
	// Violations never alias the caller's slice.
	got.Violations[1].Path.Src = "changed"
	if in.Opened[2].Src != "{ingress-controller}" {
		t.Errorf("Evaluate result aliases Input.Opened")
	}
}

func TestEvaluateDefaultDenyNotes(t *testing.T) {
	ns := []Namespace{
		{Name: "legacy", HasWorkloads: true},
		{Name: "half", HasWorkloads: true, DefaultDenyIngress: true},
		guarded("ok", nil),
	}
	in := Input{BaseNamespaces: ns, HeadNamespaces: ns}
	got := Evaluate(Default(), in)
	want := []diag.Diagnostic{
		{Severity: diag.Info, Object: "Namespace half",
			Message: "namespace half has workloads but no default-deny egress policy (already missing before this change, so not a missing-default-deny violation)"},
		{Severity: diag.Info, Object: "Namespace legacy",
			Message: "namespace legacy has workloads but no default-deny ingress and egress policy (already missing before this change, so not a missing-default-deny violation)"},
	}
	if diff := cmp.Diff(want, got.Notes); diff != "" {
		t.Errorf("Evaluate(%+v).Notes mismatch (-want +got):\n%s", in, diff)
	}
	if len(got.Violations) != 0 || got.Conclusion != Success {
		t.Errorf("Evaluate(%+v) = %+v; want no violations, success", in, got)
	}
}

func TestEvaluateAcknowledgements(t *testing.T) {
	opened := []Path{undeclared, intoShop}
	hUndeclared := ViolationHash(RuleUndeclaredEgress, undeclared.Src, undeclared.Dst, undeclared.Opened)
	hCross := ViolationHash(RuleNewCrossNamespace, intoShop.Src, intoShop.Dst, intoShop.Opened)
	delta := DeltaHash(opened)
	// The same PR after a push that also opens the internet path.
	pushed := []Path{undeclared, intoShop, internet}
	// The same PR after a push that opens a second port on the undeclared path.
	widened := undeclared
	widened.Opened = "TCP 443,8443"

	tests := []struct {
		name   string
		acks   []Ack
		labels []string
		opened []Path
		want   []string
		conc   string
	}{
		{
			name:   "unacknowledged",
			opened: opened,
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Failure,
		},
		{
			name:   "by violation hash in the config",
			acks:   []Ack{{Hash: hUndeclared, Reason: "SEC-142"}},
			opened: opened,
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: SEC-142)",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Success,
		},
		{
			name:   "by the delta hash",
			acks:   []Ack{{Hash: delta, Reason: "reviewed by sec"}},
			opened: opened,
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: reviewed by sec)",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment] (acknowledged: reviewed by sec)",
			},
			conc: Success,
		},
		{
			name:   "by PR label",
			labels: []string{"bug", " Reachdiff-Ack:" + hUndeclared + " "},
			opened: opened,
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: PR label reachdiff-ack:" + hUndeclared + ")",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Success,
		},
		{
			name:   "delta hash by PR label",
			labels: []string{"reachdiff-ack:" + delta},
			opened: opened,
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: PR label reachdiff-ack:" + delta + ")",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment] (acknowledged: PR label reachdiff-ack:" + delta + ")",
			},
			conc: Success,
		},
		{
			name:   "config reason wins over the label",
			acks:   []Ack{{Hash: hUndeclared, Reason: "SEC-142"}},
			labels: []string{"reachdiff-ack:" + hUndeclared},
			opened: []Path{undeclared},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: SEC-142)"},
			conc:   Success,
		},
		{
			name:   "malformed labels are ignored",
			labels: []string{"reachdiff-ack:", "reachdiff-ack:" + hUndeclared + "0", "reachdiff-ack " + hUndeclared},
			opened: []Path{undeclared},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24"},
			conc:   Failure,
		},
		{
			name:   "a hash of another violation acknowledges nothing here",
			acks:   []Ack{{Hash: hCross, Reason: "fine"}},
			opened: []Path{undeclared},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24"},
			conc:   Failure,
		},
		{
			name:   "delta ack invalidated by a push that opens more",
			acks:   []Ack{{Hash: delta, Reason: "reviewed by sec"}},
			opened: pushed,
			want: []string{
				"error internet-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"error undeclared-egress shop/frontend[Deployment] -> 0.0.0.0/0",
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Failure,
		},
		{
			name:   "violation ack survives an unrelated push",
			acks:   []Ack{{Hash: hUndeclared, Reason: "SEC-142"}},
			opened: []Path{undeclared, intoShop, declared},
			want: []string{
				"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24 (acknowledged: SEC-142)",
				"warning new-cross-namespace payments/api[Deployment] -> shop/cart[Deployment]",
			},
			conc: Success,
		},
		{
			name:   "violation ack invalidated when the path opens more",
			acks:   []Ack{{Hash: hUndeclared, Reason: "SEC-142"}},
			opened: []Path{widened},
			want:   []string{"error undeclared-egress shop/frontend[Deployment] -> 203.0.113.0/24"},
			conc:   Failure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			cfg.Acknowledge = tt.acks
			in := Input{Opened: tt.opened, BaseNamespaces: headNamespaces, HeadNamespaces: headNamespaces, Labels: tt.labels}
			got := Evaluate(cfg, in)
			if diff := cmp.Diff(tt.want, summaries(got)); diff != "" {
				t.Errorf("Evaluate(acks %v, labels %q) violations mismatch (-want +got):\n%s", tt.acks, tt.labels, diff)
			}
			if got.Conclusion != tt.conc {
				t.Errorf("Evaluate(acks %v, labels %q).Conclusion = %s; want %s", tt.acks, tt.labels, got.Conclusion, tt.conc)
			}
			if got.DeltaHash != DeltaHash(tt.opened) {
				t.Errorf("Evaluate(...).DeltaHash = %s; want DeltaHash(opened) = %s", got.DeltaHash, DeltaHash(tt.opened))
			}
		})
	}
}

func TestEvaluateParsedConfig(t *testing.T) {
	// End to end: the acknowledgement written in a config file, with the
	// hash a previous run printed, turns the failure into a success.
	in := Input{Opened: []Path{undeclared}, HeadNamespaces: headNamespaces, BaseNamespaces: headNamespaces}
	first := Evaluate(Default(), in)
	if first.Conclusion != Failure || len(first.Violations) != 1 {
		t.Fatalf("Evaluate(Default(), %+v) = %+v; want one failing violation", in, first)
	}
	file := "apiVersion: reachdiff.dev/v1\nkind: GateConfig\nacknowledge:\n  - hash: " + first.Violations[0].Hash + "\n    reason: SEC-142\n"
	cfg, diags := Parse("c.yaml", []byte(file))
	if len(diags) != 0 {
		t.Fatalf("Parse(%q) diagnostics = %v; want none", file, diags)
	}
	second := Evaluate(cfg, in)
	if second.Conclusion != Success || !second.Violations[0].Acknowledged || second.Violations[0].AckReason != "SEC-142" {
		t.Errorf("Evaluate(parsed ack, %+v) = %+v; want success with the violation acknowledged by SEC-142", in, second)
	}
}
