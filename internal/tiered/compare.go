package tiered

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Delta is one pair whose connections differ between two results.
// External ranges are pieces of the common split of both sides' atoms,
// adjacent pieces that changed alike merged.
type Delta struct {
	Src, Dst      Point
	Before, After connset.Set
}

// Compare lists the pairs whose connections differ from base to head,
// sorted by source, then destination. It reads the results' rows and
// vectors directly: no line of the (quadratic) listing is built.
func Compare(base, head *Result) []Delta {
	var out []Delta
	for _, src := range unionKeys(base.rows, head.rows) {
		b, h := base.rows[src], head.rows[src]
		for _, dst := range unionKeys(b, h) {
			if bc, hc := b[dst], h[dst]; !bc.Equal(hc) {
				out = append(out, Delta{Src: Point{Name: src}, Dst: Point{Name: dst}, Before: bc, After: hc})
			}
		}
	}
	atoms := commonAtoms(base.x.atoms, head.x.atoms)
	for _, w := range unionKeys(base.egress, head.egress) {
		out = append(out, compareVectors(atoms, base, head, w, true)...)
		out = append(out, compareVectors(atoms, base, head, w, false)...)
	}
	for _, w := range unionKeys(base.domains, head.domains) {
		b, h := domainConns(base, w), domainConns(head, w)
		for _, d := range unionKeys(b, h) {
			if bc, hc := b[d], h[d]; !bc.Equal(hc) {
				out = append(out, Delta{Src: Point{Name: w}, Dst: Point{Domain: d}, Before: bc, After: hc})
			}
		}
	}
	for _, w := range unionKeys(base.controller, head.controller) {
		if bc, hc := base.controller[w], head.controller[w]; !bc.Equal(hc) {
			out = append(out, Delta{Src: Point{Name: IngressController}, Dst: Point{Name: w}, Before: bc, After: hc})
		}
	}
	slices.SortStableFunc(out, func(a, b Delta) int {
		return cmp.Or(cmp.Compare(a.Src.String(), b.Src.String()), cmp.Compare(a.Dst.String(), b.Dst.String()))
	})
	return out
}

// compareVectors compares workload w's egress (or ingress) vector over
// the common atoms, merging adjacent atoms of one family that changed
// alike.
func compareVectors(atoms []ipset.Range, base, head *Result, w string, egress bool) []Delta {
	bv, hv := base.ingress[w], head.ingress[w]
	if egress {
		bv, hv = base.egress[w], head.egress[w]
	}
	var out []Delta
	for _, a := range atoms {
		bc, hc := atomConns(base.x.atoms, bv, a), atomConns(head.x.atoms, hv, a)
		if bc.Equal(hc) {
			continue
		}
		if n := len(out); n > 0 {
			last := &out[n-1]
			r := &last.Src.External
			if egress {
				r = &last.Dst.External
			}
			if r.Is4() == a.Is4() && r.Last.Next() == a.First && last.Before.Equal(bc) && last.After.Equal(hc) {
				r.Last = a.Last
				continue
			}
		}
		d := Delta{Src: Point{External: a}, Dst: Point{Name: w}, Before: bc, After: hc}
		if egress {
			d.Src, d.Dst = Point{Name: w}, Point{External: a}
		}
		out = append(out, d)
	}
	return out
}

// commonAtoms splits the address space at the atoms of both sides.
func commonAtoms(a, b []ipset.Range) []ipset.Range {
	if slices.Equal(a, b) {
		return a
	}
	return ipset.Atoms(append(slices.Clip(a), b...))
}

// atomConns is the connection set of the atom of atoms (with vector v)
// that holds the common atom a (a piece of it when the other side splits
// it further); none when v is missing.
func atomConns(atoms []ipset.Range, v []connset.Set, a ipset.Range) connset.Set {
	if v == nil {
		return connset.None()
	}
	i, found := slices.BinarySearchFunc(atoms, a.First, func(r ipset.Range, x netip.Addr) int { return r.First.Compare(x) })
	if !found {
		i-- // the atom starting before a.First holds it
	}
	if i < 0 || !atoms[i].ContainsRange(a) {
		return connset.None()
	}
	return v[i]
}

func domainConns(r *Result, w string) map[string]connset.Set {
	m := map[string]connset.Set{}
	for j, cs := range r.domains[w] {
		if !cs.IsEmpty() {
			m[r.x.domains[j].Text] = cs
		}
	}
	return m
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, max(len(a), len(b)))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// ExternalReach calls f for every workload's allowed connections to an
// external range (adjacent atoms with equal connections merged) and to a
// domain, without building the full listing.
func (r *Result) ExternalReach(f func(workload string, dst Point, conns connset.Set)) {
	for _, w := range r.x.c.Workloads {
		k := w.Key()
		for _, m := range mergeAtoms(r.x.atoms, r.egress[k]) {
			if !m.conns.IsEmpty() {
				f(k, Point{External: m.rng}, m.conns)
			}
		}
		for j, cs := range r.domains[k] {
			if !cs.IsEmpty() {
				f(k, Point{Domain: r.x.domains[j].Text}, cs)
			}
		}
	}
}

// Explain traces a pair of the result's cluster (see Explain).
func (r *Result) Explain(src, dst Endpoint) Explanation { return r.x.explain(src, dst) }

// Cluster is the cluster the result was computed for.
func (r *Result) Cluster() *model.Cluster { return r.x.c }

// Domains are the result's domain endpoints (its cluster's, and the extra
// ones it was computed with).
func (r *Result) Domains() []model.DomainPattern { return r.x.domains }
