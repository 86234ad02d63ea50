package tiered

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// base is the cluster every case adds policies to: web in namespace a,
// db and cache in namespace b. web serves TCP 8080 as "http" and UDP 53 as
// "dns"; db serves TCP 5432 as "pg".
const base = `
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {team: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: a, labels: {app: web}}
spec:
  containers:
  - name: c
    ports:
    - {name: http, containerPort: 8080}
    - {name: dns, containerPort: 53, protocol: UDP}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: b, labels: {app: db}}
spec:
  containers:
  - name: c
    ports:
    - {name: pg, containerPort: 5432}
---
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: b, labels: {app: cache}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: b, labels: {app: agent}}
spec: {hostNetwork: true, containers: [{name: c}]}
`

const (
	web   = "a/web[Pod]"
	db    = "b/db[Pod]"
	cache = "b/cache[Pod]"
	agent = "b/agent[Pod]"
)

// build decodes YAML documents into a cluster, failing on input errors.
func build(t *testing.T, docs ...string) *model.Cluster {
	t.Helper()
	text := strings.Join(append([]string{base}, docs...), "\n---\n")
	split, diags := manifest.Split("test.yaml", []byte(text))
	objs, more := manifest.NewDecoder().DecodeAll(split)
	c := model.Build(objs, model.Options{})
	all := append(append(diags, more...), c.Diagnostics...)
	if diag.HasErrors(all) {
		t.Fatalf("build: errors in the input: %v", all)
	}
	return c
}

func endpoint(t *testing.T, c *model.Cluster, s string) Endpoint {
	t.Helper()
	if w := c.Workload(s); w != nil {
		return Endpoint{Workload: w}
	}
	r, err := ipset.ParseRange(s)
	if err != nil {
		t.Fatalf("endpoint %q: %v", s, err)
	}
	return Endpoint{External: r}
}

// anp, banp and np build the YAML of one policy.
func anp(name string, priority int, subject, rules string) string {
	return "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: " + name + "}\nspec:\n  priority: " +
		itoa(priority) + "\n  subject: " + subject + "\n" + rules
}

func banp(subject, rules string) string {
	return "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: " +
		subject + "\n" + rules
}

func np(ns, name, spec string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

const (
	subjectA    = "{namespaces: {matchLabels: {team: a}}}"
	subjectB    = "{namespaces: {matchLabels: {team: b}}}"
	subjectWeb  = "{pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: web}}}}"
	fromB       = "from: [{namespaces: {matchLabels: {team: b}}}]"
	fromDB      = "from: [{pods: {namespaceSelector: {matchLabels: {team: b}}, podSelector: {matchLabels: {app: db}}}}]"
	npIsolateIn = "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"
)

func TestConns(t *testing.T) {
	tests := []struct {
		name string
		// doc is the network-policy-api (or Kubernetes) sentence the case
		// checks.
		doc  string
		docs []string
		// want maps "SRC => DST" to the expected connections.
		want map[string]string
	}{
		{
			name: "no policy",
			doc:  "Kubernetes: by default, a pod is non-isolated for ingress and egress; all connections are allowed.",
			want: map[string]string{db + " => " + web: "All Connections", web + " => 0.0.0.0/0": "All Connections"},
		},
		{
			name: "priority order",
			doc: "Policies with lower priority values have higher precedence, and are checked before policies with " +
				"higher priority values. (AdminNetworkPolicySpec.priority)",
			docs: []string{
				anp("deny-b", 20, subjectA, "  ingress:\n  - {name: deny, action: Deny, "+fromB+"}\n"),
				anp("allow-b", 10, subjectA, "  ingress:\n  - {name: allow, action: Allow, "+fromB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "priority order, higher value loses",
			doc:  "Policies with lower priority values have higher precedence (AdminNetworkPolicySpec.priority)",
			docs: []string{
				anp("deny-b", 5, subjectA, "  ingress:\n  - {name: deny, action: Deny, "+fromB+"}\n"),
				anp("allow-b", 10, subjectA, "  ingress:\n  - {name: allow, action: Allow, "+fromB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections"},
		},
		{
			name: "first matching rule wins",
			doc: "The relative precedence of ingress rules within a single ANP object ... will be determined by the order " +
				"in which the rule is written. Thus, a rule that appears at the top of the ingress rules would take the " +
				"highest precedence. (AdminNetworkPolicySpec.ingress)",
			docs: []string{anp("p", 1, subjectA, "  ingress:\n"+
				"  - {name: allow-80, action: Allow, "+fromB+", ports: [{portNumber: {protocol: TCP, port: 80}}]}\n"+
				"  - {name: deny-all, action: Deny, "+fromB+"}\n"+
				"  - {name: allow-all, action: Allow, "+fromB+"}\n")},
			want: map[string]string{db + " => " + web: "TCP 80", web + " => " + db: "All Connections"},
		},
		{
			name: "deny wins over a NetworkPolicy allow",
			doc: "Deny: denies the selected traffic; AdminNetworkPolicyRuleActionDeny: Pods will never receive traffic " +
				"which has been matched by a \"Deny\" rule in an AdminNetworkPolicy.",
			docs: []string{
				anp("p", 1, subjectA, "  ingress:\n  - {name: deny, action: Deny, "+fromDB+"}\n"),
				np("a", "allow-all", npIsolateIn+"  ingress: [{}]\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "allow wins over a NetworkPolicy deny",
			doc:  "Allow: allows the selected traffic (even if it would otherwise have been denied by NetworkPolicy)",
			docs: []string{
				anp("p", 1, subjectA, "  ingress:\n  - {name: allow, action: Allow, "+fromDB+", ports: [{portNumber: {protocol: UDP, port: 53}}]}\n"),
				np("a", "deny-all", npIsolateIn),
			},
			want: map[string]string{db + " => " + web: "UDP 53", cache + " => " + web: "No Connections"},
		},
		{
			name: "pass skips the remaining ANP rules and goes to NetworkPolicy",
			doc: "Pass: instructs the selected traffic to skip any remaining ANP rules, and then pass execution to any " +
				"NetworkPolicies that select the pod.",
			docs: []string{
				anp("pass", 1, subjectA, "  ingress:\n  - {name: pass, action: Pass, "+fromDB+"}\n  - {name: deny, action: Deny, "+fromDB+"}\n"),
				anp("deny", 2, subjectA, "  ingress:\n  - {name: deny, action: Deny, "+fromB+"}\n"),
				np("a", "allow-8080", npIsolateIn+"  ingress: [{ports: [{port: 8080}]}]\n"),
			},
			want: map[string]string{db + " => " + web: "TCP 8080", cache + " => " + web: "No Connections"},
		},
		{
			name: "pass with no NetworkPolicy goes to the baseline",
			doc: "If the pod is not selected by any NetworkPolicies then execution is passed to any " +
				"BaselineAdminNetworkPolicies that select the pod. (action Pass)",
			docs: []string{
				anp("pass", 1, subjectA, "  ingress:\n  - {name: pass, action: Pass, "+fromB+"}\n"),
				banp(subjectA, "  ingress:\n  - {name: deny-db, action: Deny, "+fromDB+"}\n"),
			},
			want: map[string]string{db + " => " + web: "No Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "baseline applies only when NetworkPolicy does not isolate",
			doc: "Ingress is the list of Ingress rules to be applied to the selected pods if they are not matched by any " +
				"AdminNetworkPolicy or NetworkPolicy rules. (BaselineAdminNetworkPolicySpec.ingress); " +
				"If the pod is not selected by any NetworkPolicies then execution is passed to any BaselineAdminNetworkPolicies",
			docs: []string{
				banp(subjectA, "  ingress:\n  - {name: deny-b, action: Deny, "+fromB+"}\n"),
				np("a", "allow-b", npIsolateIn+"  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}]}]\n"),
			},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "All Connections"},
		},
		{
			name: "baseline denies where nothing else decides",
			doc:  "BaselineAdminNetworkPolicyRuleActionDeny enables admins to deny traffic.",
			docs: []string{banp(subjectA, "  ingress:\n  - {name: deny-b, action: Deny, "+fromB+"}\n")},
			want: map[string]string{db + " => " + web: "No Connections", web + " => " + db: "All Connections", "0.0.0.0/0 => " + web: "All Connections"},
		},
		{
			name: "baseline rules in order",
			doc: "The relative precedence of ingress rules within a single BANP object will be determined by the order in " +
				"which the rule is written. (BaselineAdminNetworkPolicySpec.ingress)",
			docs: []string{banp(subjectA, "  ingress:\n"+
				"  - {name: allow-db, action: Allow, "+fromDB+"}\n"+
				"  - {name: deny-b, action: Deny, "+fromB+"}\n")},
			want: map[string]string{db + " => " + web: "All Connections", cache + " => " + web: "No Connections"},
		},
		{
			name: "named port",
			doc:  "NamedPort selects a port on a pod(s) based on name. (AdminNetworkPolicyPort.namedPort)",
			docs: []string{anp("p", 1, subjectA, "  ingress:\n  - {name: deny-http, action: Deny, "+fromB+", ports: [{namedPort: http}]}\n")},
			want: map[string]string{db + " => " + web: "SCTP 1-65535,TCP 1-8079,8081-65535,UDP 1-65535"},
		},
		{
			name: "named port on egress resolves on the destination",
			doc: "Ports ... is a list of destination ports for the outgoing egress traffic. (AdminNetworkPolicyEgressRule.ports); " +
				"NamedPort selects a port on a pod(s) based on name.",
			docs: []string{anp("p", 1, subjectA, "  egress:\n"+
				"  - {name: allow-pg, action: Allow, to: [{namespaces: {}}], ports: [{namedPort: pg}]}\n"+
				"  - {name: deny, action: Deny, to: [{namespaces: {}}]}\n")},
			want: map[string]string{web + " => " + db: "TCP 5432", web + " => " + cache: "No Connections", web + " => 0.0.0.0/0": "All Connections"},
		},
		{
			name: "port range",
			doc: "PortRange defines an inclusive range of ports from the the assigned Start value to End value. " +
				"Protocol ... If not specified, this field defaults to TCP.",
			docs: []string{anp("p", 1, subjectA, "  ingress:\n  - {name: deny-range, action: Deny, "+fromB+", ports: [{portRange: {start: 8000, end: 9000}}]}\n")},
			want: map[string]string{db + " => " + web: "SCTP 1-65535,TCP 1-7999,9001-65535,UDP 1-65535"},
		},
		{
			name: "networks",
			doc: "Networks defines a way to select peers via CIDR blocks. This is intended for representing entities " +
				"that live outside the cluster (AdminNetworkPolicyEgressPeer.networks)",
			docs: []string{anp("p", 1, subjectA, "  egress:\n"+
				"  - {name: allow-vendor, action: Allow, to: [{networks: [203.0.113.0/24]}], ports: [{portNumber: {protocol: TCP, port: 443}}]}\n"+
				"  - {name: deny-internet, action: Deny, to: [{networks: [0.0.0.0/0]}]}\n")},
			want: map[string]string{
				web + " => 203.0.113.0/24": "TCP 443",
				web + " => 10.0.0.0/8":     "No Connections",
				// Deviation, as for NetworkPolicy ipBlocks: pod addresses are not
				// modelled, so a networks peer never matches a workload, although
				// "cluster-internal traffic will be checked against the rule as
				// well. So if you Allow or Deny traffic to "0.0.0.0/0", that will
				// allow or deny all IPv4 pod-to-pod traffic as well."
				web + " => " + db: "All Connections",
			},
		},
		{
			name: "ANP egress and NetworkPolicy ingress both apply",
			doc:  "Kubernetes: for a connection from a source pod to a destination pod to be allowed, both the egress policy on the source and the ingress policy on the destination need to allow it.",
			docs: []string{
				anp("p", 1, subjectB, "  egress:\n  - {name: allow, action: Allow, to: [{namespaces: {}}]}\n"),
				np("a", "deny-all", npIsolateIn),
			},
			want: map[string]string{db + " => " + web: "No Connections", web + " => " + db: "All Connections"},
		},
		{
			name: "external sources never match admin ingress peers",
			doc:  "AdminNetworkPolicyIngressPeer ... Namespaces defines a way to select all pods within a set of Namespaces.",
			docs: []string{anp("p", 1, subjectA, "  ingress:\n  - {name: deny, action: Deny, from: [{namespaces: {}}]}\n")},
			want: map[string]string{"0.0.0.0/0 => " + web: "All Connections", db + " => " + web: "No Connections"},
		},
		{
			name: "pods subject selects only matching pods",
			doc:  "Pods is used to select pods via namespace AND pod selectors. (AdminNetworkPolicySubject.pods)",
			docs: []string{anp("p", 1, "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}", "  ingress:\n  - {name: deny, action: Deny, from: [{namespaces: {}}]}\n")},
			want: map[string]string{web + " => " + db: "No Connections", web + " => " + cache: "All Connections"},
		},
		{
			name: "host-networked pods are neither subjects nor peers",
			doc: "Note that host-networked pods are not included in subject selection. (AdminNetworkPolicySpec.subject); " +
				"Note that host-networked pods are not included in this type of peer. (AdminNetworkPolicyIngressPeer.namespaces)",
			docs: []string{anp("p", 1, "{namespaces: {}}", "  ingress:\n  - {name: deny, action: Deny, from: [{namespaces: {}}]}\n")},
			want: map[string]string{web + " => " + agent: "All Connections", agent + " => " + web: "All Connections", db + " => " + web: "No Connections"},
		},
		{
			name: "subject web, egress to the internet denied by baseline",
			doc:  "Egress is the list of Egress rules to be applied to the selected pods if they are not matched by any AdminNetworkPolicy or NetworkPolicy rules.",
			docs: []string{banp(subjectWeb, "  egress:\n  - {name: deny-out, action: Deny, to: [{networks: [0.0.0.0/0]}]}\n")},
			want: map[string]string{web + " => 1.2.3.4": "No Connections", db + " => 1.2.3.4": "All Connections"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := build(t, tc.docs...)
			got := map[string]string{}
			for pair := range tc.want {
				src, dst, _ := strings.Cut(pair, " => ")
				got[pair] = Conns(c, endpoint(t, c, src), endpoint(t, c, dst)).String()
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Conns in case %q (%s) (-want +got):\n%s", tc.name, tc.doc, d)
			}
		})
	}
}

func TestIngressConns(t *testing.T) {
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: a}\nspec:\n  selector: {app: web}\n  ports:\n" +
		"  - {name: main, port: 80, targetPort: http}\n  - {name: other, port: 81, targetPort: 9090}\n"
	ing := "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: a}\nspec:\n  rules:\n" +
		"  - http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}\n"
	route := "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: web, namespace: a}\nspec:\n  to: {kind: Service, name: web}\n"
	tests := []struct {
		name, doc string
		docs      []string
		want      string
	}{
		{
			name: "ingress to a named target port",
			doc:  "ServicePort.targetPort: Number or name of the port to access on the pods targeted by the service.",
			docs: []string{svc, ing},
			want: "TCP 8080",
		},
		{
			name: "route without port reaches every service port",
			doc:  "RouteSpec.port: Most routers will use all endpoints exposed by the service by default",
			docs: []string{svc, route},
			want: "TCP 8080,9090",
		},
		{
			name: "route targetPort by endpoint port number",
			doc: "RoutePort.targetPort: The target port on pods selected by the service this route points to. If this is " +
				"a string, it will be looked up as a named port in the target endpoints port list.",
			docs: []string{svc, route + "  port: {targetPort: 9090}\n"},
			want: "TCP 9090",
		},
		{
			name: "route targetPort by endpoint port name",
			doc:  "If this is a string, it will be looked up as a named port in the target endpoints port list.",
			docs: []string{svc, route + "  port: {targetPort: main}\n"},
			want: "TCP 8080",
		},
		{
			name: "NetworkPolicy that admits any namespace admits the controller",
			doc:  "Oracle convention 9: the controller reaches a backend only if ingress from an arbitrary in-cluster workload is allowed.",
			docs: []string{svc, ing, np("a", "any-ns", npIsolateIn+"  ingress: [{from: [{namespaceSelector: {}}], ports: [{port: 8080}]}]\n")},
			want: "TCP 8080",
		},
		{
			name: "NetworkPolicy that admits one namespace keeps the controller out",
			doc:  "Oracle convention 9.",
			docs: []string{svc, ing, np("a", "only-b", npIsolateIn+"  ingress: [{from: [{namespaceSelector: {matchLabels: {team: b}}}]}]\n")},
			want: "No Connections",
		},
		{
			name: "ANP deny from every namespace keeps the controller out",
			doc:  "Pods will never receive traffic which has been matched by a \"Deny\" rule in an AdminNetworkPolicy.",
			docs: []string{svc, ing, anp("p", 1, subjectA, "  ingress:\n  - {name: deny, action: Deny, from: [{namespaces: {}}]}\n")},
			want: "No Connections",
		},
		{
			name: "no exposure",
			doc:  "Without an Ingress or Route the controller sends nothing.",
			docs: []string{svc},
			want: "No Connections",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := build(t, tc.docs...)
			if got := IngressConns(c, c.Workload(web)).String(); got != tc.want {
				t.Errorf("IngressConns(%s) in case %q (%s) = %v; want %v", web, tc.name, tc.doc, got, tc.want)
			}
		})
	}
}

// TestEvaluateMergesAndSorts checks Evaluate's shape: external atoms with
// equal connections merge, and lines are sorted by source then destination.
func TestEvaluateMergesAndSorts(t *testing.T) {
	c := build(t, np("a", "egress", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"+
		"  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]}]\n"))
	lines := Evaluate(c)
	var webOut, intoWeb []string
	for _, l := range lines {
		if l.Src.Name == web && l.Dst.Name == "" {
			webOut = append(webOut, l.String())
		}
		if l.Dst.Name == web && l.Src.Name == "" {
			intoWeb = append(intoWeb, l.String())
		}
	}
	// "ipBlock defines policy on a particular IPBlock ... except is a slice
	// of CIDRs that should not be included within an IPBlock" (Kubernetes).
	wantOut := []string{
		web + " => 10.0.0.0/16 : All Connections",
		web + " => 10.2.0.0-10.255.255.255 : All Connections",
	}
	if d := cmp.Diff(wantOut, webOut); d != "" {
		t.Errorf("Evaluate: web's external lines (-want +got):\n%s", d)
	}
	// Ingress into web is not isolated: the atoms merge back into each
	// whole family.
	wantIn := []string{"0.0.0.0/0 => " + web + " : All Connections", "::/0 => " + web + " : All Connections"}
	if d := cmp.Diff(wantIn, intoWeb); d != "" {
		t.Errorf("Evaluate: external lines into web (-want +got):\n%s", d)
	}
	for i := 1; i < len(lines); i++ {
		a, b := lines[i-1], lines[i]
		if a.Src.String() > b.Src.String() || a.Src == b.Src && a.Dst.String() >= b.Dst.String() {
			t.Errorf("Evaluate not sorted: %q before %q", a, b)
		}
	}
}

func TestNeeded(t *testing.T) {
	if Needed(build(t)) {
		t.Errorf("Needed(NetworkPolicy-only cluster) = true; want false")
	}
	c := build(t, banp(subjectA, "  ingress:\n  - {action: Deny, "+fromB+"}\n"))
	if !Needed(c) {
		t.Errorf("Needed(cluster with a BaselineAdminNetworkPolicy) = false; want true")
	}
}
