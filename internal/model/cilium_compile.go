package model

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// Cilium label keys that carry namespace information. Cilium gives every
// pod endpoint the label io.kubernetes.pod.namespace=<namespace> and, for
// each label of its namespace, io.cilium.k8s.namespace.labels.<key>=<value>
// (pkg/k8s/apis/cilium.io/const.go).
const (
	ciliumNamespaceKey      = "io.kubernetes.pod.namespace"
	ciliumNamespaceLabelsPf = "io.cilium.k8s.namespace.labels."
	// ciliumPolicyLabelsPf prefixes labels Cilium derives from a pod's
	// service account and cluster (io.cilium.k8s.policy.serviceaccount,
	// io.cilium.k8s.policy.cluster); the model's pods do not carry them.
	ciliumPolicyLabelsPf = "io.cilium.k8s.policy."
)

// compileCilium validates a CiliumNetworkPolicy (ns is its namespace) or a
// CiliumClusterwideNetworkPolicy (ns is "") and compiles it. Input Cilium
// would reject is an error diagnostic naming the field, and the policy is
// dropped, as compilePolicy does for NetworkPolicies.
func (b *builder) compileCilium(o manifest.Object, ns string, p *manifest.CiliumNetworkPolicy) (*CiliumPolicy, bool) {
	cc := &ciliumCompiler{b: b, o: o, ns: ns, um: classifyUnmodelled(p.Unmodelled)}
	out := &CiliumPolicy{Name: p.Name, Namespace: ns, Source: o.Source}
	if p.Spec == nil && len(p.Specs) == 0 {
		b.diag(errorf(o, "spec or specs: a Cilium policy needs at least one rule"))
		return nil, false
	}
	rules := make([]manifest.CiliumRule, 0, 1+len(p.Specs))
	idx := make([]int, 0, cap(rules))
	if p.Spec != nil {
		rules, idx = append(rules, *p.Spec), append(idx, -1)
	}
	for i := range p.Specs {
		rules, idx = append(rules, p.Specs[i]), append(idx, i)
	}
	for i := range rules {
		spec, keep, err := cc.spec(idx[i], &rules[i])
		if err != nil {
			b.diag(errorf(o, "%v", err))
			return nil, false
		}
		if keep {
			out.Specs = append(out.Specs, spec)
		}
	}
	cc.reportUnmodelled()
	return out, true
}

// ciliumCompiler carries what compiling one Cilium policy needs.
type ciliumCompiler struct {
	b  *builder
	o  manifest.Object
	ns string // "" for a CiliumClusterwideNetworkPolicy
	um unmodelled
}

func (cc *ciliumCompiler) warn(format string, args ...any) {
	cc.b.diag(warnf(cc.o, format, args...))
}

func (cc *ciliumCompiler) info(format string, args ...any) {
	d := warnf(cc.o, format, args...)
	d.Severity = diag.Info
	cc.b.diag(d)
}

func specPath(index int) string {
	if index < 0 {
		return "spec"
	}
	return fmt.Sprintf("specs[%d]", index)
}

// spec compiles one rule block. keep is false for a host policy
// (nodeSelector), which reachdiff does not model.
func (cc *ciliumCompiler) spec(index int, r *manifest.CiliumRule) (CiliumSpec, bool, error) {
	path := specPath(index)
	// "EndpointSelector and NodeSelector cannot be both empty and are
	// mutually exclusive." (api.Rule)
	switch {
	case r.EndpointSelector == nil && r.NodeSelector == nil:
		return CiliumSpec{}, false, fmt.Errorf("%s: one of endpointSelector and nodeSelector is required", path)
	case r.EndpointSelector != nil && r.NodeSelector != nil:
		return CiliumSpec{}, false, fmt.Errorf("%s: endpointSelector and nodeSelector are mutually exclusive", path)
	case r.NodeSelector != nil:
		cc.warn("%s.nodeSelector: host policies (rules for nodes and host-networked pods) are not modelled; this rule block is ignored", path)
		return CiliumSpec{}, false, nil
	}
	subject, ok, err := cc.selector(path+".endpointSelector", r.EndpointSelector, true)
	if err != nil {
		return CiliumSpec{}, false, err
	}
	s := CiliumSpec{Index: index, Subject: subject}
	// "If any rule selects an endpoint and the rule has an ingress section,
	// the endpoint goes into default deny-mode for ingress." (Cilium docs,
	// Endpoint default policy) "If omitted or empty, this rule does not
	// apply at ingress." (api.Rule.Ingress): an empty list is no section.
	// Cilium computes the default as len(Ingress) > 0 || len(IngressDeny) > 0
	// (api.Rule.Sanitize), so `ingress: []` and an absent ingress agree.
	s.IngressIsolates = len(r.Ingress) > 0 || len(r.IngressDeny) > 0
	s.EgressIsolates = len(r.Egress) > 0 || len(r.EgressDeny) > 0
	// "If not specified, the default is true for each traffic direction
	// that has rules, and false otherwise." (api.Rule.EnableDefaultDeny):
	// a value given overrides it. Deny rules apply either way.
	if d := r.EnableDefaultDeny; d != nil {
		if d.Ingress != nil {
			s.IngressIsolates = *d.Ingress
		}
		if d.Egress != nil {
			s.EgressIsolates = *d.Egress
		}
	}
	if !ok {
		// The subject selects nothing reachdiff models: keep the block (its
		// subject matches no workload) so that the policy stays visible.
		s.Subject = nothingSelector(cc.ns)
	}
	for _, dir := range []struct {
		name string
		in   []manifest.CiliumIngressRule
		out  *[]CiliumRule
	}{{"ingress", r.Ingress, &s.Ingress}, {"ingressDeny", r.IngressDeny, &s.IngressDeny}} {
		for i := range dir.in {
			rule, err := cc.rule(index, dir.name, i, ingressRuleIn(&dir.in[i]))
			if err != nil {
				return CiliumSpec{}, false, err
			}
			*dir.out = append(*dir.out, rule)
		}
	}
	for _, dir := range []struct {
		name string
		in   []manifest.CiliumEgressRule
		out  *[]CiliumRule
	}{{"egress", r.Egress, &s.Egress}, {"egressDeny", r.EgressDeny, &s.EgressDeny}} {
		for i := range dir.in {
			rule, err := cc.rule(index, dir.name, i, egressRuleIn(&dir.in[i]))
			if err != nil {
				return CiliumSpec{}, false, err
			}
			*dir.out = append(*dir.out, rule)
		}
	}
	return s, true, nil
}

// nothingSelector matches no pod: a requirement no namespace meets (every
// namespace has a kubernetes.io/metadata.name label).
func nothingSelector(ns string) EndpointSelector {
	return EndpointSelector{Namespace: ns, NamespaceSel: Selector{Reqs: []Requirement{{Key: NamespaceNameLabel, Op: DoesNotExist}}}}
}

// ciliumRuleIn is an ingress or egress rule with its fields named for its
// direction, so one function compiles both.
type ciliumRuleIn struct {
	endpointsName, cidrName, cidrSetName, entName string
	endpoints                                     []metav1.LabelSelector
	cidrs                                         []string
	cidrSet                                       []manifest.CiliumCIDRRule
	entities                                      []string
	fqdns                                         []manifest.CiliumFQDNSelector
	ports                                         []manifest.CiliumPortRule
}

func ingressRuleIn(r *manifest.CiliumIngressRule) ciliumRuleIn {
	return ciliumRuleIn{
		endpointsName: "fromEndpoints", cidrName: "fromCIDR", cidrSetName: "fromCIDRSet", entName: "fromEntities",
		endpoints: r.FromEndpoints, cidrs: r.FromCIDR, cidrSet: r.FromCIDRSet, entities: r.FromEntities, ports: r.ToPorts,
	}
}

func egressRuleIn(r *manifest.CiliumEgressRule) ciliumRuleIn {
	return ciliumRuleIn{
		endpointsName: "toEndpoints", cidrName: "toCIDR", cidrSetName: "toCIDRSet", entName: "toEntities",
		endpoints: r.ToEndpoints, cidrs: r.ToCIDR, cidrSet: r.ToCIDRSet, entities: r.ToEntities, fqdns: r.ToFQDNs, ports: r.ToPorts,
	}
}

// rule compiles one entry of ingress, ingressDeny, egress or egressDeny.
func (cc *ciliumCompiler) rule(spec int, dir string, index int, in ciliumRuleIn) (CiliumRule, error) {
	path := fmt.Sprintf("%s.%s[%d]", specPath(spec), dir, index)
	key := ruleKey{spec, dir, index}
	deny := strings.HasSuffix(dir, "Deny")
	if deny && in.fqdns != nil {
		// EgressDenyRule has no toFQDNs field: the API server prunes it, and
		// "Deny policies do not support: ... toFQDNs, i.e., specifically
		// denying traffic to a specific domain name." (Cilium docs)
		return CiliumRule{}, fmt.Errorf("%s.toFQDNs: deny rules do not support toFQDNs", path)
	}
	// The L3 fields present. "FromEndpoints, FromCIDR, FromCIDRSet and
	// FromEntities are mutually exclusive. Only one of these members may be
	// present within an individual rule." (api.IngressRule); Cilium rejects
	// the policy otherwise ("Combining %s and %s is not supported yet").
	l3 := []struct {
		name    string
		present bool // non-nil, possibly empty
		n       int
	}{
		{in.endpointsName, in.endpoints != nil, len(in.endpoints)},
		{in.cidrName, in.cidrs != nil, len(in.cidrs)},
		{in.cidrSetName, in.cidrSet != nil, len(in.cidrSet)},
		{in.entName, in.entities != nil, len(in.entities)},
		{"toFQDNs", in.fqdns != nil, len(in.fqdns)},
	}
	var used []string
	emptyList := ""
	for _, f := range l3 {
		if f.n > 0 {
			used = append(used, f.name)
		}
		if f.present && f.n == 0 && emptyList == "" {
			emptyList = f.name
		}
	}
	used = append(used, cc.um.l3[key]...)
	if len(used) > 1 {
		return CiliumRule{}, fmt.Errorf("%s: %s and %s cannot be combined in one rule (Cilium rejects the policy)", path, used[0], used[1])
	}
	if cc.um.icmps[key] && len(in.ports) > 0 {
		// api.EgressRule.sanitize: "The ICMPs block may only be present
		// without ToPorts. Define a separate rule to use ToPorts."
		return CiliumRule{}, fmt.Errorf("%s: icmps and toPorts cannot be combined in one rule (Cilium rejects the policy)", path)
	}
	r := CiliumRule{Index: index}
	ports, err := cc.ports(path, in.ports)
	if err != nil {
		return CiliumRule{}, err
	}
	r.Ports = ports
	// "If no layer 4 policy is specified for an endpoint, the endpoint is
	// allowed to send and receive on all layer 4 ports and protocols"
	// (Cilium docs, Layer 4 Examples). A rule with icmps and no toPorts
	// allows ICMP only, which reachdiff does not model: no port.
	r.AllPorts = len(in.ports) == 0 && !cc.um.icmps[key]
	switch {
	case len(cc.um.l3[key]) > 0:
		// toServices, toGroups, fromNodes...: peers reachdiff cannot see.
		return r, nil
	case emptyList != "":
		// "explicitly check for empty non-nil slices, it should not result
		// in any identity being selected." (api.EgressCommonRule)
		cc.warn("%s.%s is an empty list: Cilium then selects no peer (not every peer), so the rule allows nothing", path, emptyList)
		return r, nil
	case len(used) == 0:
		// "The following rule limits all endpoints with the label
		// app=myService to only be able to emit packets using TCP on port
		// 80, to any layer 3 destination" (Cilium docs, Example (L4)): a
		// rule with toPorts and no L3 field applies to every peer. A rule
		// with neither ("egress: [{}]") allows nothing: it only puts the
		// endpoints into default deny ("Ingress/Egress Default Deny").
		r.AllPeers = len(in.ports) > 0
		return r, nil
	}
	for i, sel := range in.endpoints {
		p := fmt.Sprintf("%s.%s[%d]", path, in.endpointsName, i)
		es, ok, err := cc.selector(p, &sel, false)
		if err != nil {
			return CiliumRule{}, err
		}
		if ok {
			es := es
			r.Peers = append(r.Peers, CiliumPeer{Path: p, Endpoints: &es})
		}
	}
	for i, c := range in.cidrs {
		p := fmt.Sprintf("%s.%s[%d]", path, in.cidrName, i)
		set, err := cc.cidr(p, c, nil, true)
		if err != nil {
			return CiliumRule{}, err
		}
		r.Peers = append(r.Peers, CiliumPeer{Path: p, CIDR: set})
	}
	for i, c := range in.cidrSet {
		p := fmt.Sprintf("%s.%s[%d]", path, in.cidrSetName, i)
		if c.CIDR == "" && cc.um.cidrGroups[p] {
			continue // cidrGroupRef: reported as not modelled
		}
		set, err := cc.cidr(p+".cidr", c.CIDR, c.Except, false)
		if err != nil {
			return CiliumRule{}, err
		}
		r.Peers = append(r.Peers, CiliumPeer{Path: p, CIDR: set})
	}
	for i, e := range in.entities {
		p := fmt.Sprintf("%s.%s[%d]", path, in.entName, i)
		peer, all, err := cc.entity(p, e)
		if err != nil {
			return CiliumRule{}, err
		}
		if all {
			r.AllPeers, r.Peers = true, nil
			break
		}
		if peer != nil {
			peer.Path = p
			r.Peers = append(r.Peers, *peer)
		}
	}
	for i, f := range in.fqdns {
		p := fmt.Sprintf("%s.toFQDNs[%d]", path, i)
		d, ok, err := cc.fqdn(p, f)
		if err != nil {
			return CiliumRule{}, err
		}
		if ok {
			r.Peers = append(r.Peers, CiliumPeer{Path: p, Domain: &d})
		}
	}
	cc.warnNamedExternal(path, r)
	return r, nil
}

// warnNamedExternal warns about a named port in a rule whose peers are
// external (CIDRs, world, DNS names): the name resolves against a pod's
// container ports, so it matches no external address.
func (cc *ciliumCompiler) warnNamedExternal(path string, r CiliumRule) {
	external := false
	for _, p := range r.Peers {
		external = external || p.CIDR != nil || p.Domain != nil
	}
	if !external {
		return
	}
	for _, p := range r.Ports {
		if p.Name != "" {
			cc.warn("%s: named port %q resolves against pods, so it matches no external address or DNS name", path, p.Name)
			return
		}
	}
}

// ports compiles toPorts. Every port of every entry is kept; L7 rules
// inside an entry are reported by reportUnmodelled.
func (cc *ciliumCompiler) ports(path string, in []manifest.CiliumPortRule) ([]CiliumPort, error) {
	var out []CiliumPort
	for i, pr := range in {
		for j, pp := range pr.Ports {
			p, err := cc.port(fmt.Sprintf("%s.toPorts[%d].ports[%d]", path, i, j), pp)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// allProtocols is protocol ANY: "If omitted or empty, any protocol
// matches." (api.PortProtocol.Protocol)
var allProtocols = []connset.Protocol{connset.SCTP, connset.TCP, connset.UDP}

func (cc *ciliumCompiler) port(path string, pp manifest.CiliumPortProtocol) (CiliumPort, error) {
	var p CiliumPort
	// "Accepted values: "TCP", "UDP", "SCTP", "ANY"" (api.PortProtocol,
	// +kubebuilder:validation:Enum=TCP;UDP;SCTP;ANY).
	switch pp.Protocol {
	case "", "ANY":
		p.Protocols = allProtocols
	case "TCP", "UDP", "SCTP":
		proto, _ := connset.ParseProtocol(pp.Protocol)
		p.Protocols = []connset.Protocol{proto}
	default:
		return CiliumPort{}, fmt.Errorf("%s.protocol: %q is not one of TCP, UDP, SCTP, ANY", path, pp.Protocol)
	}
	if pp.EndPort < 0 || pp.EndPort > 65535 {
		return CiliumPort{}, fmt.Errorf("%s.endPort: %d is out of range 0-65535", path, pp.EndPort)
	}
	switch {
	case pp.Port == "":
		// api.PortProtocol.sanitize: "Port must be specified".
		return CiliumPort{}, fmt.Errorf("%s.port: port must be specified (\"0\" means every port)", path)
	case isDigits(pp.Port):
		n, err := strconv.ParseUint(pp.Port, 10, 16)
		if err != nil {
			return CiliumPort{}, fmt.Errorf("%s.port: %q is not a port number 0-65535", path, pp.Port)
		}
		if n == 0 {
			// Port 0 is the wildcard port of the protocol.
			p.Lo, p.Hi = 1, connset.MaxPort
			return p, nil
		}
		p.Lo, p.Hi = uint16(n), uint16(n)
		if pp.EndPort != 0 {
			if uint64(pp.EndPort) < n {
				return CiliumPort{}, fmt.Errorf("%s.endPort: %d is below port %d", path, pp.EndPort, n)
			}
			p.Hi = uint16(pp.EndPort)
		}
	default:
		// "Port can be an L4 port number, or a name in the form of "http" or
		// "http-8080"." Cilium lower-cases names "for case insensitive
		// comparison" (api.PortProtocol.sanitize).
		name := strings.ToLower(pp.Port)
		if !isIANAServiceName(name) {
			return CiliumPort{}, fmt.Errorf("%s.port: %q is neither a port number nor a port name", path, pp.Port)
		}
		if pp.EndPort != 0 {
			// "EndPort is ignored if Port is a named port." (Cilium docs, L4)
			cc.warn("%s.endPort is ignored: port %q is a named port", path, pp.Port)
		}
		p.Name = name
	}
	return p, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isIANAServiceName checks a port name as Kubernetes does (IANA_SVC_NAME):
// at most 15 lower-case letters, digits and '-', at least one letter, no
// '-' at either end and no "--".
func isIANAServiceName(s string) bool {
	if s == "" || len(s) > 15 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9', c == '-':
		default:
			return false
		}
	}
	return letter
}

// cidr compiles fromCIDR/toCIDR (bare addresses allowed: "20.1.1.1"
// stands for 20.1.1.1/32) and the cidr and except of a CIDR set.
func (cc *ciliumCompiler) cidr(path, text string, except []string, bareIP bool) (*ipset.Set, error) {
	if text == "" {
		return nil, fmt.Errorf("%s: empty CIDR", path)
	}
	if bareIP && !strings.Contains(text, "/") {
		// api.CIDR.sanitize accepts an address alone.
		if i := strings.IndexByte(text, ':'); i >= 0 {
			text += "/128"
		} else {
			text += "/32"
		}
	}
	prefix, hostBits, err := ipset.ParseCIDR(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if hostBits {
		cc.warn("%s: CIDR %s has host bits set; Cilium reads it as %s", path, text, prefix)
	}
	whole := ipset.RangeOf(prefix)
	set := ipset.FromRanges(whole)
	for i, e := range except {
		ep := fmt.Sprintf("%s.except[%d]", strings.TrimSuffix(path, ".cidr"), i)
		ex, _, err := ipset.ParseCIDR(e)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", ep, err)
		}
		// "ExceptCIDRs ... These CIDR prefixes should be contained within
		// Cidr"; Cilium rejects an except whose address is outside it
		// (api.CIDRRule.sanitize: "allow CIDR prefix %s does not contain
		// exclude CIDR prefix %s").
		if !whole.Contains(ex.Addr()) {
			return nil, fmt.Errorf("%s: %s is not inside cidr %s", ep, e, text)
		}
		set = set.Subtract(ipset.FromRanges(ipset.RangeOf(ex)))
	}
	return &set, nil
}

// entity compiles one fromEntities/toEntities entry. all is set for the
// entity "all"; a nil peer with no error is an entity that matches nothing
// reachdiff models.
func (cc *ciliumCompiler) entity(path, e string) (peer *CiliumPeer, all bool, err error) {
	switch e {
	case "all":
		// "The all entity represents the combination of all known clusters
		// as well world and whitelists all communication."
		return nil, true, nil
	case "world":
		// "The world entity corresponds to all endpoints outside of the
		// cluster. Allowing to world is identical to allowing to CIDR
		// 0.0.0.0/0." (IPv6 too: world = world-ipv4 + world-ipv6.)
		set := ipset.FromRanges(ipset.All4(), ipset.All6())
		return &CiliumPeer{CIDR: &set}, false, nil
	case "world-ipv4":
		set := ipset.FromRanges(ipset.All4())
		return &CiliumPeer{CIDR: &set}, false, nil
	case "world-ipv6":
		set := ipset.FromRanges(ipset.All6())
		return &CiliumPeer{CIDR: &set}, false, nil
	case "cluster":
		// "Cluster is the logical group of all network endpoints inside of
		// the local cluster."
		return &CiliumPeer{AllWorkloads: true}, false, nil
	case "none":
		// "EntityNone is an entity that can be selected but never exist".
		return nil, false, nil
	case "host", "remote-node", "kube-apiserver", "ingress", "init", "health", "unmanaged":
		cc.warn("%s: entity %q is not modelled (reachdiff has no nodes, API server or Cilium-internal endpoints); it matches nothing here", path, e)
		return nil, false, nil
	}
	// api.IngressRule.sanitize: "unsupported entity: %s".
	return nil, false, fmt.Errorf("%s: unknown entity %q (want all, world, world-ipv4, world-ipv6, cluster, host, remote-node, kube-apiserver, ingress, init, health, unmanaged or none)", path, e)
}

// fqdn compiles one toFQDNs entry. ok is false for an entry with neither
// field, which selects no name.
func (cc *ciliumCompiler) fqdn(path string, f manifest.CiliumFQDNSelector) (DomainPattern, bool, error) {
	switch {
	case f.MatchName != "" && f.MatchPattern != "":
		// api.FQDNSelector.sanitize.
		return DomainPattern{}, false, fmt.Errorf("%s: only one of matchName and matchPattern is allowed", path)
	case f.MatchName != "":
		if strings.Contains(f.MatchName, "*") {
			return DomainPattern{}, false, fmt.Errorf("%s.matchName: %q: '*' is only allowed in matchPattern", path, f.MatchName)
		}
		d, err := ParseDomainPattern(f.MatchName, SyntaxCilium)
		if err != nil {
			return DomainPattern{}, false, fmt.Errorf("%s.matchName: %v", path, err)
		}
		return d, true, nil
	case f.MatchPattern != "":
		d, err := ParseDomainPattern(f.MatchPattern, SyntaxCilium)
		if err != nil {
			return DomainPattern{}, false, fmt.Errorf("%s.matchPattern: %v", path, err)
		}
		return d, true, nil
	}
	cc.warn("%s: neither matchName nor matchPattern is set; the entry selects no name", path)
	return DomainPattern{}, false, nil
}

// selector compiles an endpointSelector (subject) or a fromEndpoints /
// toEndpoints entry. ok is false when the selector uses labels reachdiff
// does not model (reserved: identities, other label sources): it then
// matches no workload, with a warning.
//
// Namespaces, as Cilium v1.16 applies them (pkg/k8s/apis/cilium.io/utils):
//   - a CiliumNetworkPolicy's endpointSelector "always applies to pods in
//     the namespace associated with the CiliumNetworkPolicy resource
//     itself" (Cilium docs, Kubernetes namespaces);
//   - its fromEndpoints/toEndpoints are limited to the policy's namespace
//     unless they name one: "Specifying the namespace by way of the label
//     k8s:io.kubernetes.pod.namespace in the fromEndpoints and toEndpoints
//     fields is supported", and "If the namespace label of policy rules is
//     omitted it defaults to the same namespace where the policy itself is
//     applied in". A selector on io.cilium.k8s.namespace.labels.* lifts the
//     limit too (getEndpointSelector), although the docs say those labels
//     "will be ignored in CiliumNetworkPolicy resources": reachdiff follows
//     the code and says so in an info diagnostic;
//   - a CiliumClusterwideNetworkPolicy limits nothing.
func (cc *ciliumCompiler) selector(path string, ls *metav1.LabelSelector, subject bool) (EndpointSelector, bool, error) {
	var nsLS, podLS metav1.LabelSelector
	var unmodelledKeys, derived []string
	hasNSKey, hasNSLabels := false, false
	var nsValues []string // the namespaces a subject's selector names
	addLabel := func(target *metav1.LabelSelector, key, value string) {
		if _, dup := target.MatchLabels[key]; dup {
			// "k8s:app" and "app" both given: both must hold.
			target.MatchExpressions = append(target.MatchExpressions,
				metav1.LabelSelectorRequirement{Key: key, Operator: metav1.LabelSelectorOpIn, Values: []string{value}})
			return
		}
		if target.MatchLabels == nil {
			target.MatchLabels = map[string]string{}
		}
		target.MatchLabels[key] = value
	}
	// route maps a Cilium key to its target selector and key; ok is false
	// for a key reachdiff does not model.
	route := func(raw string) (*metav1.LabelSelector, string, string, bool) {
		src, key := splitLabelSource(raw)
		switch src {
		case "", "k8s", "any":
		default:
			unmodelledKeys = append(unmodelledKeys, raw)
			return nil, "", src, false
		}
		switch {
		case key == ciliumNamespaceKey:
			hasNSKey = true
			return &nsLS, NamespaceNameLabel, src, true
		case strings.HasPrefix(key, ciliumNamespaceLabelsPf):
			hasNSLabels = true
			return &nsLS, strings.TrimPrefix(key, ciliumNamespaceLabelsPf), src, true
		case strings.HasPrefix(key, ciliumPolicyLabelsPf):
			derived = append(derived, key)
		}
		return &podLS, key, src, true
	}
	keys := make([]string, 0, len(ls.MatchLabels))
	for k := range ls.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := ls.MatchLabels[k]
		target, key, src, ok := route(k)
		if !ok {
			continue
		}
		if target == &nsLS && key == NamespaceNameLabel {
			nsValues = append(nsValues, v)
			if subject && cc.ns != "" && src == "k8s" {
				// Cilium overwrites this very key with the policy's
				// namespace (AddMatch on k8s:io.kubernetes.pod.namespace).
				continue
			}
		}
		addLabel(target, key, v)
	}
	for _, e := range ls.MatchExpressions {
		target, key, _, ok := route(e.Key)
		if !ok {
			continue
		}
		if target == &nsLS && key == NamespaceNameLabel {
			nsValues = append(nsValues, e.Values...)
		}
		e.Key = key
		target.MatchExpressions = append(target.MatchExpressions, e)
	}
	nsSel, err := CompileSelector(&nsLS)
	if err != nil {
		return EndpointSelector{}, false, fmt.Errorf("%s: %v", path, err)
	}
	podSel, err := CompileSelector(&podLS)
	if err != nil {
		return EndpointSelector{}, false, fmt.Errorf("%s: %v", path, err)
	}
	if len(unmodelledKeys) > 0 {
		cc.warn("%s: labels %s select Cilium identities (reserved:, cidr:, ...) rather than pods; reachdiff does not model them, so this selector matches nothing (use fromEntities/toEntities)",
			path, strings.Join(unmodelledKeys, ", "))
		return EndpointSelector{}, false, nil
	}
	if len(derived) > 0 {
		cc.warn("%s: %s are labels Cilium derives from a pod's service account or cluster; reachdiff's pods do not carry them",
			path, strings.Join(derived, ", "))
	}
	s := EndpointSelector{NamespaceSel: nsSel, PodSel: podSel}
	switch {
	case cc.ns == "":
	case subject:
		s.Namespace = cc.ns
		if hasNSKey && (len(nsValues) != 1 || nsValues[0] != cc.ns) {
			cc.warn("%s names namespace %s: a CiliumNetworkPolicy's endpointSelector \"always applies to pods in the namespace associated with the CiliumNetworkPolicy resource itself\" (%s)",
				path, strings.Join(nsValues, ","), cc.ns)
		}
	case hasNSKey:
	case hasNSLabels:
		cc.info("%s selects by io.cilium.k8s.namespace.labels: the Cilium docs say a CiliumNetworkPolicy ignores them, Cilium v1.16 applies them to pods of every namespace; reachdiff does as Cilium does", path)
	default:
		s.Namespace = cc.ns
	}
	return s, true, nil
}

// splitLabelSource splits Cilium's "source:key" ("k8s:app", "reserved:host")
// and its "$host" short form for reserved labels. A key without a source
// matches labels of any source.
func splitLabelSource(raw string) (src, key string) {
	if strings.HasPrefix(raw, "$") {
		return "reserved", raw[1:]
	}
	if strings.HasPrefix(raw, "reserved.") {
		return "reserved", strings.TrimPrefix(raw, "reserved.")
	}
	if i := strings.IndexByte(raw, ':'); i >= 0 {
		return raw[:i], raw[i+1:]
	}
	return "", raw
}

// ruleKey names one rule of a Cilium policy: spec index (-1 for spec),
// direction field and position.
type ruleKey struct {
	spec  int
	dir   string
	index int
}

// unmodelled sorts the paths of fields the decoder did not model by what
// they change.
type unmodelled struct {
	// l3 lists per rule the unmodelled peer fields (toServices, toGroups,
	// fromNodes...): the rule matches no peer reachdiff sees.
	l3 map[ruleKey][]string
	// icmps marks rules with icmps.
	icmps map[ruleKey]bool
	// cidrGroups holds "<rule path>.toCIDRSet[i]" of entries that use
	// cidrGroupRef.
	cidrGroups map[string]bool
	// l7 lists toPorts entries with L7 rules or TLS/listener settings.
	l7 []string
	// other lists the remaining paths with what reachdiff assumes.
	other []string
}

var unmodelledRule = regexp.MustCompile(`^(spec|specs\[(\d+)\])\.(ingress|ingressDeny|egress|egressDeny)\[(\d+)\]\.([A-Za-z]+)(\[\d+\])?(?:\.([A-Za-z]+))?`)

func classifyUnmodelled(paths []string) unmodelled {
	u := unmodelled{l3: map[ruleKey][]string{}, icmps: map[ruleKey]bool{}, cidrGroups: map[string]bool{}}
	for _, p := range paths {
		m := unmodelledRule.FindStringSubmatch(p)
		if m == nil {
			field := p[strings.LastIndexByte(p, '.')+1:]
			switch field {
			case "labels", "description":
				// Rule metadata: no effect on traffic.
			default:
				u.other = append(u.other, p+" (ignored)")
			}
			continue
		}
		spec := -1
		if m[2] != "" {
			spec, _ = strconv.Atoi(m[2])
		}
		idx, _ := strconv.Atoi(m[4])
		key := ruleKey{spec, m[3], idx}
		switch field, sub := m[5], m[7]; {
		case field == "toPorts":
			// rules, serverNames, terminatingTLS, originatingTLS, listener.
			u.l7 = append(u.l7, p)
		case field == "toServices" || field == "toGroups" || field == "fromGroups" || field == "toNodes" || field == "fromNodes":
			if !slices.Contains(u.l3[key], field) {
				u.l3[key] = append(u.l3[key], field)
			}
			u.other = append(u.other, p+" (the rule matches no peer here)")
		case field == "fromRequires" || field == "toRequires":
			u.other = append(u.other, p+" (assumed satisfied)")
		case field == "icmps":
			u.icmps[key] = true
			u.other = append(u.other, p+" (ICMP is not modelled)")
		case field == "authentication":
			u.other = append(u.other, p+" (authentication assumed to succeed)")
		case (field == "toCIDRSet" || field == "fromCIDRSet") && sub == "cidrGroupRef":
			u.cidrGroups[strings.TrimSuffix(p, ".cidrGroupRef")] = true
			u.other = append(u.other, p+" (the CIDR group matches no address here)")
		default:
			u.other = append(u.other, p+" (ignored)")
		}
	}
	return u
}

// reportUnmodelled gives one info diagnostic for L7 settings and one
// warning for the other fields reachdiff does not model.
func (cc *ciliumCompiler) reportUnmodelled() {
	if len(cc.um.l7) > 0 {
		cc.info("L7 rules are not modelled; the port is reported as reachable (%s)", strings.Join(cc.um.l7, ", "))
	}
	if len(cc.um.other) > 0 {
		cc.warn("fields not modelled: %s", strings.Join(cc.um.other, "; "))
	}
}

// finishCilium sorts the Cilium policies (clusterwide first, then by
// namespace and name) and warns about rule blocks whose endpointSelector
// selects no workload. It runs once namespaces and workloads are sorted.
func finishCilium(c *Cluster) {
	sort.Slice(c.CiliumPolicies, func(i, j int) bool {
		a, b := c.CiliumPolicies[i], c.CiliumPolicies[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	for _, p := range c.CiliumPolicies {
		kind := "CiliumNetworkPolicy"
		if p.Clusterwide() {
			kind = "CiliumClusterwideNetworkPolicy"
		}
		src := manifest.Object{Kind: kind, Namespace: p.Namespace, Name: p.Name, Source: p.Source}
		for _, s := range p.Specs {
			selects, hostOnly := ciliumSelection(c, s.Subject)
			if selects {
				continue
			}
			msg := specPath(s.Index) + ".endpointSelector selects no workload in the input; the rule block has no effect here"
			if hostOnly {
				// "The host entity includes the local host. This also
				// includes all containers running in host networking mode"
				msg = specPath(s.Index) + ".endpointSelector selects only host-networked workloads, which Cilium treats as the host (host policies are not modelled); the rule block has no effect here"
			}
			if ns := c.Namespace(p.Namespace); ns != nil && len(ns.CustomResources) > 0 {
				msg += fmt.Sprintf("; its pods may come from custom resources in namespace %s (%s), which reachdiff cannot expand",
					ns.Name, strings.Join(ns.CustomResources, ", "))
			}
			c.Diagnostics = append(c.Diagnostics, warnf(src, "%s", msg))
		}
		for _, s := range p.Specs {
			for _, rules := range [][]CiliumRule{s.Ingress, s.IngressDeny, s.Egress, s.EgressDeny} {
				for _, r := range rules {
					for _, peer := range r.Peers {
						if peer.Endpoints == nil {
							continue
						}
						switch selects, hostOnly := ciliumSelection(c, *peer.Endpoints); {
						case hostOnly:
							c.Diagnostics = append(c.Diagnostics, warnf(src, "%s selects only host-networked workloads, which Cilium sees as the host entity, not by their labels: it matches none of them", peer.Path))
						case !selects:
							c.Diagnostics = append(c.Diagnostics, warnf(src, "%s selects no workload in the input", peer.Path))
						}
					}
				}
			}
		}
	}
}

// ciliumSelection reports whether s selects a workload that is not
// host-networked (those have the host's identity in Cilium), and whether
// it selects host-networked ones only.
func ciliumSelection(c *Cluster, s EndpointSelector) (selects, hostOnly bool) {
	for _, w := range c.Workloads {
		var nsLabels map[string]string
		if ns := c.Namespace(w.Namespace); ns != nil {
			nsLabels = ns.Labels
		}
		if !s.Matches(w.Namespace, nsLabels, w.Labels) {
			continue
		}
		if !w.HostNetwork {
			return true, false
		}
		hostOnly = true
	}
	return false, hostOnly
}
