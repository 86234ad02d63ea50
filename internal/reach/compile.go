package reach

import (
	"fmt"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// compiled is one cluster laid out in a Space: selectors evaluated into
// bitsets, rules into peer sets and port masks, and for every destination
// the rules that may allow traffic to it.
type compiled struct {
	sp      *Space
	c       *model.Cluster
	nw      int               // number of ids in the space
	wl      []*model.Workload // by id; nil when absent on this side
	present bitset
	nsOf    []int // by id: index into c.Namespaces, -1 when absent

	nsMembers []bitset // by namespace index

	// label index for selectors over workloads and namespaces
	podIdx labelIndex
	nsIdx  labelIndex

	podSel map[string]bitset // interned: selector key -> workloads matching it anywhere
	nsSel  map[string]bitset // interned: selector key -> workloads in matching namespaces

	policies []*cpolicy
	ingIso   bitset
	egIso    bitset
	egOpen   bitset // present workloads not isolated for egress
	allExt   bitset // every external atom
	nrules   int

	// inRules[d]: ingress rules of policies selecting d.
	inRules [][]*crule
	// egTo[d]: egress rules whose peers contain d; egAll: rules to every peer.
	egTo  [][]*crule
	egAll []*crule
	// Sources of egAll rules without named ports, grouped by the atoms those
	// rules allow them (the same towards every destination); allAcc holds
	// each source's atoms (mw words per id). egAllNamed are the egAll rules
	// with named ports, whose atoms depend on the destination.
	egAllGroups []Class
	allAcc      []uint64
	egAllNamed  []*crule
	// egFrom[s]: egress rules of policies selecting s.
	egFrom [][]*crule
	// named resolves (workload, port name, protocol) to a port atom mask.
	named map[namedKey]bitset

	diags []diag.Diagnostic
}

type cpolicy struct {
	p        *model.Policy
	subject  bitset
	subjects []int32 // subject as a list, for sparse loops
	ingress  []*crule
	egress   []*crule
}

type crule struct {
	id      int // unique within a compiled cluster
	pol     *cpolicy
	rule    *model.Rule
	egress  bool
	peers   bitset // workloads
	ext     bitset // external atoms
	ports   bitset // numeric ports
	named   []model.PortSpec
	allPort bool
}

// maskFor returns the rule's port atoms for a connection whose port lives on
// workload w (the destination); w is nil for an external destination, which
// has no named ports.
func (r *crule) maskFor(sp *Space, w *model.Workload, named map[namedKey]bitset) bitset {
	if len(r.named) == 0 || w == nil {
		return r.ports
	}
	m := r.ports.clone()
	for _, ps := range r.named {
		if nm, ok := named[namedKey{w, ps.Name, ps.Protocol}]; ok {
			m.or(nm)
		}
	}
	return m
}

type namedKey struct {
	w     *model.Workload
	name  string
	proto connset.Protocol
}

type labelIndex struct {
	n      int
	byPair map[[2]string]bitset // key, value -> members
	byKey  map[string]bitset    // key -> members having it
}

func newLabelIndex(n int) labelIndex {
	return labelIndex{n: n, byPair: map[[2]string]bitset{}, byKey: map[string]bitset{}}
}

func (ix *labelIndex) add(i int, labels map[string]string) {
	for k, v := range labels {
		b, ok := ix.byPair[[2]string{k, v}]
		if !ok {
			b = newBitset(ix.n)
			ix.byPair[[2]string{k, v}] = b
		}
		b.set(i)
		kb, ok := ix.byKey[k]
		if !ok {
			kb = newBitset(ix.n)
			ix.byKey[k] = kb
		}
		kb.set(i)
	}
}

// match evaluates a selector over the index; universe bounds complements.
func (ix *labelIndex) match(s model.Selector, universe bitset) bitset {
	out := universe.clone()
	tmp := newBitset(ix.n)
	for _, r := range s.Reqs {
		switch r.Op {
		case model.In, model.NotIn:
			clear(tmp)
			for _, v := range r.Values {
				if b, ok := ix.byPair[[2]string{r.Key, v}]; ok {
					tmp.or(b)
				}
			}
			if r.Op == model.In {
				out.and(tmp)
			} else {
				out.andNot(tmp)
			}
		case model.Exists, model.DoesNotExist:
			b, ok := ix.byKey[r.Key]
			if !ok {
				if r.Op == model.Exists {
					clear(out)
				}
				continue
			}
			if r.Op == model.Exists {
				out.and(b)
			} else {
				out.andNot(b)
			}
		}
	}
	return out
}

func compile(sp *Space, c *model.Cluster) (*compiled, error) {
	nw := len(sp.Workloads)
	k := &compiled{
		sp: sp, c: c, nw: nw,
		wl:      make([]*model.Workload, nw),
		present: newBitset(nw),
		nsOf:    make([]int, nw),
		podIdx:  newLabelIndex(nw),
		nsIdx:   newLabelIndex(len(c.Namespaces)),
		podSel:  map[string]bitset{},
		nsSel:   map[string]bitset{},
		ingIso:  newBitset(nw),
		egIso:   newBitset(nw),
	}
	for i := range k.nsOf {
		k.nsOf[i] = -1
	}
	nsIndex := map[string]int{}
	for i, ns := range c.Namespaces {
		nsIndex[ns.Name] = i
		k.nsIdx.add(i, ns.Labels)
		k.nsMembers = append(k.nsMembers, newBitset(nw))
	}
	for _, w := range c.Workloads {
		id, ok := sp.ID(w.Key())
		if !ok {
			return nil, fmt.Errorf("workload %s is not in the evaluation space", w.Key())
		}
		k.wl[id] = w
		k.present.set(id)
		ni, ok := nsIndex[w.Namespace]
		if !ok {
			return nil, fmt.Errorf("workload %s: namespace %q missing from the cluster model", w.Key(), w.Namespace)
		}
		k.nsOf[id] = ni
		k.nsMembers[ni].set(id)
		k.podIdx.add(id, w.Labels)
	}
	allNS := newBitset(len(c.Namespaces))
	allNS.fill(len(c.Namespaces))

	allExt := newBitset(len(sp.External))
	allExt.fill(len(sp.External))
	k.allExt = allExt

	for _, p := range c.Policies {
		ni := nsIndex[p.Namespace]
		cp := &cpolicy{p: p, subject: k.podsIn(ni, p.Subject)}
		cp.subject.each(func(i int) { cp.subjects = append(cp.subjects, int32(i)) })
		if cp.subject.isEmpty() {
			k.warnEmpty(p, "selects no workload", c.Namespaces[ni])
		}
		if p.Ingress {
			k.ingIso.or(cp.subject)
			for i := range p.IngressRules {
				cp.ingress = append(cp.ingress, k.compileRule(cp, &p.IngressRules[i], ni, false, allExt, allNS))
			}
		}
		if p.Egress {
			k.egIso.or(cp.subject)
			for i := range p.EgressRules {
				cp.egress = append(cp.egress, k.compileRule(cp, &p.EgressRules[i], ni, true, allExt, allNS))
			}
		}
		k.policies = append(k.policies, cp)
	}
	k.egOpen = k.present.clone()
	k.egOpen.andNot(k.egIso)
	k.named = k.namedMasks()
	k.index()
	return k, nil
}

// podsIn returns the workloads of namespace ni matching s.
func (k *compiled) podsIn(ni int, s model.Selector) bitset {
	b := k.podsAnywhere(s).clone()
	b.and(k.nsMembers[ni])
	return b
}

func (k *compiled) podsAnywhere(s model.Selector) bitset {
	key := s.Key()
	if b, ok := k.podSel[key]; ok {
		return b
	}
	b := k.podIdx.match(s, k.present)
	k.podSel[key] = b
	return b
}

// podsInNamespaces returns every workload of the namespaces matching s.
func (k *compiled) podsInNamespaces(s model.Selector, allNS bitset) bitset {
	key := s.Key()
	if b, ok := k.nsSel[key]; ok {
		return b
	}
	nss := k.nsIdx.match(s, allNS)
	b := newBitset(k.nw)
	nss.each(func(ni int) { b.or(k.nsMembers[ni]) })
	k.nsSel[key] = b
	return b
}

func (k *compiled) compileRule(cp *cpolicy, r *model.Rule, ni int, egress bool, allExt, allNS bitset) *crule {
	k.nrules++
	cr := &crule{id: k.nrules, pol: cp, rule: r, egress: egress, peers: newBitset(k.nw), ext: newBitset(len(k.sp.External))}
	if r.AllPeers {
		cr.peers.copyFrom(k.present)
		cr.ext.copyFrom(allExt)
	}
	for pi, peer := range r.Peers {
		before := cr.peers.count()
		switch {
		case peer.IPBlock != nil:
			for _, rg := range peer.IPBlock.Set.Ranges() {
				first, last, ok := ipset.AtomSpan(k.sp.External, rg)
				if !ok {
					continue
				}
				for i := first; i <= last; i++ {
					cr.ext.set(i)
				}
			}
		case peer.NamespaceSel == nil:
			// "podSelector ... selects particular Pods in the same namespace
			// as the NetworkPolicy" (NetworkPolicyPeer)
			sel := model.Everything
			if peer.PodSel != nil {
				sel = *peer.PodSel
			}
			cr.peers.or(k.podsIn(ni, sel))
		default:
			// "If namespaceSelector is also set, then the NetworkPolicyPeer as
			// a whole selects the Pods matching PodSelector in the Namespaces
			// selected by NamespaceSelector. Otherwise it selects all Pods in
			// the Namespaces selected by NamespaceSelector." (NetworkPolicyPeer)
			b := k.podsInNamespaces(*peer.NamespaceSel, allNS)
			if peer.PodSel != nil {
				b = and2(b, k.podsAnywhere(*peer.PodSel))
			}
			cr.peers.or(b)
		}
		if peer.IPBlock == nil && cr.peers.count() == before && k.peerMatchesNothing(peer, ni, allNS) {
			dir := "ingress"
			if egress {
				dir = "egress"
			}
			k.warnEmpty(cp.p, fmt.Sprintf("%s[%d] peer %d selects no workload", dir, r.Index, pi), nil)
		}
	}
	cr.ports = newBitset(len(k.sp.PortAtoms))
	if r.AllPorts {
		cr.ports.copyFrom(k.sp.allPorts)
		cr.allPort = true
	}
	for _, ps := range r.Ports {
		if ps.Name != "" {
			cr.named = append(cr.named, ps)
			continue
		}
		cr.ports.or(k.sp.portMask(ps.Protocol, ps.Lo, ps.Hi))
	}
	return cr
}

// namedMasks resolves every container port whose name some rule uses.
func (k *compiled) namedMasks() map[namedKey]bitset {
	out := map[namedKey]bitset{}
	used := map[string]bool{}
	for _, cp := range k.policies {
		for _, rs := range [][]*crule{cp.ingress, cp.egress} {
			for _, r := range rs {
				for _, ps := range r.named {
					used[ps.Name] = true
				}
			}
		}
	}
	if len(used) == 0 {
		return out
	}
	for _, w := range k.wl {
		if w == nil {
			continue
		}
		for _, cp := range w.Ports {
			key := namedKey{w, cp.Name, cp.Protocol}
			if _, dup := out[key]; dup || !used[cp.Name] {
				continue
			}
			out[key] = k.sp.portMask(cp.Protocol, cp.Port, cp.Port)
		}
	}
	return out
}

// index fills the per-destination and per-source rule lists.
func (k *compiled) index() {
	k.inRules = make([][]*crule, k.nw)
	k.egTo = make([][]*crule, k.nw)
	k.egFrom = make([][]*crule, k.nw)
	for _, cp := range k.policies {
		if len(cp.ingress) > 0 {
			cp.subject.each(func(d int) { k.inRules[d] = append(k.inRules[d], cp.ingress...) })
		}
		if len(cp.egress) > 0 {
			cp.subject.each(func(s int) { k.egFrom[s] = append(k.egFrom[s], cp.egress...) })
		}
		for _, r := range cp.egress {
			if r.rule.AllPeers || r.peers.equal(k.present) {
				k.egAll = append(k.egAll, r)
				continue
			}
			r.peers.each(func(d int) { k.egTo[d] = append(k.egTo[d], r) })
		}
	}
	mw := len(k.sp.allPorts)
	k.allAcc = make([]uint64, k.nw*mw)
	has := newBitset(k.nw)
	for _, r := range k.egAll {
		if len(r.named) > 0 {
			k.egAllNamed = append(k.egAllNamed, r)
			continue
		}
		for _, s := range r.pol.subjects {
			has.set(int(s))
			acc := k.allAcc[int(s)*mw : int(s)*mw+mw]
			for i, w := range r.ports {
				acc[i] |= w
			}
		}
	}
	byMask := map[string]int{}
	has.each(func(s int) {
		m := bitset(k.allAcc[s*mw : s*mw+mw])
		key := maskKey(m)
		i, ok := byMask[key]
		if !ok {
			i = len(k.egAllGroups)
			byMask[key] = i
			k.egAllGroups = append(k.egAllGroups, Class{Ports: m.clone(), Peers: newBitset(k.nw)})
		}
		k.egAllGroups[i].Peers.set(s)
	})
}

// peerMatchesNothing reports whether a pod peer selects no workload at all.
func (k *compiled) peerMatchesNothing(peer model.Peer, ni int, allNS bitset) bool {
	sel := model.Everything
	if peer.PodSel != nil {
		sel = *peer.PodSel
	}
	if peer.NamespaceSel == nil {
		return k.podsIn(ni, sel).isEmpty()
	}
	return and2(k.podsInNamespaces(*peer.NamespaceSel, allNS), k.podsAnywhere(sel)).isEmpty()
}

// warnEmpty reports a selector that matches nothing. Pods often come from an
// operator's custom resources, which the manifests do not expand: naming
// them tells the reader why a real policy change shows no reachability change.
func (k *compiled) warnEmpty(p *model.Policy, what string, ns *model.Namespace) {
	msg := "NetworkPolicy " + what
	if ns != nil && len(ns.CustomResources) > 0 {
		msg += fmt.Sprintf("; its pods may come from custom resources in namespace %s (%s), which reachdiff cannot expand",
			ns.Name, strings.Join(ns.CustomResources, ", "))
	}
	k.diags = append(k.diags, diag.Diagnostic{Severity: diag.Warning, File: p.Source.File, Line: p.Source.Line,
		Object: "NetworkPolicy " + p.Key(), Message: msg})
}
