package reach

import (
	"fmt"
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
	k, err := layout(a.sp, c, a)
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
	var changedOld, changedNew, recompiled []*cpolicy
	// Base policies are matched by namespace and name, in order (both
	// lists are sorted by it), with a map for the ones out of place.
	matched := make([]bool, len(a.policies))
	var byKey map[[2]string]int
	j := 0
	deps := k.changedDeps(a, moved, presentSame)
	for _, q := range c.Policies {
		var p *cpolicy
		if j < len(a.policies) && a.policies[j].p.Name == q.Name && a.policies[j].p.Namespace == q.Namespace {
			p, matched[j] = a.policies[j], true
			j++
		} else {
			if byKey == nil {
				byKey = make(map[[2]string]int, len(a.policies))
				for i, p := range a.policies {
					byKey[[2]string{p.p.Namespace, p.p.Name}] = i
				}
			}
			if i, ok := byKey[[2]string{q.Namespace, q.Name}]; ok {
				p, matched[i] = a.policies[i], true
				j = i + 1
			}
		}
		if p != nil && (p.p == q || samePolicy(p.p, q)) {
			if p.p.Source == q.Source && nsSame[k.nsIndex[q.Namespace]] {
				cp, allEg := p, false
				if deps.touch(k, p) {
					cp, allEg = k.patchPolicy(a, p, moved, flips, presentSame)
				}
				ch.allEg = ch.allEg || allEg
				if cp != p {
					recompiled = append(recompiled, cp)
					k.replaced = append(k.replaced, p)
				}
				k.addPolicy(cp)
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
			k.replaced = append(k.replaced, p)
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
	for i, p := range a.policies {
		if !matched[i] {
			changedOld = append(changedOld, p)
		}
	}
	k.replaced = append(k.replaced, changedOld...)
	k.isolationFrom(a, moved, changedOld, changedNew)
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
// Sets that no workload leaves or joins stay shared with a.
func (k *compiled) inheritSelectors(a *compiled, moved, flips []int) {
	k.podSel, k.nsSel, k.selOwned = a.podSel, a.nsSel, false
	k.pods, k.nss = slices.Clone(a.pods), slices.Clone(a.nss)
	for i := range k.pods {
		m := &k.pods[i]
		for _, f := range moved {
			if want := k.present.has(f) && m.sel.Matches(k.wl[f].Labels); want != m.set.has(f) {
				if sameBits(m.set, a.pods[i].set) {
					m.set = m.set.clone()
				}
				flipBit(m.set, f, want)
			}
		}
	}
	var nsMatch []int8 // by namespace index: 0 not tested, 1 no, 2 yes
	for i := range k.nss {
		m := &k.nss[i]
		if len(flips) == 0 {
			break
		}
		if nsMatch == nil {
			nsMatch = make([]int8, len(k.c.Namespaces))
		} else {
			clear(nsMatch)
		}
		for _, f := range flips {
			want := false
			if k.present.has(f) {
				ni := k.nsOf[f]
				if nsMatch[ni] == 0 {
					nsMatch[ni] = 1
					if m.sel.Matches(k.c.Namespaces[ni].Labels) {
						nsMatch[ni] = 2
					}
				}
				want = nsMatch[ni] == 2
			}
			if want != m.set.has(f) {
				if sameBits(m.set, a.nss[i].set) {
					m.set = m.set.clone()
				}
				flipBit(m.set, f, want)
			}
		}
	}
}

// sameBits reports whether a and b are the same memory (not merely equal).
func sameBits(a, b bitset) bool { return len(a) == 0 || len(b) > 0 && &a[0] == &b[0] }

func flipBit(b bitset, i int, on bool) {
	if on {
		b.set(i)
	} else {
		b.clear(i)
	}
}

// deps records which selector and namespace member sets an update
// changed, so that policies depending on none of them are reused at once.
type deps struct {
	pods, nss []bool // by index in k.pods, k.nss
	// movedIn, by namespace index in k: a workload of the namespace (on
	// either side) moved, or its members changed. A set of pods of one
	// namespace can change only then.
	movedIn        []bool
	moved, present bool // some workload moved; the present set changed
	npresent       int  // k.present.count()
}

func (k *compiled) changedDeps(a *compiled, moved []int, presentSame bool) *deps {
	d := &deps{pods: make([]bool, len(k.pods)), nss: make([]bool, len(k.nss)), movedIn: make([]bool, len(k.nsMembers)),
		moved: len(moved) > 0, present: !presentSame, npresent: k.present.count()}
	for i := range k.pods {
		d.pods[i] = !sameBits(k.pods[i].set, a.pods[i].set)
	}
	for i := range k.nss {
		d.nss[i] = !sameBits(k.nss[i].set, a.nss[i].set)
	}
	for i, ns := range k.c.Namespaces {
		ai, ok := a.nsIndex[ns.Name]
		d.movedIn[i] = !ok || !sameBits(k.nsMembers[i], a.nsMembers[ai])
	}
	for _, f := range moved {
		if ni := k.nsOf[f]; ni >= 0 {
			d.movedIn[ni] = true
		}
		if ai := a.nsOf[f]; ai >= 0 {
			if ni, ok := k.nsIndex[a.c.Namespaces[ai].Name]; ok {
				d.movedIn[ni] = true
			}
		}
	}
	return d
}

// touch reports whether policy p of the base may compile differently in
// k: some set it is made of changed, or (for its egress rules being
// towards every workload) the present workloads did.
func (d *deps) touch(k *compiled, p *cpolicy) bool {
	ni := k.nsIndex[p.p.Namespace]
	if d.movedIn[ni] {
		return true // subject and same-namespace peers
	}
	for i := 0; i < len(p.ingress)+len(p.egress); i++ {
		r := p.rule(i)
		// Peers of a rule no set of which changed are present workloads:
		// they are all of them when they are as many.
		if d.present && (r.rule.AllPeers || r.egress && r.all != (r.npeers == d.npresent)) {
			return true
		}
		for _, t := range r.terms {
			switch t.kind {
			case termVia:
				if d.moved {
					return true
				}
			case termNS:
				if d.nss[t.ns] || t.pod >= 0 && d.pods[t.pod] {
					return true
				}
			}
		}
	}
	return false
}

// isolationFrom derives k's ingress and egress isolation from a's,
// re-testing only the workloads whose isolation the change may move: the
// moved ones (the only ones whose membership in an unchanged policy's
// subject can change) and the subjects of changed policies.
func (k *compiled) isolationFrom(a *compiled, moved []int, changedOld, changedNew []*cpolicy) {
	cand := newBitset(k.nw)
	for _, f := range moved {
		cand.set(f)
	}
	for _, ps := range [][]*cpolicy{changedOld, changedNew} {
		for _, p := range ps {
			cand.or(p.subject)
		}
	}
	k.ingIso, k.egIso = a.ingIso.clone(), a.egIso.clone()
	k.ingIso.andNot(cand)
	k.egIso.andNot(cand)
	for _, p := range k.policies {
		for _, d := range p.subjects {
			if cand.has(int(d)) {
				if p.p.Ingress {
					k.ingIso.set(int(d))
				}
				if p.p.Egress {
					k.egIso.set(int(d))
				}
			}
		}
	}
}

// patchPolicy returns policy p of a as compiled in k: the subject and
// peer bits of the moved and flipped workloads re-tested against k's
// selector sets (so p itself when none of them changed), unchanged sets
// shared with p. It also reports whether a rule became or stopped being
// towards every workload.
func (k *compiled) patchPolicy(a *compiled, p *cpolicy, moved, flips []int, presentSame bool) (*cpolicy, bool) {
	ni, ai := k.nsIndex[p.p.Namespace], a.nsIndex[p.p.Namespace]
	subject := p.subject
	sel := k.pods[p.subj].set
	for _, f := range moved {
		if want := k.present.has(f) && k.nsOf[f] == ni && sel.has(f); want != subject.has(f) {
			if sameBits(subject, p.subject) {
				subject = subject.clone()
			}
			flipBit(subject, f, want)
		}
	}
	changed := !sameBits(subject, p.subject)
	allEg, diags := false, false
	type patched struct {
		peers  bitset
		all    bool
		npeers int
		empty  []bool
	}
	var rules []patched // by rule, ingress then egress; nil while none changed
	n := len(p.ingress) + len(p.egress)
	for i := 0; i < n; i++ {
		r := p.rule(i)
		peers, npeers := r.peers, r.npeers
		empty := r.empty
		for _, f := range flips {
			// A peer may gain or lose its last workload while the rule's
			// union stays the same: its finding changes.
			for j, t := range r.terms {
				was, is := a.termHas(t, ai, f), k.termHas(t, ni, f)
				if was == is || t.kind == termVia {
					continue
				}
				now := !is && !k.termAny(t, ni) // is: not empty now
				if now != empty[j] {
					if &empty[0] == &r.empty[0] {
						empty = slices.Clone(empty)
					}
					empty[j], diags = now, true
				}
			}
			if want := k.peerHas(r, ni, f); want != peers.has(f) {
				if sameBits(peers, r.peers) {
					if t, ok := r.wholeNS(); ok {
						// The peers are exactly the (new) namespace set:
						// share it instead of copying.
						peers = k.nss[t.ns].set
						npeers = peers.count()
						break
					}
					peers = k.slab.clone(peers)
				}
				flipBit(peers, f, want)
				if want {
					npeers++
				} else {
					npeers--
				}
			}
		}
		all := r.all
		if r.egress && (!presentSame || !sameBits(peers, r.peers)) {
			all = r.rule.AllPeers || peers.equal(k.present)
		}
		if sameBits(peers, r.peers) && all == r.all && (len(empty) == 0 || &empty[0] == &r.empty[0]) {
			continue
		}
		allEg = allEg || all != r.all
		if rules == nil {
			rules = make([]patched, n)
			for j := range rules {
				r := p.rule(j)
				rules[j] = patched{r.peers, r.all, r.npeers, r.empty}
			}
		}
		rules[i] = patched{peers, all, npeers, empty}
	}
	if !changed && rules == nil && !diags {
		return p, false
	}
	cp := &cpolicy{p: p.p, subj: p.subj, subject: subject, subjects: p.subjects,
		ingress: make([]*crule, len(p.ingress)), egress: make([]*crule, len(p.egress))}
	if changed {
		cp.subjects = make([]int32, 0, subject.count())
		subject.each(func(i int) { cp.subjects = append(cp.subjects, int32(i)) })
	}
	// Every rule points at its policy: all are copied.
	for i := 0; i < n; i++ {
		nr := *p.rule(i)
		nr.pol = cp
		if rules != nil {
			nr.peers, nr.all, nr.npeers, nr.empty = rules[i].peers, rules[i].all, rules[i].npeers, rules[i].empty
		}
		if i < len(p.ingress) {
			cp.ingress[i] = &nr
		} else {
			cp.egress[i-len(p.ingress)] = &nr
		}
		k.rules[nr.id] = &nr
	}
	cp.diags = p.diags
	if diags || changed && p.subject.isEmpty() != subject.isEmpty() {
		k.policyDiags(cp, ni)
	}
	return cp, allEg
}

// wholeNS returns the only peer of r when it selects every workload of
// the namespaces a selector matches (its peers are then that set).
func (r *crule) wholeNS() (peerTerm, bool) {
	if r.rule.AllPeers || len(r.terms) != 1 || r.terms[0].kind != termNS || r.terms[0].pod >= 0 {
		return peerTerm{}, false
	}
	return r.terms[0], true
}

// rule returns rule i of p, counting ingress rules then egress ones.
func (p *cpolicy) rule(i int) *crule {
	if i < len(p.ingress) {
		return p.ingress[i]
	}
	return p.egress[i-len(p.ingress)]
}

// peerHas reports whether rule r (of a policy in namespace ni) has
// workload f among its peers, as compileRule computes them.
func (k *compiled) peerHas(r *crule, ni, f int) bool {
	if !k.present.has(f) {
		return false
	}
	if r.rule.AllPeers {
		return true
	}
	for _, t := range r.terms {
		if k.termHas(t, ni, f) {
			return true
		}
	}
	return false
}

// termHas reports whether peer term t (of a policy in namespace ni)
// selects workload f.
func (k *compiled) termHas(t peerTerm, ni, f int) bool {
	if !k.present.has(f) {
		return false
	}
	switch t.kind {
	case termIP:
		return false
	case termVia:
		return !k.wl[f].HostNetwork
	case termOwnNS:
		return k.nsOf[f] == ni && k.pods[t.pod].set.has(f)
	}
	return k.nss[t.ns].set.has(f) && (t.pod < 0 || k.pods[t.pod].set.has(f))
}

// termAny reports whether peer term t (of a policy in namespace ni)
// selects some workload.
func (k *compiled) termAny(t peerTerm, ni int) bool {
	if t.kind == termIP {
		return false
	}
	a, b := k.termSets(t, ni)
	return a.intersects(b)
}

// policyDiags recomputes the findings of a patched policy from its
// rules' empty peers, as compilePolicy and compileRule report them.
func (k *compiled) policyDiags(cp *cpolicy, ni int) {
	cp.diags = nil
	if cp.subject.isEmpty() {
		cp.warnEmpty("selects no workload", k.c.Namespaces[ni])
	}
	for _, rs := range [][]*crule{cp.ingress, cp.egress} {
		for _, r := range rs {
			for pi := range r.terms {
				if r.empty[pi] {
					dir := "ingress"
					if r.egress {
						dir = "egress"
					}
					cp.warnEmpty(fmt.Sprintf("%s[%d] peer %d selects no workload", dir, r.rule.Index, r.rule.WrittenPeer(pi)), nil)
				}
			}
		}
	}
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
