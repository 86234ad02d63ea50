package model

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// ciliumWorkloads is a namespace with one pod, so that policies select
// something and no "selects no workload" warning muddles the cases.
const ciliumWorkloads = `apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec: {containers: [{name: c}]}
`

// cnpYAML is a CiliumNetworkPolicy a/name with the given spec body (each
// line indented by two spaces already).
func cnpYAML(name, body string) string {
	return "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: " + name + ", namespace: a}\n" + body
}

func ccnpYAML(name, body string) string {
	return "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: " + name + "}\n" + body
}

// buildCilium builds the workloads plus docs and returns the cluster and
// its diagnostics about Cilium objects, as "severity: message".
func buildCilium(t *testing.T, docs ...string) (*Cluster, []string) {
	t.Helper()
	c := buildYAML(t, strings.Join(append([]string{ciliumWorkloads}, docs...), "---\n"))
	var out []string
	for _, d := range c.Diagnostics {
		if strings.HasPrefix(d.Object, "Cilium") {
			out = append(out, string(d.Severity)+": "+d.Message)
		}
	}
	return c, out
}

func req(key string, op Op, values ...string) Requirement {
	return Requirement{Key: key, Op: op, Values: values}
}

func cidrSet(t *testing.T, include string, except ...string) *ipset.Set {
	t.Helper()
	s := ipset.FromRanges(ipset.RangeOf(mustPrefix(t, include)))
	for _, e := range except {
		s = s.Subtract(ipset.FromRanges(ipset.RangeOf(mustPrefix(t, e))))
	}
	return &s
}

var ipsetEqual = cmp.Comparer(func(a, b ipset.Set) bool { return a.Equal(b) })

var (
	tcp      = []connset.Protocol{connset.TCP}
	udp      = []connset.Protocol{connset.UDP}
	anyProto = []connset.Protocol{connset.SCTP, connset.TCP, connset.UDP}
)

func TestCompileCiliumFields(t *testing.T) {
	c, diags := buildCilium(t, cnpYAML("every-field", `spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints:
    - {matchLabels: {app: lb}}
    - {matchLabels: {k8s:io.kubernetes.pod.namespace: b, any:app: db}}
    toPorts:
    - ports: [{port: "80", protocol: TCP}, {port: "8000", endPort: 8100, protocol: UDP}, {port: http}]
  - fromCIDR: [192.0.2.0/24, 198.51.100.7]
  - fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.96.0.0/12]}]
  ingressDeny:
  - fromEntities: [world, cluster]
    toPorts: [{ports: [{port: "0", protocol: SCTP}]}]
  egress:
  - toFQDNs: [{matchName: API.Example.com.}, {matchPattern: "*.example.org"}]
    toPorts: [{ports: [{port: "443", protocol: ANY}]}]
  - toEntities: [all]
  - toPorts: [{ports: [{port: "53", protocol: UDP}]}]
  - {}
  egressDeny:
  - toEndpoints: [{}]
specs:
- endpointSelector: {}
  ingress: []
  egress: [{toEntities: [world-ipv4, world-ipv6]}]
`), ccnpYAML("cluster", `spec:
  endpointSelector: {matchExpressions: [{key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}]}
  ingress:
  - fromEndpoints: [{}, {matchLabels: {io.cilium.k8s.namespace.labels.team: a}}]
`))
	// No pod is app=lb, and namespace b has none.
	wantDiags := []string{
		"warning: spec.ingress[0].fromEndpoints[0] selects no workload in the input",
		"warning: spec.ingress[0].fromEndpoints[1] selects no workload in the input",
	}
	if d := cmp.Diff(wantDiags, diags); d != "" {
		t.Errorf("Build: diagnostics (-want +got):\n%s", d)
	}
	web := sel(req("app", In, "web"))
	lb := sel(req("app", In, "lb"))
	world := ipset.FromRanges(ipset.All4(), ipset.All6())
	w4, w6 := ipset.FromRanges(ipset.All4()), ipset.FromRanges(ipset.All6())
	want := []*CiliumPolicy{
		{
			Name: "cluster", Source: manifest.Source{File: "test.yaml", Line: 41},
			Specs: []CiliumSpec{{
				Index:           -1,
				Subject:         EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, NotIn, "kube-system"))},
				IngressIsolates: true,
				Ingress: []CiliumRule{{AllPorts: true, Peers: []CiliumPeer{
					{Path: "spec.ingress[0].fromEndpoints[0]", Endpoints: &EndpointSelector{}},
					{Path: "spec.ingress[0].fromEndpoints[1]", Endpoints: &EndpointSelector{NamespaceSel: *sel(req("team", In, "a"))}},
				}}},
			}},
		},
		{
			Name: "every-field", Namespace: "a", Source: manifest.Source{File: "test.yaml", Line: 12},
			Specs: []CiliumSpec{
				{
					Index:           -1,
					Subject:         EndpointSelector{Namespace: "a", PodSel: *web},
					IngressIsolates: true, EgressIsolates: true,
					Ingress: []CiliumRule{
						{
							Index: 0,
							Peers: []CiliumPeer{
								{Path: "spec.ingress[0].fromEndpoints[0]", Endpoints: &EndpointSelector{Namespace: "a", PodSel: *lb}},
								{Path: "spec.ingress[0].fromEndpoints[1]", Endpoints: &EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, In, "b")), PodSel: *sel(req("app", In, "db"))}},
							},
							Ports: []CiliumPort{
								{Protocols: tcp, Lo: 80, Hi: 80},
								{Protocols: udp, Lo: 8000, Hi: 8100},
								{Protocols: anyProto, Name: "http"},
							},
						},
						{Index: 1, AllPorts: true, Peers: []CiliumPeer{
							{Path: "spec.ingress[1].fromCIDR[0]", CIDR: cidrSet(t, "192.0.2.0/24")},
							{Path: "spec.ingress[1].fromCIDR[1]", CIDR: cidrSet(t, "198.51.100.7/32")},
						}},
						{Index: 2, AllPorts: true, Peers: []CiliumPeer{{Path: "spec.ingress[2].fromCIDRSet[0]", CIDR: cidrSet(t, "10.0.0.0/8", "10.96.0.0/12")}}},
					},
					IngressDeny: []CiliumRule{{
						Peers: []CiliumPeer{{Path: "spec.ingressDeny[0].fromEntities[0]", CIDR: &world}, {Path: "spec.ingressDeny[0].fromEntities[1]", AllWorkloads: true}},
						Ports: []CiliumPort{{Protocols: []connset.Protocol{connset.SCTP}, Lo: 1, Hi: 65535}},
					}},
					Egress: []CiliumRule{
						{
							Index: 0,
							Peers: []CiliumPeer{
								{Path: "spec.egress[0].toFQDNs[0]", Domain: &DomainPattern{Text: "api.example.com", Syntax: SyntaxCilium}},
								{Path: "spec.egress[0].toFQDNs[1]", Domain: &DomainPattern{Text: "*.example.org", Syntax: SyntaxCilium}},
							},
							Ports: []CiliumPort{{Protocols: anyProto, Lo: 443, Hi: 443}},
						},
						{Index: 1, AllPeers: true, AllPorts: true},
						{Index: 2, AllPeers: true, Ports: []CiliumPort{{Protocols: udp, Lo: 53, Hi: 53}}},
						{Index: 3, AllPorts: true},
					},
					EgressDeny: []CiliumRule{{AllPorts: true, Peers: []CiliumPeer{{Path: "spec.egressDeny[0].toEndpoints[0]", Endpoints: &EndpointSelector{Namespace: "a"}}}}},
				},
				{
					Index:          0,
					Subject:        EndpointSelector{Namespace: "a"},
					EgressIsolates: true,
					Egress: []CiliumRule{{AllPorts: true, Peers: []CiliumPeer{
						{Path: "specs[0].egress[0].toEntities[0]", CIDR: &w4},
						{Path: "specs[0].egress[0].toEntities[1]", CIDR: &w6},
					}}},
				},
			},
		},
	}
	if d := cmp.Diff(want, c.CiliumPolicies, ipsetEqual); d != "" {
		t.Errorf("Build(...).CiliumPolicies (-want +got):\n%s", d)
	}
}

// TestCiliumSelectorPrefixes checks how label sources and Cilium's
// namespace keys become an EndpointSelector, for a namespaced and a
// clusterwide policy, as subject and as peer.
func TestCiliumSelectorPrefixes(t *testing.T) {
	tests := []struct {
		name, sel string
		// want for a CiliumNetworkPolicy in namespace a and for a
		// CiliumClusterwideNetworkPolicy; nil when the selector matches
		// nothing.
		cnpSubject, cnpPeer, ccnpPeer *EndpointSelector
		warning                       string
	}{
		{
			name:       "plain key",
			sel:        "{matchLabels: {app: db}}",
			cnpSubject: &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"))},
			cnpPeer:    &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"))},
			ccnpPeer:   &EndpointSelector{PodSel: *sel(req("app", In, "db"))},
		},
		{
			name:       "k8s: and any: sources are stripped",
			sel:        "{matchLabels: {k8s:app: db, any:tier: x}, matchExpressions: [{key: 'k8s:role', operator: Exists}]}",
			cnpSubject: &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"), req("role", Exists), req("tier", In, "x"))},
			cnpPeer:    &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"), req("role", Exists), req("tier", In, "x"))},
			ccnpPeer:   &EndpointSelector{PodSel: *sel(req("app", In, "db"), req("role", Exists), req("tier", In, "x"))},
		},
		{
			name:       "the same key with two sources: both must hold",
			sel:        "{matchLabels: {k8s:app: db, app: web}}",
			cnpSubject: &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"), req("app", In, "web"))},
			cnpPeer:    &EndpointSelector{Namespace: "a", PodSel: *sel(req("app", In, "db"), req("app", In, "web"))},
			ccnpPeer:   &EndpointSelector{PodSel: *sel(req("app", In, "db"), req("app", In, "web"))},
		},
		{
			name: "namespace key lifts a peer's namespace limit",
			sel:  "{matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}}",
			// Cilium overwrites k8s:io.kubernetes.pod.namespace in a CNP's
			// endpointSelector with the policy's namespace.
			cnpSubject: &EndpointSelector{Namespace: "a", PodSel: *sel(req("k8s-app", In, "kube-dns"))},
			cnpPeer:    &EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, In, "kube-system")), PodSel: *sel(req("k8s-app", In, "kube-dns"))},
			ccnpPeer:   &EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, In, "kube-system")), PodSel: *sel(req("k8s-app", In, "kube-dns"))},
			warning:    `warning: spec.endpointSelector names namespace kube-system: a CiliumNetworkPolicy's endpointSelector "always applies to pods in the namespace associated with the CiliumNetworkPolicy resource itself" (a)`,
		},
		{
			name:       "namespace key without source stays a requirement in a subject",
			sel:        "{matchExpressions: [{key: io.kubernetes.pod.namespace, operator: In, values: [a, b]}]}",
			cnpSubject: &EndpointSelector{Namespace: "a", NamespaceSel: *sel(req(NamespaceNameLabel, In, "a", "b"))},
			cnpPeer:    &EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, In, "a", "b"))},
			ccnpPeer:   &EndpointSelector{NamespaceSel: *sel(req(NamespaceNameLabel, In, "a", "b"))},
			warning:    `warning: spec.endpointSelector names namespace a,b: a CiliumNetworkPolicy's endpointSelector "always applies to pods in the namespace associated with the CiliumNetworkPolicy resource itself" (a)`,
		},
		{
			name:       "namespace labels",
			sel:        "{matchLabels: {io.cilium.k8s.namespace.labels.team: b}}",
			cnpSubject: &EndpointSelector{Namespace: "a", NamespaceSel: *sel(req("team", In, "b"))},
			cnpPeer:    &EndpointSelector{NamespaceSel: *sel(req("team", In, "b"))},
			ccnpPeer:   &EndpointSelector{NamespaceSel: *sel(req("team", In, "b"))},
			warning:    "info: spec.ingress[0].fromEndpoints[0] selects by io.cilium.k8s.namespace.labels: the Cilium docs say a CiliumNetworkPolicy ignores them, Cilium v1.16 applies them to pods of every namespace; reachdiff does as Cilium does",
		},
		{
			name:    "reserved labels select no pod",
			sel:     "{matchLabels: {reserved:host: ''}}",
			warning: "warning: spec.ingress[0].fromEndpoints[0]: labels reserved:host select Cilium identities (reserved:, cidr:, ...) rather than pods; reachdiff does not model them, so this selector matches nothing (use fromEntities/toEntities)",
		},
		{
			name:    "other sources select no pod",
			sel:     "{matchLabels: {container:app: db}}",
			warning: "warning: spec.ingress[0].fromEndpoints[0]: labels container:app select Cilium identities (reserved:, cidr:, ...) rather than pods; reachdiff does not model them, so this selector matches nothing (use fromEntities/toEntities)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := buildCilium(t,
				cnpYAML("subject", "spec:\n  endpointSelector: "+tc.sel+"\n"),
				cnpYAML("peer", "spec:\n  endpointSelector: {}\n  ingress: [{fromEndpoints: ["+tc.sel+"]}]\n"),
				ccnpYAML("peer", "spec:\n  endpointSelector: {}\n  ingress: [{fromEndpoints: ["+tc.sel+"]}]\n"))
			if len(c.CiliumPolicies) != 3 {
				t.Fatalf("Build(%s): %d Cilium policies; want 3 (diagnostics %q)", tc.sel, len(c.CiliumPolicies), diags)
			}
			ccnp, peer, subject := c.CiliumPolicies[0], c.CiliumPolicies[1], c.CiliumPolicies[2]
			if tc.cnpSubject != nil {
				if d := cmp.Diff(*tc.cnpSubject, subject.Specs[0].Subject); d != "" {
					t.Errorf("CNP endpointSelector %s (-want +got):\n%s", tc.sel, d)
				}
			} else if got := subject.Specs[0].Subject; got.Matches("a", map[string]string{NamespaceNameLabel: "a"}, map[string]string{}) {
				t.Errorf("CNP endpointSelector %s = %+v matches a pod; want nothing", tc.sel, got)
			}
			for _, x := range []struct {
				kind string
				p    *CiliumPolicy
				want *EndpointSelector
			}{{"CNP", peer, tc.cnpPeer}, {"CCNP", ccnp, tc.ccnpPeer}} {
				var got *EndpointSelector
				if ps := x.p.Specs[0].Ingress[0].Peers; len(ps) > 0 {
					got = ps[0].Endpoints
				}
				if d := cmp.Diff(x.want, got); d != "" {
					t.Errorf("%s fromEndpoints %s (-want +got):\n%s", x.kind, tc.sel, d)
				}
			}
			found := tc.warning == ""
			for _, d := range diags {
				found = found || d == tc.warning
			}
			if !found {
				t.Errorf("Build(%s) diagnostics %q; want one %q", tc.sel, diags, tc.warning)
			}
		})
	}
}

// TestCiliumInvalid checks that input Cilium rejects is one error naming
// the field, and the policy is dropped.
func TestCiliumInvalid(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"no spec", "", "spec or specs: a Cilium policy needs at least one rule"},
		{"no selector", "spec: {ingress: [{}]}\n", "spec: one of endpointSelector and nodeSelector is required"},
		{"both selectors", "spec: {endpointSelector: {}, nodeSelector: {}}\n", "spec: endpointSelector and nodeSelector are mutually exclusive"},
		{
			"bad except in specs",
			"specs:\n- endpointSelector: {}\n- endpointSelector: {}\n  egress:\n  - toCIDRSet: [{cidr: 10.0.0.0/8}, {cidr: 10.0.0.0/8}, {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}]\n",
			"specs[1].egress[0].toCIDRSet[2].except[0]: 11.0.0.0/16 is not inside cidr 10.0.0.0/8",
		},
		{"bad CIDR", "spec:\n  endpointSelector: {}\n  egress: [{toCIDR: [10.0.0.0/33]}]\n", `spec.egress[0].toCIDR[0]: invalid CIDR "10.0.0.0/33": netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`},
		{"bare address in a CIDR set", "spec:\n  endpointSelector: {}\n  egress: [{toCIDRSet: [{cidr: 10.0.0.1}]}]\n", `spec.egress[0].toCIDRSet[0].cidr: invalid CIDR "10.0.0.1": netip.ParsePrefix("10.0.0.1"): no '/'`},
		{"bad selector", "spec:\n  endpointSelector: {}\n  ingress: [{fromEndpoints: [{matchExpressions: [{key: app, operator: In}]}]}]\n", `spec.ingress[0].fromEndpoints[0]: matchExpressions "app": operator In needs values`},
		{"bad subject", "spec:\n  endpointSelector: {matchLabels: {'-x': y}}\n", `spec.endpointSelector: invalid label key "-x"`},
		{"bad port", "spec:\n  endpointSelector: {}\n  ingress: [{toPorts: [{ports: [{port: '70000'}]}]}]\n", `spec.ingress[0].toPorts[0].ports[0].port: "70000" is not a port number 0-65535`},
		{"bad port name", "spec:\n  endpointSelector: {}\n  ingress: [{toPorts: [{ports: [{port: 'a_b'}]}]}]\n", `spec.ingress[0].toPorts[0].ports[0].port: "a_b" is neither a port number nor a port name`},
		{"missing port", "spec:\n  endpointSelector: {}\n  ingress: [{toPorts: [{ports: [{protocol: TCP}]}]}]\n", `spec.ingress[0].toPorts[0].ports[0].port: port must be specified ("0" means every port)`},
		{"endPort below port", "spec:\n  endpointSelector: {}\n  egress: [{toPorts: [{ports: [{port: '90', endPort: 80}]}]}]\n", "spec.egress[0].toPorts[0].ports[0].endPort: 80 is below port 90"},
		{"bad protocol", "spec:\n  endpointSelector: {}\n  egressDeny: [{toPorts: [{ports: [{port: '80', protocol: ICMP}]}]}]\n", `spec.egressDeny[0].toPorts[0].ports[0].protocol: "ICMP" is not one of TCP, UDP, SCTP, ANY`},
		{"lower-case protocol", "spec:\n  endpointSelector: {}\n  egress: [{toPorts: [{ports: [{port: '80', protocol: tcp}]}]}]\n", `spec.egress[0].toPorts[0].ports[0].protocol: "tcp" is not one of TCP, UDP, SCTP, ANY`},
		{"unknown entity", "spec:\n  endpointSelector: {}\n  ingress: [{fromEntities: [World]}]\n", `spec.ingress[0].fromEntities[0]: unknown entity "World" (want all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged or none)`},
		{"two L3 fields", "spec:\n  endpointSelector: {}\n  egress: [{toEndpoints: [{}], toCIDR: [10.0.0.0/8]}]\n", "spec.egress[0]: toEndpoints and toCIDR cannot be combined in one rule (Cilium rejects the policy)"},
		{"toFQDNs with toEntities", "spec:\n  endpointSelector: {}\n  egress: [{toEntities: [world], toFQDNs: [{matchName: a.com}]}]\n", "spec.egress[0]: toEntities and toFQDNs cannot be combined in one rule (Cilium rejects the policy)"},
		{"icmps with toPorts", "spec:\n  endpointSelector: {}\n  egress: [{icmps: [{fields: [{type: 8}]}], toPorts: [{ports: [{port: '80'}]}]}]\n", "spec.egress[0]: icmps and toPorts cannot be combined in one rule (Cilium rejects the policy)"},
		{"toFQDNs in a deny rule", "spec:\n  endpointSelector: {}\n  egressDeny: [{toFQDNs: [{matchName: a.com}]}]\n", "spec.egressDeny[0].toFQDNs: deny rules do not support toFQDNs"},
		{"matchName and matchPattern", "spec:\n  endpointSelector: {}\n  egress: [{toFQDNs: [{matchName: a.com, matchPattern: '*.a.com'}]}]\n", "spec.egress[0].toFQDNs[0]: only one of matchName and matchPattern is allowed"},
		{"wildcard in matchName", "spec:\n  endpointSelector: {}\n  egress: [{toFQDNs: [{matchName: '*.a.com'}]}]\n", `spec.egress[0].toFQDNs[0].matchName: "*.a.com": '*' is only allowed in matchPattern`},
		{"bad pattern", "spec:\n  endpointSelector: {}\n  egress: [{toFQDNs: [{matchPattern: 'a b.com'}]}]\n", `spec.egress[0].toFQDNs[0].matchPattern: domain "a b.com": character ' ' is not allowed in a DNS name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildYAML(t, ciliumWorkloads+"---\n"+cnpYAML("bad", tc.body))
			var errs []string
			for _, d := range c.Diagnostics {
				if d.Severity == diag.Error {
					errs = append(errs, d.Object+" test.yaml:"+strconv.Itoa(d.Line)+": "+d.Message)
				}
			}
			want := []string{"CiliumNetworkPolicy a/bad test.yaml:12: " + tc.want}
			if d := cmp.Diff(want, errs); d != "" {
				t.Errorf("Build(%q) errors (-want +got):\n%s", tc.body, d)
			}
			if len(c.CiliumPolicies) != 0 {
				t.Errorf("Build(%q) kept %d Cilium policies; want the policy dropped", tc.body, len(c.CiliumPolicies))
			}
		})
	}
}

// TestCiliumDiagnostics checks the warnings and infos about what
// reachdiff does not model, and what the affected rules compile to.
func TestCiliumDiagnostics(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
		// check, when set, inspects the compiled policy.
		check func(t *testing.T, p *CiliumPolicy)
	}{
		{
			name: "L7 rules keep the port",
			body: "spec:\n  endpointSelector: {}\n  egress:\n  - toEndpoints: [{}]\n    toPorts: [{ports: [{port: '80', protocol: TCP}], rules: {http: [{method: GET}]}}]\n",
			want: []string{"info: L7 rules are not modelled; the port is reported as reachable (spec.egress[0].toPorts[0].rules)"},
			check: func(t *testing.T, p *CiliumPolicy) {
				want := []CiliumPort{{Protocols: tcp, Lo: 80, Hi: 80}}
				if d := cmp.Diff(want, p.Specs[0].Egress[0].Ports); d != "" {
					t.Errorf("ports of an L7 rule (-want +got):\n%s", d)
				}
			},
		},
		{
			name: "toServices: the rule matches no peer, even with toPorts",
			body: "spec:\n  endpointSelector: {}\n  egress:\n  - toServices: [{k8sService: {serviceName: x, namespace: a}}]\n    toPorts: [{ports: [{port: '80'}]}]\n",
			want: []string{"warning: fields not modelled: spec.egress[0].toServices (the rule matches no peer here)"},
			check: func(t *testing.T, p *CiliumPolicy) {
				if r := p.Specs[0].Egress[0]; r.AllPeers || len(r.Peers) != 0 {
					t.Errorf("rule with toServices = %+v; want no peer", r)
				}
			},
		},
		{
			name: "toServices with toEndpoints is rejected",
			body: "spec:\n  endpointSelector: {}\n  egress:\n  - toServices: [{k8sService: {serviceName: x, namespace: a}}]\n    toEndpoints: [{}]\n",
			want: []string{"error: spec.egress[0]: toEndpoints and toServices cannot be combined in one rule (Cilium rejects the policy)"},
		},
		{
			name: "icmps without toPorts allow no modelled port",
			body: "spec:\n  endpointSelector: {}\n  ingress:\n  - fromEndpoints: [{}]\n    icmps: [{fields: [{type: 8}]}]\n",
			want: []string{"warning: fields not modelled: spec.ingress[0].icmps (ICMP is not modelled)"},
			check: func(t *testing.T, p *CiliumPolicy) {
				if r := p.Specs[0].Ingress[0]; r.AllPorts || len(r.Ports) != 0 || len(r.Peers) != 1 {
					t.Errorf("rule with icmps = %+v; want its peer and no port", r)
				}
			},
		},
		{
			name: "requirements, authentication, CIDR groups (enableDefaultDeny is read)",
			body: "spec:\n  endpointSelector: {}\n  enableDefaultDeny: {ingress: false}\n  ingress:\n" +
				"  - fromEndpoints: [{}]\n    fromRequires: [{matchLabels: {env: prod}}]\n    authentication: {mode: required}\n" +
				"  - fromCIDRSet: [{cidrGroupRef: corp}, {cidr: 10.0.0.0/8}]\n",
			want: []string{"warning: fields not modelled: " +
				"spec.ingress[0].authentication (authentication assumed to succeed); " +
				"spec.ingress[0].fromRequires (assumed satisfied); " +
				"spec.ingress[1].fromCIDRSet[0].cidrGroupRef (the CIDR group matches no address here)"},
			check: func(t *testing.T, p *CiliumPolicy) {
				if p.Specs[0].IngressIsolates {
					t.Errorf("enableDefaultDeny {ingress: false}: IngressIsolates = true; want false")
				}
				want := []CiliumPeer{{Path: "spec.ingress[1].fromCIDRSet[1]", CIDR: cidrSet(t, "10.0.0.0/8")}}
				if d := cmp.Diff(want, p.Specs[0].Ingress[1].Peers, ipsetEqual); d != "" {
					t.Errorf("peers of fromCIDRSet with a cidrGroupRef (-want +got):\n%s", d)
				}
			},
		},
		{
			name: "an empty L3 list selects no peer",
			body: "spec:\n  endpointSelector: {}\n  egress:\n  - toEndpoints: []\n    toPorts: [{ports: [{port: '80'}]}]\n",
			want: []string{"warning: spec.egress[0].toEndpoints is an empty list: Cilium then selects no peer (not every peer), so the rule allows nothing"},
			check: func(t *testing.T, p *CiliumPolicy) {
				if r := p.Specs[0].Egress[0]; r.AllPeers || len(r.Peers) != 0 {
					t.Errorf("rule with toEndpoints: [] = %+v; want no peer", r)
				}
			},
		},
		{
			name: "an empty section does not isolate",
			body: "spec:\n  endpointSelector: {}\n  ingress: []\n  egress: [{}]\n",
			check: func(t *testing.T, p *CiliumPolicy) {
				s := p.Specs[0]
				if s.IngressIsolates || !s.EgressIsolates {
					t.Errorf("ingress: [], egress: [{}]: IngressIsolates, EgressIsolates = %v, %v; want false, true", s.IngressIsolates, s.EgressIsolates)
				}
				if r := s.Egress[0]; r.AllPeers || len(r.Peers) != 0 || !r.AllPorts {
					t.Errorf("rule {} = %+v; want no peer", r)
				}
			},
		},
		{
			name: "deny rules isolate",
			body: "spec:\n  endpointSelector: {}\n  ingressDeny: [{fromEntities: [world]}]\n",
			check: func(t *testing.T, p *CiliumPolicy) {
				if s := p.Specs[0]; !s.IngressIsolates || s.EgressIsolates {
					t.Errorf("ingressDeny only: IngressIsolates, EgressIsolates = %v, %v; want true, false", s.IngressIsolates, s.EgressIsolates)
				}
			},
		},
		{
			name: "host policies are skipped",
			body: "specs:\n- nodeSelector: {}\n  ingress: [{}]\n- endpointSelector: {}\n  ingress: [{}]\n",
			want: []string{"warning: specs[0].nodeSelector: host policies (rules for nodes and host-networked pods) are not modelled; this rule block is ignored"},
			check: func(t *testing.T, p *CiliumPolicy) {
				if len(p.Specs) != 1 || p.Specs[0].Index != 1 {
					t.Errorf("specs = %+v; want only specs[1]", p.Specs)
				}
			},
		},
		{
			name: "entities reachdiff does not model",
			body: "spec:\n  endpointSelector: {}\n  egress: [{toEntities: [kube-apiserver, none, cluster]}]\n",
			want: []string{`warning: spec.egress[0].toEntities[0]: entity "kube-apiserver" is not modelled (reachdiff has no nodes, API server or Cilium-internal endpoints); it matches nothing here`},
			check: func(t *testing.T, p *CiliumPolicy) {
				if d := cmp.Diff([]CiliumPeer{{Path: "spec.egress[0].toEntities[2]", AllWorkloads: true}}, p.Specs[0].Egress[0].Peers); d != "" {
					t.Errorf("peers of toEntities [kube-apiserver, none, cluster] (-want +got):\n%s", d)
				}
			},
		},
		{
			name: "selects no workload",
			body: "spec:\n  endpointSelector: {matchLabels: {app: nothing}}\n  ingress: [{}]\n",
			want: []string{"warning: spec.endpointSelector selects no workload in the input; the rule block has no effect here"},
		},
		{
			name: "named port with endPort, host bits, empty toFQDNs entry",
			body: "spec:\n  endpointSelector: {}\n  egress:\n  - toCIDR: [10.0.0.1/8]\n    toPorts: [{ports: [{port: https, endPort: 500}]}]\n  - toFQDNs: [{}]\n",
			want: []string{
				"warning: spec.egress[0].toCIDR[0]: CIDR 10.0.0.1/8 has host bits set; Cilium reads it as 10.0.0.0/8",
				`warning: spec.egress[0].toPorts[0].ports[0].endPort is ignored: port "https" is a named port`,
				`warning: spec.egress[0]: named port "https" resolves against pods, so it matches no external address or DNS name`,
				"warning: spec.egress[1].toFQDNs[0]: neither matchName nor matchPattern is set; the entry selects no name",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, diags := buildCilium(t, cnpYAML("p", tc.body))
			if d := cmp.Diff(tc.want, diags); d != "" {
				t.Errorf("Build(%q) diagnostics (-want +got):\n%s", tc.body, d)
			}
			if tc.check == nil {
				return
			}
			if len(c.CiliumPolicies) != 1 {
				t.Fatalf("Build(%q): %d Cilium policies; want 1", tc.body, len(c.CiliumPolicies))
			}
			tc.check(t, c.CiliumPolicies[0])
		})
	}
}

// TestCiliumOrder checks that clusterwide policies come first, then
// namespaced ones by namespace and name.
func TestCiliumOrder(t *testing.T) {
	body := "spec: {endpointSelector: {}}\n"
	c, _ := buildCilium(t, cnpYAML("z", body), ccnpYAML("y", body), cnpYAML("b", body), ccnpYAML("x", body),
		strings.Replace(cnpYAML("c", body), "namespace: a", "namespace: 0z", 1))
	var got []string
	for _, p := range c.CiliumPolicies {
		got = append(got, p.Key())
	}
	want := []string{
		"CiliumClusterwideNetworkPolicy x", "CiliumClusterwideNetworkPolicy y",
		"CiliumNetworkPolicy 0z/c", "CiliumNetworkPolicy a/b", "CiliumNetworkPolicy a/z",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("CiliumPolicies order (-want +got):\n%s", d)
	}
}

// TestCiliumDefaultNamespace checks that a CiliumNetworkPolicy without a
// namespace lives in the default namespace and a clusterwide one in none.
func TestCiliumDefaultNamespace(t *testing.T) {
	docs, _ := manifest.Split("test.yaml", []byte("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: n}\nspec: {endpointSelector: {}}\n"+
		"---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c, namespace: ignored}\nspec: {endpointSelector: {}}\n"))
	objs, _ := manifest.NewDecoder().DecodeAll(docs)
	c := Build(objs, Options{DefaultNamespace: "shop"})
	var got []string
	for _, p := range c.CiliumPolicies {
		got = append(got, p.Key()+" subject namespace "+p.Specs[0].Subject.Namespace)
	}
	want := []string{"CiliumClusterwideNetworkPolicy c subject namespace ", "CiliumNetworkPolicy shop/n subject namespace shop"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Build(DefaultNamespace shop) Cilium policies (-want +got):\n%s", d)
	}
}

// TestCiliumHostNetworkSubject checks the warnings for a rule block and a
// peer that select only host-networked pods.
func TestCiliumHostNetworkSubject(t *testing.T) {
	_, diags := buildCilium(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: agent, namespace: a, labels: {app: agent}}\nspec: {hostNetwork: true, containers: [{name: c}]}\n---\n"+
		cnpYAML("p", "spec:\n  endpointSelector: {matchLabels: {app: agent}}\n  ingress: [{}]\n"),
		cnpYAML("q", "spec:\n  endpointSelector: {}\n  ingress: [{fromEndpoints: [{matchLabels: {app: agent}}]}]\n"))
	want := []string{
		"warning: spec.endpointSelector selects only host-networked workloads, which Cilium treats as the host (host policies are not modelled); the rule block has no effect here",
		"warning: spec.ingress[0].fromEndpoints[0] selects only host-networked workloads, which Cilium sees as the host entity, not by their labels: it matches none of them",
	}
	if d := cmp.Diff(want, diags); d != "" {
		t.Errorf("Build(policy for a host-networked pod) diagnostics (-want +got):\n%s", d)
	}
}

// FuzzCiliumPolicy feeds arbitrary spec bodies to the Cilium compiler: it
// must never panic, and compiling the same input twice must give the same
// policies and diagnostics.
func FuzzCiliumPolicy(f *testing.F) {
	for _, seed := range []string{
		"spec: {endpointSelector: {}, ingress: [{}]}",
		"spec: {endpointSelector: {matchLabels: {k8s:io.kubernetes.pod.namespace: b}}, egress: [{toEndpoints: [{}], toPorts: [{ports: [{port: '80', endPort: 90}]}]}]}",
		"specs: [{endpointSelector: {}, egress: [{toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]}]}, {nodeSelector: {}}]",
		"spec: {endpointSelector: {matchLabels: {reserved:host: ''}}, ingressDeny: [{fromEntities: [world, all]}]}",
		"spec: {endpointSelector: {}, egress: [{toFQDNs: [{matchPattern: '*cilium.io'}], toPorts: [{ports: [{port: https}], rules: {http: [{}]}}]}]}",
		"spec: {endpointSelector: {}, egress: [{toServices: [{}], icmps: [{}]}], enableDefaultDeny: {egress: false}}",
		"spec: {endpointSelector: {}, ingress: [{fromCIDR: ['::1'], fromRequires: [{}]}]}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		text := ciliumWorkloads + "---\n" + cnpYAML("f", body) + "---\n" + ccnpYAML("g", body)
		build := func() *Cluster {
			docs, _ := manifest.Split("fuzz.yaml", []byte(text))
			objs, _ := manifest.NewDecoder().DecodeAll(docs)
			return Build(objs, Options{})
		}
		a, b := build(), build()
		if d := cmp.Diff(a.CiliumPolicies, b.CiliumPolicies, ipsetEqual); d != "" {
			t.Fatalf("Build(%q) twice: Cilium policies differ (-first +second):\n%s", body, d)
		}
		if d := cmp.Diff(a.Diagnostics, b.Diagnostics); d != "" {
			t.Fatalf("Build(%q) twice: diagnostics differ (-first +second):\n%s", body, d)
		}
	})
}
