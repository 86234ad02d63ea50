package model

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// buildYAML decodes one YAML file (named test.yaml) into a cluster.
func buildYAML(t *testing.T, text string) *Cluster {
	t.Helper()
	docs, diags := manifest.Split("test.yaml", []byte(text))
	objs, more := manifest.NewDecoder().DecodeAll(docs)
	if d := append(diags, more...); diag.HasErrors(d) {
		t.Fatalf("decode: %v", d)
	}
	return Build(objs, Options{})
}

func sel(reqs ...Requirement) *Selector { s := Selector{Reqs: reqs}; return &s }

func TestCompileAdminPolicies(t *testing.T) {
	c := buildYAML(t, `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: late}
spec:
  priority: 20
  subject: {namespaces: {}}
  ingress:
  - name: pass-monitoring
    action: Pass
    from: [{namespaces: {matchLabels: {team: mon}}}]
    ports:
    - portNumber: {port: 9090}
    - portRange: {protocol: UDP, start: 1000, end: 2000}
    - namedPort: metrics
  egress:
  - action: Deny
    to: [{networks: [203.0.113.0/24, 198.51.100.0/24]}, {nodes: {}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: early}
spec:
  priority: 3
  subject: {pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: web}}}}
  ingress:
  - action: Allow
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress:
  - {action: Deny, to: [{namespaces: {}}]}
`)
	everything := Everything
	nets := ipset.Set{}.Add(ipset.RangeOf(mustPrefix(t, "198.51.100.0/24"))).Add(ipset.RangeOf(mustPrefix(t, "203.0.113.0/24")))
	want := []*AdminPolicy{
		{
			Name: "early", Kind: "AdminNetworkPolicy", Tier: TierAdmin, Priority: 3, Source: manifest.Source{File: "test.yaml", Line: 21},
			Subject: AdminSubject{NamespaceSel: *sel(Requirement{Key: "team", Op: In, Values: []string{"a"}}),
				PodSel: sel(Requirement{Key: "app", Op: In, Values: []string{"web"}})},
			Ingress: []AdminRule{{Index: 0, Action: ActionAllow, AllPorts: true,
				Peers: []AdminPeer{{NamespaceSel: &everything, PodSel: sel(Requirement{Key: "app", Op: In, Values: []string{"db"}})}}}},
		},
		{
			Name: "late", Kind: "AdminNetworkPolicy", Tier: TierAdmin, Priority: 20, Source: manifest.Source{File: "test.yaml", Line: 3},
			Subject: AdminSubject{NamespaceSel: Everything},
			Ingress: []AdminRule{{Index: 0, Name: "pass-monitoring", Action: ActionPass,
				Peers: []AdminPeer{{NamespaceSel: sel(Requirement{Key: "team", Op: In, Values: []string{"mon"}})}},
				// "Protocol ... If not specified, this field defaults to TCP."
				Ports: []AdminPort{{Protocol: connset.TCP, Lo: 9090, Hi: 9090}, {Protocol: connset.UDP, Lo: 1000, Hi: 2000}, {Name: "metrics"}}}},
			Egress: []AdminRule{{Index: 0, Action: ActionDeny, AllPorts: true,
				Peers: []AdminPeer{{Networks: &nets}, {Nodes: &everything}}}},
		},
		{
			Name: "default", Kind: "BaselineAdminNetworkPolicy", Tier: TierBaseline, Source: manifest.Source{File: "test.yaml", Line: 31},
			Subject: AdminSubject{NamespaceSel: Everything},
			Egress:  []AdminRule{{Index: 0, Action: ActionDeny, AllPorts: true, Peers: []AdminPeer{{NamespaceSel: &everything}}}},
		},
	}
	if d := cmp.Diff(want, c.AdminPolicies, cmp.Comparer(func(a, b ipset.Set) bool { return a.Equal(b) })); d != "" {
		t.Errorf("Build(...).AdminPolicies (-want +got):\n%s", d)
	}
	if got := c.AdminPoliciesOf(TierBaseline); len(got) != 1 || got[0].Name != "default" {
		t.Errorf("AdminPoliciesOf(TierBaseline) = %v; want [default]", got)
	}
	var warnings []string
	for _, d := range c.Diagnostics {
		if d.Severity == diag.Warning {
			warnings = append(warnings, d.Object+": "+d.Message)
		}
	}
	// The input has no workload, so every subject selects nothing. Sorted
	// by line: late, early, default.
	wantWarnings := []string{
		"AdminNetworkPolicy late: spec.egress[0].to[1]: nodes peers are not modelled (node addresses are unknown); the peer matches nothing",
		"AdminNetworkPolicy late: spec.subject selects no workload in the input; the policy has no effect here",
		"AdminNetworkPolicy early: spec.subject selects no workload in the input; the policy has no effect here",
		"BaselineAdminNetworkPolicy default: spec.subject selects no workload in the input; the policy has no effect here",
	}
	if d := cmp.Diff(wantWarnings, warnings); d != "" {
		t.Errorf("Build(...) warnings (-want +got):\n%s", d)
	}
}

func mustPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, _, err := ipset.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminRuleConns(t *testing.T) {
	w := &Workload{Ports: []ContainerPort{{Name: "http", Port: 8080, Protocol: connset.TCP}, {Name: "dns", Port: 53, Protocol: connset.UDP}}}
	tests := []struct {
		rule AdminRule
		dst  *Workload
		want string
	}{
		// "If Ports is not set then the rule does not filter traffic via port."
		{AdminRule{AllPorts: true}, nil, "All Connections"},
		// "NamedPort selects a port on a pod(s) based on name." A name has no
		// protocol of its own: the container port's applies.
		{AdminRule{Ports: []AdminPort{{Name: "dns"}}}, w, "UDP 53"},
		{AdminRule{Ports: []AdminPort{{Name: "dns"}}}, nil, "No Connections"},
		{AdminRule{Ports: []AdminPort{{Name: "nope"}, {Protocol: connset.SCTP, Lo: 1, Hi: 9}}}, w, "SCTP 1-9"},
	}
	for _, tc := range tests {
		if got := tc.rule.Conns(tc.dst).String(); got != tc.want {
			t.Errorf("%+v.Conns(%v) = %v; want %v", tc.rule, tc.dst, got, tc.want)
		}
	}
}

func TestAdminPolicyErrors(t *testing.T) {
	const head = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: p}\nspec:\n"
	const bhead = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n"
	rule := func(action, peer, ports string) string {
		s := "  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: " + action + "\n    to: [" + peer + "]\n"
		if ports != "" {
			s += "    ports: [" + ports + "]\n"
		}
		return head + s
	}
	tests := []struct {
		name, text, want string
	}{
		{"priority above 1000", head + "  priority: 1001\n  subject: {namespaces: {}}\n", "spec.priority: 1001 is outside 0-1000"},
		{"negative priority", head + "  priority: -1\n  subject: {namespaces: {}}\n", "spec.priority: -1 is outside 0-1000"},
		{"subject with both fields", head + "  priority: 1\n  subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n", "spec.subject: exactly one of namespaces and pods must be set, not both"},
		{"subject empty", head + "  priority: 1\n  subject: {}\n", "spec.subject: exactly one of namespaces and pods must be set"},
		{"bad subject selector", head + "  priority: 1\n  subject: {namespaces: {matchExpressions: [{key: a, operator: In}]}}\n", "spec.subject: namespaces: matchExpressions \"a\": operator In needs values"},
		{"unknown action", rule("Reject", "{namespaces: {}}", ""), `spec.egress[0]: unknown action "Reject" (want Allow, Deny or Pass)`},
		{"no peers", rule("Deny", "", ""), "spec.egress[0]: to must contain at least one peer"},
		{"peer with two fields", rule("Deny", "{namespaces: {}, networks: [10.0.0.0/8]}", ""), "spec.egress[0]: to[0]: exactly one of namespaces, pods, nodes, networks and domainNames must be set (2 are)"},
		{"peer with no field", rule("Deny", "{}", ""), "spec.egress[0]: to[0]: exactly one of namespaces, pods, nodes, networks and domainNames must be set (0 are)"},
		{"bad CIDR", rule("Deny", "{networks: [10.0.0.0/33]}", ""), "spec.egress[0]: to[0]: networks[0]:"},
		{"domain names", rule("Allow", "{domainNames: [example.com]}", ""), "spec.egress[0]: to[0]: domainNames peers are not supported"},
		{"port with no field", rule("Deny", "{namespaces: {}}", "{}"), "spec.egress[0]: ports[0]: exactly one of portNumber, namedPort and portRange must be set (0 are)"},
		{"port zero", rule("Deny", "{namespaces: {}}", "{portNumber: {protocol: TCP, port: 0}}"), "spec.egress[0]: ports[0]: portNumber: port 0 is outside 1-65535"},
		{"bad protocol", rule("Deny", "{namespaces: {}}", "{portNumber: {protocol: ICMP, port: 1}}"), "spec.egress[0]: ports[0]: portNumber:"},
		{"range start not below end", rule("Deny", "{namespaces: {}}", "{portRange: {start: 90, end: 90}}"), "spec.egress[0]: ports[0]: portRange: start 90 and end 90 must satisfy 1 <= start < end <= 65535"},
		{"named port with networks", rule("Deny", "{networks: [10.0.0.0/8]}", "{namedPort: http}"), "spec.egress[0]: ports[0]: a namedPort cannot be combined with a networks or nodes peer"},
		{"empty ports list", rule("Deny", "{namespaces: {}}", ""), ""}, // valid: checked below as a control
		{"baseline pass", bhead + "  ingress:\n  - {action: Pass, from: [{namespaces: {}}]}\n", "spec.ingress[0]: action Pass is not allowed in a BaselineAdminNetworkPolicy (want Allow or Deny)"},
		{"baseline name", strings.Replace(bhead, "name: default", "name: other", 1), `metadata.name: a BaselineAdminNetworkPolicy must be named "default", not "other"`},
	}
	for _, tc := range tests {
		checkAdminError(t, tc.name, tc.text, tc.want, func(o string) bool { return strings.Contains(o, "AdminNetworkPolicy ") })
	}
}

func TestAdminPriorityTie(t *testing.T) {
	anp := func(name string) string {
		return "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: " + name +
			"}\nspec:\n  priority: 7\n  subject: {namespaces: {}}\n"
	}
	c := buildYAML(t, anp("zeta")+"---\n"+anp("alpha"))
	if got := []string{c.AdminPolicies[0].Name, c.AdminPolicies[1].Name}; !cmp.Equal(got, []string{"alpha", "zeta"}) {
		t.Errorf("AdminPolicies order = %v; want [alpha zeta]", got)
	}
	found := false
	for _, d := range c.Diagnostics {
		if d.Severity == diag.Warning && strings.Contains(d.Message, "priority 7 is also the priority of AdminNetworkPolicy alpha") {
			found = true
		}
	}
	if !found {
		t.Errorf("Build(two ANPs of priority 7) diagnostics = %v; want a warning about the tie", c.Diagnostics)
	}
}

// checkAdminError builds text, one admin policy: with want empty it must
// compile without error; else it must give exactly one error starting with
// want, at test.yaml:3, naming the object (checked by object), and the
// policy must be dropped.
func checkAdminError(t *testing.T, name, text, want string, object func(string) bool) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		c := buildYAML(t, text)
		var errs []diag.Diagnostic
		for _, d := range c.Diagnostics {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
		if want == "" {
			if len(errs) != 0 || len(c.AdminPolicies) != 1 {
				t.Errorf("Build(%s) = %d policies, errors %v; want 1 policy, no error", name, len(c.AdminPolicies), errs)
			}
			return
		}
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Message, want) {
			t.Fatalf("Build(%s) errors = %v; want one starting %q", name, errs, want)
		}
		if e := errs[0]; e.File != "test.yaml" || e.Line != 3 || !object(e.Object) {
			t.Errorf("Build(%s) error at %s:%d (%s); want test.yaml:3 naming the policy", name, e.File, e.Line, e.Object)
		}
		if len(c.AdminPolicies) != 0 {
			t.Errorf("Build(%s) kept %d policies; want the invalid one dropped", name, len(c.AdminPolicies))
		}
	})
}
