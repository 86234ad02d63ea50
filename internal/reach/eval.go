// Package reach computes which workloads and external address ranges can
// reach which, on which ports, under a cluster's NetworkPolicies, and
// explains each answer.
//
// Results are kept per destination ("rows"): for every destination workload,
// a short list of classes, each a set of port atoms and the set of source
// workloads allowed on exactly those atoms. External reach is kept per
// destination (from outside) and per source (to outside) the same way.
//
// Pod IPs are not modelled: an ipBlock never matches a workload. IPv6 atoms
// exist in every Space but are printed only when some input mentions an IPv6
// range; otherwise IPv6 reach mirrors the rules that allow "all peers".
package reach

import (
	"encoding/binary"
	"runtime"
	"sort"
	"sync"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Class is a set of peers (source workload ids, or external atoms in
// ExtIn/ExtOut rows) that are allowed exactly the port atoms Ports.
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
type Result struct {
	Space   *Space
	Cluster *model.Cluster
	k       *compiled
	// In[d]: workload sources allowed into workload d.
	In []Row
	// ExtIn[d]: external atoms allowed into workload d.
	ExtIn []Row
	// ExtOut[s]: external atoms workload s may reach.
	ExtOut []Row
}

// Evaluate computes the full reachability of c in sp.
func Evaluate(sp *Space, c *model.Cluster) (*Result, error) {
	k, err := compile(sp, c)
	if err != nil {
		return nil, err
	}
	r := &Result{Space: sp, Cluster: c, k: k,
		In: make([]Row, k.nw), ExtIn: make([]Row, k.nw), ExtOut: make([]Row, k.nw)}
	ids := make([]int, 0, k.nw)
	k.present.each(func(i int) { ids = append(ids, i) })
	r.computeRows(ids, ids)
	return r, nil
}

// Diagnostics are the findings of evaluation: policies and peers that
// select no workload.
func (r *Result) Diagnostics() []diag.Diagnostic { return append([]diag.Diagnostic(nil), r.k.diags...) }

// computeRows recomputes the rows of destinations dst and the outgoing
// external rows of sources src, in parallel.
func (r *Result) computeRows(dst, src []int) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	run := func(ids []int, f func(*scratch, int)) {
		if len(ids) == 0 {
			return
		}
		chunk := (len(ids) + workers - 1) / workers
		for lo := 0; lo < len(ids); lo += chunk {
			hi := min(lo+chunk, len(ids))
			wg.Add(1)
			go func(part []int) {
				defer wg.Done()
				sc := newScratch(r.k)
				for _, id := range part {
					f(sc, id)
				}
			}(ids[lo:hi])
		}
	}
	run(dst, func(sc *scratch, d int) {
		r.In[d] = r.k.rowIn(sc, d)
		r.ExtIn[d] = r.k.rowExtIn(sc, d)
	})
	run(src, func(sc *scratch, s int) { r.ExtOut[s] = r.k.rowExtOut(s) })
	wg.Wait()
}

// scratch is per-worker memory reused across rows.
type scratch struct {
	mw      int      // words per port mask
	acc     []uint64 // by source id, mw words each: egress atoms accumulated for this row
	seen    bitset   // sources with a non-zero acc
	touched []int
	// ingress memoises ingress groupings by the rules that select the
	// destination (and its named ports, when a rule uses names).
	ingress map[string]Row
}

func newScratch(k *compiled) *scratch {
	mw := len(k.sp.allPorts)
	return &scratch{mw: mw, acc: make([]uint64, k.nw*mw), seen: newBitset(k.nw), ingress: map[string]Row{}}
}

// groups is a row under construction: peers split by the atoms they are
// allowed so far.
type groups []Class

// add allows mask to peers: every group is split into its part inside peers
// (which gains mask) and the rest. Ports masks are copied on write, peer
// sets are owned by the groups.
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

// ingressGroups computes, for destination d, the sources (workloads and
// external atoms) grouped by the atoms d's ingress allows them; the second
// result is for external sources.
func (k *compiled) ingressGroups(sc *scratch, d int) (Row, Row) {
	if !k.ingIso.has(d) {
		// "By default, a pod is non-isolated for ingress; all inbound
		// connections are allowed." (Network Policies concept)
		return Row{{Ports: k.sp.allPorts, Peers: k.present}}, Row{{Ports: k.sp.allPorts, Peers: k.allExt}}
	}
	w := k.wl[d]
	key := k.ingressKey(d)
	if r, ok := sc.ingress[key]; ok {
		return r, sc.ingress[key+"x"]
	}
	in := start(k.present, len(k.sp.PortAtoms))
	ext := start(k.allExt, len(k.sp.PortAtoms))
	for _, r := range k.inRules[d] {
		m := r.maskFor(k.sp, w, k.named)
		in = in.add(m, r.peers)
		ext = ext.add(m, r.ext)
	}
	ri, re := canonical(Row(in)), canonical(Row(ext))
	sc.ingress[key], sc.ingress[key+"x"] = ri, re
	return ri, re
}

// ingressKey identifies the ingress inputs of d: the rules selecting it, and
// its named-port resolution when some rule uses a name.
func (k *compiled) ingressKey(d int) string {
	b := make([]byte, 0, 8*len(k.inRules[d])+8)
	named := false
	for _, r := range k.inRules[d] {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.id))
		named = named || len(r.named) > 0
	}
	if named {
		b = append(b, 'n')
		b = binary.LittleEndian.AppendUint64(b, uint64(d))
	}
	return string(b)
}

// rowIn computes the sources allowed into destination d: the destination's
// ingress and every source's egress must both allow a connection.
//
// "For a connection from a source pod to a destination pod to be allowed,
// both the egress policy on the source pod and the ingress policy on the
// destination pod need to allow the connection." (Network Policies concept)
func (k *compiled) rowIn(sc *scratch, d int) Row {
	in, _ := k.ingressGroups(sc, d)
	w := k.wl[d]
	var row Row
	// Sources not isolated for egress: their ingress grouping stands.
	for _, c := range in {
		peers := and2(c.Peers, k.egOpen)
		peers.clear(d) // no pair of a workload with itself
		if !peers.isEmpty() {
			row = append(row, Class{Ports: c.Ports, Peers: peers})
		}
	}
	// Sources isolated for egress: few per destination, accumulated one by
	// one from the egress rules whose peers hold d.
	accumulate := func(r *crule) {
		m := r.maskFor(k.sp, w, k.named)
		mw := sc.mw
		for _, s := range r.pol.subjects {
			if !sc.seen.has(int(s)) {
				sc.seen.set(int(s))
				sc.touched = append(sc.touched, int(s))
			}
			acc := sc.acc[int(s)*mw : int(s)*mw+mw]
			for i, w := range m {
				acc[i] |= w
			}
		}
	}
	for _, r := range k.egTo[d] {
		accumulate(r)
	}
	for _, r := range k.egAllNamed {
		accumulate(r)
	}
	// Sources whose only egress towards d is their all-destination rules:
	// one class per (ingress group, egress group).
	for _, g := range k.egAllGroups {
		for _, c := range in {
			if !c.Ports.intersects(g.Ports) || !c.Peers.intersects(g.Peers) {
				continue
			}
			peers := and2(c.Peers, g.Peers)
			peers.andNot(sc.seen)
			peers.clear(d)
			if !peers.isEmpty() {
				row = append(row, Class{Ports: and2(c.Ports, g.Ports), Peers: peers})
			}
		}
	}
	mw := sc.mw
	for _, s := range sc.touched {
		eg := bitset(sc.acc[s*mw : s*mw+mw])
		for i, w := range k.allAcc[s*mw : s*mw+mw] {
			eg[i] |= w
		}
		sc.seen.clear(s)
		if im := in.maskOf(s); im != nil && s != d && im.intersects(eg) {
			row = addPeer(row, and2(im, eg), s, k.nw)
		}
		clear(eg)
	}
	sc.touched = sc.touched[:0]
	return canonical(row)
}

// addPeer puts peer s into the class with mask m, or a new one. The caller
// owns the row's peer sets.
func addPeer(row Row, m bitset, s, width int) Row {
	for i := range row {
		if row[i].Ports.equal(m) {
			row[i].Peers.set(s)
			return row
		}
	}
	p := newBitset(width)
	p.set(s)
	return append(row, Class{Ports: m, Peers: p})
}

// rowExtIn computes the external atoms allowed into d (ingress only).
func (k *compiled) rowExtIn(sc *scratch, d int) Row {
	_, ext := k.ingressGroups(sc, d)
	return ext
}

// rowExtOut computes the external atoms s may reach (egress only). A named
// port resolves against the destination pod, so it never matches an
// external address.
func (k *compiled) rowExtOut(s int) Row {
	if !k.egIso.has(s) {
		return Row{{Ports: k.sp.allPorts, Peers: k.allExt}}
	}
	g := start(k.allExt, len(k.sp.PortAtoms))
	for _, r := range k.egFrom[s] {
		g = g.add(r.ports, r.ext)
	}
	return canonical(Row(g))
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
