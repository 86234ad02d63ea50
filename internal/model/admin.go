package model

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// AdminTier says which layer an admin policy belongs to.
type AdminTier uint8

// The two tiers of the network-policy-api: AdminNetworkPolicy rules are
// checked before NetworkPolicy, BaselineAdminNetworkPolicy rules after it.
const (
	TierAdmin AdminTier = iota
	TierBaseline
)

// String prints "AdminNetworkPolicy" or "BaselineAdminNetworkPolicy".
func (t AdminTier) String() string {
	if t == TierBaseline {
		return "BaselineAdminNetworkPolicy"
	}
	return "AdminNetworkPolicy"
}

// AdminAction is what a matching admin rule does with a connection.
type AdminAction uint8

// The actions of admin rules. A BaselineAdminNetworkPolicy has no Pass; a
// ClusterNetworkPolicy has it in both tiers (Allow stands for its Accept).
const (
	ActionAllow AdminAction = iota
	ActionDeny
	ActionPass
)

var actionNames = [...]string{ActionAllow: "Allow", ActionDeny: "Deny", ActionPass: "Pass"}

// String prints "Allow", "Deny" or "Pass".
func (a AdminAction) String() string { return actionNames[a] }

// AdminPolicy is an AdminNetworkPolicy or a BaselineAdminNetworkPolicy
// compiled for evaluation. Both are cluster scoped.
type AdminPolicy struct {
	Name string
	// Kind is AdminNetworkPolicy, BaselineAdminNetworkPolicy or
	// ClusterNetworkPolicy (v1alpha2, either tier).
	Kind string
	Tier AdminTier
	// Priority orders the policies of a tier (lower first); 0 for a
	// BaselineAdminNetworkPolicy.
	Priority int32
	Source   manifest.Source
	Subject  AdminSubject
	// Ingress and Egress are the rules in the order written: "a rule that
	// appears at the top of the ingress rules would take the highest
	// precedence" (AdminNetworkPolicySpec.ingress).
	Ingress, Egress []AdminRule
}

// Key prints the policy as "AdminNetworkPolicy name".
func (p *AdminPolicy) Key() string { return p.Kind + " " + p.Name }

// AdminSubject selects the pods an admin policy applies to.
type AdminSubject struct {
	// NamespaceSel selects the namespaces.
	NamespaceSel Selector
	// PodSel is nil for a `namespaces` subject (every pod of the selected
	// namespaces), set for a `pods` subject.
	PodSel *Selector
}

// Matches reports whether a pod with podLabels in a namespace with
// nsLabels is selected.
func (s AdminSubject) Matches(nsLabels, podLabels map[string]string) bool {
	return s.NamespaceSel.Matches(nsLabels) && (s.PodSel == nil || s.PodSel.Matches(podLabels))
}

// AdminRule is one ingress or egress rule of an admin policy.
type AdminRule struct {
	Index  int // position in the policy's ingress or egress list
	Name   string
	Action AdminAction
	Peers  []AdminPeer
	// AllPorts is set when ports is absent: "If Ports is not set then the
	// rule does not filter traffic via port."
	AllPorts bool
	Ports    []AdminPort
}

// AdminPeer is one entry of from/to. Exactly one kind is set: pods (by
// namespace and optional pod selector), networks, or nodes.
type AdminPeer struct {
	// NamespaceSel is set for `namespaces` and `pods` peers.
	NamespaceSel *Selector
	// PodSel is set for `pods` peers only.
	PodSel *Selector
	// Networks is set for a `networks` peer (egress only): the union of its
	// CIDRs.
	Networks *ipset.Set
	// Nodes is set for a `nodes` peer (egress only). Node addresses are not
	// modelled, so such a peer matches nothing.
	Nodes *Selector
	// Domains is set for a ClusterNetworkPolicy `domainNames` peer (egress,
	// Accept rules only): it matches domain endpoints, never addresses.
	Domains []DomainPattern
	// ViaNetworks is set on a peer added by the calico profile: the CIDR of
	// the peer before it holds the pod CIDRs. It selects every pod (the
	// engines leave host-networked ones out) and was not written.
	ViaNetworks bool
}

// MatchesPod reports whether the peer selects a pod with podLabels in a
// namespace with nsLabels. Networks and nodes peers never match a pod: pod
// and node addresses are not modelled.
func (p AdminPeer) MatchesPod(nsLabels, podLabels map[string]string) bool {
	if p.NamespaceSel == nil {
		return false
	}
	return p.NamespaceSel.Matches(nsLabels) && (p.PodSel == nil || p.PodSel.Matches(podLabels))
}

// MatchesExternal reports whether the peer holds every address of r.
func (p AdminPeer) MatchesExternal(r ipset.Range) bool {
	return p.Networks != nil && p.Networks.ContainsRange(r)
}

// AdminPort is one entry of an admin rule's ports.
type AdminPort struct {
	// Name is set for a namedPort; it matches a container port of that name
	// whatever its protocol. Protocol, Lo and Hi are then zero.
	Name     string
	Protocol connset.Protocol
	Lo, Hi   uint16
}

// Conns is the connection set the rule's ports select towards dst (nil for
// an external destination, which has no named ports).
func (r AdminRule) Conns(dst *Workload) connset.Set {
	if r.AllPorts {
		return connset.All()
	}
	out := connset.None()
	for _, p := range r.Ports {
		if p.Name == "" {
			out = out.Union(connset.Ports(p.Protocol, p.Lo, p.Hi))
			continue
		}
		if dst == nil {
			continue
		}
		for _, cp := range dst.Ports {
			if cp.Name == p.Name {
				out = out.Union(connset.Ports(cp.Protocol, cp.Port, cp.Port))
			}
		}
	}
	return out
}

// AdminPoliciesOf returns the policies of one tier, in evaluation order
// (admin tier: ascending priority, then name).
func (c *Cluster) AdminPoliciesOf(t AdminTier) []*AdminPolicy {
	var out []*AdminPolicy
	for _, p := range c.AdminPolicies {
		if p.Tier == t {
			out = append(out, p)
		}
	}
	return out
}

// sortAdminPolicies orders admin policies: admin tier first by ascending
// priority, then baseline; ties by name.
//
// "If two (or more) policies with the same priority could both match a
// connection, then the implementation can apply any of the matching
// policies to the connection" (AdminNetworkPolicySpec.priority): reachdiff
// applies the one whose name sorts first, and warns about the tie.
func sortAdminPolicies(ps []*AdminPolicy) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Tier != b.Tier {
			return a.Tier < b.Tier
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Kind < b.Kind
	})
}

// Limits of the network-policy-api v1alpha1 CRD validation.
const (
	maxAdminPriority = 1000 // spec.priority: Minimum=0, Maximum=1000
	maxAdminRules    = 100  // spec.ingress / spec.egress: MaxItems=100
	maxAdminPeers    = 100  // from / to: MinItems=1, MaxItems=100
	maxAdminPorts    = 100  // ports: MinItems=1, MaxItems=100
	maxRuleName      = 100  // name: MaxLength=100
	maxNetworks      = 25   // networks: MinItems=1, MaxItems=25
)

// adminRuleIn is the common shape of the four rule types of the API.
type adminRuleIn struct {
	name   string
	action string
	peers  []adminPeerIn
	ports  *[]npav1alpha1.AdminNetworkPolicyPort
}

type adminPeerIn struct {
	namespaces  *metav1.LabelSelector
	pods        *npav1alpha1.NamespacedPod
	nodes       *metav1.LabelSelector
	networks    []npav1alpha1.CIDR
	domainNames []npav1alpha1.DomainName
}

func (b *builder) compileANP(o manifest.Object, anp *npav1alpha1.AdminNetworkPolicy) (*AdminPolicy, bool) {
	fail := func(format string, args ...any) (*AdminPolicy, bool) {
		b.diag(errorf(o, format, args...))
		return nil, false
	}
	if anp.Spec.Priority < 0 || anp.Spec.Priority > maxAdminPriority {
		return fail("spec.priority: %d is outside 0-%d", anp.Spec.Priority, maxAdminPriority)
	}
	p := &AdminPolicy{Name: anp.Name, Kind: "AdminNetworkPolicy", Tier: TierAdmin, Priority: anp.Spec.Priority, Source: o.Source}
	var err error
	if p.Subject, err = compileAdminSubject(anp.Spec.Subject); err != nil {
		return fail("spec.subject: %v", err)
	}
	var in, eg []adminRuleIn
	for _, r := range anp.Spec.Ingress {
		peers := make([]adminPeerIn, len(r.From))
		for i, x := range r.From {
			peers[i] = adminPeerIn{namespaces: x.Namespaces, pods: x.Pods}
		}
		in = append(in, adminRuleIn{r.Name, string(r.Action), peers, r.Ports})
	}
	for _, r := range anp.Spec.Egress {
		peers := make([]adminPeerIn, len(r.To))
		for i, x := range r.To {
			peers[i] = adminPeerIn{namespaces: x.Namespaces, pods: x.Pods, nodes: x.Nodes, networks: x.Networks, domainNames: x.DomainNames}
		}
		eg = append(eg, adminRuleIn{r.Name, string(r.Action), peers, r.Ports})
	}
	if p.Ingress, err = b.compileAdminRules(o, TierAdmin, "ingress", in); err != nil {
		return fail("%v", err)
	}
	if p.Egress, err = b.compileAdminRules(o, TierAdmin, "egress", eg); err != nil {
		return fail("%v", err)
	}
	return p, true
}

func (b *builder) compileBANP(o manifest.Object, banp *npav1alpha1.BaselineAdminNetworkPolicy) (*AdminPolicy, bool) {
	fail := func(format string, args ...any) (*AdminPolicy, bool) {
		b.diag(errorf(o, format, args...))
		return nil, false
	}
	// "Only one baseline admin network policy with metadata.name="default"
	// can be created in the cluster" (CRD validation).
	if banp.Name != "default" {
		return fail("metadata.name: a BaselineAdminNetworkPolicy must be named \"default\", not %q", banp.Name)
	}
	p := &AdminPolicy{Name: banp.Name, Kind: "BaselineAdminNetworkPolicy", Tier: TierBaseline, Source: o.Source}
	var err error
	if p.Subject, err = compileAdminSubject(banp.Spec.Subject); err != nil {
		return fail("spec.subject: %v", err)
	}
	var in, eg []adminRuleIn
	for _, r := range banp.Spec.Ingress {
		peers := make([]adminPeerIn, len(r.From))
		for i, x := range r.From {
			peers[i] = adminPeerIn{namespaces: x.Namespaces, pods: x.Pods}
		}
		in = append(in, adminRuleIn{r.Name, string(r.Action), peers, r.Ports})
	}
	for _, r := range banp.Spec.Egress {
		peers := make([]adminPeerIn, len(r.To))
		for i, x := range r.To {
			peers[i] = adminPeerIn{namespaces: x.Namespaces, pods: x.Pods, nodes: x.Nodes, networks: x.Networks}
		}
		eg = append(eg, adminRuleIn{r.Name, string(r.Action), peers, r.Ports})
	}
	if p.Ingress, err = b.compileAdminRules(o, TierBaseline, "ingress", in); err != nil {
		return fail("%v", err)
	}
	if p.Egress, err = b.compileAdminRules(o, TierBaseline, "egress", eg); err != nil {
		return fail("%v", err)
	}
	return p, true
}

// compileAdminSubject reads a subject; "Exactly one field must be set."
// (AdminNetworkPolicySubject).
func compileAdminSubject(s npav1alpha1.AdminNetworkPolicySubject) (AdminSubject, error) {
	switch {
	case s.Namespaces != nil && s.Pods != nil:
		return AdminSubject{}, fmt.Errorf("exactly one of namespaces and pods must be set, not both")
	case s.Namespaces != nil:
		sel, err := CompileSelector(s.Namespaces)
		if err != nil {
			return AdminSubject{}, fmt.Errorf("namespaces: %w", err)
		}
		return AdminSubject{NamespaceSel: sel}, nil
	case s.Pods != nil:
		ns, pod, err := compileNamespacedPod(s.Pods)
		if err != nil {
			return AdminSubject{}, err
		}
		return AdminSubject{NamespaceSel: ns, PodSel: &pod}, nil
	default:
		return AdminSubject{}, fmt.Errorf("exactly one of namespaces and pods must be set")
	}
}

func compileNamespacedPod(p *npav1alpha1.NamespacedPod) (ns, pod Selector, err error) {
	if ns, err = CompileSelector(&p.NamespaceSelector); err != nil {
		return ns, pod, fmt.Errorf("pods.namespaceSelector: %w", err)
	}
	if pod, err = CompileSelector(&p.PodSelector); err != nil {
		return ns, pod, fmt.Errorf("pods.podSelector: %w", err)
	}
	return ns, pod, nil
}

func (b *builder) compileAdminRules(o manifest.Object, tier AdminTier, dir string, rules []adminRuleIn) ([]AdminRule, error) {
	if len(rules) > maxAdminRules {
		return nil, fmt.Errorf("spec.%s: %d rules; at most %d are allowed", dir, len(rules), maxAdminRules)
	}
	var out []AdminRule
	for i, r := range rules {
		cr, err := b.compileAdminRule(o, tier, dir, i, r)
		if err != nil {
			return nil, fmt.Errorf("spec.%s[%d]: %w", dir, i, err)
		}
		out = append(out, cr)
	}
	return out, nil
}

func (b *builder) compileAdminRule(o manifest.Object, tier AdminTier, dir string, index int, r adminRuleIn) (AdminRule, error) {
	out := AdminRule{Index: index, Name: r.name}
	if len(r.name) > maxRuleName {
		return AdminRule{}, fmt.Errorf("name is longer than %d characters", maxRuleName)
	}
	switch r.action {
	case "Allow":
		out.Action = ActionAllow
	case "Deny":
		out.Action = ActionDeny
	case "Pass":
		if tier == TierBaseline {
			return AdminRule{}, fmt.Errorf("action Pass is not allowed in a BaselineAdminNetworkPolicy (want Allow or Deny)")
		}
		out.Action = ActionPass
	default:
		want := "Allow, Deny or Pass"
		if tier == TierBaseline {
			want = "Allow or Deny"
		}
		return AdminRule{}, fmt.Errorf("unknown action %q (want %s)", r.action, want)
	}
	field := "from"
	if dir == "egress" {
		field = "to"
	}
	// "This field must be defined and contain at least one item."
	if len(r.peers) == 0 {
		return AdminRule{}, fmt.Errorf("%s must contain at least one peer", field)
	}
	if len(r.peers) > maxAdminPeers {
		return AdminRule{}, fmt.Errorf("%s: %d peers; at most %d are allowed", field, len(r.peers), maxAdminPeers)
	}
	addressPeer := false
	for i, pr := range r.peers {
		cp, err := b.compileAdminPeer(o, pr)
		if err != nil {
			return AdminRule{}, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		if cp.Networks != nil || cp.Nodes != nil {
			addressPeer = true
		}
		if cp.Nodes != nil {
			b.diag(warnf(o, "spec.%s[%d].%s[%d]: nodes peers are not modelled (node addresses are unknown); the peer matches nothing", dir, index, field, i))
		}
		out.Peers = append(out.Peers, cp)
		if cp.Networks != nil && b.networksMatchPods(o, dir, index, field, i, cidrStrings(pr.networks), *cp.Networks) {
			out.Peers = append(out.Peers, networksPodPeer())
		}
	}
	// "If Ports is not set then the rule does not filter traffic via port."
	if r.ports == nil {
		out.AllPorts = true
		return out, nil
	}
	ports := *r.ports
	if len(ports) == 0 || len(ports) > maxAdminPorts {
		return AdminRule{}, fmt.Errorf("ports must hold 1 to %d entries, not %d", maxAdminPorts, len(ports))
	}
	for i, p := range ports {
		cp, err := compileAdminPort(p)
		if err != nil {
			return AdminRule{}, fmt.Errorf("ports[%d]: %w", i, err)
		}
		// "networks/nodes peer cannot be set with namedPorts since there
		// are no namedPorts for networks/nodes" (CRD validation).
		if cp.Name != "" && addressPeer {
			return AdminRule{}, fmt.Errorf("ports[%d]: a namedPort cannot be combined with a networks or nodes peer", i)
		}
		out.Ports = append(out.Ports, cp)
	}
	return out, nil
}

// compileAdminPeer reads a peer: "Exactly one of the fields must be set for
// a given peer" (AdminNetworkPolicyEgressPeer).
func (b *builder) compileAdminPeer(o manifest.Object, p adminPeerIn) (AdminPeer, error) {
	set := 0
	for _, present := range []bool{p.namespaces != nil, p.pods != nil, p.nodes != nil, p.networks != nil, p.domainNames != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return AdminPeer{}, fmt.Errorf("exactly one of namespaces, pods, nodes, networks and domainNames must be set (%d are)", set)
	}
	switch {
	case p.namespaces != nil:
		sel, err := CompileSelector(p.namespaces)
		if err != nil {
			return AdminPeer{}, fmt.Errorf("namespaces: %w", err)
		}
		return AdminPeer{NamespaceSel: &sel}, nil
	case p.pods != nil:
		ns, pod, err := compileNamespacedPod(p.pods)
		if err != nil {
			return AdminPeer{}, err
		}
		return AdminPeer{NamespaceSel: &ns, PodSel: &pod}, nil
	case p.nodes != nil:
		sel, err := CompileSelector(p.nodes)
		if err != nil {
			return AdminPeer{}, fmt.Errorf("nodes: %w", err)
		}
		return AdminPeer{Nodes: &sel}, nil
	case p.domainNames != nil:
		return AdminPeer{}, fmt.Errorf("domainNames peers are not supported by reachdiff (experimental in network-policy-api v1alpha1)")
	}
	if len(p.networks) == 0 || len(p.networks) > maxNetworks {
		return AdminPeer{}, fmt.Errorf("networks must hold 1 to %d CIDRs, not %d", maxNetworks, len(p.networks))
	}
	var set4 ipset.Set
	for i, n := range p.networks {
		prefix, hostBits, err := ipset.ParseCIDR(string(n))
		if err != nil {
			return AdminPeer{}, fmt.Errorf("networks[%d]: %w", i, err)
		}
		if hostBits {
			b.diag(warnf(o, "networks CIDR %s has host bits set; read as %s", n, prefix.Masked()))
		}
		set4 = set4.Add(ipset.RangeOf(prefix.Masked()))
	}
	// "note that cluster-internal traffic will be checked against the rule
	// as well" (networks): under the default profile pod addresses are not
	// modelled, so reachdiff checks only external addresses against it, as
	// for ipBlock; the calico profile adds the pods (see cni.go).
	if !b.opts.CNI.IPBlockMatchesPods() {
		d := warnf(o, "networks %v: checked against external addresses only; pod and node addresses are not modelled, so cluster-internal traffic to these CIDRs is not matched", p.networks)
		d.Severity = diag.Info
		b.diag(d)
	}
	return AdminPeer{Networks: &set4}, nil
}

func compileAdminPort(p npav1alpha1.AdminNetworkPolicyPort) (AdminPort, error) {
	set := 0
	for _, present := range []bool{p.PortNumber != nil, p.NamedPort != nil, p.PortRange != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		return AdminPort{}, fmt.Errorf("exactly one of portNumber, namedPort and portRange must be set (%d are)", set)
	}
	switch {
	case p.NamedPort != nil:
		if *p.NamedPort == "" {
			return AdminPort{}, fmt.Errorf("empty namedPort")
		}
		return AdminPort{Name: *p.NamedPort}, nil
	case p.PortNumber != nil:
		proto, err := adminProtocol(p.PortNumber.Protocol)
		if err != nil {
			return AdminPort{}, fmt.Errorf("portNumber: %w", err)
		}
		n := p.PortNumber.Port
		if n < 1 || n > connset.MaxPort {
			return AdminPort{}, fmt.Errorf("portNumber: port %d is outside 1-65535", n)
		}
		return AdminPort{Protocol: proto, Lo: uint16(n), Hi: uint16(n)}, nil
	}
	proto, err := adminProtocol(p.PortRange.Protocol)
	if err != nil {
		return AdminPort{}, fmt.Errorf("portRange: %w", err)
	}
	s, e := p.PortRange.Start, p.PortRange.End
	// "Start defines a network port that is the start of a port range, the
	// Start value must be less than End." (PortRange.start)
	if s < 1 || e > connset.MaxPort || s >= e {
		return AdminPort{}, fmt.Errorf("portRange: start %d and end %d must satisfy 1 <= start < end <= 65535", s, e)
	}
	return AdminPort{Protocol: proto, Lo: uint16(s), Hi: uint16(e)}, nil
}

// adminProtocol reads a port protocol: "If not specified, this field
// defaults to TCP." (Port.protocol)
func adminProtocol(p corev1.Protocol) (connset.Protocol, error) {
	if p == "" {
		return connset.TCP, nil
	}
	return connset.ParseProtocol(string(p))
}
