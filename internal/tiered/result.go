package tiered

import (
	"cmp"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Result is a cluster's reachability through the tiers, kept per workload
// so that Update can recompute only what a change touches. Only non-empty
// connection sets are stored.
type Result struct {
	x *index
	// rows[src][dst] is what workload src opens to workload dst.
	rows map[string]map[string]connset.Set
	// egress[w][i] is what w opens to external atom i; ingress[w][i] what
	// atom i opens to w; domains[w][j] what w opens to domain j.
	egress, ingress, domains map[string][]connset.Set
	// controller[w] is what the ingress controller opens to w.
	controller map[string]connset.Set
}

// Compute evaluates every pair of c. The domain endpoints are those c's
// policies name, plus extra (see CommonDomains).
func Compute(c *model.Cluster, extra ...model.DomainPattern) *Result {
	r := &Result{x: newIndex(c, extra...), rows: map[string]map[string]connset.Set{}}
	r.externals(c.Workloads, true)
	r.computeRows(c.Workloads)
	return r
}

// computeRows computes the rows of srcs (in parallel: pairs are
// independent) and stores them.
func (r *Result) computeRows(srcs []*model.Workload) {
	rows := make([]map[string]connset.Set, len(srcs))
	parallel(len(srcs), func(i int) {
		row := map[string]connset.Set{}
		for _, d := range r.x.c.Workloads {
			if cs := r.x.conns(Endpoint{Workload: srcs[i]}, Endpoint{Workload: d}); !cs.IsEmpty() {
				row[d.Key()] = cs
			}
		}
		rows[i] = row
	})
	for i, s := range srcs {
		r.rows[s.Key()] = rows[i]
	}
}

// parallel calls f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// externals computes the external, domain and ingress-controller vectors
// of ws; fresh starts new maps (every workload is recomputed).
func (r *Result) externals(ws []*model.Workload, fresh bool) {
	if fresh {
		r.egress, r.ingress, r.domains = map[string][]connset.Set{}, map[string][]connset.Set{}, map[string][]connset.Set{}
		r.controller = map[string]connset.Set{}
	}
	x := r.x
	type vectors struct {
		out, in, dom []connset.Set
		ctl          connset.Set
	}
	vs := make([]vectors, len(ws))
	parallel(len(ws), func(i int) {
		w := ws[i]
		v := vectors{out: make([]connset.Set, len(x.atoms)), in: make([]connset.Set, len(x.atoms)), dom: make([]connset.Set, len(x.domains))}
		for j, a := range x.atoms {
			v.out[j] = x.conns(Endpoint{Workload: w}, Endpoint{External: a})
			v.in[j] = x.conns(Endpoint{External: a}, Endpoint{Workload: w})
		}
		for j := range x.domains {
			v.dom[j] = x.conns(Endpoint{Workload: w}, Endpoint{Domain: &x.domains[j]})
		}
		v.ctl = x.ingressConns(w)
		vs[i] = v
	})
	for i, w := range ws {
		k, v := w.Key(), vs[i]
		r.egress[k], r.ingress[k], r.domains[k] = v.out, v.in, v.dom
		if !v.ctl.IsEmpty() {
			r.controller[k] = v.ctl
		} else {
			delete(r.controller, k)
		}
	}
}

// Update derives head's result from base's, recomputing the rows and
// columns of the workloads a change touches: workloads added or whose
// labels, ports or host networking changed, workloads of a relabelled
// namespace, and workloads whose selecting policies (of any kind) differ
// or changed. When the external atoms or the domain endpoints differ,
// every workload's external vectors are recomputed; when the Ingresses,
// Routes or Services differ, every workload's ingress-controller entry.
// The result equals Compute(head, extra...).
func Update(base *Result, head *model.Cluster, extra ...model.DomainPattern) *Result {
	x := newIndex(head, extra...)
	r := &Result{x: x, rows: make(map[string]map[string]connset.Set, len(head.Workloads))}
	bx := base.x
	unchanged := comparePolicies(bx.c, head)
	dirty := map[string]bool{}
	var dirtyList []*model.Workload
	for _, w := range head.Workloads {
		bw := bx.c.Workload(w.Key())
		if bw == nil || !sameWorkload(bw, w) || !reflect.DeepEqual(bx.namespaceLabels(w.Namespace), x.namespaceLabels(w.Namespace)) ||
			!unchanged.selection(bx.selectionOf(bw), x.selectionOf(w)) {
			dirty[w.Key()] = true
			dirtyList = append(dirtyList, w)
		}
	}
	// Rows: dirty sources from scratch; the others copied, then patched at
	// the dirty (and removed) destinations.
	r.computeRows(dirtyList)
	clean := make([]*model.Workload, 0, len(head.Workloads)-len(dirtyList))
	for _, s := range head.Workloads {
		if !dirty[s.Key()] {
			clean = append(clean, s)
		}
	}
	patched := make([]map[string]connset.Set, len(clean))
	parallel(len(clean), func(i int) {
		s := clean[i]
		row := maps.Clone(base.rows[s.Key()])
		for dst := range row {
			if head.Workload(dst) == nil {
				delete(row, dst)
			}
		}
		for _, d := range dirtyList {
			if cs := x.conns(Endpoint{Workload: s}, Endpoint{Workload: d}); !cs.IsEmpty() {
				row[d.Key()] = cs
			} else {
				delete(row, d.Key())
			}
		}
		patched[i] = row
	})
	for i, s := range clean {
		r.rows[s.Key()] = patched[i]
	}
	if !slices.Equal(bx.atoms, x.atoms) || !slices.Equal(bx.domains, x.domains) || bx.domainStandIn != x.domainStandIn {
		r.externals(head.Workloads, true)
		return r
	}
	r.egress, r.ingress, r.domains = map[string][]connset.Set{}, map[string][]connset.Set{}, map[string][]connset.Set{}
	r.controller = map[string]connset.Set{}
	exposuresChanged := !sameExposures(bx.c, head)
	var again []*model.Workload
	for _, w := range head.Workloads {
		k := w.Key()
		if dirty[k] {
			again = append(again, w)
			continue
		}
		r.egress[k], r.ingress[k], r.domains[k] = base.egress[k], base.ingress[k], base.domains[k]
		if exposuresChanged {
			if cs := x.ingressConns(w); !cs.IsEmpty() {
				r.controller[k] = cs
			}
		} else if cs, ok := base.controller[k]; ok {
			r.controller[k] = cs
		}
	}
	r.externals(again, false)
	return r
}

// sameWorkload reports whether two versions of a workload answer alike:
// same labels, ports and host networking.
func sameWorkload(a, b *model.Workload) bool {
	return a.HostNetwork == b.HostNetwork && maps.Equal(a.Labels, b.Labels) && slices.Equal(a.Ports, b.Ports)
}

// policyPairs records, for each head policy (and Cilium rule block),
// whether base has it under the same name, compiled alike (sources aside:
// they move when a file above changes). Each pair is compared once, not
// once per workload it selects.
type policyPairs map[any]bool

func comparePolicies(base, head *model.Cluster) policyPairs {
	same := policyPairs{}
	admin := map[string]*model.AdminPolicy{}
	for _, p := range base.AdminPolicies {
		admin[p.Key()] = p
	}
	for _, p := range head.AdminPolicies {
		b, ok := admin[p.Key()]
		same[p] = ok && (b == p || sameAdmin(b, p))
	}
	policies := map[string]*model.Policy{}
	for _, p := range base.Policies {
		policies[p.Key()] = p
	}
	for _, p := range head.Policies {
		b, ok := policies[p.Key()]
		same[p] = ok && (b == p || samePolicy(b, p))
	}
	cilium := map[string]*model.CiliumPolicy{}
	for _, p := range base.CiliumPolicies {
		cilium[p.Key()] = p
	}
	for _, p := range head.CiliumPolicies {
		b, ok := cilium[p.Key()]
		for i := range p.Specs {
			same[&p.Specs[i]] = ok && i < len(b.Specs) && reflect.DeepEqual(b.Specs[i], p.Specs[i])
		}
	}
	return same
}

// selection reports whether a base and a head workload are selected by the
// same policies, none of which changed.
func (same policyPairs) selection(a, b *selection) bool {
	return slices.EqualFunc(a.admin, b.admin, func(x, y *model.AdminPolicy) bool { return x.Key() == y.Key() && same[y] }) &&
		slices.EqualFunc(a.baseline, b.baseline, func(x, y *model.AdminPolicy) bool { return x.Key() == y.Key() && same[y] }) &&
		slices.EqualFunc(a.policies, b.policies, func(x, y *model.Policy) bool { return x.Key() == y.Key() && same[y] }) &&
		slices.EqualFunc(a.cilium, b.cilium, func(x, y ciliumSpec) bool {
			return x.policy.Key() == y.policy.Key() && x.spec.Index == y.spec.Index && same[y.spec]
		})
}

func sameAdmin(a, b *model.AdminPolicy) bool {
	x, y := *a, *b
	x.Source, y.Source = manifest.Source{}, manifest.Source{}
	return reflect.DeepEqual(x, y)
}

func samePolicy(a, b *model.Policy) bool {
	x, y := *a, *b
	x.Source, y.Source = manifest.Source{}, manifest.Source{}
	return reflect.DeepEqual(x, y)
}

// sameExposures reports whether the ingress controller's targets are the
// same in both clusters.
func sameExposures(a, b *model.Cluster) bool {
	if len(a.Exposures) != len(b.Exposures) {
		return false
	}
	for i := range a.Exposures {
		if !reflect.DeepEqual(a.Exposures[i].Targets, b.Exposures[i].Targets) {
			return false
		}
	}
	return true
}

// Lines lists every allowed pair: workload to workload, workload to and
// from each external range (adjacent ranges with the same connections
// merged), workload to domain, and the ingress controller to exposed
// workloads. Lines are sorted by source, then destination.
func (r *Result) Lines() []Line {
	var out []Line
	add := func(src, dst Point, conns connset.Set) {
		if !conns.IsEmpty() {
			out = append(out, Line{Src: src, Dst: dst, Conns: conns})
		}
	}
	x := r.x
	for _, s := range x.c.Workloads {
		k := s.Key()
		sp := Point{Name: k}
		for dst, cs := range r.rows[k] {
			add(sp, Point{Name: dst}, cs)
		}
		for _, m := range mergeAtoms(x.atoms, r.egress[k]) {
			add(sp, Point{External: m.rng}, m.conns)
		}
		for _, m := range mergeAtoms(x.atoms, r.ingress[k]) {
			add(Point{External: m.rng}, sp, m.conns)
		}
		for j, cs := range r.domains[k] {
			add(sp, Point{Domain: x.domains[j].Text}, cs)
		}
		add(Point{Name: IngressController}, sp, r.controller[k])
	}
	slices.SortFunc(out, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Src.String(), b.Src.String()), cmp.Compare(a.Dst.String(), b.Dst.String()))
	})
	return out
}

// Evaluate computes every allowed pair of c (Compute(c).Lines()).
func Evaluate(c *model.Cluster) []Line { return Compute(c).Lines() }

// Lines prints Evaluate's lines.
func Lines(c *model.Cluster) []string {
	lines := Evaluate(c)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.String()
	}
	return out
}

type rangeConns struct {
	rng   ipset.Range
	conns connset.Set
}

// mergeAtoms pairs each atom with its connections and merges adjacent
// atoms of one family whose connections are equal.
func mergeAtoms(atoms []ipset.Range, conns []connset.Set) []rangeConns {
	var out []rangeConns
	for i, a := range atoms {
		cs := conns[i]
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.rng.Is4() == a.Is4() && last.rng.Last.Next() == a.First && last.conns.Equal(cs) {
				last.rng.Last = a.Last
				continue
			}
		}
		out = append(out, rangeConns{rng: a, conns: cs})
	}
	return out
}
