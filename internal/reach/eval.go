// Package reach computes which workloads and external address ranges can
// reach which, on which ports, under a cluster's NetworkPolicies, and
// explains each answer.
//
// Results are kept per destination ("rows"), factored into what the
// destination's ingress allows (classes of sources sharing a set of port
// atoms, shared between destinations) and what the sources' egress allows
// (global per source, plus a sparse list per destination); see Result.
// External reach is kept per destination (from outside) and per source (to
// outside) as classes.
//
// Pod IPs are not modelled: an ipBlock never matches a workload. IPv6 atoms
// exist in every Space but are printed only when some input mentions an IPv6
// range; otherwise IPv6 reach mirrors the rules that allow "all peers".
package reach

import (
	"encoding/binary"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Class is a set of peers (source workload ids, or external atoms in
// external rows) that are allowed exactly the port atoms Ports.
type Class struct {
	Ports bitset
	Peers bitset
}

// Row groups peers by the exact set of port atoms they are allowed. A row
// is canonical: peer sets pairwise disjoint and non-empty, port masks
// pairwise different and non-empty, classes sorted by mask. So two rows
// that allow the same are identical, class by class.
type Row []Class

// Result is the reachability of one cluster in a Space.
//
// A row of workload sources is kept factored: what workload s may send to
// workload d on is
//
//	in[d].maskOf(s) AND (s not isolated for egress ? everything : allAcc[s] OR eg[d].find(s))
//
// where in[d] is d's ingress grouping of sources (shared between
// destinations selected by the same rules), allAcc[s] the atoms s's
// all-destination egress rules allow (global), and eg[d] the sparse egress
// contributions of rules whose peers hold d. No pair of a workload with
// itself is allowed.
type Result struct {
	Space   *Space
	Cluster *model.Cluster
	k       *compiled
	// in[d]: sources grouped by what d's ingress allows them.
	in []Row
	// eg[d]: egress-isolated sources that egress rules towards d (other than
	// all-destination ones, but with their named ports) allow, and on what.
	eg []*egRow
	// extIn[d]: external atoms allowed into workload d.
	extIn []Row
	// extOut[s]: external atoms workload s may reach.
	extOut []Row
}

// egRow lists sources, sorted, with an index into a small table of
// distinct non-empty masks. nil is the empty row.
type egRow struct {
	srcs  []uint32
	idx   []uint32
	masks []bitset // distinct, shared read-only
}

func (e *egRow) mask(i int) bitset { return e.masks[e.idx[i]] }

// find returns the mask of source s (nil when none).
func (e *egRow) find(s int) bitset {
	if e == nil {
		return nil
	}
	i, ok := slices.BinarySearch(e.srcs, uint32(s))
	if !ok {
		return nil
	}
	return e.mask(i)
}

func (e *egRow) masksOrNil() []bitset {
	if e == nil {
		return nil
	}
	return e.masks
}

func (e *egRow) len() int {
	if e == nil {
		return 0
	}
	return len(e.srcs)
}

// Evaluate computes the full reachability of c in sp.
func Evaluate(sp *Space, c *model.Cluster) (*Result, error) {
	k, err := compile(sp, c)
	if err != nil {
		return nil, err
	}
	r := newResult(sp, c, k)
	ids := k.present.list()
	r.computeIngress(ids)
	parallel(len(ids), k, func(sc *scratch, i int) {
		d := ids[i]
		r.eg[d] = k.egRowFor(sc, d)
		r.extOut[d] = k.rowExtOut(d)
	})
	return r, nil
}

func newResult(sp *Space, c *model.Cluster, k *compiled) *Result {
	return &Result{Space: sp, Cluster: c, k: k,
		in: make([]Row, k.nw), eg: make([]*egRow, k.nw), extIn: make([]Row, k.nw), extOut: make([]Row, k.nw)}
}

// Diagnostics are the findings of evaluation: policies and peers that
// select no workload.
func (r *Result) Diagnostics() []diag.Diagnostic { return append([]diag.Diagnostic(nil), r.k.diags...) }

// parallel calls f for 0..n-1 on every core, each worker with its scratch.
func parallel(n int, k *compiled, f func(*scratch, int)) {
	if n == 0 {
		return
	}
	const block = 32
	workers := min(runtime.GOMAXPROCS(0), (n+block-1)/block)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := newScratch(k)
			for {
				lo := int(next.Add(block)) - block
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+block, n); i++ {
					f(sc, i)
				}
			}
		}()
	}
	wg.Wait()
}

// scratch is per-worker memory reused across rows.
type scratch struct {
	accID []uint32 // by source id: mask id accumulated for the row being built
	seen  bitset   // sources with a non-zero accID
	mbuf  bitset   // one mask
	eb    egBuilder
}

func newScratch(k *compiled) *scratch {
	return &scratch{accID: make([]uint32, k.nw), seen: newBitset(k.nw), mbuf: newBitset(len(k.sp.PortAtoms)),
		eb: egBuilder{t: newMaskTable(len(k.sp.PortAtoms), len(k.rules))}}
}

// computeIngress fills in and extIn for destinations ids, computing each
// distinct grouping once and sharing it.
func (r *Result) computeIngress(ids []int) {
	k := r.k
	groups := map[string]int{}
	var reps []int
	groupOf := make([]int32, len(ids))
	var key []byte
	for i, d := range ids {
		if !k.ingIso.has(d) {
			// "By default, a pod is non-isolated for ingress; all inbound
			// connections are allowed." (Network Policies concept)
			r.in[d], r.extIn[d] = k.openIn, k.openExt
			groupOf[i] = -1
			continue
		}
		key = k.ingressKey(key[:0], d)
		g, ok := groups[string(key)]
		if !ok {
			g = len(reps)
			groups[string(key)] = g
			reps = append(reps, d)
		}
		groupOf[i] = int32(g)
	}
	ins, exts := make([]Row, len(reps)), make([]Row, len(reps))
	parallel(len(reps), k, func(sc *scratch, g int) { ins[g], exts[g] = k.ingressRows(sc, reps[g]) })
	for i, d := range ids {
		if g := groupOf[i]; g >= 0 {
			r.in[d], r.extIn[d] = ins[g], exts[g]
		}
	}
}

// groups is a row under construction: peers split by the atoms they are
// allowed so far.
type groups []Class

// add allows mask to peers: every group is split into its part inside peers
// (which gains mask) and the rest. Ports masks are copied on write, peer
// sets are owned by the groups; mask is not retained.
func (g groups) add(mask, peers bitset) groups {
	if mask.isEmpty() {
		return g
	}
	n := len(g)
	for i := 0; i < n; i++ {
		c := &g[i]
		if !c.Peers.intersects(peers) || mask.subsetOf(c.Ports) {
			continue
		}
		if c.Peers.subsetOf(peers) {
			c.Ports = or2(c.Ports, mask)
			continue
		}
		in := and2(c.Peers, peers)
		c.Peers.andNot(peers)
		g = append(g, Class{Ports: or2(c.Ports, mask), Peers: in})
	}
	return g
}

// start returns groups holding every peer of universe with no atoms.
func start(universe bitset, atoms int) groups {
	return groups{{Ports: newBitset(atoms), Peers: universe.clone()}}
}

// ingressRows computes, for destination d, the workload sources and the
// external atoms grouped by the atoms d's ingress allows them.
func (k *compiled) ingressRows(sc *scratch, d int) (Row, Row) {
	if !k.ingIso.has(d) {
		return k.openIn, k.openExt
	}
	in := start(k.present, len(k.sp.PortAtoms))
	ext := start(k.allExt, len(k.sp.PortAtoms))
	for _, ri := range k.inRules.of(d) {
		r := k.rules[ri]
		m := k.maskInto(sc.mbuf, r, d)
		in = in.add(m, r.peers)
		ext = ext.add(m, r.ext)
	}
	return canonical(Row(in)), canonical(Row(ext))
}

// ingressKey appends to b what d's ingress depends on: the rules selecting
// it, and d itself when some rule names ports.
func (k *compiled) ingressKey(b []byte, d int) []byte {
	named := false
	for _, ri := range k.inRules.of(d) {
		b = binary.LittleEndian.AppendUint32(b, uint32(ri))
		named = named || len(k.rules[ri].named) > 0
	}
	if named {
		b = append(b, 'n')
		b = binary.LittleEndian.AppendUint32(b, uint32(d))
	}
	return b
}

// egRowFor computes the egress contributions towards destination d: for
// every egress-isolated source, the atoms of its rules whose peers hold d,
// and the named ports (resolved on d) of its all-destination rules.
func (k *compiled) egRowFor(sc *scratch, d int) *egRow {
	t := sc.eb.t
	any := false
	acc := func(subjects []int32, id uint32) {
		for _, s := range subjects {
			if cur := sc.accID[s]; cur == 0 {
				sc.accID[s] = id
				sc.seen.set(int(s))
			} else if cur != id {
				sc.accID[s] = t.or(cur, id)
			}
		}
	}
	for _, ri := range k.egTo.of(d) {
		r := k.rules[ri]
		if id := t.rule(k, r, d, sc.mbuf); id != 0 {
			any = true
			acc(r.pol.subjects, id)
		}
	}
	for _, np := range k.wNamed[d] {
		id := t.intern(np.mask)
		for _, r := range k.egAllNamed[np.id] {
			any = any || len(r.pol.subjects) > 0
			acc(r.pol.subjects, id)
		}
	}
	if !any {
		return nil
	}
	sc.eb.reset()
	for wi, word := range sc.seen {
		if word == 0 {
			continue
		}
		sc.seen[wi] = 0
		for word != 0 {
			s := wi<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			sc.eb.add(int32(s), sc.accID[s])
			sc.accID[s] = 0
		}
	}
	return sc.eb.row()
}

// rowExtOut computes the external atoms s may reach (egress only). A named
// port resolves against the destination pod, so it never matches an
// external address.
func (k *compiled) rowExtOut(s int) Row {
	if !k.egIso.has(s) {
		return k.openExt
	}
	g := start(k.allExt, len(k.sp.PortAtoms))
	for _, ri := range k.egFrom.of(s) {
		r := k.rules[ri]
		g = g.add(r.ports, r.ext)
	}
	return canonical(Row(g))
}

// egress writes into buf what egress-isolated source s may send towards
// the destination of eg.
func (k *compiled) egress(eg *egRow, s int, buf bitset) bitset {
	mw := len(buf)
	copy(buf, k.allAcc[s*mw:s*mw+mw])
	if m := eg.find(s); m != nil {
		buf.or(m)
	}
	return buf
}

// pairMask returns into buf the atoms allowed from workload s to workload
// d (nil when none).
//
// "For a connection from a source pod to a destination pod to be allowed,
// both the egress policy on the source pod and the ingress policy on the
// destination pod need to allow the connection." (Network Policies concept)
func (r *Result) pairMask(s, d int, buf bitset) bitset {
	return r.pairMaskEg(s, d, r.eg[d], buf)
}

// pairMaskEg is pairMask with eg standing for d's egress row.
func (r *Result) pairMaskEg(s, d int, eg *egRow, buf bitset) bitset {
	k := r.k
	if s == d || !k.present.has(s) || !k.present.has(d) {
		return nil
	}
	im := r.in[d].maskOf(s)
	if im == nil {
		return nil
	}
	if k.egOpen.has(s) {
		return im
	}
	k.egress(eg, s, buf)
	buf.and(im)
	if buf.isEmpty() {
		return nil
	}
	return buf
}

// canonical merges classes with equal masks, drops empty ones and sorts by
// mask. Classes must have disjoint peers.
func canonical(row Row) Row {
	out := row[:0]
	for _, c := range row {
		if c.Peers.isEmpty() || c.Ports.isEmpty() {
			continue
		}
		merged := false
		for i := range out {
			if out[i].Ports.equal(c.Ports) {
				out[i].Peers = or2(out[i].Peers, c.Peers)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return lessBits(out[i].Ports, out[j].Ports) })
	if len(out) == 0 {
		return nil
	}
	return out
}

func lessBits(a, b bitset) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// equalRows reports whether two canonical rows are identical.
func equalRows(a, b Row) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true // shared with base by an incremental update
	}
	for i := range a {
		if !a[i].Ports.equal(b[i].Ports) || !a[i].Peers.equal(b[i].Peers) {
			return false
		}
	}
	return true
}

// maskOf returns the port atoms a row allows for peer i (nil when none).
func (row Row) maskOf(i int) bitset {
	for _, c := range row {
		if c.Peers.has(i) {
			return c.Ports
		}
	}
	return nil
}
