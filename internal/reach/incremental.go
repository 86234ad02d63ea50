package reach

import (
	"maps"
	"slices"

	"github.com/reachdiff/reachdiff/internal/model"
)

// change is what differs between two compiled clusters, as sets of ids.
type change struct {
	moved  bitset // added, removed or relabelled workloads
	flip   bitset // moved, and the workloads of relabelled namespaces
	inRows bitset // destinations whose ingress rows are recomputed
	egRows bitset // destinations whose egress rows are recomputed
	extOut bitset // sources whose outgoing external rows are recomputed
	allEg  bool   // a rule became or stopped being towards every workload
}

// compileFrom compiles c from a, the compilation of a cluster in the same
// Space, redoing only what the change touches: selectors are re-tested on
// the workloads whose labels, presence or namespace labels changed; a
// policy that did not change is reused as compiled when its subjects and
// peers did not move either (and recompiled under the same rule ids
// otherwise); the rule lists of untouched workloads are kept.
func compileFrom(a *compiled, c *model.Cluster) (*compiled, *change, error) {
	k, err := layout(a.sp, c)
	if err != nil {
		return nil, nil, err
	}
	nw := k.nw
	ch := &change{moved: newBitset(nw), flip: newBitset(nw), inRows: newBitset(nw), egRows: newBitset(nw), extOut: newBitset(nw)}
	ports := newBitset(nw)
	for id := 0; id < nw; id++ {
		wa, wb := a.wl[id], k.wl[id]
		switch {
		case wa == wb: // absent on both sides, or the same object
		case wa == nil || wb == nil || !maps.Equal(wa.Labels, wb.Labels) || wa.HostNetwork != wb.HostNetwork:
			ch.moved.set(id)
		case !slices.Equal(wa.Ports, wb.Ports):
			ports.set(id)
		}
	}
	ch.flip.or(ch.moved)
	// Namespaces whose labels changed, appeared or disappeared.
	for i, ns := range k.c.Namespaces {
		if j, ok := a.nsIndex[ns.Name]; !ok || !maps.Equal(a.c.Namespaces[j].Labels, ns.Labels) {
			ch.flip.or(k.nsMembers[i])
			if ok {
				ch.flip.or(a.nsMembers[j])
			}
		}
	}
	for i, ns := range a.c.Namespaces {
		if _, ok := k.nsIndex[ns.Name]; !ok {
			ch.flip.or(a.nsMembers[i])
		}
	}
	moved, flips := ch.moved.list(), ch.flip.list()
	k.inheritSelectors(a, moved, flips)
	// Policies of namespaces that changed in any way are recompiled (their
	// findings name the namespace's custom resources).
	nsSame := make([]bool, len(k.c.Namespaces))
	for i, ns := range k.c.Namespaces {
		if j, ok := a.nsIndex[ns.Name]; ok {
			o := a.c.Namespaces[j]
			nsSame[i] = maps.Equal(o.Labels, ns.Labels) && slices.Equal(o.CustomResources, ns.CustomResources)
		}
	}

	// Policies: reused, recompiled under their rule ids, or changed.
	k.nameIDs = maps.Clone(a.nameIDs)
	k.rules = slices.Clone(a.rules)
	presentSame := k.present.equal(a.present)
	type polKey struct{ ns, name string }
	basePol := make(map[polKey]*cpolicy, len(a.policies))
	for _, p := range a.policies {
		basePol[polKey{p.p.Namespace, p.p.Name}] = p
	}
	var changedOld, changedNew, recompiled []*cpolicy
	seen := make(map[polKey]bool, len(c.Policies))
	for _, q := range c.Policies {
		key := polKey{q.Namespace, q.Name}
		seen[key] = true
		p := basePol[key]
		if p != nil && (p.p == q || samePolicy(p.p, q)) {
			if p.p.Source == q.Source && nsSame[k.nsIndex[q.Namespace]] && k.unaffected(a, p, moved, flips, presentSame) {
				k.addPolicy(p)
				continue
			}
			cp := k.compilePolicy(q, p)
			for i, r := range cp.egress {
				r.all = k.isAll(r)
				if r.all != p.egress[i].all {
					ch.allEg = true
				}
			}
			recompiled = append(recompiled, cp)
			k.addPolicy(cp)
			continue
		}
		if p != nil {
			changedOld = append(changedOld, p)
		}
		cp := k.compilePolicy(q, nil)
		for _, r := range cp.egress {
			r.all = k.isAll(r)
		}
		changedNew = append(changedNew, cp)
		k.addPolicy(cp)
	}
	for _, p := range a.policies {
		if !seen[polKey{p.p.Namespace, p.p.Name}] {
			changedOld = append(changedOld, p)
		}
	}
	for _, p := range changedOld {
		for _, r := range append(p.ingress[:len(p.ingress):len(p.ingress)], p.egress...) {
			k.rules[r.id] = nil
		}
	}

	if len(k.nameIDs) == len(a.nameIDs) {
		k.wNamed = slices.Clone(a.wNamed)
		for id := 0; id < nw; id++ {
			if ch.moved.has(id) || ports.has(id) {
				k.wNamed[id] = k.namedOf(id)
			}
		}
	} else {
		k.resolveNamed()
	}

	// What the changed policies touch, on either side.
	touch := func(kk *compiled, p *cpolicy) {
		if p.p.Ingress {
			ch.inRows.or(p.subject)
		}
		if !p.p.Egress {
			return
		}
		ch.extOut.or(p.subject)
		for _, r := range p.egress {
			if !r.all {
				ch.egRows.or(r.peers)
				continue
			}
			for _, n := range r.named {
				for d, nps := range kk.wNamed {
					if slices.ContainsFunc(nps, func(np namedPort) bool { return np.id == n }) {
						ch.egRows.set(d)
					}
				}
			}
		}
	}
	for _, p := range changedOld {
		touch(a, p)
	}
	for _, p := range changedNew {
		touch(k, p)
	}
	ch.inRows.or(ch.moved)
	ch.inRows.or(ports)
	ch.egRows.or(ch.flip)
	ch.egRows.or(ports)
	ch.extOut.or(ch.moved)

	k.indexFrom(a, ch, changedOld, changedNew, recompiled)
	k.finish()
	return k, ch, nil
}

// inheritSelectors carries a's selector results over, re-testing the
// workloads that moved (pod selectors) or flipped (namespace selectors).
func (k *compiled) inheritSelectors(a *compiled, moved, flips []int) {
	for key, m := range a.podSel {
		set := m.set
		for _, f := range moved {
			if want := k.present.has(f) && m.sel.Matches(k.wl[f].Labels); want != set.has(f) {
				if &set[0] == &m.set[0] {
					set = set.clone()
				}
				flipBit(set, f, want)
			}
		}
		k.podSel[key] = selMemo{m.sel, set}
	}
	for key, m := range a.nsSel {
		set := m.set
		for _, f := range flips {
			want := k.present.has(f) && m.sel.Matches(k.c.Namespaces[k.nsOf[f]].Labels)
			if want != set.has(f) {
				if &set[0] == &m.set[0] {
					set = set.clone()
				}
				flipBit(set, f, want)
			}
		}
		k.nsSel[key] = selMemo{m.sel, set}
	}
}

func flipBit(b bitset, i int, on bool) {
	if on {
		b.set(i)
	} else {
		b.clear(i)
	}
}

// unaffected reports whether policy p of a, unchanged, compiles in k
// exactly as it did: same subjects, same workloads in every peer (so the
// same findings), same all-destination rules.
func (k *compiled) unaffected(a *compiled, p *cpolicy, moved, flips []int, presentSame bool) bool {
	ni := k.nsIndex[p.p.Namespace]
	for _, f := range moved {
		want := k.present.has(f) && k.nsOf[f] == ni && p.p.Subject.Matches(k.wl[f].Labels)
		if p.subject.has(f) != want {
			return false
		}
	}
	ai := a.nsIndex[p.p.Namespace]
	for _, rs := range [][]*crule{p.ingress, p.egress} {
		for _, r := range rs {
			for _, f := range flips {
				if r.rule.AllPeers && a.present.has(f) != k.present.has(f) {
					return false
				}
				for pi := range r.rule.Peers {
					if a.peerMatch(&r.rule.Peers[pi], ai, f) != k.peerMatch(&r.rule.Peers[pi], ni, f) {
						return false
					}
				}
			}
		}
	}
	if !presentSame {
		for _, r := range p.egress {
			if r.all != k.isAll(r) {
				return false
			}
		}
	}
	return true
}

// peerMatch reports whether peer (of a policy in namespace ni) selects
// workload f, as compileRule's sets do, one workload at a time.
func (k *compiled) peerMatch(peer *model.Peer, ni, f int) bool {
	if !k.present.has(f) || peer.IPBlock != nil || !peer.MatchesWorkload(k.wl[f]) {
		return false
	}
	if peer.NamespaceSel == nil {
		if k.nsOf[f] != ni {
			return false
		}
	} else if !peer.NamespaceSel.Matches(k.c.Namespaces[k.nsOf[f]].Labels) {
		return false
	}
	return peer.PodSel == nil || peer.PodSel.Matches(k.wl[f].Labels)
}

func (k *compiled) isAll(r *crule) bool { return r.rule.AllPeers || r.peers.equal(k.present) }

// indexFrom derives k's rule lists and all-destination egress facts from
// a's, rebuilding only the lists of workloads the change touches.
func (k *compiled) indexFrom(a *compiled, ch *change, changedOld, changedNew, recompiled []*cpolicy) {
	// Rule ids to drop from, and rules to re-add to, a touched list: those
	// of changed policies always; those of recompiled policies only where
	// their subjects (moved workloads) or peers (flipped ones) may differ.
	dropC, dropR := newBitset(len(k.rules)), newBitset(len(k.rules))
	for _, p := range changedOld {
		for _, r := range p.ingress {
			dropC.set(r.id)
		}
		for _, r := range p.egress {
			dropC.set(r.id)
		}
	}
	for _, p := range recompiled {
		for _, r := range p.ingress {
			dropR.set(r.id)
		}
		for _, r := range p.egress {
			dropR.set(r.id)
		}
	}
	subjects := func(ps []*cpolicy, ingress bool, into bitset) {
		for _, p := range ps {
			if ingress && len(p.ingress) > 0 || !ingress && len(p.egress) > 0 {
				into.or(p.subject)
			}
		}
	}
	patch := func(base adjacency, rows bitset, wide bitset, member func(r *crule, d int) bool, rules func(p *cpolicy) []*crule) adjacency {
		out := adjacency{start: base.start, list: base.list, over: maps.Clone(base.over)}
		if out.over == nil {
			out.over = map[int32][]int32{}
		}
		rows.each(func(d int) {
			w := wide.has(d)
			var l []int32
			for _, id := range base.of(d) {
				if !dropC.has(int(id)) && !(w && dropR.has(int(id))) {
					l = append(l, id)
				}
			}
			add := func(ps []*cpolicy) {
				for _, p := range ps {
					for _, r := range rules(p) {
						if member(r, d) {
							l = append(l, int32(r.id))
						}
					}
				}
			}
			add(changedNew)
			if w {
				add(recompiled)
			}
			out.over[int32(d)] = l
		})
		return out
	}
	inPolicy := func(r *crule, d int) bool { return r.pol.subject.has(d) }
	ingressOf := func(p *cpolicy) []*crule { return p.ingress }
	egressOf := func(p *cpolicy) []*crule { return p.egress }

	rows := ch.moved.clone()
	subjects(changedOld, true, rows)
	subjects(changedNew, true, rows)
	k.inRules = patch(a.inRules, rows, ch.moved, inPolicy, ingressOf)

	rows = ch.moved.clone()
	subjects(changedOld, false, rows)
	subjects(changedNew, false, rows)
	k.egFrom = patch(a.egFrom, rows, ch.moved, inPolicy, egressOf)
	accRows := rows

	if ch.allEg {
		k.indexEgTo()
		accRows = k.present.clone()
		accRows.or(a.present)
	} else {
		rows = ch.flip.clone()
		for _, p := range changedOld {
			for _, r := range p.egress {
				if !r.all {
					rows.or(r.peers)
				}
			}
		}
		for _, p := range changedNew {
			for _, r := range p.egress {
				if !r.all {
					rows.or(r.peers)
				}
			}
		}
		k.egTo = patch(a.egTo, rows, ch.flip, func(r *crule, d int) bool {
			return !r.all && r.peers.has(d)
		}, egressOf)
	}

	mw := len(k.sp.allPorts)
	k.allAcc = slices.Clone(a.allAcc)
	accRows.each(func(s int) {
		acc := k.allAcc[s*mw : s*mw+mw]
		clear(acc)
		if !k.present.has(s) {
			return
		}
		for _, id := range k.egFrom.of(s) {
			if r := k.rules[id]; r.all {
				for i, w := range r.ports {
					acc[i] |= w
				}
			}
		}
	})
	k.indexEgAllNamed()
}
