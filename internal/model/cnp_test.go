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

const cnpHead = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"

func TestCompileCNP(t *testing.T) {
	c := buildYAML(t, cnpHead+`metadata: {name: web-out}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: web}}}}
  ingress:
  - name: pass-monitoring
    action: Pass
    from: [{namespaces: {matchLabels: {team: mon}}}, {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}]
    protocols:
    - tcp: {destinationPort: {number: 9090}}
    - udp: {destinationPort: {range: {start: 1000, end: 2000}}}
    - sctp: {destinationPort: {number: 9}}
    - destinationNamedPort: metrics
  egress:
  - name: allow-stripe
    action: Accept
    to: [{domainNames: ["*.Stripe.com.", api.example.com]}]
    protocols: [{tcp: {destinationPort: {number: 443}}}]
  - action: Deny
    to: [{networks: [203.0.113.0/24, "2001:db8::/32"]}, {nodes: {}}]
---
`+cnpHead+`metadata: {name: pass-pods}
spec:
  tier: Baseline
  priority: 3
  subject: {namespaces: {}}
  egress:
  - {action: Pass, to: [{namespaces: {}}]}
`)
	everything := Everything
	nets := ipset.Set{}.Add(ipset.RangeOf(mustPrefix(t, "203.0.113.0/24"))).Add(ipset.RangeOf(mustPrefix(t, "2001:db8::/32")))
	want := []*AdminPolicy{
		{
			Name: "web-out", Kind: "ClusterNetworkPolicy", Tier: TierAdmin, Priority: 10, Source: manifest.Source{File: "test.yaml", Line: 3},
			Subject: AdminSubject{NamespaceSel: *sel(Requirement{Key: "team", Op: In, Values: []string{"a"}}),
				PodSel: sel(Requirement{Key: "app", Op: In, Values: []string{"web"}})},
			Ingress: []AdminRule{{Index: 0, Name: "pass-monitoring", Action: ActionPass,
				Peers: []AdminPeer{
					{NamespaceSel: sel(Requirement{Key: "team", Op: In, Values: []string{"mon"}})},
					{NamespaceSel: &everything, PodSel: sel(Requirement{Key: "app", Op: In, Values: []string{"db"}})},
				},
				Ports: []AdminPort{{Protocol: connset.TCP, Lo: 9090, Hi: 9090}, {Protocol: connset.UDP, Lo: 1000, Hi: 2000},
					{Protocol: connset.SCTP, Lo: 9, Hi: 9}, {Name: "metrics"}}}},
			Egress: []AdminRule{
				{Index: 0, Name: "allow-stripe", Action: ActionAllow,
					Peers: []AdminPeer{{Domains: []DomainPattern{{Text: "*.stripe.com", Syntax: SyntaxNPA}, {Text: "api.example.com", Syntax: SyntaxNPA}}}},
					Ports: []AdminPort{{Protocol: connset.TCP, Lo: 443, Hi: 443}}},
				// "If unspecified, protocol-specific attributes will not be
				// used to match traffic."
				{Index: 1, Action: ActionDeny, AllPorts: true, Peers: []AdminPeer{{Networks: &nets}, {Nodes: &everything}}},
			},
		},
		{
			Name: "pass-pods", Kind: "ClusterNetworkPolicy", Tier: TierBaseline, Priority: 3, Source: manifest.Source{File: "test.yaml", Line: 27},
			Subject: AdminSubject{NamespaceSel: Everything},
			// Pass is allowed in the baseline tier too.
			Egress: []AdminRule{{Index: 0, Action: ActionPass, AllPorts: true, Peers: []AdminPeer{{NamespaceSel: &everything}}}},
		},
	}
	if d := cmp.Diff(want, c.AdminPolicies, cmp.Comparer(func(a, b ipset.Set) bool { return a.Equal(b) })); d != "" {
		t.Errorf("Build(...).AdminPolicies (-want +got):\n%s", d)
	}
	var got []string
	for _, d := range c.Diagnostics {
		got = append(got, string(d.Severity)+" "+d.Object+": "+d.Message)
	}
	wantDiags := []string{
		"info ClusterNetworkPolicy web-out: spec.egress[1].to[0].networks [203.0.113.0/24 2001:db8::/32]: matched against external addresses and domains only " +
			"(under the cilium-like CNI profile a CIDR does not match pods, and node addresses are not modelled)",
		"warning ClusterNetworkPolicy web-out: spec.egress[1].to[1].nodes: nodes peers are not modelled (node addresses are unknown); the peer matches nothing",
		"warning ClusterNetworkPolicy web-out: spec.subject selects no workload in the input; the policy has no effect here",
		"warning ClusterNetworkPolicy pass-pods: spec.subject selects no workload in the input; the policy has no effect here",
	}
	if d := cmp.Diff(wantDiags, got); d != "" {
		t.Errorf("Build(...) diagnostics (-want +got):\n%s", d)
	}
}

func TestCNPErrors(t *testing.T) {
	const head = cnpHead + "metadata: {name: p}\nspec:\n"
	// egress builds a valid admin policy around one egress rule.
	egress := func(action, peers, protocols string) string {
		s := head + "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  egress:\n  - action: " + action + "\n    to: [" + peers + "]\n"
		if protocols != "" {
			s += "    protocols: [" + protocols + "]\n"
		}
		return s
	}
	ingress := func(peers string) string {
		return head + "  tier: Baseline\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n    from: [" + peers + "]\n"
	}
	repeat := func(s string, n int) string { return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ") }
	tcp := func(port string) string { return "{tcp: {destinationPort: " + port + "}}" }
	tests := []struct {
		name, text, want string
	}{
		{"no tier", head + "  priority: 1\n  subject: {namespaces: {}}\n", `spec.tier: "" is not Admin or Baseline`},
		{"lower-case tier", head + "  tier: admin\n  priority: 1\n  subject: {namespaces: {}}\n", `spec.tier: "admin" is not Admin or Baseline`},
		{"priority above 1000", head + "  tier: Admin\n  priority: 1001\n  subject: {namespaces: {}}\n", "spec.priority: 1001 is outside 0-1000"},
		{"negative priority", head + "  tier: Baseline\n  priority: -1\n  subject: {namespaces: {}}\n", "spec.priority: -1 is outside 0-1000"},
		{"subject empty", head + "  tier: Admin\n  priority: 1\n  subject: {}\n", "spec.subject: exactly one of namespaces and pods must be set"},
		{"subject with both fields", head + "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}\n",
			"spec.subject: exactly one of namespaces and pods must be set, not both"},
		{"bad subject selector", head + "  tier: Admin\n  priority: 1\n  subject: {pods: {namespaceSelector: {}, podSelector: {matchExpressions: [{key: a, operator: In}]}}}\n",
			"spec.subject: pods.podSelector: matchExpressions \"a\": operator In needs values"},
		{"26 ingress rules", head + "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n  ingress:\n" +
			strings.Repeat("  - {action: Deny, from: [{namespaces: {}}]}\n", 26), "spec.ingress: 26 rules; at most 25 are allowed"},
		{"rule name of 101 characters", strings.Replace(egress("Deny", "{namespaces: {}}", ""), "  - action:", "  - name: "+strings.Repeat("x", 101)+"\n    action:", 1),
			"spec.egress[0].name: longer than 100 characters"},
		{"v1alpha1 action", egress("Allow", "{namespaces: {}}", ""), `spec.egress[0].action: "Allow" is not Accept, Deny or Pass`},
		{"no peers", egress("Deny", "", ""), "spec.egress[0].to: 0 peers; 1 to 25 are allowed"},
		{"26 peers", egress("Deny", repeat("{namespaces: {}}", 26), ""), "spec.egress[0].to: 26 peers; 1 to 25 are allowed"},
		{"peer with two fields", egress("Deny", "{namespaces: {}, networks: [10.0.0.0/8]}", ""),
			"spec.egress[0].to[0]: exactly one of namespaces, pods, nodes, networks and domainNames must be set (2 are)"},
		// "If an implementation sees no fields are set ... it should fail
		// closed": reachdiff rejects the input instead.
		{"egress peer with no field", egress("Deny", "{namespaces: {}}, {}", ""),
			"spec.egress[0].to[1]: exactly one of namespaces, pods, nodes, networks and domainNames must be set (0 are)"},
		{"ingress peer with no field", ingress("{}"), "spec.ingress[0].from[0]: exactly one of namespaces and pods must be set (0 are)"},
		{"bad namespaces selector", ingress("{namespaces: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}}"),
			"spec.ingress[0].from[0].namespaces: matchExpressions \"a\": operator Exists takes no values"},
		{"bad pods selector", ingress("{pods: {namespaceSelector: {matchExpressions: [{key: a, operator: In}]}, podSelector: {}}}"),
			"spec.ingress[0].from[0].pods.namespaceSelector: matchExpressions \"a\": operator In needs values"},
		{"bad nodes selector", egress("Deny", "{nodes: {matchExpressions: [{key: a, operator: In}]}}", ""),
			"spec.egress[0].to[0].nodes: matchExpressions \"a\": operator In needs values"},
		{"CIDR with host bits", egress("Deny", "{networks: [10.0.0.0/8]}, {networks: [192.168.0.0/16, 10.0.0.1/8]}", ""),
			"spec.egress[0].to[1].networks[1]: 10.0.0.1/8 has host bits set (the CRD requires a masked CIDR such as 10.0.0.0/8)"},
		{"IPv6 CIDR with host bits", egress("Deny", "{networks: [\"fd00::1/8\"]}", ""), "spec.egress[0].to[0].networks[0]: fd00::1/8 has host bits set"},
		{"bad CIDR", egress("Deny", "{networks: [10.0.0.0/33]}", ""), "spec.egress[0].to[0].networks[0]: "},
		{"empty networks", egress("Deny", "{networks: []}", ""), "spec.egress[0].to[0].networks: 0 CIDRs; 1 to 25 are allowed"},
		{"26 networks", egress("Deny", "{networks: ["+repeat("10.0.0.0/8", 26)+"]}", ""), "spec.egress[0].to[0].networks: 26 CIDRs; 1 to 25 are allowed"},
		{"repeated network", egress("Deny", "{networks: [10.0.0.0/8, 10.0.0.0/8]}", ""), "spec.egress[0].to[0].networks[1]: duplicate CIDR 10.0.0.0/8 (networks is a set)"},
		{"domainNames in a Deny rule", egress("Deny", "{namespaces: {}}, {domainNames: [example.com]}", ""),
			"spec.egress[0].to[1].domainNames: domainNames is only supported for Accept rules, not Deny"},
		{"domainNames in a Pass rule", egress("Pass", "{domainNames: [example.com]}", ""),
			"spec.egress[0].to[0].domainNames: domainNames is only supported for Accept rules, not Pass"},
		{"wildcard inside a name", egress("Accept", "{domainNames: [example.com, \"www.*.example.com\"]}", ""),
			"spec.egress[0].to[0].domainNames[1]: domain \"www.*.example.com\": '*' may only be specified as a prefix"},
		{"partial wildcard", egress("Accept", "{domainNames: [\"*example.com\"]}", ""),
			"spec.egress[0].to[0].domainNames[0]: domain \"*example.com\": '*' may only be specified as a prefix"},
		{"bad character", egress("Accept", "{domainNames: [\"exa mple.com\"]}", ""),
			"spec.egress[0].to[0].domainNames[0]: domain \"exa mple.com\": character ' ' is not allowed in a DNS name"},
		{"one label", egress("Accept", "{domainNames: [kubernetes]}", ""),
			"spec.egress[0].to[0].domainNames[0]: \"kubernetes\" is not a domain name of two or more labels"},
		{"wildcard over a top-level domain", egress("Accept", "{domainNames: [\"*.com\"]}", ""),
			"spec.egress[0].to[0].domainNames[0]: \"*.com\" is not a domain name of two or more labels"},
		{"label ending in a hyphen", egress("Accept", "{domainNames: [web-.example.com]}", ""),
			"spec.egress[0].to[0].domainNames[0]: \"web-.example.com\" is not a domain name"},
		{"empty domainNames", egress("Accept", "{domainNames: []}", ""), "spec.egress[0].to[0].domainNames: 0 names; 1 to 25 are allowed"},
		{"26 domainNames", egress("Accept", "{domainNames: ["+repeat("a.example.com", 26)+"]}", ""), "spec.egress[0].to[0].domainNames: 26 names; 1 to 25 are allowed"},
		{"repeated domain name", egress("Accept", "{domainNames: [a.example.com, b.example.com, a.example.com]}", ""),
			"spec.egress[0].to[0].domainNames[2]: duplicate name a.example.com (domainNames is a set)"},
		{"empty protocols", egress("Deny", "{namespaces: {}}", " "), "spec.egress[0].protocols: 0 entries; 1 to 25 are allowed"},
		{"26 protocols", egress("Deny", "{namespaces: {}}", repeat(tcp("{number: 80}"), 26)), "spec.egress[0].protocols: 26 entries; 1 to 25 are allowed"},
		{"protocol entry with no field", egress("Deny", "{namespaces: {}}", "{}"),
			"spec.egress[0].protocols[0]: exactly one of tcp, udp, sctp and destinationNamedPort must be set (0 are)"},
		{"protocol entry with two fields", egress("Deny", "{namespaces: {}}", tcp("{number: 80}")+", {udp: {destinationPort: {number: 53}}, destinationNamedPort: dns}"),
			"spec.egress[0].protocols[1]: exactly one of tcp, udp, sctp and destinationNamedPort must be set (2 are)"},
		{"tcp without destinationPort", egress("Deny", "{namespaces: {}}", "{tcp: {}}"), "spec.egress[0].protocols[0].tcp: destinationPort must be set"},
		{"sctp without destinationPort", egress("Deny", "{namespaces: {}}", "{sctp: {}}"), "spec.egress[0].protocols[0].sctp: destinationPort must be set"},
		{"empty destinationPort", egress("Deny", "{namespaces: {}}", tcp("{}")),
			"spec.egress[0].protocols[0].tcp.destinationPort: exactly one of number and range must be set"},
		{"number and range", egress("Deny", "{namespaces: {}}", tcp("{number: 80, range: {start: 1, end: 2}}")),
			"spec.egress[0].protocols[0].tcp.destinationPort: exactly one of number and range must be set, not both"},
		{"port above 65535", egress("Deny", "{namespaces: {}}", "{udp: {destinationPort: {number: 65536}}}"),
			"spec.egress[0].protocols[0].udp.destinationPort.number: 65536 is outside 1-65535"},
		{"negative port", egress("Deny", "{namespaces: {}}", tcp("{number: -80}")), "spec.egress[0].protocols[0].tcp.destinationPort.number: -80 is outside 1-65535"},
		{"range start not below end", egress("Deny", "{namespaces: {}}", tcp("{range: {start: 90, end: 90}}")),
			"spec.egress[0].protocols[0].tcp.destinationPort.range: start 90 and end 90 must satisfy 1 <= start < end <= 65535"},
		{"range end above 65535", egress("Deny", "{namespaces: {}}", tcp("{range: {start: 90, end: 65536}}")),
			"spec.egress[0].protocols[0].tcp.destinationPort.range: start 90 and end 65536 must satisfy"},
		{"named port with networks", egress("Deny", "{namespaces: {}}, {networks: [10.0.0.0/8]}", tcp("{number: 80}")+", {destinationNamedPort: http}"),
			"spec.egress[0].protocols[1].destinationNamedPort: cannot be combined with a networks, nodes or domainNames peer (they have no named ports)"},
		{"named port with domainNames", egress("Accept", "{domainNames: [example.com]}", "{destinationNamedPort: https}"),
			"spec.egress[0].protocols[0].destinationNamedPort: cannot be combined with a networks, nodes or domainNames peer"},
		{"named port with nodes", egress("Deny", "{nodes: {}}", "{destinationNamedPort: https}"),
			"spec.egress[0].protocols[0].destinationNamedPort: cannot be combined with a networks, nodes or domainNames peer"},
		// Controls: valid input at the limits gives no error.
		{"named port with pods", egress("Deny", "{pods: {namespaceSelector: {}, podSelector: {}}}", "{destinationNamedPort: https}"), ""},
		{"25 of everything", egress("Accept", repeat("{domainNames: ["+repeat("a.example.com", 1)+"]}", 25),
			repeat(tcp("{range: {start: 1, end: 65535}}"), 25)), ""},
		{"wildcard domain, upper case, trailing dot", egress("Accept", "{domainNames: [\"*.Blog.Kubernetes.IO.\", my_host.example.com]}", ""), ""},
		{"masked IPv6 network", egress("Pass", "{networks: [\"fd00::/8\", 0.0.0.0/0]}", ""), ""},
	}
	for _, tc := range tests {
		checkAdminError(t, tc.name, tc.text, tc.want, func(o string) bool { return o == "ClusterNetworkPolicy p" })
	}
}

// TestCNPOrder checks one ordering per tier across both API versions, the
// tie warnings, and the note that the versions' interleaving is reachdiff's
// choice.
func TestCNPOrder(t *testing.T) {
	cnp := func(name, tier string, priority string) string {
		return cnpHead + "metadata: {name: " + name + "}\nspec:\n  tier: " + tier + "\n  priority: " + priority + "\n  subject: {namespaces: {}}\n"
	}
	anp := func(name, priority string) string {
		return "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: " + name + "}\nspec:\n  priority: " +
			priority + "\n  subject: {namespaces: {}}\n"
	}
	const banp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n"
	const mixNote = "AdminNetworkPolicy/BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy (v1alpha2) are both present; " +
		"the APIs do not define how they interleave, so reachdiff evaluates them in one ordering per tier: by priority " +
		"(a BaselineAdminNetworkPolicy counts as priority 0), ties by name"
	tests := []struct {
		name  string
		docs  []string
		order []string
		// notes are the info and warning diagnostics other than "selects
		// no workload", as "Object: message".
		notes []string
	}{
		{
			name:  "CNPs alone",
			docs:  []string{cnp("b-late", "Baseline", "9"), cnp("b-early", "Baseline", "2"), cnp("a", "Admin", "1000")},
			order: []string{"ClusterNetworkPolicy a", "ClusterNetworkPolicy b-early", "ClusterNetworkPolicy b-late"},
		},
		{
			name:  "baseline tie",
			docs:  []string{cnp("zeta", "Baseline", "4"), cnp("alpha", "Baseline", "4")},
			order: []string{"ClusterNetworkPolicy alpha", "ClusterNetworkPolicy zeta"},
			notes: []string{"ClusterNetworkPolicy zeta: priority 4 is also the priority of ClusterNetworkPolicy alpha: " +
				"the API leaves the order undefined; reachdiff checks alpha first (names in order)"},
		},
		{
			name: "both versions",
			docs: []string{anp("anp", "10"), banp, cnp("cnp-b", "Baseline", "1"), cnp("cnp-a", "Admin", "5")},
			order: []string{"ClusterNetworkPolicy cnp-a", "AdminNetworkPolicy anp", "BaselineAdminNetworkPolicy default",
				"ClusterNetworkPolicy cnp-b"},
			notes: []string{"ClusterNetworkPolicy cnp-a: " + mixNote},
		},
		{
			name:  "ties across versions",
			docs:  []string{anp("x", "7"), cnp("y", "Admin", "7"), banp, cnp("allow-dns", "Baseline", "0")},
			order: []string{"AdminNetworkPolicy x", "ClusterNetworkPolicy y", "ClusterNetworkPolicy allow-dns", "BaselineAdminNetworkPolicy default"},
			notes: []string{
				"ClusterNetworkPolicy y: " + mixNote,
				"ClusterNetworkPolicy y: priority 7 is also the priority of AdminNetworkPolicy x: the API leaves the order undefined; reachdiff checks x first (names in order)",
				"BaselineAdminNetworkPolicy default: priority 0 is also the priority of ClusterNetworkPolicy allow-dns: the API leaves the order undefined; " +
					"reachdiff checks allow-dns first (names in order)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildYAML(t, strings.Join(tc.docs, "---\n"))
			var order, notes []string
			for _, p := range c.AdminPolicies {
				order = append(order, p.Key())
			}
			for _, d := range c.Diagnostics {
				if d.Severity != diag.Error && !strings.Contains(d.Message, "selects no workload") {
					notes = append(notes, d.Object+": "+d.Message)
				}
			}
			if d := cmp.Diff(tc.order, order); d != "" {
				t.Errorf("Build(%s).AdminPolicies order (-want +got):\n%s", tc.name, d)
			}
			if d := cmp.Diff(tc.notes, notes); d != "" {
				t.Errorf("Build(%s) notes (-want +got):\n%s", tc.name, d)
			}
		})
	}
}

// TestCNPCalicoNetworks checks the CNI profile on networks peers: "note
// that cluster-internal traffic will be checked against the rule as well.
// So if you Accept or Deny traffic to "0.0.0.0/0", that will allow or deny
// all IPv4 pod-to-pod traffic as well." Under calico a CIDR that holds the
// pod CIDRs is followed by a peer selecting every pod; under cilium-like it
// is not.
func TestCNPCalicoNetworks(t *testing.T) {
	const text = cnpHead + `metadata: {name: p}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  egress:
  - {action: Pass, to: [{namespaces: {}}]}
  - {action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}, {networks: [192.0.2.0/24]}]}
`
	everything := Everything
	all4 := ipset.FromRanges(ipset.All4())
	doc := ipset.FromRanges(ipset.RangeOf(mustPrefix(t, "192.0.2.0/24")))
	tests := []struct {
		cni  CNI
		want []AdminPeer
	}{
		{CNICiliumLike, []AdminPeer{{NamespaceSel: &everything}, {Networks: &all4}, {Networks: &doc}}},
		{CNICalico, []AdminPeer{{NamespaceSel: &everything}, {Networks: &all4}, {NamespaceSel: &everything, ViaNetworks: true}, {Networks: &doc}}},
	}
	for _, tc := range tests {
		docs, _ := manifest.Split("test.yaml", []byte(text))
		objs, _ := manifest.NewDecoder().DecodeAll(docs)
		c := Build(objs, Options{CNI: tc.cni, PodCIDRs: []netip.Prefix{mustPrefix(t, "10.244.0.0/16")}})
		if len(c.AdminPolicies) != 1 {
			t.Fatalf("Build(%s) = %d policies; want 1 (diagnostics %v)", tc.cni, len(c.AdminPolicies), c.Diagnostics)
		}
		rule := c.AdminPolicies[0].Egress[1]
		if d := cmp.Diff(tc.want, rule.Peers, cmp.Comparer(func(a, b ipset.Set) bool { return a.Equal(b) })); d != "" {
			t.Errorf("Build(%s).Egress[1].Peers (-want +got):\n%s", tc.cni, d)
		}
		// Peer 3 is the third written one (index 2): the added peer does
		// not count.
		if got := rule.WrittenPeer(len(rule.Peers) - 1); got != 2 {
			t.Errorf("Build(%s): WrittenPeer(last) = %d; want 2", tc.cni, got)
		}
	}
}
