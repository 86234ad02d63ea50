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
	"runtime"
	"sort"
	"sync"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Class is a set of port atoms and the sources (workload ids, or external
// atoms in ExtIn/ExtOut rows) allowed on exactly those atoms.
type Class struct {
	Ports bitset
	Peers bitset
}

// Row is a canonical list of classes: port masks pairwise disjoint and
// non-empty, peer sets non-empty and pairwise different, sorted by mask.
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
		r.ExtIn[d] = r.k.rowExtIn(d)
	})
	run(src, func(sc *scratch, s int) { r.ExtOut[s] = r.k.rowExtOut(s) })
	wg.Wait()
}

type scratch struct{}

func newScratch(*compiled) *scratch { return &scratch{} }

// partition is a list of classes with disjoint masks covering every atom;
// refine adds peers on the atoms of mask.
type partition []Class

func newPartition(allAtoms bitset, width int) partition {
	return partition{{Ports: allAtoms.clone(), Peers: newBitset(width)}}
}

func (p partition) refine(mask, peers bitset) partition {
	if mask.isEmpty() || peers.isEmpty() {
		return p
	}
	n := len(p)
	for i := 0; i < n; i++ {
		c := &p[i]
		if !c.Ports.intersects(mask) {
			continue
		}
		if peers.subsetOf(c.Peers) {
			continue
		}
		if c.Ports.subsetOf(mask) {
			c.Peers.or(peers)
			continue
		}
		in := and2(c.Ports, mask)
		c.Ports.andNot(mask)
		p = append(p, Class{Ports: in, Peers: or2(c.Peers, peers)})
	}
	return p
}

// rowIn computes the sources allowed into destination d: the destination's
// ingress and every source's egress must both allow a connection.
//
// "For a connection from a source pod to a destination pod to be allowed,
// both the egress policy on the source pod and the ingress policy on the
// destination pod need to allow the connection." (Network Policies concept)
func (k *compiled) rowIn(_ *scratch, d int) Row {
	w := k.wl[d]
	all := k.sp.allPorts
	var in partition
	if !k.ingIso.has(d) {
		// "By default, a pod is non-isolated for ingress; all inbound
		// connections are allowed." (Network Policies concept)
		in = partition{{Ports: all, Peers: k.present}}
	} else {
		in = newPartition(all, k.nw)
		for _, r := range k.inRules[d] {
			in = in.refine(r.maskFor(k.sp, w, k.named), r.peers)
		}
	}
	nonIso := k.present.clone()
	nonIso.andNot(k.egIso)
	eg := partition{{Ports: all.clone(), Peers: nonIso}}
	for _, r := range k.egTo[d] {
		eg = eg.refine(r.maskFor(k.sp, w, k.named), r.pol.subject)
	}
	for _, r := range k.egAll {
		eg = eg.refine(r.maskFor(k.sp, w, k.named), r.pol.subject)
	}
	var row Row
	for _, a := range in {
		if a.Peers.isEmpty() {
			continue
		}
		for _, b := range eg {
			if b.Peers.isEmpty() || !a.Ports.intersects(b.Ports) || !a.Peers.intersects(b.Peers) {
				continue
			}
			peers := and2(a.Peers, b.Peers)
			peers.clear(d) // no pair of a workload with itself
			if peers.isEmpty() {
				continue
			}
			row = append(row, Class{Ports: and2(a.Ports, b.Ports), Peers: peers})
		}
	}
	return canonical(row)
}

// rowExtIn computes the external atoms allowed into d (ingress only).
func (k *compiled) rowExtIn(d int) Row {
	allExt := newBitset(len(k.sp.External))
	allExt.fill(len(k.sp.External))
	if !k.ingIso.has(d) {
		return Row{{Ports: k.sp.allPorts.clone(), Peers: allExt}}
	}
	w := k.wl[d]
	p := newPartition(k.sp.allPorts, len(k.sp.External))
	for _, r := range k.inRules[d] {
		p = p.refine(r.maskFor(k.sp, w, k.named), r.ext)
	}
	return canonical(Row(p))
}

// rowExtOut computes the external atoms s may reach (egress only). A named
// port resolves against the destination pod, so it never matches an
// external address.
func (k *compiled) rowExtOut(s int) Row {
	allExt := newBitset(len(k.sp.External))
	allExt.fill(len(k.sp.External))
	if !k.egIso.has(s) {
		return Row{{Ports: k.sp.allPorts.clone(), Peers: allExt}}
	}
	p := newPartition(k.sp.allPorts, len(k.sp.External))
	for _, r := range k.egFrom[s] {
		p = p.refine(r.ports, r.ext)
	}
	return canonical(Row(p))
}

// canonical merges classes with equal peers, drops empty ones and sorts by
// mask, so equal rows are equal class by class.
func canonical(row Row) Row {
	out := row[:0]
	for _, c := range row {
		if c.Peers.isEmpty() || c.Ports.isEmpty() {
			continue
		}
		merged := false
		for i := range out {
			if out[i].Peers.equal(c.Peers) {
				out[i].Ports = or2(out[i].Ports, c.Ports)
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
	var m bitset
	for _, c := range row {
		if c.Peers.has(i) {
			if m == nil {
				m = c.Ports.clone()
			} else {
				m.or(c.Ports)
			}
		}
	}
	return m
}
