package model

import (
	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// CiliumPolicy is a CiliumNetworkPolicy (namespaced) or a
// CiliumClusterwideNetworkPolicy, compiled. Cilium evaluates its rules
// together with NetworkPolicies: an endpoint selected in a direction by
// any of them is isolated in that direction, allows the union of their
// allow rules, and a deny rule wins over every allow rule.
type CiliumPolicy struct {
	Name string
	// Namespace is the namespace of a CiliumNetworkPolicy; empty for a
	// CiliumClusterwideNetworkPolicy.
	Namespace string
	Source    manifest.Source
	// Specs are `spec` and the entries of `specs`, in that order.
	Specs []CiliumSpec
}

// Clusterwide reports whether p is a CiliumClusterwideNetworkPolicy.
func (p *CiliumPolicy) Clusterwide() bool { return p.Namespace == "" }

// Key prints "CiliumNetworkPolicy ns/name" or
// "CiliumClusterwideNetworkPolicy name".
func (p *CiliumPolicy) Key() string {
	if p.Clusterwide() {
		return "CiliumClusterwideNetworkPolicy " + p.Name
	}
	return "CiliumNetworkPolicy " + p.Namespace + "/" + p.Name
}

// CiliumSpec is one rule block of a Cilium policy: the endpoints it selects
// and their ingress and egress rules.
type CiliumSpec struct {
	// Index is the position in `specs`; -1 for `spec`.
	Index   int
	Subject EndpointSelector
	// IngressIsolates (EgressIsolates) is set when the spec puts its
	// endpoints in default deny for ingress (egress): by default when it
	// has an ingress or ingressDeny (egress or egressDeny) section, else as
	// enableDefaultDeny says. The endpoints then deny what no allow rule
	// allows in that direction. Deny rules apply whether or not the spec
	// isolates.
	IngressIsolates, EgressIsolates bool
	Ingress, IngressDeny            []CiliumRule
	Egress, EgressDeny              []CiliumRule
}

// Rules returns the allow and the deny rules of one direction.
func (s *CiliumSpec) Rules(egress bool) (allow, deny []CiliumRule) {
	if egress {
		return s.Egress, s.EgressDeny
	}
	return s.Ingress, s.IngressDeny
}

// Isolates reports whether the spec isolates its subjects in a direction.
func (s *CiliumSpec) Isolates(egress bool) bool {
	if egress {
		return s.EgressIsolates
	}
	return s.IngressIsolates
}

// EndpointSelector is a Cilium endpoint selector split into what it asks
// of the namespace and what it asks of the pod. Cilium's
// `io.kubernetes.pod.namespace` key becomes a requirement on the
// namespace's kubernetes.io/metadata.name label, and
// `io.cilium.k8s.namespace.labels.<key>` one on the namespace label <key>.
type EndpointSelector struct {
	// Namespace, when set, restricts the selector to that namespace (a
	// namespaced policy's subject, and its peers without a namespace key).
	Namespace    string
	NamespaceSel Selector
	PodSel       Selector
}

// Matches reports whether a pod with podLabels in namespace ns (labelled
// nsLabels) is selected. Host-networked pods have the host's identity in
// Cilium, never a pod's: the caller excludes them.
func (s EndpointSelector) Matches(ns string, nsLabels, podLabels map[string]string) bool {
	if s.Namespace != "" && s.Namespace != ns {
		return false
	}
	return s.NamespaceSel.Matches(nsLabels) && s.PodSel.Matches(podLabels)
}

// CiliumRule is one entry of ingress, ingressDeny, egress or egressDeny.
// Its peers are the union of its L3 fields; a rule with toPorts and no L3
// field applies to every peer (AllPeers).
type CiliumRule struct {
	Index    int
	AllPeers bool
	Peers    []CiliumPeer
	// AllPorts is set when the rule has no toPorts.
	AllPorts bool
	Ports    []CiliumPort
}

// CiliumPeer is one L3 match: exactly one of Endpoints, AllWorkloads,
// CIDR and Domain is set.
type CiliumPeer struct {
	// Path names the field the peer comes from
	// ("specs[1].ingress[0].fromEndpoints[2]"), for diagnostics.
	Path string
	// Endpoints is a fromEndpoints/toEndpoints selector.
	Endpoints *EndpointSelector
	// AllWorkloads is the entity "cluster" (and the in-cluster half of
	// "all").
	AllWorkloads bool
	// CIDR is fromCIDR/toCIDR/fromCIDRSet/toCIDRSet, or the entity "world"
	// (every address outside the cluster). It never matches a workload.
	CIDR *ipset.Set
	// Domain is a toFQDNs matchName or matchPattern.
	Domain *DomainPattern
}

// MatchesPod reports whether the peer selects a (non host-networked) pod.
func (p CiliumPeer) MatchesPod(ns string, nsLabels, podLabels map[string]string) bool {
	return p.AllWorkloads || p.Endpoints != nil && p.Endpoints.Matches(ns, nsLabels, podLabels)
}

// MatchesExternal reports whether the peer holds every address of r.
func (p CiliumPeer) MatchesExternal(r ipset.Range) bool {
	return p.CIDR != nil && p.CIDR.ContainsRange(r)
}

// CiliumPort is one toPorts port: a number or range with a protocol, or a
// named port (resolved against the destination's container ports of that
// protocol).
type CiliumPort struct {
	Name string
	// Protocols holds TCP, UDP and SCTP for protocol ANY (or none given).
	Protocols []connset.Protocol
	Lo, Hi    uint16
}

// Conns is the connection set the rule's ports select towards dst (nil
// for an external destination, which has no named ports).
func (r CiliumRule) Conns(dst *Workload) connset.Set {
	if r.AllPorts {
		return connset.All()
	}
	out := connset.None()
	for _, p := range r.Ports {
		for _, proto := range p.Protocols {
			if p.Name == "" {
				out = out.Union(connset.Ports(proto, p.Lo, p.Hi))
				continue
			}
			if dst == nil {
				continue
			}
			if n, ok := dst.NamedPort(p.Name, proto); ok {
				out = out.Union(connset.Ports(proto, n, n))
			}
		}
	}
	return out
}
