package reach

import (
	"errors"
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// Delta is one ordered pair whose allowed connections differ between two
// results.
type Delta struct {
	Src, Dst      Endpoint
	Before, After connset.Set
}

// Scope limits a comparison to the rows and columns that may have changed
// (from an incremental evaluation); nil compares everything.
type Scope struct {
	Rows []int // destination ids whose In/ExtIn rows may differ
	Cols []int // source ids whose column in In and ExtOut row may differ
}

// Compare lists the pairs whose connections differ between base and head,
// which must share a Space. Sorted like Connections.
func Compare(base, head *Result, scope *Scope) ([]Delta, error) {
	if base.Space != head.Space {
		return nil, errors.New("compare: results from different spaces")
	}
	sp := base.Space
	nw := len(sp.Workloads)
	mc := &maskCache{sp: sp, m: map[string]connset.Set{}}
	var out []Delta

	rows, cols := allIDs(nw), allIDs(nw)
	if scope != nil {
		rows, cols = scope.Rows, scope.Cols
	}
	rowDone := newBitset(nw)
	for _, d := range rows {
		if rowDone.has(d) {
			continue
		}
		rowDone.set(d)
		if !equalRows(base.In[d], head.In[d]) {
			out = append(out, diffRow(mc, sp, d, base.In[d], head.In[d], nil)...)
		}
		if !equalRows(base.ExtIn[d], head.ExtIn[d]) {
			out = append(out, diffExt(mc, sp, d, base.ExtIn[d], head.ExtIn[d], true)...)
		}
	}
	colSet := newBitset(nw)
	for _, s := range cols {
		colSet.set(s)
	}
	if scope != nil && !colSet.isEmpty() {
		// Columns: sources whose egress changed, in rows not already compared.
		for d := 0; d < nw; d++ {
			if rowDone.has(d) || equalRows(base.In[d], head.In[d]) {
				continue
			}
			out = append(out, diffRow(mc, sp, d, base.In[d], head.In[d], colSet)...)
		}
	}
	for s := 0; s < nw; s++ {
		if scope != nil && !colSet.has(s) {
			continue
		}
		if !equalRows(base.ExtOut[s], head.ExtOut[s]) {
			out = append(out, diffExt(mc, sp, s, base.ExtOut[s], head.ExtOut[s], false)...)
		}
	}
	sortDeltas(out)
	return out, nil
}

func allIDs(n int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = i
	}
	return ids
}

// diffRow compares the sources of one destination row; only sources in
// within (all when nil).
func diffRow(mc *maskCache, sp *Space, d int, a, b Row, within bitset) []Delta {
	srcs := newBitset(len(sp.Workloads))
	for _, c := range a {
		srcs.or(c.Peers)
	}
	for _, c := range b {
		srcs.or(c.Peers)
	}
	if within != nil {
		srcs.and(within)
	}
	var out []Delta
	dst := Endpoint{Workload: sp.Workloads[d]}
	srcs.each(func(s int) {
		ma, mb := a.maskOf(s), b.maskOf(s)
		if maskEqual(ma, mb) {
			return
		}
		out = append(out, Delta{Src: Endpoint{Workload: sp.Workloads[s]}, Dst: dst, Before: mc.connsOrNone(ma), After: mc.connsOrNone(mb)})
	})
	return out
}

// diffExt compares the external atoms of one workload's external row,
// merging adjacent atoms with the same before and after.
func diffExt(mc *maskCache, sp *Space, w int, a, b Row, incoming bool) []Delta {
	var out []Delta
	self := Endpoint{Workload: sp.Workloads[w]}
	var cur *Delta
	var curA, curB bitset
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	for i, atom := range sp.External {
		if !sp.externalShown(i) {
			flush()
			continue
		}
		ma, mb := a.maskOf(i), b.maskOf(i)
		if maskEqual(ma, mb) {
			flush()
			continue
		}
		if cur != nil && maskEqual(curA, ma) && maskEqual(curB, mb) && externalOf(cur, incoming).Last.Next() == atom.First {
			extendExternal(cur, incoming, atom.Last)
			continue
		}
		flush()
		d := Delta{Before: mc.connsOrNone(ma), After: mc.connsOrNone(mb)}
		if incoming {
			d.Src, d.Dst = Endpoint{External: atom}, self
		} else {
			d.Src, d.Dst = self, Endpoint{External: atom}
		}
		cur, curA, curB = &d, ma, mb
	}
	flush()
	return out
}

func externalOf(d *Delta, incoming bool) ipset.Range {
	if incoming {
		return d.Src.External
	}
	return d.Dst.External
}

func extendExternal(d *Delta, incoming bool, last netip.Addr) {
	if incoming {
		d.Src.External.Last = last
	} else {
		d.Dst.External.Last = last
	}
}

func maskEqual(a, b bitset) bool {
	if a == nil || b == nil {
		return (a == nil || a.isEmpty()) && (b == nil || b.isEmpty())
	}
	return a.equal(b)
}

func (c *maskCache) connsOrNone(m bitset) connset.Set {
	if m == nil {
		return connset.None()
	}
	return c.conns(m)
}

func sortDeltas(ds []Delta) {
	sort.Slice(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if as, bs := a.Src.String(), b.Src.String(); as != bs {
			return as < bs
		}
		return a.Dst.String() < b.Dst.String()
	})
}

// SameResult reports whether two results in one Space have identical rows,
// bit for bit (rows are canonical, so equal reachability means equal rows).
func SameResult(a, b *Result) bool {
	if a.Space != b.Space {
		return false
	}
	for i := range a.In {
		if !equalRows(a.In[i], b.In[i]) || !equalRows(a.ExtIn[i], b.ExtIn[i]) || !equalRows(a.ExtOut[i], b.ExtOut[i]) {
			return false
		}
	}
	return true
}
