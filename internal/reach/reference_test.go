package reach_test

import (
	"net/netip"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// This file is the naive reference evaluator: one pair and one address at a
// time, straight from the NetworkPolicy documentation, sharing no code with
// the engine beyond the model and value types. The engine is tested against
// it on small random clusters.

type refEnd struct {
	w    *model.Workload // nil for an external address
	addr netip.Addr
}

// refConns is what the reference allows from src to dst.
func refConns(c *model.Cluster, src, dst refEnd) connset.Set {
	if src.w != nil && dst.w != nil && src.w == dst.w {
		return connset.None()
	}
	out := connset.All()
	if src.w != nil {
		out = out.Intersect(refDirection(c, src.w, true, dst))
	}
	if dst.w != nil {
		out = out.Intersect(refDirection(c, dst.w, false, src))
	}
	return out
}

func refDirection(c *model.Cluster, w *model.Workload, egress bool, peer refEnd) connset.Set {
	isolated := false
	allowed := connset.None()
	for _, p := range c.Policies {
		if p.Namespace != w.Namespace || !p.Subject.Matches(w.Labels) {
			continue
		}
		rules := p.IngressRules
		if egress {
			if !p.Egress {
				continue
			}
			rules = p.EgressRules
		} else if !p.Ingress {
			continue
		}
		isolated = true
		for _, r := range rules {
			if !refPeerMatch(c, p, r, peer) {
				continue
			}
			// The named port lives on the destination of the connection.
			holder := w
			if egress {
				holder = peer.w
			}
			allowed = allowed.Union(refPorts(r, holder))
		}
	}
	if !isolated {
		return connset.All()
	}
	return allowed
}

func refPeerMatch(c *model.Cluster, p *model.Policy, r model.Rule, peer refEnd) bool {
	if r.AllPeers {
		return true
	}
	for _, pr := range r.Peers {
		if pr.IPBlock != nil {
			if peer.w != nil || !prefixHas(pr.IPBlock.CIDR, peer.addr) {
				continue
			}
			excluded := false
			for _, e := range pr.IPBlock.Except {
				if prefixHas(e, peer.addr) {
					excluded = true
				}
			}
			if !excluded {
				return true
			}
			continue
		}
		if peer.w == nil {
			continue
		}
		var nsOK bool
		if pr.NamespaceSel == nil {
			nsOK = peer.w.Namespace == p.Namespace
		} else {
			for _, ns := range c.Namespaces {
				if ns.Name == peer.w.Namespace && pr.NamespaceSel.Matches(ns.Labels) {
					nsOK = true
				}
			}
		}
		if nsOK && (pr.PodSel == nil || pr.PodSel.Matches(peer.w.Labels)) {
			return true
		}
	}
	return false
}

func prefixHas(p netip.Prefix, a netip.Addr) bool {
	return p.Masked().Contains(a)
}

func refPorts(r model.Rule, dst *model.Workload) connset.Set {
	if r.AllPorts {
		return connset.All()
	}
	out := connset.None()
	for _, ps := range r.Ports {
		if ps.Name == "" {
			out = out.Union(connset.Ports(ps.Protocol, ps.Lo, ps.Hi))
			continue
		}
		if dst == nil {
			continue
		}
		for _, cp := range dst.Ports {
			if cp.Name == ps.Name && cp.Protocol == ps.Protocol {
				out = out.Union(connset.Ports(cp.Protocol, cp.Port, cp.Port))
				break
			}
		}
	}
	return out
}

// refAll lists what the reference allows for every pair, with one entry per
// workload pair and per (workload, external atom), atoms given by the
// engine's Space (the atom split is an input, not an answer).
func refAll(c *model.Cluster, atoms []ipset.Range, showV6 bool) map[[2]string]connset.Set {
	out := map[[2]string]connset.Set{}
	put := func(a, b string, s connset.Set) {
		if !s.IsEmpty() {
			out[[2]string{a, b}] = s
		}
	}
	for _, s := range c.Workloads {
		for _, d := range c.Workloads {
			put(s.Key(), d.Key(), refConns(c, refEnd{w: s}, refEnd{w: d}))
		}
		for _, a := range atoms {
			if !showV6 && !a.Is4() {
				continue
			}
			put(s.Key(), a.String(), refConns(c, refEnd{w: s}, refEnd{addr: a.First}))
			put(a.String(), s.Key(), refConns(c, refEnd{addr: a.First}, refEnd{w: s}))
		}
	}
	return out
}
