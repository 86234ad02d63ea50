package reach_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// decodeYAML turns a multi-document YAML string into typed objects, with a
// decoder of its own so these tests depend on nothing but the k8s types.
func decodeYAML(t *testing.T, docs string) []manifest.Object {
	t.Helper()
	var out []manifest.Object
	for i, doc := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		var typed interface {
			GetName() string
			GetNamespace() string
		}
		switch tm.Kind {
		case "Namespace":
			typed = &corev1.Namespace{}
		case "Pod":
			typed = &corev1.Pod{}
		case "Deployment":
			typed = &appsv1.Deployment{}
		case "StatefulSet":
			typed = &appsv1.StatefulSet{}
		case "NetworkPolicy":
			typed = &networkingv1.NetworkPolicy{}
		default:
			t.Fatalf("doc %d: kind %q not supported by this test decoder", i, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), typed); err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		out = append(out, manifest.Object{APIVersion: tm.APIVersion, Kind: tm.Kind, Namespace: typed.GetNamespace(),
			Name: typed.GetName(), Source: manifest.Source{File: "case.yaml", Line: i + 1}, Typed: typed})
	}
	return out
}

func evalLines(t *testing.T, docs string) ([]string, []diag.Diagnostic) {
	t.Helper()
	c := model.Build(decodeYAML(t, docs), model.Options{})
	if diag.HasErrors(c.Diagnostics) {
		return nil, c.Diagnostics
	}
	sp := reach.NewSpace([]*model.Cluster{c}, nil)
	res, err := reach.Evaluate(sp, c)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, cn := range res.Connections() {
		lines = append(lines, fmt.Sprintf("%s => %s : %s", cn.Src, cn.Dst, cn.Conns))
	}
	return lines, append(c.Diagnostics, res.Diagnostics()...)
}

// Shared fixtures: two namespaces, each with labelled workloads.
const nsA = `
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: y}}
`

func deploy(ns, name, labels string, ports string) string {
	if ports == "" {
		ports = "[]"
	}
	return fmt.Sprintf(`
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: %s}
  template:
    metadata: {labels: %s}
    spec:
      containers: [{name: c, image: img, ports: %s}]
`, name, ns, labels, labels, ports)
}

func policy(ns, name, spec string) string {
	return fmt.Sprintf(`
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: %s, namespace: %s}
spec:
%s
`, name, ns, spec)
}

// Each case quotes the sentence of the Kubernetes NetworkPolicy
// documentation (concepts page or API reference) its expectation comes from.
var semanticsCases = []struct {
	name  string
	docs  string
	quote string
	want  []string
	// onlyDst, when set, limits the comparison to lines into that workload.
	onlyDst string
}{
	{
		name:  "no policy allows everything",
		quote: "By default, a pod is non-isolated for ingress; all inbound connections are allowed. By default, a pod is non-isolated for egress; all outbound connections are allowed.",
		docs:  nsA + deploy("a", "web", "{app: web}", "") + deploy("b", "db", "{app: db}", ""),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"0.0.0.0/0 => b/db[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"a/web[Deployment] => b/db[Deployment] : All Connections",
			"b/db[Deployment] => 0.0.0.0/0 : All Connections",
			"b/db[Deployment] => a/web[Deployment] : All Connections",
		},
	},
	{
		name:  "default deny ingress isolates every pod of the namespace for ingress only",
		quote: "You can create a 'default' ingress isolation policy for a namespace by creating a NetworkPolicy that selects all pods but does not allow any ingress traffic to those pods. ... This ensures that even pods that aren't selected by any other NetworkPolicy will still be isolated for ingress. This policy does not affect isolation for egress from any pod.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("b", "db", "{app: db}", "") +
			policy("b", "deny", "  podSelector: {}\n  policyTypes: [Ingress]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"b/db[Deployment] => 0.0.0.0/0 : All Connections",
			"b/db[Deployment] => a/web[Deployment] : All Connections",
		},
	},
	{
		name:  "policyTypes omitted with egress rules isolates egress too",
		quote: "If this field is not specified, it will default based on the existence of ingress or egress rules; policies that contain an egress section are assumed to affect egress, and all policies (whether or not they contain an ingress section) are assumed to affect ingress.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("b", "db", "{app: db}", "") +
			policy("a", "p", "  podSelector: {matchLabels: {app: web}}\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {team: y}}}]\n    ports: [{port: 5432}]"),
		want: []string{
			"0.0.0.0/0 => b/db[Deployment] : All Connections",
			"a/web[Deployment] => b/db[Deployment] : TCP 5432",
			"b/db[Deployment] => 0.0.0.0/0 : All Connections",
		},
	},
	{
		name:  "ingress rules are ignored when policyTypes names only Egress",
		quote: "policyTypes is a list of rule types that the NetworkPolicy relates to. Valid options are [\"Ingress\"], [\"Egress\"], or [\"Ingress\", \"Egress\"].",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("a", "db", "{app: db}", "") +
			policy("a", "p", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Egress]\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: none}}}]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: web}}}]"),
		want: []string{
			"0.0.0.0/0 => a/db[Deployment] : All Connections",
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"a/db[Deployment] => a/web[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"a/web[Deployment] => a/db[Deployment] : All Connections",
		},
	},
	{
		name:  "podSelector alone selects pods in the policy's namespace",
		quote: "podSelector: This selects particular Pods in the same namespace as the NetworkPolicy which should be allowed as ingress sources or egress destinations.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("a", "db", "{role: db}", "") + deploy("b", "web", "{app: web}", "") +
			policy("a", "p", "  podSelector: {matchLabels: {role: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"0.0.0.0/0 => b/web[Deployment] : All Connections",
			"a/db[Deployment] => 0.0.0.0/0 : All Connections",
			"a/db[Deployment] => a/web[Deployment] : All Connections",
			"a/db[Deployment] => b/web[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"a/web[Deployment] => a/db[Deployment] : All Connections",
			"a/web[Deployment] => b/web[Deployment] : All Connections",
			"b/web[Deployment] => 0.0.0.0/0 : All Connections",
			"b/web[Deployment] => a/web[Deployment] : All Connections",
		},
	},
	{
		name:  "namespaceSelector and podSelector in one peer intersect; in two peers they add up",
		quote: "[namespaceSelector and podSelector in one from element] allows connections from Pods in the local Namespace with the label role=client, or from any Pod in any namespace with the label user=alice. ... contains a single from element allowing connections from Pods with the label role=client in namespaces with the label user=alice.",
		docs: nsA + deploy("a", "client", "{role: client}", "") + deploy("b", "client", "{role: client}", "") + deploy("b", "other", "{role: other}", "") +
			deploy("a", "srv", "{app: srv}", "") +
			policy("a", "one-peer", "  podSelector: {matchLabels: {app: srv}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: y}}\n      podSelector: {matchLabels: {role: client}}\n    ports: [{port: 80}]") +
			policy("a", "two-peers", "  podSelector: {matchLabels: {app: srv}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: y}}\n    - podSelector: {matchLabels: {role: client}}\n    ports: [{port: 443}]"),
		// srv's ingress: from b/client on 80 and 443; from b/other on 443;
		// from a/client on 443 (local namespace, role=client).
		onlyDst: "a/srv[Deployment]",
		want: []string{
			"a/client[Deployment] => a/srv[Deployment] : TCP 443",
			"b/client[Deployment] => a/srv[Deployment] : TCP 80,443",
			"b/other[Deployment] => a/srv[Deployment] : TCP 443",
		},
	},
	{
		name:  "ipBlock with except, and ports by name, range and protocol",
		quote: "ipBlock: This selects particular IP CIDR ranges to allow as ingress sources or egress destinations. ... except is a slice of CIDRs that should not be included within an IPBlock. ... endPort indicates that the range of ports from port to endPort if set, inclusive, should be allowed by the policy. ... protocol ... If not specified, this field defaults to TCP.",
		docs: nsA + deploy("a", "web", "{app: web}", "[{name: http, containerPort: 8080}]") +
			policy("a", "p", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]\n    ports: [{port: http}, {port: 53, protocol: UDP}]\n  egress:\n  - to: [{ipBlock: {cidr: 192.168.0.0/16}}]\n    ports: [{port: 32000, endPort: 32768}, {port: 9, protocol: SCTP}]"),
		want: []string{
			"10.0.0.0/16 => a/web[Deployment] : TCP 8080,UDP 53",
			"10.2.0.0-10.255.255.255 => a/web[Deployment] : TCP 8080,UDP 53",
			"a/web[Deployment] => 192.168.0.0/16 : SCTP 9,TCP 32000-32768",
		},
	},
	{
		name:  "from absent matches all sources, ports absent all ports",
		quote: "If this field is empty or missing, this rule matches all sources (traffic not restricted by source). ... If this field is empty or missing, this rule matches all ports (traffic not restricted by port).",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("b", "db", "{app: db}", "") +
			policy("b", "p", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - {}\n  egress:\n  - ports: [{port: 53, protocol: UDP}]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"0.0.0.0/0 => b/db[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"a/web[Deployment] => b/db[Deployment] : All Connections",
			"b/db[Deployment] => 0.0.0.0/0 : UDP 53",
			"b/db[Deployment] => a/web[Deployment] : UDP 53",
		},
	},
	{
		name:  "both the source's egress and the destination's ingress must allow",
		quote: "For a connection from a source pod to a destination pod to be allowed, both the egress policy on the source pod and the ingress policy on the destination pod need to allow the connection.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("a", "db", "{app: db}", "") +
			policy("a", "db-in", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432}, {port: 5433}]") +
			policy("a", "web-out", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{podSelector: {}}]\n    ports: [{port: 5432}, {port: 80}]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"a/db[Deployment] => 0.0.0.0/0 : All Connections",
			"a/db[Deployment] => a/web[Deployment] : All Connections",
			"a/web[Deployment] => a/db[Deployment] : TCP 5432",
		},
	},
	{
		name:  "policies are additive",
		quote: "Network policies do not conflict; they are additive. If any policy or policies apply to a given pod for a given direction, the connections allowed in that direction from that pod is the union of what the applicable policies allow.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("a", "db", "{app: db}", "") +
			policy("a", "one", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {}}]\n    ports: [{port: 1}]") +
			policy("a", "two", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {}}]\n    ports: [{port: 2, protocol: UDP}]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"a/db[Deployment] => 0.0.0.0/0 : All Connections",
			"a/db[Deployment] => a/web[Deployment] : All Connections",
			"a/web[Deployment] => 0.0.0.0/0 : All Connections",
			"a/web[Deployment] => a/db[Deployment] : TCP 1,UDP 2",
		},
	},
	{
		name:  "matchExpressions operators",
		quote: "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist. ... If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty.",
		docs: nsA + deploy("a", "v1", "{app: x, ver: one}", "") + deploy("a", "v2", "{app: x, ver: two}", "") + deploy("a", "nover", "{app: x}", "") +
			deploy("a", "dst", "{role: dst}", "") +
			policy("a", "p", "  podSelector: {matchLabels: {role: dst}}\n  ingress:\n"+
				"  - from: [{podSelector: {matchExpressions: [{key: ver, operator: In, values: [one]}]}}]\n    ports: [{port: 1}]\n"+
				"  - from: [{podSelector: {matchExpressions: [{key: ver, operator: NotIn, values: [one]}]}}]\n    ports: [{port: 2}]\n"+
				"  - from: [{podSelector: {matchExpressions: [{key: ver, operator: Exists}]}}]\n    ports: [{port: 3}]\n"+
				"  - from: [{podSelector: {matchExpressions: [{key: ver, operator: DoesNotExist}]}}]\n    ports: [{port: 4}]"),
		// NotIn matches pods without the key too (a/nover): label selector
		// semantics in the Labels and Selectors concept page.
		onlyDst: "a/dst[Deployment]",
		want: []string{
			"a/nover[Deployment] => a/dst[Deployment] : TCP 2,4",
			"a/v1[Deployment] => a/dst[Deployment] : TCP 1,3",
			"a/v2[Deployment] => a/dst[Deployment] : TCP 2-3",
		},
	},
	{
		name:  "a namespace without an object still carries kubernetes.io/metadata.name",
		quote: "The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all namespaces, the value of the label is the namespace name.",
		docs: deploy("front", "web", "{app: web}", "") + deploy("back", "db", "{app: db}", "") +
			policy("back", "p", "  podSelector: {}\n  ingress:\n  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: front}}}]"),
		want: []string{
			"0.0.0.0/0 => front/web[Deployment] : All Connections",
			"back/db[Deployment] => 0.0.0.0/0 : All Connections",
			"back/db[Deployment] => front/web[Deployment] : All Connections",
			"front/web[Deployment] => 0.0.0.0/0 : All Connections",
			"front/web[Deployment] => back/db[Deployment] : All Connections",
		},
	},
	{
		name:  "an ipBlock selects addresses outside the cluster, never pods",
		quote: "ipBlock: This selects particular IP CIDR ranges to allow as ingress sources or egress destinations. These should be cluster-external IPs, since Pod IPs are ephemeral and unpredictable.",
		docs: nsA + deploy("a", "web", "{app: web}", "") + deploy("a", "db", "{app: db}", "") +
			policy("a", "p", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]"),
		// web's egress reaches every address but not db: only the
		// outside world (not isolated) may reach db.
		onlyDst: "a/db[Deployment]",
		want:    []string{"0.0.0.0/0 => a/db[Deployment] : All Connections"},
	},
	{
		name:  "IPv6 blocks are their own address family",
		quote: "ipBlock ... cidr is a string representing the IPBlock Valid examples are \"192.168.1.0/24\" or \"2001:db8::/64\"",
		docs: nsA + deploy("a", "web", "{app: web}", "") +
			policy("a", "p", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 2001:db8::/32, except: [2001:db8:1::/48]}}]\n    ports: [{port: 443}]"),
		want: []string{
			"0.0.0.0/0 => a/web[Deployment] : All Connections",
			"::/0 => a/web[Deployment] : All Connections",
			"a/web[Deployment] => 2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff : TCP 443",
			"a/web[Deployment] => 2001:db8::/48 : TCP 443",
		},
	},
	{
		name:  "a named port on egress to an ipBlock matches nothing",
		quote: "port ... If this is a string, it must be a named port on the pods selected (an external address has no named ports).",
		docs: nsA + deploy("a", "web", "{app: web}", "[{name: http, containerPort: 8080}]") +
			policy("a", "p", "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0}}, {podSelector: {}}]\n    ports: [{port: http}]"),
		want: []string{"0.0.0.0/0 => a/web[Deployment] : All Connections"},
	},
}

// linesInto keeps the lines whose destination is dst.
func linesInto(lines []string, dst string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, " => "+dst+" : ") {
			out = append(out, l)
		}
	}
	return out
}

func TestSemantics(t *testing.T) {
	for _, tc := range semanticsCases {
		t.Run(tc.name, func(t *testing.T) {
			got, diags := evalLines(t, tc.docs)
			if diag.HasErrors(diags) {
				t.Fatalf("unexpected input errors: %v", diags)
			}
			if tc.onlyDst != "" {
				got = linesInto(got, tc.onlyDst)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Evaluate(%s) mismatch (-want +got):\n%s\nrule: %s", tc.name, d, tc.quote)
			}
		})
	}
}

func TestInvalidPoliciesAreErrors(t *testing.T) {
	cases := []struct{ name, spec, want string }{
		{"endPort with a named port", "  podSelector: {}\n  ingress:\n  - ports: [{port: http, endPort: 90}]", "endPort cannot be used with named port"},
		{"endPort below port", "  podSelector: {}\n  ingress:\n  - ports: [{port: 90, endPort: 80}]", "endPort 80 must be between"},
		{"bad CIDR", "  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/33}}]", "ipBlock.cidr"},
		{"except outside cidr", "  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]", "strictly inside"},
		{"ipBlock with a selector", "  podSelector: {}\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/16}, podSelector: {}}]", "cannot be combined"},
		{"bad operator", "  podSelector: {matchExpressions: [{key: a, operator: Maybe}]}", "unknown operator"},
		{"In without values", "  podSelector: {matchExpressions: [{key: a, operator: In}]}", "needs values"},
		{"bad label value", "  podSelector: {matchLabels: {app: \"-x-\"}}", "invalid label value"},
		{"unknown policy type", "  podSelector: {}\n  policyTypes: [Sideways]", "unknown type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := evalLines(t, nsA+deploy("a", "web", "{app: web}", "")+policy("a", "bad", tc.spec))
			var msgs []string
			for _, d := range diags {
				if d.Severity == diag.Error {
					msgs = append(msgs, d.String())
				}
			}
			if len(msgs) != 1 || !strings.Contains(msgs[0], tc.want) || !strings.Contains(msgs[0], "NetworkPolicy a/bad") || !strings.Contains(msgs[0], "case.yaml:") {
				t.Errorf("Build(%s) errors = %q; want one error naming the file, the object and %q", tc.name, msgs, tc.want)
			}
		})
	}
}
