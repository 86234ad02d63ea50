package reach

import (
	"errors"
	"math/bits"
	"net/netip"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// Delta is one ordered pair whose allowed connections differ between two
// results.
type Delta struct {
	Src, Dst      Endpoint
	Before, After connset.Set
}

// Compare lists the pairs whose connections differ between base and head,
// which must share a Space. Sorted like Connections.
//
// Per destination it compares only the sources that may differ: those
// whose ingress class differs (nothing when the row is shared, as after an
// incremental Update), those whose egress entry towards it differs, and
// the sources whose global egress (presence, isolation, all-destination
// rules) differs.
func Compare(base, head *Result) ([]Delta, error) {
	if base.Space != head.Space {
		return nil, errors.New("compare: results from different spaces")
	}
	sp := base.Space
	nw := len(sp.Workloads)
	mc := &maskCache{sp: sp, m: map[string]connset.Set{}}
	global := globalColumns(base.k, head.k)
	// Destinations are split between the cores; each part collects its
	// pairs with mask ids of its own table, renumbered below.
	nparts := 1
	if nw >= 2 { // small spaces too: the split is cheap and so tested everywhere
		nparts = min(runtime.GOMAXPROCS(0), 2)
	}
	parts := make([]comparePart, nparts)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].run(base, head, global, i*nw/nparts, (i+1)*nw/nparts)
		}()
	}
	wg.Wait()
	var masks []bitset
	var pairs []pair
	for i := range parts {
		off := uint32(len(masks))
		if i == 0 {
			masks = parts[i].t.masks
			pairs = parts[i].pairs
			continue
		}
		masks = append(masks, parts[i].t.masks[1:]...) // id 0 is the empty mask of every table
		off--
		for _, p := range parts[i].pairs {
			if p.before != 0 {
				p.before += off
			}
			if p.after != 0 {
				p.after += off
			}
			pairs = append(pairs, p)
		}
	}
	var ext []Delta
	for d := 0; d < nw; d++ {
		if !equalRows(base.extIn[d], head.extIn[d]) {
			ext = append(ext, diffExt(mc, sp, d, base.extIn[d], head.extIn[d], true)...)
		}
	}
	for s := 0; s < nw; s++ {
		if !equalRows(base.extOut[s], head.extOut[s]) {
			ext = append(ext, diffExt(mc, sp, s, base.extOut[s], head.extOut[s], false)...)
		}
	}
	// Pairs come by destination, then source: a stable counting sort by
	// source puts them by source, then destination.
	start := make([]int32, nw+1)
	for _, p := range pairs {
		start[p.s+1]++
	}
	for s := 0; s < nw; s++ {
		start[s+1] += start[s]
	}
	sorted := make([]pair, len(pairs))
	for _, p := range pairs {
		sorted[start[p.s]] = p
		start[p.s]++
	}
	pairs = sorted
	sortDeltas(ext)
	conns := make([]connset.Set, len(masks))
	conns[0] = connset.None()
	for i := 1; i < len(conns); i++ {
		conns[i] = sp.conns(masks[i])
	}
	// External deltas are merged in by their printed endpoints, printed
	// once: extAt[j] is the number of pairs before ext[j].
	extAt := make([]int, len(ext))
	i := 0
	for j := range ext {
		src, dst := ext[j].Src.String(), ext[j].Dst.String()
		i += sort.Search(len(pairs)-i, func(x int) bool {
			p := pairs[i+x]
			ps := sp.Workloads[p.s]
			return ps > src || ps == src && sp.Workloads[p.d] > dst
		})
		extAt[j] = i
	}
	out := make([]Delta, len(pairs)+len(ext))
	for j := range ext {
		out[extAt[j]+j] = ext[j]
	}
	// Pair deltas are written on two cores: pair x goes after the external
	// deltas that come before it.
	fill := func(lo, hi int) {
		j := sort.SearchInts(extAt, lo+1) // external deltas before pair lo
		for x := lo; x < hi; x++ {
			for j < len(extAt) && extAt[j] <= x {
				j++
			}
			p := pairs[x]
			out[x+j] = Delta{Src: Endpoint{Workload: sp.Workloads[p.s]}, Dst: Endpoint{Workload: sp.Workloads[p.d]},
				Before: conns[p.before], After: conns[p.after]}
		}
	}
	half := len(pairs) / 2
	done := make(chan struct{})
	go func() {
		defer close(done)
		fill(half, len(pairs))
	}()
	fill(0, half)
	<-done
	return out, nil
}

// pair is a workload pair whose connections differ, as ids and mask ids.
type pair struct {
	s, d          int32
	before, after uint32
}

// comparePart compares the workload rows of a range of destinations.
type comparePart struct {
	t     *maskTable
	pairs []pair // by destination, each destination's in any order
}

func (cp *comparePart) run(base, head *Result, global []int, lo, hi int) {
	sp := base.Space
	srcs := newBitset(len(sp.Workloads))
	ba, bb := newBitset(len(sp.PortAtoms)), newBitset(len(sp.PortAtoms))
	t := newMaskTable(len(sp.PortAtoms), 0)
	cp.t = t
	for d := lo; d < hi; d++ {
		if !base.k.present.has(d) && !head.k.present.has(d) {
			continue
		}
		eval := func(s int) {
			ma, mb := base.pairMask(s, d, ba), head.pairMask(s, d, bb)
			if !maskEqual(ma, mb) {
				cp.pairs = append(cp.pairs, pair{int32(s), int32(d), t.intern(ma), t.intern(mb)})
			}
		}
		marked := rowDiff(base.in[d], head.in[d], srcs)
		marked = egDiff(base.eg[d], head.eg[d], srcs) || marked
		if marked {
			for _, s := range global {
				srcs.clear(s) // looked at below
			}
			for wi, word := range srcs {
				srcs[wi] = 0
				for word != 0 {
					s := wi<<6 | bits.TrailingZeros64(word)
					word &= word - 1
					eval(s)
				}
			}
		}
		// Within a destination the order of sources does not matter: pairs
		// are sorted by source, stably.
		for _, s := range global {
			if !base.k.present.has(s) && head.eg[d] == base.eg[d] {
				// A source new in head has no entry in a row shared with base.
				if mb := head.pairMaskEg(s, d, nil, bb); mb != nil {
					cp.pairs = append(cp.pairs, pair{int32(s), int32(d), 0, t.intern(mb)})
				}
				continue
			}
			eval(s)
		}
	}
}

// globalColumns lists the sources whose egress towards every destination
// may differ: presence, isolation or all-destination rules.
func globalColumns(a, b *compiled) []int {
	var out []int
	mw := len(a.sp.allPorts)
	for s := 0; s < a.nw; s++ {
		if a.present.has(s) != b.present.has(s) || a.egOpen.has(s) != b.egOpen.has(s) ||
			!slices.Equal(a.allAcc[s*mw:s*mw+mw], b.allAcc[s*mw:s*mw+mw]) {
			out = append(out, s)
		}
	}
	return out
}

// rowDiff adds to out the peers whose masks differ between canonical rows
// a and b, and reports whether it added any.
func rowDiff(a, b Row, out bitset) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return false
	}
	any := false
	orDiff := func(x, y bitset) {
		if y != nil && sameBits(x, y) {
			return // shared by a copy-on-write update
		}
		for i := range out {
			w := x[i]
			if y != nil {
				w ^= y[i]
			}
			out[i] |= w
			any = any || w != 0
		}
	}
	for _, x := range a {
		var match bitset
		for _, y := range b {
			if y.Ports.equal(x.Ports) {
				match = y.Peers
				break
			}
		}
		orDiff(x.Peers, match)
	}
	for _, y := range b {
		found := false
		for _, x := range a {
			if x.Ports.equal(y.Ports) {
				found = true
				break
			}
		}
		if !found {
			orDiff(y.Peers, nil)
		}
	}
	return any
}

// egDiff adds to out the sources whose entries differ between a and b, and
// reports whether it added any.
func egDiff(a, b *egRow, out bitset) bool {
	if a == b {
		return false
	}
	any := false
	i, j := 0, 0
	na, nb := a.len(), b.len()
	for i < na || j < nb {
		switch {
		case j == nb || i < na && a.srcs[i] < b.srcs[j]:
			out.set(int(a.srcs[i]))
			i++
		case i == na || b.srcs[j] < a.srcs[i]:
			out.set(int(b.srcs[j]))
			j++
		default:
			differ := !a.mask(i).equal(b.mask(j))
			if differ {
				out.set(int(a.srcs[i]))
			}
			i++
			j++
			if !differ {
				continue
			}
		}
		any = true
	}
	return any
}

// equalEg reports whether two egress rows have the same entries.
func equalEg(a, b *egRow) bool {
	if a == b {
		return true
	}
	if a.len() != b.len() {
		return false
	}
	for i := 0; i < a.len(); i++ {
		if a.srcs[i] != b.srcs[i] || !a.mask(i).equal(b.mask(i)) {
			return false
		}
	}
	return true
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
	sort.Slice(ds, func(i, j int) bool { return deltaLess(&ds[i], &ds[j]) })
}

// deltaLess orders by source, then destination, by their printed form.
func deltaLess(a, b *Delta) bool {
	if as, bs := a.Src.String(), b.Src.String(); as != bs {
		return as < bs
	}
	return a.Dst.String() < b.Dst.String()
}

// SameResult reports whether two results in one Space have identical rows,
// bit for bit: the same ingress classes, egress entries per source, global
// egress facts and external rows (rows are canonical, so equal
// reachability means equal rows).
func SameResult(a, b *Result) bool {
	if a.Space != b.Space || !a.k.present.equal(b.k.present) || !a.k.egOpen.equal(b.k.egOpen) ||
		!slices.Equal(a.k.allAcc, b.k.allAcc) {
		return false
	}
	for i := range a.in {
		if !equalRows(a.in[i], b.in[i]) || !equalEg(a.eg[i], b.eg[i]) ||
			!equalRows(a.extIn[i], b.extIn[i]) || !equalRows(a.extOut[i], b.extOut[i]) {
			return false
		}
	}
	return true
}
