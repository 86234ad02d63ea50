package reach

import (
	"runtime"
	"slices"
	"sync"

	"github.com/reachdiff/reachdiff/internal/model"
)

// Update derives the result for head from base, recomputing only what the
// object-level change between base.Cluster and head touches. head must fit
// base's Space (built over both clusters). Rows that nothing touches stay
// shared with base, so Compare skips them; so do recomputed rows that come
// out the same. head itself is compiled from base's compilation: selectors
// are re-tested only on moved workloads and unchanged policies are reused.
//
// Ingress rows are recomputed for the subjects of changed ingress policies
// (old and new) and for workloads added, removed, relabelled or whose ports
// changed; in every other row only the columns of workloads whose peer
// memberships may have moved (those, and the members of relabelled
// namespaces) are patched, copy on write. Egress rows are recomputed for the
// peers of changed egress rules (old and new; for rules towards every
// workload, the holders of the ports they name) and for moved workloads;
// elsewhere the columns of workloads whose subject membership may have moved
// are patched. Outgoing external rows are recomputed for the subjects of
// changed egress policies and moved workloads.
func Update(base *Result, head *model.Cluster) (*Result, error) {
	sp := base.Space
	a := base.k
	k, ch, err := compileFrom(a, head)
	if err != nil {
		return nil, err
	}
	if k.present.equal(a.present) {
		k.openIn = a.openIn
	}
	k.openExt = a.openExt
	r := newResult(sp, head, k)

	var inRows, egRows []int
	k.present.each(func(d int) {
		if ch.inRows.has(d) {
			inRows = append(inRows, d)
		}
		if ch.egRows.has(d) || ch.allEg {
			egRows = append(egRows, d)
		}
	})
	r.computeIngress(inRows)
	parallel(len(egRows), k, func(sc *scratch, i int) { r.eg[egRows[i]] = k.egRowFor(sc, egRows[i]) })
	// Recomputed rows that came out the same stay shared with base.
	for _, d := range inRows {
		if equalRows(base.in[d], r.in[d]) {
			r.in[d] = base.in[d]
		}
		if equalRows(base.extIn[d], r.extIn[d]) {
			r.extIn[d] = base.extIn[d]
		}
	}
	for _, d := range egRows {
		if equalEg(base.eg[d], r.eg[d]) {
			r.eg[d] = base.eg[d]
		}
	}

	flips, moved := ch.flip.list(), ch.moved.list()
	inCand, inBy := ingressCandidates(k, flips)
	egCand, egBy := egressCandidates(a, k, moved)
	// Destinations are split between the cores, each part with its own
	// scratch; a row shared by destinations of two parts is patched in both.
	parts := 1
	if k.nw >= 2 { // small clusters too: the split is cheap and so tested everywhere
		parts = min(runtime.GOMAXPROCS(0), 2)
	}
	var wg sync.WaitGroup
	for w := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := &patchScratch{cols: make([]int, 0, max(len(flips), len(moved))), memo: map[*Class]Row{},
				buf: newBitset(len(sp.PortAtoms)), bufs: make([]bitset, len(flips)), masks: make([]bitset, len(flips))}
			for i := range sc.bufs {
				sc.bufs[i] = newBitset(len(sp.PortAtoms))
			}
			for d := w * k.nw / parts; d < (w+1)*k.nw/parts; d++ {
				if k.present.has(d) {
					r.patchRow(base, ch, sc, d, flips, moved, inCand, egCand, inBy, egBy)
				}
			}
		}()
	}
	wg.Wait()
	return r, nil
}

// patchScratch is one goroutine's memory for patching rows.
type patchScratch struct {
	cols        []int
	memo        map[*Class]Row // base row -> patched row
	sl          slab
	buf         bitset
	bufs, masks []bitset
}

// patchRow fills destination d's rows of r, the update of base, from
// base's: shared, patched in the columns that may have moved, or (external
// outgoing rows of moved sources) recomputed. Rows recomputed whole are
// left as they are.
func (r *Result) patchRow(base *Result, ch *change, sc *patchScratch, d int, flips, moved []int, inCand, egCand bitset, inBy, egBy []bitset) {
	k, a := r.k, base.k
	if !ch.inRows.has(d) {
		r.extIn[d] = base.extIn[d]
		row := base.in[d]
		switch {
		case len(row) > 0 && len(a.openIn) > 0 && &row[0] == &a.openIn[0]:
			r.in[d] = k.openIn // not isolated, before and after
		case !inCand.has(d):
			r.in[d] = row
		case len(row) > 0:
			nr, ok := sc.memo[&row[0]]
			if !ok {
				nr = k.patchIn(row, a.present, d, within(sc.cols[:0], flips, inBy, d), sc)
				sc.memo[&row[0]] = nr
			}
			r.in[d] = nr
		default:
			r.in[d] = k.patchIn(row, a.present, d, within(sc.cols[:0], flips, inBy, d), sc)
		}
	}
	if !ch.egRows.has(d) && !ch.allEg {
		r.eg[d] = base.eg[d]
		if egCand.has(d) {
			r.eg[d] = k.patchEg(base.eg[d], a.egIso, d, within(sc.cols[:0], moved, egBy, d), sc.buf)
		}
	}
	if ch.extOut.has(d) {
		r.extOut[d] = k.rowExtOut(d)
		if equalRows(base.extOut[d], r.extOut[d]) {
			r.extOut[d] = base.extOut[d]
		}
	} else {
		r.extOut[d] = base.extOut[d]
	}
}

// within appends to out the ids whose candidate rows hold d.
func within(out []int, ids []int, by []bitset, d int) []int {
	for i, id := range ids {
		if by[i].has(d) {
			out = append(out, id)
		}
	}
	return out
}

// ingressCandidates returns, per flipped workload and in all, the
// destinations whose ingress may allow it something, before or after: the
// subjects of policies with an ingress rule that has it among its peers.
// Policies k shares with a are looked at once.
func ingressCandidates(k *compiled, flips []int) (bitset, []bitset) {
	all := newBitset(k.nw)
	by := make([]bitset, len(flips))
	for i := range flips {
		by[i] = newBitset(k.nw)
	}
	for _, ps := range [][]*cpolicy{k.policies, k.replaced} {
		for _, p := range ps {
			if !p.p.Ingress || len(p.ingress) == 0 || len(p.subjects) == 0 {
				continue
			}
			for i, f := range flips {
				for _, r := range p.ingress {
					if r.peers.has(f) {
						for _, d := range p.subjects {
							by[i].set(int(d))
						}
						break
					}
				}
			}
		}
	}
	for i := range by {
		all.or(by[i])
	}
	return all, by
}

// egressCandidates returns, per moved workload and in all, the
// destinations towards which it may have an egress entry, before or
// after: the peers of its rules (every destination when an
// all-destination rule names ports).
func egressCandidates(a, k *compiled, moved []int) (bitset, []bitset) {
	all := newBitset(k.nw)
	by := make([]bitset, len(moved))
	for i, s := range moved {
		by[i] = newBitset(k.nw)
		for _, kk := range []*compiled{a, k} {
			if !kk.present.has(s) {
				continue
			}
			for _, id := range kk.egFrom.of(s) {
				r := kk.rules[id]
				switch {
				case !r.all:
					by[i].or(r.peers)
				case len(r.named) > 0:
					by[i].fill(k.nw)
				}
			}
		}
		all.or(by[i])
	}
	return all, by
}

// inMask returns into buf the atoms d's ingress allows workload f (nil
// when none).
func (k *compiled) inMask(f, d int, buf bitset) bitset {
	if !k.present.has(f) {
		return nil
	}
	if !k.ingIso.has(d) {
		return k.sp.allPorts
	}
	clear(buf)
	for _, ri := range k.inRules.of(d) {
		if r := k.rules[ri]; r.peers.has(f) {
			buf.or(r.ports)
			k.orNamed(buf, r, d)
		}
	}
	if buf.isEmpty() {
		return nil
	}
	return buf
}

// patchIn returns row with the columns flips recomputed for destination d,
// or row itself when none of them moved. row's peers are present in
// basePresent; sc's bufs and masks hold at least one mask per flip.
func (k *compiled) patchIn(row Row, basePresent bitset, d int, flips []int, sc *patchScratch) Row {
	bufs, masks := sc.bufs, sc.masks
	changed := false
	for i, f := range flips {
		masks[i] = k.inMask(f, d, bufs[i])
		var old bitset
		if basePresent.has(f) {
			old = row.maskOf(f)
		}
		if !maskEqual(old, masks[i]) {
			changed = true
		}
	}
	if !changed {
		return row
	}
	// Copy on write: only classes that lose or gain a column get new peers.
	out := make(Row, len(row), len(row)+len(flips))
	copy(out, row)
	owned := make([]bool, len(row), len(row)+len(flips))
	for fi, f := range flips {
		m := masks[fi]
		for i := range out {
			c := &out[i]
			has := c.Peers.has(f)
			want := m != nil && c.Ports.equal(m)
			if has == want {
				if want {
					m = nil // placed
				}
				continue
			}
			if !owned[i] {
				c.Peers, owned[i] = sc.sl.clone(c.Peers), true
			}
			if want {
				c.Peers.set(f)
				m = nil
			} else {
				c.Peers.clear(f)
			}
		}
		if m != nil {
			p := newBitset(k.nw)
			p.set(f)
			out = append(out, Class{Ports: m.clone(), Peers: p})
			owned = append(owned, true)
		}
	}
	// Drop emptied classes, keep the order by mask.
	kept := out[:0]
	for _, c := range out {
		if !c.Peers.isEmpty() {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	if !slices.IsSortedFunc(kept, func(x, y Class) int { return cmpBits(x.Ports, y.Ports) }) {
		slices.SortFunc(kept, func(x, y Class) int { return cmpBits(x.Ports, y.Ports) })
	}
	return kept
}

func cmpBits(a, b bitset) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// egEntry returns into buf what egress-isolated source s's rules allow
// towards d as an entry of eg[d] (nil when none): rules whose peers hold d,
// and the named ports of its all-destination rules.
func (k *compiled) egEntry(s, d int, buf bitset) bitset {
	if !k.present.has(s) || !k.egIso.has(s) {
		return nil
	}
	clear(buf)
	for _, ri := range k.egFrom.of(s) {
		r := k.rules[ri]
		switch {
		case r.all:
			k.orNamed(buf, r, d)
		case r.peers.has(d):
			buf.or(r.ports)
			k.orNamed(buf, r, d)
		}
	}
	if buf.isEmpty() {
		return nil
	}
	return buf
}

// patchEg returns row with the entries of sources cols (sorted)
// recomputed for destination d, or row itself when none moved.
// Sources not in baseIso (egress-isolated in the base) have no entry in row.
func (k *compiled) patchEg(row *egRow, baseIso bitset, d int, cols []int, buf bitset) *egRow {
	n := row.len()
	var rs, ri []uint32
	if row != nil {
		rs, ri = row.srcs, row.idx
	}
	var out *egRow
	i := 0 // entries of row before i are in out (once out exists)
	for _, s := range cols {
		m := k.egEntry(s, d, buf)
		if m == nil && !baseIso.has(s) {
			continue // no entry before or after
		}
		at, found := slices.BinarySearch(rs[i:], uint32(s))
		at += i
		var old bitset
		if found {
			old = row.mask(at)
		}
		if out == nil {
			if maskEqual(old, m) {
				continue
			}
			// First difference: copy what comes before; old entries keep
			// their mask indices, new masks are appended.
			out = &egRow{masks: slices.Clip(slices.Clone(row.masksOrNil())),
				srcs: make([]uint32, 0, n+len(cols)), idx: make([]uint32, 0, n+len(cols))}
			i = 0
		}
		out.srcs = append(out.srcs, rs[i:at]...)
		out.idx = append(out.idx, ri[i:at]...)
		i = at
		if found {
			i++
		}
		if m != nil {
			x := slices.IndexFunc(out.masks, m.equal)
			if x < 0 {
				x = len(out.masks)
				out.masks = append(out.masks, m.clone())
			}
			out.srcs = append(out.srcs, uint32(s))
			out.idx = append(out.idx, uint32(x))
		}
	}
	if out == nil {
		return row
	}
	if i < n {
		out.srcs = append(out.srcs, rs[i:]...)
		out.idx = append(out.idx, ri[i:]...)
	}
	if len(out.srcs) == 0 {
		return nil
	}
	return out
}

// samePolicy compares the semantics of two compiled policies (not where
// they were written).
func samePolicy(a, b *model.Policy) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name && a.Ingress == b.Ingress && a.Egress == b.Egress &&
		sameSelector(&a.Subject, &b.Subject) &&
		slices.EqualFunc(a.IngressRules, b.IngressRules, sameRule) && slices.EqualFunc(a.EgressRules, b.EgressRules, sameRule)
}

func sameRule(a, b model.Rule) bool {
	return a.Index == b.Index && a.AllPeers == b.AllPeers && a.AllPorts == b.AllPorts &&
		slices.Equal(a.Ports, b.Ports) && slices.EqualFunc(a.Peers, b.Peers, samePeer)
}

func samePeer(a, b model.Peer) bool {
	if a.ViaIPBlock != b.ViaIPBlock || !sameSelector(a.NamespaceSel, b.NamespaceSel) || !sameSelector(a.PodSel, b.PodSel) {
		return false
	}
	if a.IPBlock == nil || b.IPBlock == nil {
		return a.IPBlock == b.IPBlock
	}
	return a.IPBlock.CIDR == b.IPBlock.CIDR && slices.Equal(a.IPBlock.Except, b.IPBlock.Except) && a.IPBlock.Set.Equal(b.IPBlock.Set)
}

// sameSelector compares two selectors, nil meaning absent.
func sameSelector(a, b *model.Selector) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.EqualFunc(a.Reqs, b.Reqs, func(x, y model.Requirement) bool {
		return x.Key == y.Key && x.Op == y.Op && slices.Equal(x.Values, y.Values)
	})
}
