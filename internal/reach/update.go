package reach

import (
	"maps"
	"reflect"

	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Update derives the result for head from base, recomputing only what the
// object-level change between base.Cluster and head touches. head must fit
// base's Space (built over both clusters). The Scope says which rows and
// columns may differ, for Compare.
//
// Dirty rows (destinations): subjects of changed ingress policies (old and
// new), workloads added, removed, relabelled or whose ports changed, and the
// workloads of relabelled namespaces. Dirty columns (sources): subjects of
// changed egress policies, and the same changed workloads. A dirty row is
// recomputed whole; a dirty column is patched pair by pair into the other
// rows, which stay shared with base when nothing in them moves.
func Update(base *Result, head *model.Cluster) (*Result, *Scope, error) {
	sp := base.Space
	k, err := compile(sp, head)
	if err != nil {
		return nil, nil, err
	}
	rows, cols := dirty(base.k, k)

	r := &Result{Space: sp, Cluster: head, k: k,
		In:     append([]Row(nil), base.In...),
		ExtIn:  append([]Row(nil), base.ExtIn...),
		ExtOut: append([]Row(nil), base.ExtOut...)}
	var rowIDs, colIDs []int
	rows.each(func(i int) { rowIDs = append(rowIDs, i) })
	cols.each(func(i int) { colIDs = append(colIDs, i) })
	for _, d := range rowIDs {
		if !k.present.has(d) {
			r.In[d], r.ExtIn[d] = nil, nil
		}
	}
	for _, s := range colIDs {
		if !k.present.has(s) {
			r.ExtOut[s] = nil
		}
	}
	presentRows := filterPresent(rowIDs, k.present)
	r.computeRows(presentRows, filterPresent(colIDs, k.present))
	if len(colIDs) > 0 {
		r.patchColumns(rows, colIDs)
	}
	return r, &Scope{Rows: rowIDs, Cols: colIDs}, nil
}

func filterPresent(ids []int, present bitset) []int {
	var out []int
	for _, i := range ids {
		if present.has(i) {
			out = append(out, i)
		}
	}
	return out
}

// patchColumns recomputes the cells (s, d) for dirty sources s in every row
// d that was not recomputed whole.
func (r *Result) patchColumns(skip bitset, cols []int) {
	k := r.k
	r.k.present.each(func(d int) {
		if skip.has(d) {
			return
		}
		row := r.In[d]
		changed := false
		newMasks := make([]bitset, len(cols))
		for i, s := range cols {
			newMasks[i] = k.pairMask(s, d)
			if !maskEqual(row.maskOf(s), newMasks[i]) {
				changed = true
			}
		}
		if !changed {
			return
		}
		r.In[d] = patchRow(row, cols, newMasks, k.nw)
	})
}

// pairMask computes the port atoms allowed from workload s to workload d
// directly from the compiled rules (nil when none).
func (k *compiled) pairMask(s, d int) bitset {
	if s == d || !k.present.has(s) || !k.present.has(d) {
		return nil
	}
	w := k.wl[d]
	var in bitset
	if !k.ingIso.has(d) {
		in = k.sp.allPorts
	} else {
		for _, rl := range k.inRules[d] {
			if rl.peers.has(s) {
				in = orInto(in, rl.maskFor(k.sp, w, k.named))
			}
		}
		if in == nil {
			return nil
		}
	}
	var eg bitset
	if !k.egIso.has(s) {
		eg = k.sp.allPorts
	} else {
		for _, rl := range k.egFrom[s] {
			if rl.peers.has(d) {
				eg = orInto(eg, rl.maskFor(k.sp, w, k.named))
			}
		}
		if eg == nil {
			return nil
		}
	}
	m := and2(in, eg)
	if m.isEmpty() {
		return nil
	}
	return m
}

func orInto(acc, m bitset) bitset {
	if acc == nil {
		return m.clone()
	}
	acc.or(m)
	return acc
}

// patchRow returns a copy of row where sources cols have masks newMasks.
func patchRow(row Row, cols []int, newMasks []bitset, nw int) Row {
	out := make(Row, 0, len(row)+len(cols))
	for _, c := range row {
		peers := c.Peers.clone()
		for _, s := range cols {
			peers.clear(s)
		}
		out = append(out, Class{Ports: c.Ports, Peers: peers})
	}
	for i, s := range cols {
		if m := newMasks[i]; m != nil {
			out = addPeer(out, m, s, nw)
		}
	}
	return canonical(out)
}

// dirty computes the rows and columns that the change from a to b touches.
func dirty(a, b *compiled) (rows, cols bitset) {
	nw := a.nw
	rows, cols = newBitset(nw), newBitset(nw)
	both := func(id int) { rows.set(id); cols.set(id) }
	for id := 0; id < nw; id++ {
		wa, wb := a.wl[id], b.wl[id]
		switch {
		case wa == nil && wb == nil:
		case wa == nil || wb == nil:
			both(id)
		case !maps.Equal(wa.Labels, wb.Labels):
			both(id)
		case !reflect.DeepEqual(wa.Ports, wb.Ports):
			rows.set(id)
		}
	}
	// Namespaces whose labels changed, appeared or disappeared.
	nsA := map[string]*model.Namespace{}
	for _, ns := range a.c.Namespaces {
		nsA[ns.Name] = ns
	}
	nsB := map[string]*model.Namespace{}
	for _, ns := range b.c.Namespaces {
		nsB[ns.Name] = ns
	}
	mark := func(k *compiled, name string) {
		for i, ns := range k.c.Namespaces {
			if ns.Name == name {
				k.nsMembers[i].each(both)
			}
		}
	}
	for name, na := range nsA {
		if nb, ok := nsB[name]; !ok || !maps.Equal(na.Labels, nb.Labels) {
			mark(a, name)
			mark(b, name)
		}
	}
	for name := range nsB {
		if _, ok := nsA[name]; !ok {
			mark(b, name)
		}
	}
	// Policies added, removed or changed.
	pa := map[string]*cpolicy{}
	for _, p := range a.policies {
		pa[p.p.Key()] = p
	}
	pb := map[string]*cpolicy{}
	for _, p := range b.policies {
		pb[p.p.Key()] = p
	}
	touch := func(p *cpolicy) {
		if p.p.Ingress {
			rows.or(p.subject)
		}
		if p.p.Egress {
			cols.or(p.subject)
		}
	}
	for key, p := range pa {
		q, ok := pb[key]
		if ok && samePolicy(p.p, q.p) {
			continue
		}
		touch(p)
		if ok {
			touch(q)
		}
	}
	for key, q := range pb {
		if _, ok := pa[key]; !ok {
			touch(q)
		}
	}
	return rows, cols
}

// samePolicy compares the semantics of two compiled policies (not where
// they were written).
func samePolicy(a, b *model.Policy) bool {
	x, y := *a, *b
	x.Source, y.Source = manifest.Source{}, manifest.Source{}
	return reflect.DeepEqual(x, y)
}
