package model

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// compilePolicy validates a NetworkPolicy and compiles it. Invalid policies
// (ones the API server would reject) are error diagnostics and are dropped.
func (b *builder) compilePolicy(o manifest.Object, ns string, np *networkingv1.NetworkPolicy) (*Policy, bool) {
	fail := func(format string, args ...any) (*Policy, bool) {
		b.diag(errorf(o, format, args...))
		return nil, false
	}
	subject, err := CompileSelector(&np.Spec.PodSelector)
	if err != nil {
		return fail("spec.podSelector: %v", err)
	}
	p := &Policy{Namespace: ns, Name: np.Name, Source: o.Source, Subject: subject}

	// "If this field is not specified, it will default based on the existence
	// of ingress or egress rules; policies that contain an egress section are
	// assumed to affect egress, and all policies (whether or not they contain
	// an ingress section) are assumed to affect ingress." (NetworkPolicySpec.policyTypes)
	if len(np.Spec.PolicyTypes) == 0 {
		p.Ingress = true
		p.Egress = len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.Ingress = true
		case networkingv1.PolicyTypeEgress:
			p.Egress = true
		default:
			return fail("spec.policyTypes: unknown type %q (want Ingress or Egress)", t)
		}
	}
	if !p.Ingress && len(np.Spec.Ingress) > 0 {
		b.diag(warnf(o, "ingress rules are ignored: policyTypes does not include Ingress"))
	}
	if !p.Egress && len(np.Spec.Egress) > 0 {
		b.diag(warnf(o, "egress rules are ignored: policyTypes does not include Egress"))
	}
	if p.Ingress {
		for i, r := range np.Spec.Ingress {
			rule, err := b.compileRule(o, "ingress", i, r.From, r.Ports)
			if err != nil {
				return fail("spec.ingress[%d]: %v", i, err)
			}
			p.IngressRules = append(p.IngressRules, rule)
		}
	}
	if p.Egress {
		for i, r := range np.Spec.Egress {
			rule, err := b.compileRule(o, "egress", i, r.To, r.Ports)
			if err != nil {
				return fail("spec.egress[%d]: %v", i, err)
			}
			p.EgressRules = append(p.EgressRules, rule)
		}
	}
	return p, true
}

func (b *builder) compileRule(o manifest.Object, dir string, index int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (Rule, error) {
	r := Rule{Index: index}
	// "If this field is empty or missing, this rule matches all sources
	// (traffic not restricted by source)." (NetworkPolicyIngressRule.from)
	r.AllPeers = len(peers) == 0
	hasIPBlock := false
	for i, peer := range peers {
		cp, err := compilePeer(peer)
		if err != nil {
			return Rule{}, fmt.Errorf("peer %d: %w", i, err)
		}
		if cp.IPBlock != nil {
			hasIPBlock = true
			if cp.IPBlock.CIDR.Masked() != cp.IPBlock.CIDR {
				b.diag(warnf(o, "ipBlock cidr %s has host bits set; Kubernetes reads it as %s", cp.IPBlock.CIDR, cp.IPBlock.CIDR.Masked()))
			}
		}
		r.Peers = append(r.Peers, cp)
		if cp.IPBlock != nil && b.ipBlockMatchesPods(o, dir, index, i, cp.IPBlock) {
			r.Peers = append(r.Peers, ipBlockPodPeer())
		}
	}
	// "If this field is empty or missing, this rule matches all ports
	// (traffic not restricted by port)." (NetworkPolicyIngressRule.ports)
	r.AllPorts = len(ports) == 0
	named := false
	for i, port := range ports {
		ps, err := compilePort(port)
		if err != nil {
			return Rule{}, fmt.Errorf("ports[%d]: %w", i, err)
		}
		if ps.Name != "" {
			named = true
		}
		r.Ports = append(r.Ports, ps)
	}
	if named && hasIPBlock {
		b.diag(warnf(o, "rule %d combines a named port with an ipBlock peer: a named port resolves against pods, so it matches no external address", index))
	}
	return r, nil
}

func compilePeer(peer networkingv1.NetworkPolicyPeer) (Peer, error) {
	if peer.IPBlock != nil {
		if peer.PodSelector != nil || peer.NamespaceSelector != nil {
			return Peer{}, fmt.Errorf("ipBlock cannot be combined with podSelector or namespaceSelector")
		}
		blk, err := compileIPBlock(peer.IPBlock)
		if err != nil {
			return Peer{}, err
		}
		return Peer{IPBlock: blk}, nil
	}
	if peer.PodSelector == nil && peer.NamespaceSelector == nil {
		return Peer{}, fmt.Errorf("must specify podSelector, namespaceSelector or ipBlock")
	}
	var p Peer
	if peer.NamespaceSelector != nil {
		s, err := CompileSelector(peer.NamespaceSelector)
		if err != nil {
			return Peer{}, fmt.Errorf("namespaceSelector: %w", err)
		}
		p.NamespaceSel = &s
	}
	if peer.PodSelector != nil {
		s, err := CompileSelector(peer.PodSelector)
		if err != nil {
			return Peer{}, fmt.Errorf("podSelector: %w", err)
		}
		p.PodSel = &s
	}
	return p, nil
}

func compileIPBlock(blk *networkingv1.IPBlock) (*IPBlock, error) {
	cidr, _, err := ipset.ParseCIDR(blk.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock.cidr: %w", err)
	}
	out := &IPBlock{CIDR: cidr}
	whole := ipset.RangeOf(cidr)
	set := ipset.Set{}.Add(whole)
	for _, e := range blk.Except {
		ex, _, err := ipset.ParseCIDR(e)
		if err != nil {
			return nil, fmt.Errorf("ipBlock.except: %w", err)
		}
		// "Except values will be rejected if they are outside the cidr range"
		// (IPBlock.except); the API server also rejects an except equal to
		// or wider than the cidr.
		er := ipset.RangeOf(ex)
		if ex.Addr().Is4() != cidr.Addr().Is4() || !whole.ContainsRange(er) || ex.Bits() <= cidr.Masked().Bits() {
			return nil, fmt.Errorf("ipBlock.except %s must be strictly inside cidr %s", e, blk.CIDR)
		}
		out.Except = append(out.Except, ex)
		set = set.Subtract(ipset.Set{}.Add(er))
	}
	out.Set = set
	return out, nil
}

func compilePort(p networkingv1.NetworkPolicyPort) (PortSpec, error) {
	// "The protocol (TCP, UDP, or SCTP) which traffic must match. If not
	// specified, this field defaults to TCP." (NetworkPolicyPort.protocol)
	ps := PortSpec{Protocol: connset.TCP}
	if p.Protocol != nil {
		proto, err := connset.ParseProtocol(string(*p.Protocol))
		if err != nil {
			return PortSpec{}, err
		}
		ps.Protocol = proto
	}
	switch {
	case p.Port == nil:
		// "If this field is not provided, this matches all port names and
		// numbers." (NetworkPolicyPort.port)
		if p.EndPort != nil {
			return PortSpec{}, fmt.Errorf("endPort requires port")
		}
		ps.Lo, ps.Hi = 1, 65535
	case p.Port.Type == intstr.String:
		if p.EndPort != nil {
			// "The endPort must be equal or greater than port" and "this
			// field cannot be defined if the port field is defined as a
			// named (string) port." (NetworkPolicyPort.endPort)
			return PortSpec{}, fmt.Errorf("endPort cannot be used with named port %q", p.Port.StrVal)
		}
		if p.Port.StrVal == "" {
			return PortSpec{}, fmt.Errorf("empty port name")
		}
		ps.Name = p.Port.StrVal
	default:
		n := p.Port.IntVal
		if n < 1 || n > 65535 {
			return PortSpec{}, fmt.Errorf("port %d out of range 1-65535", n)
		}
		ps.Lo, ps.Hi = uint16(n), uint16(n)
		if p.EndPort != nil {
			e := *p.EndPort
			if e < n || e > 65535 {
				return PortSpec{}, fmt.Errorf("endPort %d must be between port %d and 65535", e, n)
			}
			ps.Hi = uint16(e)
		}
	}
	return ps, nil
}
