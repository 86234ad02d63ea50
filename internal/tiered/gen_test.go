package tiered

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// This file is a random cluster generator for the property test and the
// fuzz target of Update: namespaces, workloads, policies of every kind the
// tiered evaluator reads, Services, Ingresses and Routes, written as YAML
// and built the way the pipeline builds them; and random PR-like deltas on
// such a cluster.

// chooser is what the generator draws its choices from: a seeded
// *rand.Rand (math/rand/v2) or the bytes of a fuzz input (byteChooser).
type chooser interface{ IntN(n int) int }

// byteChooser draws choices from a byte string; once the bytes are used up
// every choice is 0.
type byteChooser struct {
	data []byte
	pos  int
}

// IntN returns the next byte modulo n (0 when n <= 1 or the bytes are used
// up).
func (c *byteChooser) IntN(n int) int {
	if n <= 1 || c.pos >= len(c.data) {
		return 0
	}
	b := int(c.data[c.pos])
	c.pos++
	return b % n
}

func pick[T any](r chooser, xs []T) T { return xs[r.IntN(len(xs))] }

func coin(r chooser) bool { return r.IntN(2) == 1 }

// oneIn reports true with probability 1/n.
func oneIn(r chooser, n int) bool { return r.IntN(n) == 0 }

var (
	genPodKeys     = []string{"app", "tier", "team"}
	genNSKeys      = []string{"team", "env"}
	genValues      = []string{"a", "b", "c"}
	genPortNames   = []string{"http", "dns", "grpc", "metrics"}
	genPortNumbers = []int{53, 80, 81, 443, 8080, 9090}
	genProtocols   = []string{"TCP", "TCP", "UDP"}

	// genCIDRs are the CIDRs policies name, each with the excepts that may
	// go with it (strictly inside it), IPv4 and a little IPv6.
	genCIDRs = []struct {
		cidr    string
		excepts []string
	}{
		{"10.0.0.0/8", []string{"10.1.0.0/16", "10.2.0.0/16"}},
		{"0.0.0.0/0", []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{"192.168.0.0/16", []string{"192.168.1.0/24"}},
		{"203.0.113.0/24", []string{"203.0.113.128/25"}},
		{"198.51.100.7/32", nil},
		{"10.1.0.0/16", nil},
		{"2001:db8::/32", []string{"2001:db8:1::/48"}},
		{"::/0", []string{"2001:db8::/32"}},
	}
	// genCIDRSwaps are textual substitutions (either way) that keep every
	// except of genCIDRs strictly inside its CIDR: the "change CIDRs"
	// edit, which moves atom boundaries.
	genCIDRSwaps = [][2]string{
		{"10.1.0.0/16", "10.1.128.0/17"},
		{"10.2.0.0/16", "10.2.0.0/15"},
		{"203.0.113.0/24", "203.0.112.0/23"},
		{"192.168.1.0/24", "192.168.1.0/25"},
		{"198.51.100.7/32", "198.51.100.4/30"},
		{"2001:db8:1::/48", "2001:db8:1::/56"},
		{"10.0.0.0/8", "10.0.0.0/7"},
	}
	// genDomains are the DNS names and patterns policies mention. Of each
	// pair of genDomainSwaps at most one is drawn, so that a swap never
	// repeats a name in a list (domainNames is a set).
	genDomains = []string{"api.example.com", "example.org", "*.example.com", "*.example.org"}
	// genDomainSwaps change the DNS names policies mention.
	genDomainSwaps = [][2]string{
		{"api.example.com", "www.example.com"},
		{"example.org", "api.example.org"},
	}
)

// genPort is one container port.
type genPort struct {
	name  string
	port  int
	proto string
}

type genNamespace struct {
	name   string
	labels map[string]string
	// defined is false for a namespace only referenced (assumed).
	defined bool
}

type genWorkload struct {
	ns, name, kind string
	labels         map[string]string
	ports          []genPort
	hostNetwork    bool
}

// genDoc is one generated object other than a namespace or a workload
// (a policy, Service, Ingress or Route), already written as YAML.
type genDoc struct {
	kind, ns, name string
	text           string
}

func (d genDoc) key() string { return d.kind + " " + d.ns + "/" + d.name }

// genCluster is a generated cluster. Its slices are copied, never
// modified in place, by mutate: a genCluster is a value.
type genCluster struct {
	namespaces []genNamespace
	workloads  []genWorkload
	docs       []genDoc
	// next numbers new objects so that names stay unique.
	next int
}

// genSize bounds a generated cluster.
type genSize struct {
	namespaces, workloads [2]int // inclusive ranges
	policies              int    // at most this many policy documents
	exposures             int    // at most this many Services (each may get Ingresses or Routes)
}

// genPodCIDRs are the pod CIDRs a case may give the calico profile (none:
// pod addresses unknown).
var genPodCIDRs = [][]string{nil, {"10.0.0.0/8"}, {"10.1.0.0/16", "2001:db8::/32"}}

// cniOptions draws a CNI profile and pod CIDRs.
func cniOptions(r chooser) model.Options {
	var o model.Options
	o.CNI = pick(r, model.CNIs)
	for _, c := range pick(r, genPodCIDRs) {
		o.PodCIDRs = append(o.PodCIDRs, netip.MustParsePrefix(c))
	}
	return o
}

var smallCluster = genSize{namespaces: [2]int{3, 6}, workloads: [2]int{5, 15}, policies: 10, exposures: 3}

func between(r chooser, lohi [2]int) int { return lohi[0] + r.IntN(lohi[1]-lohi[0]+1) }

// generate draws a cluster.
func generate(r chooser, size genSize) genCluster {
	var g genCluster
	for i := range between(r, size.namespaces) {
		g.namespaces = append(g.namespaces, genNamespace{name: fmt.Sprintf("ns%d", i), labels: labelsOf(r, genNSKeys), defined: !oneIn(r, 6)})
	}
	for range between(r, size.workloads) {
		g.workloads = append(g.workloads, g.newWorkload(r))
	}
	for range r.IntN(size.policies + 1) {
		g.docs = append(g.docs, g.newPolicy(r))
	}
	for range r.IntN(size.exposures + 1) {
		g.addExposure(r)
	}
	return g
}

func (g *genCluster) id() int { g.next++; return g.next }

func (g *genCluster) newWorkload(r chooser) genWorkload {
	w := genWorkload{ns: pick(r, g.namespaces).name, name: fmt.Sprintf("w%d", g.id()), kind: pick(r, []string{"Pod", "Deployment"}),
		labels: labelsOf(r, genPodKeys), ports: portsOf(r), hostNetwork: oneIn(r, 8)}
	return w
}

func labelsOf(r chooser, keys []string) map[string]string {
	l := map[string]string{}
	for _, k := range keys {
		if r.IntN(3) > 0 {
			l[k] = pick(r, genValues)
		}
	}
	return l
}

func portsOf(r chooser) []genPort {
	var out []genPort
	for range r.IntN(4) {
		out = append(out, genPort{name: pick(r, genPortNames), port: pick(r, genPortNumbers), proto: pick(r, genProtocols)})
	}
	return out
}

// flowMap writes labels as a YAML flow mapping, keys sorted.
func flowMap(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+": "+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// selector draws a label selector over keys: {}, matchLabels, or one
// matchExpressions term of each operator.
func selector(r chooser, keys []string) string {
	k := pick(r, keys)
	switch r.IntN(7) {
	case 0:
		return "{}"
	case 1, 2:
		return "{matchLabels: {" + k + ": " + pick(r, genValues) + "}}"
	case 3:
		return "{matchLabels: {" + keys[0] + ": " + pick(r, genValues) + ", " + keys[1] + ": " + pick(r, genValues) + "}}"
	case 4, 5:
		op := pick(r, []string{"In", "NotIn"})
		return "{matchExpressions: [{key: " + k + ", operator: " + op + ", values: [" + pick(r, genValues) + ", " + pick(r, genValues) + "]}]}"
	default:
		return "{matchExpressions: [{key: " + k + ", operator: " + pick(r, []string{"Exists", "DoesNotExist"}) + "}]}"
	}
}

func podSel(r chooser) string { return selector(r, genPodKeys) }
func nsSel(r chooser) string  { return selector(r, genNSKeys) }

// cidrBlock draws a CIDR and, sometimes, some of its excepts, quoted for
// YAML when they hold a colon.
func cidrBlock(r chooser) (string, []string) {
	c := pick(r, genCIDRs)
	if len(c.excepts) == 0 || coin(r) {
		return quote(c.cidr), nil
	}
	var ex []string
	for _, e := range c.excepts[:1+r.IntN(len(c.excepts))] {
		ex = append(ex, quote(e))
	}
	return quote(c.cidr), ex
}

// quote quotes a YAML scalar that holds a colon or a star.
func quote(s string) string {
	if strings.ContainsAny(s, ":*") {
		return strconv.Quote(s)
	}
	return s
}

// policyKind is a kind of policy and its writer.
type policyKind struct {
	kind  string
	write func(g *genCluster, r chooser, ns, name string) string
	// namespaced kinds get a namespace; the others have ns "".
	namespaced bool
}

// policyKinds are the kinds newPolicy draws from (a kind listed twice is
// drawn twice as often).
var policyKinds = []policyKind{
	{"NetworkPolicy", (*genCluster).networkPolicy, true},
	{"NetworkPolicy", (*genCluster).networkPolicy, true},
	{"AdminNetworkPolicy", (*genCluster).adminPolicy, false},
	{"AdminNetworkPolicy", (*genCluster).adminPolicy, false},
	{"BaselineAdminNetworkPolicy", (*genCluster).baselinePolicy, false},
	{"ClusterNetworkPolicy", (*genCluster).clusterNetworkPolicy, false},
	{"ClusterNetworkPolicy", (*genCluster).clusterNetworkPolicy, false},
	{"CiliumNetworkPolicy", (*genCluster).ciliumPolicy, true},
	{"CiliumNetworkPolicy", (*genCluster).ciliumPolicy, true},
	{"CiliumClusterwideNetworkPolicy", (*genCluster).ciliumPolicy, false},
}

// newPolicy draws a policy of a random kind (at most one
// BaselineAdminNetworkPolicy, named default).
func (g *genCluster) newPolicy(r chooser) genDoc {
	for {
		k := pick(r, policyKinds)
		d := genDoc{kind: k.kind, name: fmt.Sprintf("p%d", g.id())}
		if k.kind == "BaselineAdminNetworkPolicy" {
			if g.hasDoc(k.kind, "", "default") {
				continue
			}
			d.name = "default"
		}
		if k.namespaced {
			d.ns = pick(r, g.namespaces).name
		}
		d.text = k.write(g, r, d.ns, d.name)
		return d
	}
}

// rewrite draws new contents for an existing policy document.
func (g *genCluster) rewrite(r chooser, d genDoc) genDoc {
	for _, k := range policyKinds {
		if k.kind == d.kind {
			d.text = k.write(g, r, d.ns, d.name)
			return d
		}
	}
	panic("rewrite: not a policy kind: " + d.kind)
}

func (g *genCluster) hasDoc(kind, ns, name string) bool {
	return slices.ContainsFunc(g.docs, func(d genDoc) bool { return d.kind == kind && d.ns == ns && d.name == name })
}

func isPolicy(kind string) bool {
	return slices.ContainsFunc(policyKinds, func(k policyKind) bool { return k.kind == kind })
}

// networkPolicy writes a NetworkPolicy: policyTypes variants, peers by pod
// and namespace selectors (matchExpressions too) and ipBlocks with except,
// ports by number, range (endPort) and name.
func (g *genCluster) networkPolicy(r chooser, ns, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: %s}\nspec:\n  podSelector: %s\n", name, ns, podSel(r))
	switch r.IntN(4) {
	case 1:
		b.WriteString("  policyTypes: [Ingress]\n")
	case 2:
		b.WriteString("  policyTypes: [Egress]\n")
	case 3:
		b.WriteString("  policyTypes: [Ingress, Egress]\n")
	}
	for _, dir := range []string{"ingress", "egress"} {
		n := r.IntN(4) - 1 // -1: no section
		if n < 0 {
			continue
		}
		if n == 0 {
			b.WriteString("  " + dir + ": []\n")
			continue
		}
		b.WriteString("  " + dir + ":\n")
		for range n {
			field := "from"
			if dir == "egress" {
				field = "to"
			}
			var parts []string
			if peers := npPeers(r); peers != "" {
				parts = append(parts, field+": "+peers)
			}
			if ports := npPorts(r); ports != "" {
				parts = append(parts, "ports: "+ports)
			}
			b.WriteString("  - {" + strings.Join(parts, ", ") + "}\n")
		}
	}
	return b.String()
}

func npPeers(r chooser) string {
	n := r.IntN(3)
	if n == 0 {
		return ""
	}
	var peers []string
	for range n {
		switch r.IntN(4) {
		case 0:
			peers = append(peers, "{podSelector: "+podSel(r)+"}")
		case 1:
			peers = append(peers, "{namespaceSelector: "+nsSel(r)+"}")
		case 2:
			peers = append(peers, "{namespaceSelector: "+nsSel(r)+", podSelector: "+podSel(r)+"}")
		default:
			cidr, ex := cidrBlock(r)
			s := "{ipBlock: {cidr: " + cidr
			if len(ex) > 0 {
				s += ", except: [" + strings.Join(ex, ", ") + "]"
			}
			peers = append(peers, s+"}}")
		}
	}
	return "[" + strings.Join(peers, ", ") + "]"
}

func npPorts(r chooser) string {
	n := r.IntN(3)
	if n == 0 {
		return ""
	}
	var ports []string
	for range n {
		switch r.IntN(6) {
		case 0:
			ports = append(ports, fmt.Sprintf("{port: %d}", pick(r, genPortNumbers)))
		case 1:
			ports = append(ports, fmt.Sprintf("{protocol: %s, port: %d}", pick(r, genProtocols), pick(r, genPortNumbers)))
		case 2:
			ports = append(ports, fmt.Sprintf("{protocol: %s, port: %s}", pick(r, genProtocols), pick(r, genPortNames)))
		case 3:
			lo := pick(r, genPortNumbers)
			ports = append(ports, fmt.Sprintf("{port: %d, endPort: %d}", lo, lo+r.IntN(100)))
		case 4:
			ports = append(ports, "{protocol: "+pick(r, []string{"UDP", "SCTP"})+"}")
		default:
			ports = append(ports, "{port: "+pick(r, genPortNames)+"}")
		}
	}
	return "[" + strings.Join(ports, ", ") + "]"
}

// genPriorities has few values, so that ties happen.
var genPriorities = []int{0, 1, 2, 5, 10, 50}

func (g *genCluster) adminPolicy(r chooser, _, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: %s}\nspec:\n  priority: %d\n  subject: %s\n",
		name, pick(r, genPriorities), adminSubject(r))
	adminRules(&b, r, []string{"Allow", "Deny", "Pass"})
	return b.String()
}

func (g *genCluster) baselinePolicy(r chooser, _, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: %s}\nspec:\n  subject: %s\n",
		name, adminSubject(r))
	adminRules(&b, r, []string{"Allow", "Deny"})
	return b.String()
}

// clusterNetworkPolicy writes a v1alpha2 ClusterNetworkPolicy in either
// tier: Accept, Deny and Pass; namespaces, pods, networks and domainNames
// (Accept only) peers; tcp, udp and sctp destination ports and ranges, and
// named ports (never next to a networks or domainNames peer).
func (g *genCluster) clusterNetworkPolicy(r chooser, _, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: %s}\nspec:\n  tier: %s\n  priority: %d\n  subject: %s\n",
		name, pick(r, []string{"Admin", "Baseline"}), pick(r, genPriorities), adminSubject(r))
	for _, dir := range []string{"ingress", "egress"} {
		n := r.IntN(4)
		if n == 0 {
			continue
		}
		b.WriteString("  " + dir + ":\n")
		field := "from"
		if dir == "egress" {
			field = "to"
		}
		for i := range n {
			action := pick(r, []string{"Accept", "Deny", "Pass"})
			var peers []string
			address := false
			for range 1 + r.IntN(2) {
				switch k := r.IntN(6); {
				case k < 2 || dir == "ingress" && k >= 4:
					peers = append(peers, "{namespaces: "+nsSel(r)+"}")
				case k < 4:
					peers = append(peers, "{pods: {namespaceSelector: "+nsSel(r)+", podSelector: "+podSel(r)+"}}")
				case k == 4 || action != "Accept":
					address = true
					peers = append(peers, "{networks: ["+strings.Join(distinct(r, 2, func() string { c, _ := cidrBlock(r); return c }), ", ")+"]}")
				default:
					address = true
					peers = append(peers, "{domainNames: ["+strings.Join(distinct(r, 2, func() string { return quote(pick(r, genDomains)) }), ", ")+"]}")
				}
			}
			fmt.Fprintf(&b, "  - name: r%d\n    action: %s\n    %s: [%s]\n", i, action, field, strings.Join(peers, ", "))
			if n := r.IntN(3); n > 0 {
				var ps []string
				for range n {
					proto := pick(r, []string{"tcp", "tcp", "udp", "sctp"})
					lo := pick(r, genPortNumbers)
					switch k := r.IntN(3); {
					case k == 0:
						ps = append(ps, fmt.Sprintf("{%s: {destinationPort: {number: %d}}}", proto, lo))
					case k == 1 || address:
						ps = append(ps, fmt.Sprintf("{%s: {destinationPort: {range: {start: %d, end: %d}}}}", proto, lo, lo+1+r.IntN(100)))
					default:
						ps = append(ps, "{destinationNamedPort: "+pick(r, genPortNames)+"}")
					}
				}
				b.WriteString("    protocols: [" + strings.Join(ps, ", ") + "]\n")
			}
		}
	}
	return b.String()
}

// ciliumPolicy writes a CiliumNetworkPolicy (ns set) or a
// CiliumClusterwideNetworkPolicy: spec and sometimes specs; per rule one
// L3 field (endpoints, CIDR, CIDR set, entities or, for egress allow
// rules, FQDNs) or none, and toPorts by number, range, name and ANY.
func (g *genCluster) ciliumPolicy(r chooser, ns, name string) string {
	var b strings.Builder
	if ns == "" {
		fmt.Fprintf(&b, "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: %s}\n", name)
	} else {
		fmt.Fprintf(&b, "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: %s, namespace: %s}\n", name, ns)
	}
	b.WriteString("spec:\n")
	ciliumRule(&b, r, "  ")
	if oneIn(r, 4) {
		b.WriteString("specs:\n")
		for range 1 + r.IntN(2) {
			ciliumRule(&b, r, "- ")
		}
	}
	return b.String()
}

// ciliumSelector draws an endpoint selector: pod labels, sometimes with a
// namespace name or namespace label key.
func ciliumSelector(r chooser) string {
	switch r.IntN(5) {
	case 0:
		return "{matchLabels: {k8s:io.kubernetes.pod.namespace: ns" + strconv.Itoa(r.IntN(4)) + "}}"
	case 1:
		return "{matchLabels: {io.cilium.k8s.namespace.labels.team: " + pick(r, genValues) + ", app: " + pick(r, genValues) + "}}"
	default:
		return podSel(r)
	}
}

// ciliumRule writes one rule block (endpointSelector and its sections),
// its first line starting with first and the others indented alike.
func ciliumRule(b *strings.Builder, r chooser, first string) {
	b.WriteString(first + "endpointSelector: " + ciliumSelector(r) + "\n")
	for _, dir := range []string{"ingress", "ingressDeny", "egress", "egressDeny"} {
		n := r.IntN(4) - 1
		if dir == "ingressDeny" || dir == "egressDeny" {
			n = r.IntN(6) - 4
		}
		if n < 0 {
			continue
		}
		if n == 0 {
			b.WriteString("  " + dir + ": []\n")
			continue
		}
		b.WriteString("  " + dir + ":\n")
		in := strings.HasPrefix(dir, "ingress")
		for range n {
			var parts []string
			prefix := "to"
			if in {
				prefix = "from"
			}
			switch k := r.IntN(7); {
			case k == 0:
				// No L3 field: every peer (with toPorts), or nothing.
			case k == 1:
				var sels []string
				for range 1 + r.IntN(2) {
					sels = append(sels, ciliumSelector(r))
				}
				parts = append(parts, prefix+"Endpoints: ["+strings.Join(sels, ", ")+"]")
			case k == 2:
				parts = append(parts, prefix+"CIDR: ["+strings.Join(distinct(r, 2, func() string { c, _ := cidrBlock(r); return c }), ", ")+"]")
			case k == 3:
				c, ex := cidrBlock(r)
				set := "{cidr: " + c
				if len(ex) > 0 {
					set += ", except: [" + strings.Join(ex, ", ") + "]"
				}
				parts = append(parts, prefix+"CIDRSet: ["+set+"}]")
			case k == 4 || in || strings.HasSuffix(dir, "Deny"):
				parts = append(parts, prefix+"Entities: ["+strings.Join(distinct(r, 2, func() string {
					return pick(r, []string{"world", "cluster", "all", "world-ipv4"})
				}), ", ")+"]")
			default:
				var fqdns []string
				for _, d := range distinct(r, 2, func() string { return pick(r, genDomains) }) {
					if strings.Contains(d, "*") || coin(r) {
						fqdns = append(fqdns, "{matchPattern: "+quote(d)+"}")
					} else {
						fqdns = append(fqdns, "{matchName: "+d+"}")
					}
				}
				parts = append(parts, "toFQDNs: ["+strings.Join(fqdns, ", ")+"]")
			}
			if m := r.IntN(3); m > 0 {
				var ports []string
				for range m {
					switch r.IntN(4) {
					case 0:
						ports = append(ports, fmt.Sprintf("{port: \"%d\", protocol: %s}", pick(r, genPortNumbers), pick(r, []string{"TCP", "UDP", "ANY"})))
					case 1:
						lo := pick(r, genPortNumbers)
						ports = append(ports, fmt.Sprintf("{port: \"%d\", endPort: %d, protocol: %s}", lo, lo+r.IntN(100), pick(r, genProtocols)))
					case 2:
						ports = append(ports, "{port: "+pick(r, genPortNames)+", protocol: "+pick(r, genProtocols)+"}")
					default:
						ports = append(ports, fmt.Sprintf("{port: \"%d\"}", pick(r, genPortNumbers)))
					}
				}
				parts = append(parts, "toPorts: [{ports: ["+strings.Join(ports, ", ")+"]}]")
			}
			b.WriteString("  - {" + strings.Join(parts, ", ") + "}\n")
		}
	}
}

// distinct draws 1 to n values with draw and drops repeats.
func distinct(r chooser, n int, draw func() string) []string {
	var out []string
	for range 1 + r.IntN(n) {
		if v := draw(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func adminSubject(r chooser) string {
	if coin(r) {
		return "{namespaces: " + nsSel(r) + "}"
	}
	return "{pods: {namespaceSelector: " + nsSel(r) + ", podSelector: " + podSel(r) + "}}"
}

// adminRules writes the ingress and egress rules of an admin policy:
// namespaces and pods peers, networks peers on egress, ports by number,
// range and name (never a name next to a networks peer, which the CRD
// rejects).
func adminRules(b *strings.Builder, r chooser, actions []string) {
	for _, dir := range []string{"ingress", "egress"} {
		n := r.IntN(4)
		if n == 0 {
			continue
		}
		b.WriteString("  " + dir + ":\n")
		field := "from"
		if dir == "egress" {
			field = "to"
		}
		for i := range n {
			var peers []string
			networks := false
			for range 1 + r.IntN(2) {
				switch k := r.IntN(5); {
				case k < 2:
					peers = append(peers, "{namespaces: "+nsSel(r)+"}")
				case k < 4 || dir == "ingress":
					peers = append(peers, "{pods: {namespaceSelector: "+nsSel(r)+", podSelector: "+podSel(r)+"}}")
				default:
					networks = true
					var nets []string
					for range 1 + r.IntN(2) {
						c, _ := cidrBlock(r)
						nets = append(nets, c)
					}
					peers = append(peers, "{networks: ["+strings.Join(nets, ", ")+"]}")
				}
			}
			fmt.Fprintf(b, "  - name: r%d\n    action: %s\n    %s: [%s]\n", i, pick(r, actions), field, strings.Join(peers, ", "))
			if ports := adminPorts(r, networks); ports != "" {
				b.WriteString("    ports: " + ports + "\n")
			}
		}
	}
}

func adminPorts(r chooser, networks bool) string {
	n := r.IntN(3)
	if n == 0 {
		return ""
	}
	var ports []string
	for range n {
		switch k := r.IntN(3); {
		case k == 0:
			ports = append(ports, fmt.Sprintf("{portNumber: {protocol: %s, port: %d}}", pick(r, genProtocols), pick(r, genPortNumbers)))
		case k == 1 || networks:
			lo := pick(r, genPortNumbers)
			ports = append(ports, fmt.Sprintf("{portRange: {protocol: %s, start: %d, end: %d}}", pick(r, genProtocols), lo, lo+1+r.IntN(100)))
		default:
			ports = append(ports, "{namedPort: "+pick(r, genPortNames)+"}")
		}
	}
	return "[" + strings.Join(ports, ", ") + "]"
}

// addExposure adds a Service in a random namespace (selecting by one label)
// and zero to two Ingresses or Routes in front of it, or in front of a
// Service that is not there.
func (g *genCluster) addExposure(r chooser) {
	ns := pick(r, g.namespaces).name
	svc := fmt.Sprintf("svc%d", g.id())
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s}\nspec:\n", svc, ns)
	if !oneIn(r, 8) {
		fmt.Fprintf(&b, "  selector: {%s: %s}\n", pick(r, genPodKeys), pick(r, genValues))
	}
	b.WriteString("  ports:\n")
	for i, name := range []string{"main", "alt"}[:1+r.IntN(2)] {
		target := pick(r, []string{"http", "dns", "grpc", "8080", "80", "53"})
		fmt.Fprintf(&b, "  - {name: %s, port: %d, targetPort: %s, protocol: %s}\n", name, 80+i, target, pick(r, genProtocols))
	}
	g.docs = append(g.docs, genDoc{kind: "Service", ns: ns, name: svc, text: b.String()})
	for range r.IntN(3) {
		backend := svc
		if oneIn(r, 8) {
			backend = "missing"
		}
		g.docs = append(g.docs, g.newExposure(r, ns, backend))
	}
}

// newExposure writes an Ingress or a Route in ns in front of Service svc.
func (g *genCluster) newExposure(r chooser, ns, svc string) genDoc {
	name := fmt.Sprintf("x%d", g.id())
	if coin(r) {
		port := pick(r, []string{"{number: 80}", "{number: 81}", "{name: main}", "{name: alt}"})
		backend := "{service: {name: " + svc + ", port: " + port + "}}"
		spec := "  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: " + backend + "}]}}]\n"
		if oneIn(r, 3) {
			spec = "  defaultBackend: " + backend + "\n"
		}
		return genDoc{kind: "Ingress", ns: ns, name: name,
			text: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n" + spec}
	}
	text := "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  to: {kind: Service, name: " + svc + "}\n"
	if coin(r) {
		text += "  port: {targetPort: " + pick(r, []string{"main", "alt", "http", "8080", "53"}) + "}\n"
	}
	return genDoc{kind: "Route", ns: ns, name: name, text: text}
}

// workloadYAML writes a workload as a Pod or a Deployment.
func workloadYAML(w genWorkload) string {
	var ports []string
	for _, p := range w.ports {
		ports = append(ports, fmt.Sprintf("{name: %s, containerPort: %d, protocol: %s}", p.name, p.port, p.proto))
	}
	podSpec := fmt.Sprintf("{hostNetwork: %t, containers: [{name: c, image: img, ports: [%s]}]}", w.hostNetwork, strings.Join(ports, ", "))
	if w.kind == "Pod" {
		return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec: %s\n", w.name, w.ns, flowMap(w.labels), podSpec)
	}
	return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  template:\n    metadata: {labels: %s}\n    spec: %s\n",
		w.name, w.ns, flowMap(w.labels), podSpec)
}

// documents writes the cluster, one document per file so that an edit
// moves no other object's source line (and the decoder's cache and
// model.Options.Reuse find unchanged objects, as in the pipeline).
func (g genCluster) documents() []manifest.Document {
	var docs []manifest.Document
	add := func(file, text string) {
		docs = append(docs, manifest.Document{Source: manifest.Source{File: file, Line: 1}, Data: []byte(text)})
	}
	for _, n := range g.namespaces {
		if n.defined {
			add("namespaces/"+n.name+".yaml", fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: %s}\n", n.name, flowMap(n.labels)))
		}
	}
	for _, w := range g.workloads {
		add(w.ns+"/"+w.name+".yaml", workloadYAML(w))
	}
	for _, d := range g.docs {
		ns := d.ns
		if ns == "" {
			ns = "cluster"
		}
		add(ns+"/"+strings.ToLower(d.kind)+"-"+d.name+".yaml", d.text)
	}
	return docs
}

// yaml prints the cluster as one multi-document file, for failure messages.
func (g genCluster) yaml() string {
	var parts []string
	for _, d := range g.documents() {
		parts = append(parts, "# "+d.Source.File+"\n"+string(d.Data))
	}
	return strings.Join(parts, "---\n")
}

// genBuilder builds the revisions of one case the way the pipeline builds
// base and head: one decoder, whose cache returns the same decoded object
// for an unchanged document, so that model.Options.Reuse finds it. It
// also remembers how each file split, as the text of most files does not
// change between revisions.
type genBuilder struct {
	dec   *manifest.Decoder
	split map[string][]manifest.Document
}

func newGenBuilder() *genBuilder {
	return &genBuilder{dec: manifest.NewDecoder(), split: map[string][]manifest.Document{}}
}

// build decodes and builds g with opts and returns the cluster and the
// error diagnostics of every stage.
func (b *genBuilder) build(g genCluster, opts model.Options) (*model.Cluster, []diag.Diagnostic) {
	var all []diag.Diagnostic
	var docs []manifest.Document
	for _, d := range g.documents() {
		k := d.Source.File + "\x00" + string(d.Data)
		split, ok := b.split[k]
		if !ok {
			var ds []diag.Diagnostic
			split, ds = manifest.Split(d.Source.File, d.Data)
			all = append(all, ds...)
			b.split[k] = split
		}
		docs = append(docs, split...)
	}
	objs, ds := b.dec.DecodeAll(docs)
	c := model.Build(objs, opts)
	var errs []diag.Diagnostic
	for _, d := range append(append(all, ds...), c.Diagnostics...) {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	return c, errs
}

// mutate applies 1-4 PR-like edits to a copy of g and describes them.
func (g genCluster) mutate(r chooser) (genCluster, []string) {
	h := genCluster{namespaces: slices.Clone(g.namespaces), workloads: slices.Clone(g.workloads), docs: slices.Clone(g.docs), next: g.next}
	var edits []string
	for range 1 + r.IntN(4) {
		if e := h.edit(r); e != "" {
			edits = append(edits, e)
		}
	}
	return h, edits
}

var priorityLine = regexp.MustCompile(`(?m)^  priority: \d+$`)

// edit applies one random edit in place (on slices mutate copied) and
// describes it; "" when the drawn edit had nothing to apply to.
func (h *genCluster) edit(r chooser) string {
	policies := h.docIndexes(isPolicy)
	switch r.IntN(15) {
	case 0, 1:
		d := h.newPolicy(r)
		h.docs = append(h.docs, d)
		return "add " + d.key()
	case 2:
		if len(policies) == 0 {
			return ""
		}
		i := pick(r, policies)
		d := h.docs[i]
		h.docs = slices.Delete(h.docs, i, i+1)
		return "remove " + d.key()
	case 3, 4:
		if len(policies) == 0 {
			return ""
		}
		i := pick(r, policies)
		h.docs[i] = h.rewrite(r, h.docs[i])
		return "rewrite " + h.docs[i].key()
	case 5:
		if len(h.workloads) == 0 {
			return ""
		}
		i := r.IntN(len(h.workloads))
		h.workloads[i].labels = labelsOf(r, genPodKeys)
		return "relabel workload " + h.workloads[i].name
	case 6:
		i := r.IntN(len(h.namespaces))
		n := &h.namespaces[i]
		if oneIn(r, 4) {
			n.defined = !n.defined
			return fmt.Sprintf("namespace %s defined=%t", n.name, n.defined)
		}
		n.labels = labelsOf(r, genNSKeys)
		return "relabel namespace " + n.name
	case 7:
		if len(h.workloads) == 0 {
			return ""
		}
		i := r.IntN(len(h.workloads))
		h.workloads[i].ports = portsOf(r)
		return "change ports of workload " + h.workloads[i].name
	case 8:
		w := h.newWorkload(r)
		h.workloads = append(h.workloads, w)
		return "add workload " + w.ns + "/" + w.name
	case 9:
		if len(h.workloads) <= 1 {
			return ""
		}
		i := r.IntN(len(h.workloads))
		w := h.workloads[i]
		h.workloads = slices.Delete(h.workloads, i, i+1)
		return "remove workload " + w.ns + "/" + w.name
	case 10:
		admins := h.docIndexes(func(k string) bool { return k == "AdminNetworkPolicy" || k == "ClusterNetworkPolicy" })
		if len(admins) == 0 {
			return ""
		}
		i := pick(r, admins)
		p := pick(r, genPriorities)
		h.docs[i].text = priorityLine.ReplaceAllString(h.docs[i].text, "  priority: "+strconv.Itoa(p))
		return fmt.Sprintf("priority of %s to %d", h.docs[i].key(), p)
	case 11:
		exposures := h.docIndexes(func(k string) bool { return k == "Ingress" || k == "Route" })
		services := h.docIndexes(func(k string) bool { return k == "Service" })
		switch {
		case len(exposures) > 0 && coin(r):
			i := pick(r, exposures)
			d := h.docs[i]
			h.docs = slices.Delete(h.docs, i, i+1)
			return "remove " + d.key()
		case len(services) > 0 && coin(r):
			s := h.docs[pick(r, services)]
			d := h.newExposure(r, s.ns, s.name)
			h.docs = append(h.docs, d)
			return "add " + d.key()
		default:
			h.addExposure(r)
			return "add Service " + h.docs[len(h.docs)-1].key()
		}
	case 12:
		return h.swap(r, genCIDRSwaps, "CIDR")
	case 13:
		if coin(r) {
			return h.swap(r, genDomainSwaps, "domain")
		}
		return h.toggleDomain(r)
	default:
		if len(h.workloads) == 0 {
			return ""
		}
		i := r.IntN(len(h.workloads))
		h.workloads[i].hostNetwork = !h.workloads[i].hostNetwork
		return fmt.Sprintf("workload %s hostNetwork=%t", h.workloads[i].name, h.workloads[i].hostNetwork)
	}
}

func (h *genCluster) docIndexes(kind func(string) bool) []int {
	var out []int
	for i, d := range h.docs {
		if kind(d.kind) {
			out = append(out, i)
		}
	}
	return out
}

// swap replaces, in one policy that mentions one, a token of swaps by its
// partner.
func (h *genCluster) swap(r chooser, swaps [][2]string, what string) string {
	type hit struct {
		doc      int
		from, to string
	}
	var hits []hit
	for i, d := range h.docs {
		for _, s := range swaps {
			for _, dir := range [][2]string{{s[0], s[1]}, {s[1], s[0]}} {
				if containsToken(d.text, dir[0]) {
					hits = append(hits, hit{i, dir[0], dir[1]})
				}
			}
		}
	}
	if len(hits) == 0 {
		return ""
	}
	x := pick(r, hits)
	h.docs[x.doc].text = replaceToken(h.docs[x.doc].text, x.from, x.to)
	return fmt.Sprintf("%s %s -> %s in %s", what, x.from, x.to, h.docs[x.doc].key())
}

// genExtraDomain is the name toggleDomain adds to and removes from a
// domain list; no other list entry is ever this name.
const genExtraDomain = "new.example.net"

// toggleDomain adds genExtraDomain to the first domainNames or toFQDNs
// list of a policy that has one, or removes it from the policy.
func (h *genCluster) toggleDomain(r chooser) string {
	lists := h.docIndexes(func(string) bool { return true })
	lists = slices.DeleteFunc(lists, func(i int) bool {
		return !strings.Contains(h.docs[i].text, "domainNames: [") && !strings.Contains(h.docs[i].text, "toFQDNs: [")
	})
	if len(lists) == 0 {
		return ""
	}
	i := pick(r, lists)
	if with := slices.DeleteFunc(slices.Clone(lists), func(i int) bool { return !strings.Contains(h.docs[i].text, genExtraDomain) }); len(with) > 0 && coin(r) {
		i = pick(r, with)
	}
	d := &h.docs[i]
	cnpEntry, ciliumEntry := genExtraDomain+", ", "{matchName: "+genExtraDomain+"}, "
	if strings.Contains(d.text, genExtraDomain) {
		d.text = strings.ReplaceAll(strings.ReplaceAll(d.text, cnpEntry, ""), ciliumEntry, "")
		return "remove domain " + genExtraDomain + " from " + d.key()
	}
	if strings.Contains(d.text, "domainNames: [") {
		d.text = strings.Replace(d.text, "domainNames: [", "domainNames: ["+cnpEntry, 1)
	} else {
		d.text = strings.Replace(d.text, "toFQDNs: [", "toFQDNs: ["+ciliumEntry, 1)
	}
	return "add domain " + genExtraDomain + " to " + d.key()
}

// tokenEnd are the characters that may follow a CIDR or a domain in the
// generated YAML; tokenStart those that may precede one.
const (
	tokenStart = " [{\""
	tokenEnd   = ",]}\n\""
)

func containsToken(text, tok string) bool { return replaceToken(text, tok, "\x00") != text }

// replaceToken replaces whole occurrences of tok (not "10.0.0.0/8" inside
// "110.0.0.0/8" or "10.0.0.0/80").
func replaceToken(text, tok, by string) string {
	var b strings.Builder
	for {
		i := strings.Index(text, tok)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		j := i + len(tok)
		whole := (i == 0 || strings.IndexByte(tokenStart, text[i-1]) >= 0) && (j == len(text) || strings.IndexByte(tokenEnd, text[j]) >= 0)
		b.WriteString(text[:i])
		if whole {
			b.WriteString(by)
		} else {
			b.WriteString(tok)
		}
		text = text[j:]
	}
}
