package model

import (
	"fmt"
	"regexp"

	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// kindCNP is the kind of a v1alpha2 ClusterNetworkPolicy.
const kindCNP = "ClusterNetworkPolicy"

// Limits of the network-policy-api v1alpha2 CRD validation: ingress,
// egress, from, to, protocols, networks and domainNames all have
// MaxItems=25 (rule names keep MaxLength=100, priorities 0-1000).
const maxCNPItems = 25

// cnpDomainName is the CRD pattern of a DomainName.
var cnpDomainName = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`)

// cnpRule is the common shape of the ingress and egress rules of a
// ClusterNetworkPolicy; ingress peers (namespaces, pods) are a subset of
// egress peers.
type cnpRule struct {
	name      string
	action    npav1alpha2.ClusterNetworkPolicyRuleAction
	peers     []npav1alpha2.ClusterNetworkPolicyEgressPeer
	protocols []npav1alpha2.ClusterNetworkPolicyProtocol
}

// compileCNP compiles a ClusterNetworkPolicy into an admin or baseline
// tier policy. Invalid input (anything the CRD validation rejects) gives
// one error diagnostic naming the field path, and no policy.
func (b *builder) compileCNP(o manifest.Object, cnp *npav1alpha2.ClusterNetworkPolicy) (*AdminPolicy, bool) {
	p, err := b.cnpPolicy(o, cnp)
	if err != nil {
		b.diag(errorf(o, "%v", err))
		return nil, false
	}
	return p, true
}

func (b *builder) cnpPolicy(o manifest.Object, cnp *npav1alpha2.ClusterNetworkPolicy) (*AdminPolicy, error) {
	s := cnp.Spec
	p := &AdminPolicy{Name: cnp.Name, Kind: kindCNP, Priority: s.Priority, Source: o.Source}
	// "ClusterNetworkPolicy can use 2 of these tiers: Admin and Baseline."
	switch s.Tier {
	case npav1alpha2.AdminTier:
		p.Tier = TierAdmin
	case npav1alpha2.BaselineTier:
		p.Tier = TierBaseline
	default:
		return nil, fmt.Errorf("spec.tier: %q is not Admin or Baseline", s.Tier)
	}
	if s.Priority < 0 || s.Priority > maxAdminPriority {
		return nil, fmt.Errorf("spec.priority: %d is outside 0-%d", s.Priority, maxAdminPriority)
	}
	// Same shape as the v1alpha1 subject: "Exactly one field must be set."
	subject := npav1alpha1.AdminNetworkPolicySubject{Namespaces: s.Subject.Namespaces, Pods: (*npav1alpha1.NamespacedPod)(s.Subject.Pods)}
	var err error
	if p.Subject, err = compileAdminSubject(subject); err != nil {
		return nil, fmt.Errorf("spec.subject: %w", err)
	}
	in := make([]cnpRule, len(s.Ingress))
	for i, r := range s.Ingress {
		peers := make([]npav1alpha2.ClusterNetworkPolicyEgressPeer, len(r.From))
		for j, x := range r.From {
			peers[j] = npav1alpha2.ClusterNetworkPolicyEgressPeer{Namespaces: x.Namespaces, Pods: x.Pods}
		}
		in[i] = cnpRule{r.Name, r.Action, peers, r.Protocols}
	}
	eg := make([]cnpRule, len(s.Egress))
	for i, r := range s.Egress {
		eg[i] = cnpRule{r.Name, r.Action, r.To, r.Protocols}
	}
	if p.Ingress, err = b.cnpRules(o, "ingress", "from", in); err != nil {
		return nil, err
	}
	if p.Egress, err = b.cnpRules(o, "egress", "to", eg); err != nil {
		return nil, err
	}
	return p, nil
}

// cnpRules compiles one direction's rules, in the order written: "a rule
// that appears at the top of the ingress rules would take the highest
// precedence". "CNPs with no ingress rules do not affect ingress traffic":
// no rules compile to none, which the evaluator passes over.
func (b *builder) cnpRules(o manifest.Object, dir, peerField string, rules []cnpRule) ([]AdminRule, error) {
	path := "spec." + dir
	if len(rules) > maxCNPItems {
		return nil, fmt.Errorf("%s: %d rules; at most %d are allowed", path, len(rules), maxCNPItems)
	}
	var out []AdminRule
	for i, r := range rules {
		at := fmt.Sprintf("%s[%d]", path, i)
		rule := AdminRule{Index: i, Name: r.name}
		if len(r.name) > maxRuleName {
			return nil, fmt.Errorf("%s.name: longer than %d characters", at, maxRuleName)
		}
		switch r.action {
		case npav1alpha2.ClusterNetworkPolicyRuleActionAccept:
			rule.Action = ActionAllow
		case npav1alpha2.ClusterNetworkPolicyRuleActionDeny:
			rule.Action = ActionDeny
		case npav1alpha2.ClusterNetworkPolicyRuleActionPass:
			// Pass "passes evaluation to the next tier", in both tiers.
			rule.Action = ActionPass
		default:
			return nil, fmt.Errorf("%s.action: %q is not Accept, Deny or Pass", at, r.action)
		}
		// "This field must be defined and contain at least one item."
		if len(r.peers) == 0 || len(r.peers) > maxCNPItems {
			return nil, fmt.Errorf("%s.%s: %d peers; 1 to %d are allowed", at, peerField, len(r.peers), maxCNPItems)
		}
		addressPeer := false
		for j, x := range r.peers {
			peer, err := b.cnpPeer(o, fmt.Sprintf("%s.%s[%d]", at, peerField, j), peerField, rule.Action, x)
			if err != nil {
				return nil, err
			}
			addressPeer = addressPeer || peer.Networks != nil || peer.Nodes != nil || peer.Domains != nil
			rule.Peers = append(rule.Peers, peer)
			// Under the calico profile a CIDR holding the pod CIDRs matches
			// every pod: "if you Accept or Deny traffic to "0.0.0.0/0", that
			// will allow or deny all IPv4 pod-to-pod traffic as well."
			if peer.Networks != nil && b.networksMatchPods(o, dir, i, peerField, j, cidrStrings(x.Networks), *peer.Networks) {
				rule.Peers = append(rule.Peers, networksPodPeer())
			}
		}
		// "If unspecified, protocol-specific attributes will not be used to
		// match traffic."
		rule.AllPorts = r.protocols == nil
		if r.protocols != nil && (len(r.protocols) == 0 || len(r.protocols) > maxCNPItems) {
			return nil, fmt.Errorf("%s.protocols: %d entries; 1 to %d are allowed", at, len(r.protocols), maxCNPItems)
		}
		for j, x := range r.protocols {
			port, err := cnpProtocol(fmt.Sprintf("%s.protocols[%d]", at, j), x)
			if err != nil {
				return nil, err
			}
			if port.Name != "" && addressPeer {
				// "networks/nodes/domainNames peer cannot be set with
				// namedPorts since there are no namedPorts for
				// networks/nodes/domainNames" (CRD validation).
				return nil, fmt.Errorf("%s.protocols[%d].destinationNamedPort: cannot be combined with a networks, nodes or domainNames peer (they have no named ports)", at, j)
			}
			rule.Ports = append(rule.Ports, port)
		}
		out = append(out, rule)
	}
	return out, nil
}

// cnpPeer compiles one peer at path. "Exactly one of the fields must be
// set for a given peer." The API asks an implementation that sees none to
// "fail closed"; reachdiff reads manifests, not a live cluster, so such a
// peer is invalid input like any other.
func (b *builder) cnpPeer(o manifest.Object, path, peerField string, action AdminAction, x npav1alpha2.ClusterNetworkPolicyEgressPeer) (AdminPeer, error) {
	set := 0
	for _, present := range []bool{x.Namespaces != nil, x.Pods != nil, x.Nodes != nil, x.Networks != nil, x.DomainNames != nil} {
		if present {
			set++
		}
	}
	if set != 1 {
		fields := "namespaces, pods, nodes, networks and domainNames"
		if peerField == "from" {
			fields = "namespaces and pods"
		}
		return AdminPeer{}, fmt.Errorf("%s: exactly one of %s must be set (%d are)", path, fields, set)
	}
	switch {
	case x.Namespaces != nil:
		sel, err := CompileSelector(x.Namespaces)
		if err != nil {
			return AdminPeer{}, fmt.Errorf("%s.namespaces: %w", path, err)
		}
		return AdminPeer{NamespaceSel: &sel}, nil
	case x.Pods != nil:
		// compileNamespacedPod's errors start with "pods.".
		ns, pod, err := compileNamespacedPod((*npav1alpha1.NamespacedPod)(x.Pods))
		if err != nil {
			return AdminPeer{}, fmt.Errorf("%s.%w", path, err)
		}
		return AdminPeer{NamespaceSel: &ns, PodSel: &pod}, nil
	case x.Nodes != nil:
		sel, err := CompileSelector(x.Nodes)
		if err != nil {
			return AdminPeer{}, fmt.Errorf("%s.nodes: %w", path, err)
		}
		b.diag(warnf(o, "%s.nodes: nodes peers are not modelled (node addresses are unknown); the peer matches nothing", path))
		return AdminPeer{Nodes: &sel}, nil
	case x.Networks != nil:
		return b.cnpNetworks(o, path+".networks", x.Networks)
	}
	return cnpDomains(path+".domainNames", action, x.DomainNames)
}

// cnpNetworks compiles a networks peer. Unlike v1alpha1, the CRD rejects a
// CIDR with host bits: "cidr(self) == cidr(self).masked()".
func (b *builder) cnpNetworks(o manifest.Object, path string, networks []npav1alpha2.CIDR) (AdminPeer, error) {
	if len(networks) == 0 || len(networks) > maxCNPItems {
		return AdminPeer{}, fmt.Errorf("%s: %d CIDRs; 1 to %d are allowed", path, len(networks), maxCNPItems)
	}
	var set ipset.Set
	seen := map[npav1alpha2.CIDR]bool{}
	for i, n := range networks {
		prefix, hostBits, err := ipset.ParseCIDR(string(n))
		switch {
		case err != nil:
			return AdminPeer{}, fmt.Errorf("%s[%d]: %w", path, i, err)
		case hostBits:
			return AdminPeer{}, fmt.Errorf("%s[%d]: %s has host bits set (the CRD requires a masked CIDR such as %s)", path, i, n, prefix.Masked())
		case seen[n]:
			return AdminPeer{}, fmt.Errorf("%s[%d]: duplicate CIDR %s (networks is a set)", path, i, n)
		}
		seen[n] = true
		set = set.Add(ipset.RangeOf(prefix))
	}
	// "note that cluster-internal traffic will be checked against the rule
	// as well." Under the default (cilium-like) profile pod addresses are
	// not matched, so reachdiff checks only external addresses (and
	// domains) against it, as for ipBlock; cnpRules applies the calico
	// profile.
	if !b.opts.CNI.IPBlockMatchesPods() {
		d := warnf(o, "%s %v: matched against external addresses and domains only (under the %s CNI profile a CIDR does not match pods, and node addresses are not modelled)", path, networks, CNICiliumLike)
		d.Severity = diag.Info
		b.diag(d)
	}
	return AdminPeer{Networks: &set}, nil
}

// cnpDomains compiles a domainNames peer: "DomainNames is only supported
// for Accept rules."
func cnpDomains(path string, action AdminAction, names []npav1alpha2.DomainName) (AdminPeer, error) {
	if action != ActionAllow {
		return AdminPeer{}, fmt.Errorf("%s: domainNames is only supported for Accept rules, not %s", path, actionNames[action])
	}
	if len(names) == 0 || len(names) > maxCNPItems {
		return AdminPeer{}, fmt.Errorf("%s: %d names; 1 to %d are allowed", path, len(names), maxCNPItems)
	}
	seen := map[npav1alpha2.DomainName]bool{}
	var out []DomainPattern
	for i, n := range names {
		d, err := ParseDomainPattern(string(n), SyntaxNPA)
		switch {
		case err != nil:
			return AdminPeer{}, fmt.Errorf("%s[%d]: %w", path, i, err)
		case !cnpDomainName.MatchString(string(n)):
			return AdminPeer{}, fmt.Errorf("%s[%d]: %q is not a domain name of two or more labels, optionally behind a \"*.\" prefix", path, i, n)
		case seen[n]:
			return AdminPeer{}, fmt.Errorf("%s[%d]: duplicate name %s (domainNames is a set)", path, i, n)
		}
		seen[n] = true
		out = append(out, d)
	}
	return AdminPeer{Domains: out}, nil
}

// cnpProtocol compiles the protocols entry at path: "Exactly one field
// must be set."
func cnpProtocol(path string, x npav1alpha2.ClusterNetworkPolicyProtocol) (AdminPort, error) {
	type entry struct {
		field string
		proto connset.Protocol
		port  *npav1alpha2.Port
	}
	var set []entry
	if x.TCP != nil {
		set = append(set, entry{"tcp", connset.TCP, x.TCP.DestinationPort})
	}
	if x.UDP != nil {
		set = append(set, entry{"udp", connset.UDP, x.UDP.DestinationPort})
	}
	if x.SCTP != nil {
		set = append(set, entry{"sctp", connset.SCTP, x.SCTP.DestinationPort})
	}
	if x.DestinationNamedPort != "" {
		set = append(set, entry{field: "destinationNamedPort"})
	}
	if len(set) != 1 {
		return AdminPort{}, fmt.Errorf("%s: exactly one of tcp, udp, sctp and destinationNamedPort must be set (%d are)", path, len(set))
	}
	e := set[0]
	if e.field == "destinationNamedPort" {
		// "DestinationNamedPort selects a destination port on a pod based
		// on the ContainerPort name."
		return AdminPort{Name: x.DestinationNamedPort}, nil
	}
	// MinProperties=1: a tcp, udp or sctp entry names its destinationPort.
	if e.port == nil {
		return AdminPort{}, fmt.Errorf("%s.%s: destinationPort must be set", path, e.field)
	}
	at := path + "." + e.field + ".destinationPort"
	n, r := e.port.Number, e.port.Range
	switch {
	case n != 0 && r != nil:
		return AdminPort{}, fmt.Errorf("%s: exactly one of number and range must be set, not both", at)
	case r != nil:
		// "the Start value must be less than End."
		if r.Start < 1 || r.End > connset.MaxPort || r.Start >= r.End {
			return AdminPort{}, fmt.Errorf("%s.range: start %d and end %d must satisfy 1 <= start < end <= 65535", at, r.Start, r.End)
		}
		return AdminPort{Protocol: e.proto, Lo: uint16(r.Start), Hi: uint16(r.End)}, nil
	case n == 0:
		return AdminPort{}, fmt.Errorf("%s: exactly one of number and range must be set", at)
	case n < 1 || n > connset.MaxPort:
		return AdminPort{}, fmt.Errorf("%s.number: %d is outside 1-65535", at, n)
	}
	return AdminPort{Protocol: e.proto, Lo: uint16(n), Hi: uint16(n)}, nil
}

// noteAdminAPIMix adds one Info diagnostic when v1alpha1 admin policies
// and v1alpha2 ClusterNetworkPolicies are both present: the APIs do not
// say how they interleave, so reachdiff's single ordering per tier is a
// choice the user should know about. It runs after sortAdminPolicies.
func (b *builder) noteAdminAPIMix() {
	var first *AdminPolicy
	v1alpha1 := false
	for _, p := range b.c.AdminPolicies {
		if p.Kind != kindCNP {
			v1alpha1 = true
		} else if first == nil {
			first = p
		}
	}
	if first == nil || !v1alpha1 {
		return
	}
	src := manifest.Object{Kind: first.Kind, Name: first.Name, Source: first.Source}
	d := warnf(src, "AdminNetworkPolicy/BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy (v1alpha2) are both present; "+
		"the APIs do not define how they interleave, so reachdiff evaluates them in one ordering per tier: by priority "+
		"(a BaselineAdminNetworkPolicy counts as priority 0), ties by name")
	d.Severity = diag.Info
	b.diag(d)
}
