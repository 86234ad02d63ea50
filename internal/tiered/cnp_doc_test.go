package tiered

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// cnp builds the YAML of one ClusterNetworkPolicy (network-policy-api
// v1alpha2).
func cnp(name, tier string, priority int, subject, rules string) string {
	return "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: " + name + "}\nspec:\n  tier: " + tier +
		"\n  priority: " + itoa(priority) + "\n  subject: " + subject + "\n" + rules
}

const (
	toB       = "to: [{namespaces: {matchLabels: {team: b}}}]"
	toDB      = "to: [{pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {app: db}}}}]"
	toAll     = "to: [{namespaces: {}}]"
	fromAll   = "from: [{namespaces: {}}]"
	subjectDB = "{pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {app: db}}}}"
	// denyWorld is an egress rule that denies every address of both
	// families.
	denyWorld = "  - {name: deny-world, action: Deny, to: [{networks: [0.0.0.0/0, \"::/0\"]}]}\n"
)

// mentions returns a baseline policy for db that accepts egress to names,
// so that each name is a domain endpoint of the cluster; it does not
// concern web.
func mentions(names ...string) string {
	return cnp("mentions", "Baseline", 999, subjectDB, "  egress:\n  - {action: Accept, to: [{domainNames: ["+strings.Join(names, ", ")+"]}]}\n")
}

// TestCNPDoc checks ClusterNetworkPolicy evaluation rule by rule against
// the doc comments of sigs.k8s.io/network-policy-api v0.3.0
// apis/v1alpha2/clusternetworkpolicy_types.go; each case quotes the
// sentence it checks. Expectations come from the sentences, not from
// running the code.
func TestCNPDoc(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		docs []string
		// want maps "SRC => DST" to the expected connections (Conns).
		want map[string]string
		// webOut, when set, is every line of Evaluate from web to an
		// external range or a domain.
		webOut []string
		// cni is the profile the cluster is built with (default
		// cilium-like).
		cni model.CNI
		// knownGap, when set, skips the case with this reason: a rule the
		// evaluator does not implement yet.
		knownGap string
	}{
		// Tiers.
		{
			name: "admin Deny is final, whatever NetworkPolicy allows",
			doc: "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further evaluation is done. (spec.tier); " +
				"Deny: Drops the selected traffic. No further ClusterNetworkPolicy or NetworkPolicy rules will be processed. (ingress action)",
			docs: []string{
				cnp("deny-db", "Admin", 5, subjectA, "  ingress:\n  - {action: Deny, "+fromDB+"}\n"),
				cnp("accept-all", "Admin", 9, subjectA, "  ingress:\n  - {action: Accept, "+fromAll+"}\n"),
				np("a", "allow-all", npIsolateIn+"  ingress: [{}]\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "admin Accept is final, whatever NetworkPolicy denies",
			doc: "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further evaluation is done. (spec.tier); " +
				"Accept: Accepts the selected traffic ... No further ingress ClusterNetworkPolicy or NetworkPolicy rules will be processed.",
			docs: []string{
				cnp("accept-db", "Admin", 5, subjectA, "  ingress:\n  - {action: Accept, "+fromDB+", protocols: [{tcp: {destinationPort: {number: 9000}}}]}\n"),
				cnp("deny-all", "Admin", 9, subjectA, "  ingress:\n  - {action: Deny, "+fromAll+"}\n"),
				np("a", "deny-all", npIsolateIn),
			},
			want: map[string]string{db + " => " + web: "TCP 9000", cache + " => " + web: "No Connections"},
		},
		{
			name: "ingress Accept leaves the source's egress rules in force",
			doc: "Accept: ... No further ingress ClusterNetworkPolicy or NetworkPolicy rules will be processed. (ingress action); " +
				"Kubernetes: both the egress policy on the source and the ingress policy on the destination need to allow it.",
			docs: []string{
				cnp("accept-b", "Admin", 5, subjectA, "  ingress:\n  - {action: Accept, from: [{namespaces: {matchLabels: {team: b}}}]}\n"),
				np("a", "deny-all", npIsolateIn),
				np("b", "db-no-egress", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Egress]\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "egress Accept: the destination's ingress rules still apply",
			doc: "Accept: Accepts the selected traffic ... No further egress ClusterNetworkPolicy or NetworkPolicy rules will be processed " +
				"but any ingress rules at the destination do apply. (egress action)",
			docs: []string{
				cnp("accept-b", "Admin", 5, subjectWeb, "  egress:\n  - {action: Accept, "+toB+"}\n"),
				cnp("deny-out", "Baseline", 1, subjectWeb, "  egress:\n  - {action: Deny, "+toAll+"}\n"),
				np("a", "web-no-egress", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"),
				np("b", "db-no-ingress", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n"),
			},
			want: map[string]string{
				web + " => " + db:    "No Connections",
				web + " => " + cache: "All Connections",
				web + " => 1.2.3.4":  "No Connections",
			},
		},
		{
			name: "egress Deny is final, whatever NetworkPolicy allows",
			doc:  "Deny: Drops the selected traffic. No further ClusterNetworkPolicy or NetworkPolicy rules will be processed. (egress action)",
			docs: []string{
				cnp("deny-db", "Admin", 1, subjectWeb, "  egress:\n  - {action: Deny, "+toDB+"}\n  - {action: Accept, "+toAll+"}\n"),
				np("a", "web-egress-all", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress: [{}]\n"),
			},
			want: map[string]string{web + " => " + db: "No Connections", web + " => " + cache: "All Connections", db + " => " + web: "All Connections"},
		},
		{
			name: "admin before NetworkPolicy before baseline",
			doc: "Policy tiers are evaluated in the following order: * Admin tier * NetworkPolicy tier * Baseline tier (spec.tier); " +
				"All Admin tier rules have higher precedence than NetworkPolicy or Baseline tier rules. (spec.priority)",
			docs: []string{
				cnp("admin-deny-db", "Admin", 1000, subjectA, "  ingress:\n  - {action: Deny, "+fromDB+"}\n"),
				cnp("baseline-accept", "Baseline", 0, subjectA, "  ingress:\n  - {action: Accept, "+fromAll+"}\n"),
				np("a", "allow-b", npIsolateIn+"  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}], ports: [{port: 8080}]}]\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "TCP 8080", "1.2.3.4 => " + web: "No Connections"},
		},
		{
			name: "NetworkPolicy decides for the pods it selects; baseline for the others",
			doc: "v1.NetworkPolicy always makes a final decision for selected pods. Further evaluation only happens for Pods not selected by a " +
				"v1.NetworkPolicy. (spec.tier); Baseline tier is a cluster-wide policy that can be overridden by the v1.NetworkPolicy.",
			docs: []string{
				cnp("deny-ingress", "Baseline", 1, "{namespaces: {}}", "  ingress:\n  - {action: Deny, "+fromAll+"}\n"),
				np("a", "allow-b", npIsolateIn+"  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}], ports: [{port: 8080}]}]\n"),
			},
			want: map[string]string{
				db + " => " + web:    "TCP 8080",
				cache + " => " + web: "TCP 8080",
				web + " => " + db:    "No Connections",
				db + " => " + cache:  "No Connections",
			},
		},
		{
			name: "baseline Accept and Deny are final",
			doc:  "If Baseline tier has made a final decision (Accept or Deny) on a connection, then no further evaluation is done. (spec.tier)",
			docs: []string{
				cnp("accept-db", "Baseline", 1, subjectA, "  ingress:\n  - {action: Accept, "+fromDB+"}\n"),
				cnp("deny-b", "Baseline", 2, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "No Connections"},
		},
		{
			name: "what no tier decides is allowed",
			doc: "If a given connection wasn't allowed or denied by any of the tiers, the default kubernetes policy is applied, which says " +
				"that all pods can communicate with each other. (spec.tier)",
			docs: []string{
				cnp("accept-80", "Admin", 1, subjectA, "  ingress:\n  - {action: Accept, "+fromDB+", protocols: [{tcp: {destinationPort: {number: 80}}}]}\n"),
				cnp("deny-db", "Baseline", 1, subjectA, "  ingress:\n  - {action: Deny, "+fromDB+", protocols: [{udp: {destinationPort: {number: 53}}}]}\n"),
			},
			want: map[string]string{
				db + " => " + web:    "SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535",
				cache + " => " + web: "All Connections",
				web + " => " + db:    "All Connections",
			},
		},
		// Pass.
		{
			name: "admin Pass skips the tier's further rules and goes to NetworkPolicy",
			doc: "Pass: Skips all further ClusterNetworkPolicy rules in the current tier for the selected traffic, and passes evaluation to " +
				"the next tier. (action); if an Admin tier CNP uses Pass action, NetworkPolicy evaluation will happen next. " +
				"(ClusterNetworkPolicyRuleActionPass)",
			docs: []string{
				cnp("pass-db", "Admin", 1, subjectA, "  ingress:\n  - {action: Pass, "+fromDB+"}\n  - {action: Deny, "+fromDB+"}\n"),
				cnp("deny-b", "Admin", 2, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"),
				np("a", "allow-8080", npIsolateIn+"  ingress: [{ports: [{port: 8080}]}]\n"),
			},
			want: map[string]string{db + " => " + web: "TCP 8080", cache + " => " + web: "No Connections"},
		},
		{
			name: "admin Pass with no NetworkPolicy goes to the baseline tier",
			doc: "Pass: Skips all further ClusterNetworkPolicy rules in the current tier for the selected traffic, and passes evaluation to " +
				"the next tier. (action); Further evaluation only happens for Pods not selected by a v1.NetworkPolicy. (spec.tier)",
			docs: []string{
				cnp("pass-b", "Admin", 1, subjectA, "  ingress:\n  - {action: Pass, "+fromB+"}\n"),
				cnp("deny-db", "Baseline", 1, subjectA, "  ingress:\n  - {action: Deny, "+fromDB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "baseline Pass goes to the default, skipping later baseline policies",
			doc: "Pass: Skips all further ClusterNetworkPolicy rules in the current tier for the selected traffic, and passes evaluation to " +
				"the next tier. (action); If a given connection wasn't allowed or denied by any of the tiers, the default kubernetes policy " +
				"is applied, which says that all pods can communicate with each other. (spec.tier)",
			docs: []string{
				cnp("pass-db", "Baseline", 1, subjectA, "  ingress:\n  - {action: Pass, "+fromDB+"}\n  - {action: Deny, "+fromDB+"}\n"),
				cnp("deny-b", "Baseline", 2, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "No Connections"},
		},
		// Priorities and rule order.
		{
			name: "admin: lower priority value first",
			doc: "Policies with lower priority values have higher precedence, and are checked before policies with higher priority values " +
				"in the same tier. (spec.priority)",
			docs: []string{
				cnp("deny-b", "Admin", 20, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"),
				cnp("accept-db", "Admin", 10, subjectA, "  ingress:\n  - {action: Accept, "+fromDB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "No Connections"},
		},
		{
			name: "baseline: lower priority value first",
			doc: "Policies with lower priority values have higher precedence, and are checked before policies with higher priority values " +
				"in the same tier. (spec.priority)",
			docs: []string{
				cnp("accept-db", "Baseline", 10, subjectA, "  ingress:\n  - {action: Accept, "+fromDB+"}\n"),
				cnp("deny-b", "Baseline", 5, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "No Connections"},
		},
		{
			name: "v1alpha1 and v1alpha2 admin policies in one priority order",
			doc: "Policies with lower priority values have higher precedence (spec.priority); the APIs do not say how the two versions " +
				"interleave: reachdiff orders them together by priority (model info note).",
			docs: []string{
				anp("allow-db", 10, subjectA, "  ingress:\n  - {action: Allow, "+fromDB+"}\n"),
				cnp("deny-db", "Admin", 5, subjectA, "  ingress:\n  - {action: Deny, "+fromDB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections"},
		},
		{
			name: "ingress rules in the order written",
			doc: "The relative precedence of ingress rules within a single CNP object (all of which share the priority) will be determined " +
				"by the order in which the rule is written. Thus, a rule that appears at the top of the ingress rules would take the highest " +
				"precedence. (spec.ingress)",
			docs: []string{cnp("p", "Admin", 1, subjectA, "  ingress:\n"+
				"  - {action: Accept, "+fromB+", protocols: [{tcp: {destinationPort: {number: 80}}}]}\n"+
				"  - {action: Deny, "+fromB+"}\n"+
				"  - {action: Accept, "+fromB+"}\n")},
			want: map[string]string{db + " => " + web: "TCP 80", web + " => " + db: "All Connections"},
		},
		{
			name: "egress rules in the order written",
			doc: "The relative precedence of egress rules within a single CNP object (all of which share the priority) will be determined " +
				"by the order in which the rule is written. (spec.egress)",
			docs: []string{cnp("p", "Baseline", 1, subjectA, "  egress:\n"+
				"  - {action: Accept, "+toAll+", protocols: [{destinationNamedPort: pg}]}\n"+
				"  - {action: Deny, "+toAll+"}\n")},
			want: map[string]string{web + " => " + db: "TCP 5432", web + " => " + cache: "No Connections", web + " => 1.2.3.4": "All Connections"},
		},
		// Subjects and peers.
		{
			name: "no ingress rules: ingress untouched",
			doc:  "CNPs with no ingress rules do not affect ingress traffic. (spec.ingress)",
			docs: []string{
				cnp("admin-out", "Admin", 1, subjectWeb, "  egress:\n  - {action: Deny, "+toB+"}\n"),
				cnp("baseline-out", "Baseline", 1, subjectWeb, "  egress:\n  - {action: Deny, "+toAll+"}\n"),
			},
			want: map[string]string{
				db + " => " + web:        "All Connections",
				"1.2.3.4 => " + web:      "All Connections",
				web + " => " + db:        "No Connections",
				web + " => " + "1.2.3.4": "All Connections",
			},
		},
		{
			name: "no egress rules: egress untouched",
			doc:  "CNPs with no egress rules do not affect egress traffic. (spec.egress)",
			docs: []string{cnp("admin-in", "Admin", 1, subjectWeb, "  ingress:\n  - {action: Deny, "+fromB+"}\n")},
			want: map[string]string{web + " => " + db: "All Connections", web + " => 1.2.3.4": "All Connections", db + " => " + web: "No Connections"},
		},
		{
			name: "pods subject: namespace AND pod selectors",
			doc:  "Pods is used to select pods via namespace AND pod selectors. (ClusterNetworkPolicySubject.pods)",
			docs: []string{cnp("p", "Admin", 1, subjectDB, "  ingress:\n  - {action: Deny, "+fromAll+"}\n")},
			want: map[string]string{web + " => " + db: "No Connections", web + " => " + cache: "All Connections", cache + " => " + db: "No Connections"},
		},
		{
			name: "host-networked pods are neither subjects nor peers",
			doc: "Note that host-networked pods are not included in subject selection. (ClusterNetworkPolicySubject); " +
				"Note that host-networked pods are not included in this type of peer. (namespaces, pods peers)",
			docs: []string{cnp("p", "Admin", 1, "{namespaces: {}}",
				"  ingress:\n  - {action: Deny, "+fromAll+"}\n  egress:\n  - {action: Deny, to: [{pods: {namespaceSelector: {}, podSelector: {}}}]}\n")},
			want: map[string]string{
				agent + " => " + web: "All Connections",
				web + " => " + agent: "All Connections",
				db + " => " + web:    "No Connections",
				web + " => " + db:    "No Connections",
			},
		},
		{
			name: "ingress peers are pods only",
			doc: "ClusterNetworkPolicyIngressPeer defines a peer to allow traffic from. ... Namespaces defines a way to select all pods within " +
				"a set of Namespaces.",
			docs: []string{cnp("p", "Admin", 1, subjectA, "  ingress:\n  - {action: Deny, "+fromAll+"}\n")},
			want: map[string]string{"1.2.3.4 => " + web: "All Connections", "2001:db8::1 => " + web: "All Connections", cache + " => " + web: "No Connections"},
		},
		// Protocols.
		{
			name: "protocols: tcp number, udp range, sctp number",
			doc: "Protocols allows for more fine-grain matching of traffic on protocol-specific attributes such as the port. (rule); " +
				"PortRange defines an inclusive range of ports from the assigned Start value to End value.",
			docs: []string{cnp("p", "Admin", 1, subjectA, "  ingress:\n  - action: Deny\n    "+fromB+"\n    protocols:\n"+
				"    - tcp: {destinationPort: {number: 8080}}\n    - udp: {destinationPort: {range: {start: 50, end: 60}}}\n"+
				"    - sctp: {destinationPort: {number: 9}}\n")},
			want: map[string]string{db + " => " + web: "SCTP 1-8,10-65535,TCP 1-8079,8081-65535,UDP 1-49,61-65535"},
		},
		{
			name: "destinationNamedPort",
			doc:  "DestinationNamedPort selects a destination port on a pod based on the ContainerPort name.",
			docs: []string{cnp("p", "Admin", 1, subjectA, "  ingress:\n  - {action: Deny, "+fromB+", protocols: [{destinationNamedPort: dns}]}\n")},
			want: map[string]string{db + " => " + web: "SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535"},
		},
		{
			name: "no protocols: every port",
			doc:  "If unspecified, protocol-specific attributes will not be used to match traffic. (protocols)",
			docs: []string{cnp("p", "Admin", 1, subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n")},
			want: map[string]string{db + " => " + web: "No Connections"},
		},
		// Networks.
		{
			name: "networks: allow a vendor range, deny the rest of IPv4",
			doc: "Networks defines a way to select peers via CIDR blocks. This is intended for representing entities that live outside the " +
				"cluster; a Networks entry of \"0.0.0.0/0\" will match both IPv4 and ICMP traffic, while \"::/0\" will match both IPv6 and " +
				"ICMPv6 traffic.",
			docs: []string{cnp("p", "Admin", 1, subjectWeb, "  egress:\n"+
				"  - {action: Accept, to: [{networks: [203.0.113.0/24]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}\n"+
				"  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n")},
			want: map[string]string{
				web + " => 203.0.113.9":  "TCP 443",
				web + " => 198.51.100.7": "No Connections",
				web + " => 2001:db8::1":  "All Connections",
			},
			webOut: []string{web + " => 203.0.113.0/24 : TCP 443", web + " => ::/0 : All Connections"},
		},
		{
			name: "networks ::/0 denies IPv6 only",
			doc:  "\"::/0\" will match both IPv6 and ICMPv6 traffic. (networks)",
			docs: []string{cnp("p", "Baseline", 1, subjectWeb, "  egress:\n  - {action: Deny, to: [{networks: [\"::/0\"]}]}\n")},
			want: map[string]string{web + " => 2001:db8::1": "No Connections", web + " => 1.2.3.4": "All Connections"},
		},
		{
			name: "networks 0.0.0.0/0 matches pod traffic too (calico profile)",
			doc: "Networks ... note that cluster-internal traffic will be checked against the rule as well. So if you Accept or Deny " +
				"traffic to \"0.0.0.0/0\", that will allow or deny all IPv4 pod-to-pod traffic as well. (networks)",
			cni:  model.CNICalico,
			docs: []string{cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n")},
			want: map[string]string{
				web + " => " + db:       "No Connections",
				web + " => " + cache:    "No Connections",
				web + " => 1.2.3.4":     "No Connections",
				web + " => 2001:db8::1": "All Connections",
			},
		},
		{
			name: "networks 0.0.0.0/0 and pod traffic (cilium-like profile, the default)",
			doc: "reachdiff DESIGN 5 and model.CNICiliumLike: pod addresses are not modelled, so a CIDR never matches a workload; this " +
				"departs from \"that will allow or deny all IPv4 pod-to-pod traffic as well\" on purpose (--cni calico follows it).",
			docs: []string{cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Deny, to: [{networks: [0.0.0.0/0]}]}\n")},
			want: map[string]string{web + " => " + db: "All Connections", web + " => 1.2.3.4": "No Connections"},
		},
		{
			name: "Pass pod traffic before a networks Deny",
			doc: "So if you Accept or Deny traffic to \"0.0.0.0/0\", that will allow or deny all IPv4 pod-to-pod traffic as well. If you " +
				"don't want that, add a rule that Passes all pod traffic before the Networks rule. (networks)",
			cni: model.CNICalico,
			docs: []string{
				cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Pass, "+toAll+"}\n"+denyWorld),
				np("b", "db-pg", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n"+
					"  ingress: [{from: [{namespaceSelector: {matchLabels: {team: a}}}], ports: [{port: 5432}]}]\n"),
			},
			want:   map[string]string{web + " => " + db: "TCP 5432", web + " => " + cache: "All Connections"},
			webOut: []string{},
		},
		// Domain names.
		{
			name: "allowlist: Accept domain names, Pass pods, then Deny every address",
			doc: "DomainNames is only supported for Accept rules. In order to control access, DomainNames Accept rules should be used with " +
				"a lower precedence egress deny -- this allows the admin to maintain an explicit \"allowlist\" of reachable domains. (domainNames)",
			docs: []string{
				cnp("allowlist", "Admin", 10, subjectWeb, "  egress:\n"+
					"  - {action: Accept, to: [{domainNames: [api.stripe.com, \"*.github.com\"]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}\n"+
					"  - {action: Pass, "+toAll+"}\n"),
				cnp("deny-world", "Admin", 20, subjectWeb, "  egress:\n"+denyWorld),
			},
			want: map[string]string{web + " => " + db: "All Connections", db + " => 1.2.3.4": "All Connections"},
			webOut: []string{
				web + " => *.github.com[FQDN] : TCP 443",
				web + " => api.stripe.com[FQDN] : TCP 443",
			},
		},
		{
			name: "*.kubernetes.io matches subdomains, not kubernetes.io",
			doc: "`*.kubernetes.io` matches subdomains of kubernetes.io. \"www.kubernetes.io\", \"blog.kubernetes.io\", and " +
				"\"latest.blog.kubernetes.io\" match, however \"kubernetes.io\", and \"wikipedia.org\" do not. (DomainName)",
			docs: []string{
				cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [\"*.kubernetes.io\"]}]}\n"+denyWorld),
				mentions("www.kubernetes.io", "blog.kubernetes.io", "latest.blog.kubernetes.io", "kubernetes.io", "wikipedia.org"),
			},
			webOut: []string{
				web + " => *.kubernetes.io[FQDN] : All Connections",
				web + " => blog.kubernetes.io[FQDN] : All Connections",
				web + " => latest.blog.kubernetes.io[FQDN] : All Connections",
				web + " => www.kubernetes.io[FQDN] : All Connections",
			},
		},
		{
			name: "kubernetes.io matches only kubernetes.io",
			doc: "`kubernetes.io` matches only `kubernetes.io`. It does not match \"www.kubernetes.io\", \"blog.kubernetes.io\", " +
				"\"my-kubernetes.io\", or \"wikipedia.org\". (DomainName)",
			docs: []string{
				cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [kubernetes.io]}]}\n"+denyWorld),
				mentions("www.kubernetes.io", "blog.kubernetes.io", "my-kubernetes.io", "wikipedia.org"),
			},
			webOut: []string{web + " => kubernetes.io[FQDN] : All Connections"},
		},
		{
			name: "blog.kubernetes.io matches only blog.kubernetes.io",
			doc:  "`blog.kubernetes.io` matches only \"blog.kubernetes.io\". It does not match \"www.kubernetes.io\" or \"kubernetes.io\". (DomainName)",
			docs: []string{
				cnp("p", "Baseline", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [blog.kubernetes.io]}]}\n"+denyWorld),
				mentions("www.kubernetes.io", "kubernetes.io"),
			},
			webOut: []string{web + " => blog.kubernetes.io[FQDN] : All Connections"},
		},
		{
			name: "an Accept on a domain alone restricts nothing",
			doc: "In order to control access, DomainNames Accept rules should be used with a lower precedence egress deny (domainNames); " +
				"If a given connection wasn't allowed or denied by any of the tiers, the default kubernetes policy is applied",
			docs: []string{
				cnp("p", "Admin", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [api.stripe.com]}], protocols: [{tcp: {destinationPort: {number: 443}}}]}\n"),
			},
			want: map[string]string{web + " => 1.2.3.4": "All Connections"},
			webOut: []string{
				web + " => 0.0.0.0/0 : All Connections",
				web + " => ::/0 : All Connections",
				web + " => api.stripe.com[FQDN] : All Connections",
			},
		},
		{
			name: "domains through the tiers: admin Accept is final, baseline Accept loses to NetworkPolicy",
			doc: "If Admin tier has made a final decision (Accept or Deny) on a connection, then no further evaluation is done; " +
				"v1.NetworkPolicy always makes a final decision for selected pods. (spec.tier)",
			docs: []string{
				cnp("admin", "Admin", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [api.stripe.com]}]}\n"),
				cnp("baseline", "Baseline", 1, subjectWeb, "  egress:\n  - {action: Accept, to: [{domainNames: [api.github.com]}]}\n"),
				np("a", "web-pods-only", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress: [{to: [{namespaceSelector: {}}]}]\n"),
			},
			want:   map[string]string{web + " => " + db: "All Connections", web + " => 1.2.3.4": "No Connections"},
			webOut: []string{web + " => api.stripe.com[FQDN] : All Connections"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.knownGap != "" {
				t.Skip(tc.knownGap)
			}
			c := buildCNI(t, tc.cni, tc.docs...)
			got := map[string]string{}
			for pair := range tc.want {
				src, dst, _ := strings.Cut(pair, " => ")
				got[pair] = Conns(c, endpoint(t, c, src), endpoint(t, c, dst)).String()
			}
			if d := cmp.Diff(tc.want, got); len(tc.want) > 0 && d != "" {
				t.Errorf("Conns in case %q\n(%s)\n(-want +got):\n%s", tc.name, tc.doc, d)
			}
			if tc.webOut == nil {
				return
			}
			gotOut := []string{}
			for _, l := range Evaluate(c) {
				if l.Src.Name == web && l.Dst.Name == "" {
					gotOut = append(gotOut, l.String())
				}
			}
			if d := cmp.Diff(tc.webOut, gotOut); d != "" {
				t.Errorf("Evaluate: lines from %s to addresses and domains in case %q\n(%s)\n(-want +got):\n%s", web, tc.name, tc.doc, d)
			}
		})
	}
}

// buildCNI is build under a CNI profile.
func buildCNI(t *testing.T, cni model.CNI, docs ...string) *model.Cluster {
	t.Helper()
	if cni == "" {
		return build(t, docs...)
	}
	split, diags := manifest.Split("test.yaml", []byte(strings.Join(append([]string{base}, docs...), "\n---\n")))
	objs, more := manifest.NewDecoder().DecodeAll(split)
	c := model.Build(objs, model.Options{CNI: cni})
	if all := append(append(diags, more...), c.Diagnostics...); diag.HasErrors(all) {
		t.Fatalf("build: errors in the input: %v", all)
	}
	return c
}
