package reach

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Explanation says why src may or may not reach dst: per direction, whether
// the workload is isolated and which policy rules allow what.
type Explanation struct {
	Src, Dst Endpoint
	// Egress is nil when the source is external (no egress policy applies).
	Egress *Direction
	// Ingress is nil when the destination is external.
	Ingress *Direction
	// Allowed is what both directions allow.
	Allowed connset.Set
}

// Direction is the verdict of one side.
type Direction struct {
	Workload string
	// Isolated is false when no policy of this direction selects the
	// workload: everything is allowed.
	Isolated bool
	// Selecting lists the policies that select the workload for this
	// direction ("ns/name").
	Selecting []*model.Policy
	// Matches are the rules whose peers include the other end, with the
	// ports they allow for this pair.
	Matches []RuleMatch
	Allowed connset.Set
}

// RuleMatch is one rule that allows part of a connection.
type RuleMatch struct {
	Policy *model.Policy
	Egress bool
	Rule   int
	Conns  connset.Set
}

// String prints "ns/name egress[0]".
func (m RuleMatch) String() string {
	dir := "ingress"
	if m.Egress {
		dir = "egress"
	}
	return fmt.Sprintf("%s %s[%d]", m.Policy.Key(), dir, m.Rule)
}

// ParseEndpoint resolves a workload key ("ns/name[Kind]", or "ns/name" when
// unambiguous) or an address/CIDR in c.
func ParseEndpoint(c *model.Cluster, s string) (Endpoint, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return Endpoint{External: ipset.Range{First: a.Unmap(), Last: a.Unmap()}}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		return Endpoint{External: ipset.RangeOf(p.Masked())}, nil
	}
	if w := c.Workload(s); w != nil {
		return Endpoint{Workload: w.Key()}, nil
	}
	var found []string
	for _, w := range c.Workloads {
		if w.Namespace+"/"+w.Name == s || (!strings.Contains(s, "/") && w.Name == s) {
			found = append(found, w.Key())
		}
	}
	switch len(found) {
	case 1:
		return Endpoint{Workload: found[0]}, nil
	case 0:
		return Endpoint{}, fmt.Errorf("no workload or address %q", s)
	default:
		return Endpoint{}, fmt.Errorf("%q is ambiguous: %s", s, strings.Join(found, ", "))
	}
}

// Explain answers "why can src reach dst?" in cluster c, straight from the
// policies (no bitsets): it is also the per-pair definition the evaluator's
// tests compare against.
func Explain(c *model.Cluster, src, dst Endpoint) Explanation {
	ex := Explanation{Src: src, Dst: dst, Allowed: connset.All()}
	var sw, dw *model.Workload
	if !src.IsExternal() {
		sw = c.Workload(src.Workload)
	}
	if !dst.IsExternal() {
		dw = c.Workload(dst.Workload)
	}
	if sw != nil {
		d := direction(c, sw, true, dw, dst.External)
		ex.Egress = &d
		ex.Allowed = ex.Allowed.Intersect(d.Allowed)
	}
	if dw != nil {
		d := direction(c, dw, false, sw, src.External)
		ex.Ingress = &d
		ex.Allowed = ex.Allowed.Intersect(d.Allowed)
	}
	if sw != nil && dw != nil && sw == dw {
		ex.Allowed = connset.None()
	}
	return ex
}

// direction evaluates the policies of w for one direction against the peer
// (a workload, or the external range ext when peer is nil). An external
// range counts as matched by an ipBlock only when the block holds all of it.
func direction(c *model.Cluster, w *model.Workload, egress bool, peer *model.Workload, ext ipset.Range) Direction {
	d := Direction{Workload: w.Key(), Allowed: connset.None()}
	for _, p := range c.PoliciesIn(w.Namespace) {
		if !p.Subject.Matches(w.Labels) {
			continue
		}
		if egress && !p.Egress || !egress && !p.Ingress {
			continue
		}
		d.Isolated = true
		d.Selecting = append(d.Selecting, p)
		rules := p.IngressRules
		if egress {
			rules = p.EgressRules
		}
		for _, r := range rules {
			if !peerMatches(c, p, r, peer, ext) {
				continue
			}
			// The port is on the destination: the selected pod for
			// ingress, the peer for egress (nothing named outside).
			portHolder := w
			if egress {
				portHolder = peer
			}
			conns := r.Conns(portHolder)
			if conns.IsEmpty() {
				continue
			}
			d.Matches = append(d.Matches, RuleMatch{Policy: p, Egress: egress, Rule: r.Index, Conns: conns})
			d.Allowed = d.Allowed.Union(conns)
		}
	}
	if !d.Isolated {
		d.Allowed = connset.All()
	}
	return d
}

func peerMatches(c *model.Cluster, p *model.Policy, r model.Rule, peer *model.Workload, ext ipset.Range) bool {
	if r.AllPeers {
		return true
	}
	for _, pr := range r.Peers {
		if pr.IPBlock != nil {
			if peer == nil && pr.IPBlock.Set.ContainsRange(ext) {
				return true
			}
			continue
		}
		if peer == nil || !pr.MatchesWorkload(peer) {
			continue
		}
		if pr.NamespaceSel == nil {
			if peer.Namespace != p.Namespace {
				continue
			}
		} else {
			ns := c.Namespace(peer.Namespace)
			if ns == nil || !pr.NamespaceSel.Matches(ns.Labels) {
				continue
			}
		}
		if pr.PodSel == nil || pr.PodSel.Matches(peer.Labels) {
			return true
		}
	}
	return false
}
