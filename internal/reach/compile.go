package reach

import (
	"fmt"
	"maps"
	"math/bits"
	"slices"
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
	nsOf    []int   // by id: index into c.Namespaces, -1 when absent
	ids     []int32 // by index in c.Workloads: the workload's id
	widx    []int32 // by present id: index in c.Workloads

	nsMembers []bitset // by namespace index
	nsIndex   map[string]int
	allNS     bitset // every namespace index

	// label index for selectors over workloads and namespaces
	podIdx labelIndex
	nsIdx  labelIndex

	// Interned selectors: podSel maps a selector key to its index in pods
	// (workloads matching it anywhere), nsSel to its index in nss (workloads
	// in matching namespaces). An incremental compilation shares the maps
	// with its base until it interns a new selector (selOwned).
	podSel   map[string]int32
	nsSel    map[string]int32
	pods     []selMemo
	nss      []selMemo
	selOwned bool
	// podAddr holds the present workloads that have a pod address (not
	// host-networked), for the calico profile's ipBlock peers; built lazily.
	podAddr bitset

	policies []*cpolicy
	slab     slab // copies made by an incremental compilation and update (one goroutine)
	// replaced are the policies of the base compilation (an incremental
	// one's) that are not among policies: changed, removed or patched.
	replaced []*cpolicy
	rules    []*crule // by id
	ingIso   bitset
	egIso    bitset
	egOpen   bitset // present workloads not isolated for egress
	allExt   bitset // every external atom

	// inRules: ingress rules of policies selecting each destination;
	// egTo: egress rules, other than all-destination ones, whose peers hold
	// each destination; egFrom: egress rules of policies selecting each
	// source. All three are rule ids.
	inRules, egTo, egFrom adjacency
	// allAcc holds, for every source (mw words per id), the atoms its
	// all-destination egress rules allow towards every destination: their
	// numeric ports. The named ports of those rules depend on the
	// destination: egAllNamed[n] are the all-destination rules naming port
	// name n.
	allAcc     []uint64
	egAllNamed [][]*crule
	// nameIDs numbers the (port name, protocol) pairs rules mention;
	// wNamed[id] resolves them on workload id (first container port wins).
	nameIDs map[nameProto]int
	wNamed  [][]namedPort

	// openIn and openExt are the ingress rows of a destination no policy
	// isolates: every workload, every external atom, on every port.
	openIn, openExt Row

	diags []diag.Diagnostic
}

// adjacency is a list of rule ids per workload id, in one array, with
// the lists an incremental compilation replaced in over.
type adjacency struct {
	start []int32 // len nw+1
	list  []int32
	over  map[int32][]int32
}

func (a adjacency) of(i int) []int32 {
	if a.over != nil {
		if l, ok := a.over[int32(i)]; ok {
			return l
		}
	}
	return a.list[a.start[i]:a.start[i+1]]
}

// buildAdjacency calls each twice with an emit function: first to count,
// then to fill.
func buildAdjacency(n int, each func(emit func(row int, v int32))) adjacency {
	a := adjacency{start: make([]int32, n+1)}
	each(func(row int, _ int32) { a.start[row+1]++ })
	for i := 1; i <= n; i++ {
		a.start[i] += a.start[i-1]
	}
	a.list = make([]int32, a.start[n])
	pos := append([]int32(nil), a.start[:n]...)
	each(func(row int, v int32) {
		a.list[pos[row]] = v
		pos[row]++
	})
	return a
}

type nameProto struct {
	name  string
	proto connset.Protocol
}

// namedPort is a container port whose name some rule mentions.
type namedPort struct {
	id   int // index in nameIDs
	mask bitset
}

type cpolicy struct {
	p        *model.Policy
	subj     int32 // index of the subject selector in compiled.pods
	subject  bitset
	subjects []int32 // subject as a list, for sparse loops
	ingress  []*crule
	egress   []*crule
	diags    []diag.Diagnostic
}

type crule struct {
	id     int // index in compiled.rules
	pol    *cpolicy
	rule   *model.Rule
	egress bool
	peers  bitset     // workloads
	ext    bitset     // external atoms
	ports  bitset     // numeric ports
	named  []int      // ids of (name, protocol) pairs of named ports
	all    bool       // egress rule towards every workload (peers == present)
	terms  []peerTerm // by peer of rule.Peers: the selector sets it is made of
	empty  []bool     // by peer: a workload peer that selects no workload (a finding)
	npeers int        // peers.count()
}

// peerTerm is how one peer of a rule selects workloads: the intersection
// of two sets (see compiled.termSets), or an ipBlock (no workload).
type peerTerm struct {
	kind    termKind
	pod, ns int32 // indices in compiled.pods and compiled.nss; pod -1: every workload
}

type termKind uint8

const (
	termIP    termKind = iota // ipBlock: external atoms only
	termVia                   // calico profile: every pod with a pod address
	termOwnNS                 // pods[pod] in the policy's namespace
	termNS                    // pods[pod] (or every workload) in namespaces nss[ns]
)

// termSets returns the two sets whose intersection the peer selects, for
// a policy in namespace ni.
func (k *compiled) termSets(t peerTerm, ni int) (bitset, bitset) {
	switch t.kind {
	case termVia:
		return k.podAddressed(), k.present
	case termOwnNS:
		return k.pods[t.pod].set, k.nsMembers[ni]
	}
	if t.pod < 0 {
		return k.nss[t.ns].set, k.present
	}
	return k.nss[t.ns].set, k.pods[t.pod].set
}

// maskInto returns the rule's port atoms for a connection whose port lives
// on workload d (the destination); named ports resolve against d. buf is
// scratch of the mask's width, used only when the rule names ports.
func (k *compiled) maskInto(buf bitset, r *crule, d int) bitset {
	if len(r.named) == 0 {
		return r.ports
	}
	copy(buf, r.ports)
	k.orNamed(buf, r, d)
	return buf
}

// resolves reports whether some named port of r resolves on workload d.
func (k *compiled) resolves(r *crule, d int) bool {
	for _, np := range k.wNamed[d] {
		if slices.Contains(r.named, np.id) {
			return true
		}
	}
	return false
}

// orNamed adds the atoms of r's named ports as resolved on workload d.
func (k *compiled) orNamed(buf bitset, r *crule, d int) {
	for _, np := range k.wNamed[d] {
		for _, id := range r.named {
			if np.id == id {
				buf.or(np.mask)
			}
		}
	}
}

type labelIndex struct {
	n      int
	byPair map[[2]string][]int32 // key, value -> members
	byKey  map[string][]int32    // key -> members having it
}

func newLabelIndex(n int) labelIndex {
	return labelIndex{n: n, byPair: map[[2]string][]int32{}, byKey: map[string][]int32{}}
}

func (ix *labelIndex) add(i int, labels map[string]string) {
	for k, v := range labels {
		ix.byPair[[2]string{k, v}] = append(ix.byPair[[2]string{k, v}], int32(i))
		ix.byKey[k] = append(ix.byKey[k], int32(i))
	}
}

// match evaluates a selector over the index; universe bounds complements.
func (ix *labelIndex) match(s model.Selector, universe bitset) bitset {
	out := universe.clone()
	tmp := newBitset(ix.n)
	for _, r := range s.Reqs {
		clear(tmp)
		switch r.Op {
		case model.In, model.NotIn:
			for _, v := range r.Values {
				for _, i := range ix.byPair[[2]string{r.Key, v}] {
					tmp.set(int(i))
				}
			}
		case model.Exists, model.DoesNotExist:
			for _, i := range ix.byKey[r.Key] {
				tmp.set(int(i))
			}
		}
		if r.Op == model.In || r.Op == model.Exists {
			out.and(tmp)
		} else {
			out.andNot(tmp)
		}
	}
	return out
}

func compile(sp *Space, c *model.Cluster) (*compiled, error) {
	k, err := layout(sp, c, nil)
	if err != nil {
		return nil, err
	}
	k.podIdx = newLabelIndex(k.nw)
	for id, w := range k.wl {
		if w != nil {
			k.podIdx.add(id, w.Labels)
		}
	}
	for _, p := range c.Policies {
		k.addPolicy(k.compilePolicy(p, nil))
	}
	k.isolation()
	k.podIdx = labelIndex{} // only selectors of this compilation use it
	k.resolveNamed()
	k.index()
	k.finish()
	return k, nil
}

// layout places c's workloads and namespaces in the space. Given a, the
// layout of a cluster in the same space, workloads that are the same
// objects at the same place take their ids from a, and namespace member
// sets that no workload joins or leaves stay shared with a.
func layout(sp *Space, c *model.Cluster, a *compiled) (*compiled, error) {
	nw := len(sp.Workloads)
	k := &compiled{
		sp: sp, c: c, nw: nw,
		wl:       make([]*model.Workload, nw),
		present:  newBitset(nw),
		nsOf:     make([]int, nw),
		ids:      make([]int32, len(c.Workloads)),
		widx:     make([]int32, nw),
		nsIndex:  make(map[string]int, len(c.Namespaces)),
		podSel:   map[string]int32{},
		nsSel:    map[string]int32{},
		selOwned: true,
		nameIDs:  map[nameProto]int{},
		ingIso:   newBitset(nw),
		egIso:    newBitset(nw),
	}
	for i := range k.nsOf {
		k.nsOf[i] = -1
	}
	k.nsMembers = make([]bitset, len(c.Namespaces))
	for i, ns := range c.Namespaces {
		k.nsIndex[ns.Name] = i
	}
	var fromA []int // by a's namespace index: k's, or -1
	if a != nil {
		fromA = make([]int, len(a.c.Namespaces))
		for j, ns := range a.c.Namespaces {
			fromA[j] = -1
			if i, ok := k.nsIndex[ns.Name]; ok && a.c.Namespaces[j] == a.c.Namespaces[a.nsIndex[ns.Name]] {
				fromA[j] = i
				k.nsMembers[i] = a.nsMembers[j]
			}
		}
	}
	// fresh sets are filled below; shared ones are copied before a write.
	fresh, copied := make([]bool, len(c.Namespaces)), make([]bool, len(c.Namespaces))
	for i := range k.nsMembers {
		if k.nsMembers[i] == nil {
			k.nsMembers[i], fresh[i] = newBitset(nw), true
		}
	}
	j := 0 // position in a.c.Workloads
	for x, w := range c.Workloads {
		id, ni := -1, -1
		if a != nil && j < len(a.c.Workloads) && a.c.Workloads[j] == w {
			id = int(a.ids[j])
			ni = fromA[a.nsOf[id]]
			j++
		}
		if ni < 0 {
			var ok bool
			if id, ok = sp.ID(w.Key()); !ok {
				return nil, fmt.Errorf("workload %s is not in the evaluation space", w.Key())
			}
			if ni, ok = k.nsIndex[w.Namespace]; !ok {
				return nil, fmt.Errorf("workload %s: namespace %q missing from the cluster model", w.Key(), w.Namespace)
			}
			if a != nil && a.present.has(id) {
				j = int(a.widx[id]) + 1
			}
		}
		k.ids[x], k.widx[id] = int32(id), int32(x)
		k.wl[id] = w
		k.present.set(id)
		k.nsOf[id] = ni
		if fresh[ni] {
			k.nsMembers[ni].set(id)
		}
	}
	if a != nil {
		// Shared member sets: add and drop the workloads that appeared or
		// disappeared.
		for wi := range k.present {
			x := k.present[wi] ^ a.present[wi]
			for x != 0 {
				id := wi<<6 | bits.TrailingZeros64(x)
				x &= x - 1
				ni := k.nsOf[id]
				if ni < 0 {
					ni = fromA[a.nsOf[id]]
				}
				if ni < 0 || fresh[ni] {
					continue
				}
				if !copied[ni] {
					k.nsMembers[ni], copied[ni] = k.nsMembers[ni].clone(), true
				}
				flipBit(k.nsMembers[ni], id, k.present.has(id))
			}
		}
	}
	k.allNS = newBitset(len(c.Namespaces))
	k.allNS.fill(len(c.Namespaces))
	k.allExt = newBitset(len(sp.External))
	k.allExt.fill(len(sp.External))
	return k, nil
}

// compilePolicy compiles p. Its rules take the ids of reuse's rules (the
// same policy compiled before, when given) or new ids.
func (k *compiled) compilePolicy(p *model.Policy, reuse *cpolicy) *cpolicy {
	ni := k.nsIndex[p.Namespace]
	cp := &cpolicy{p: p, subj: k.podsAnywhere(p.Subject)}
	cp.subject = and2(k.pods[cp.subj].set, k.nsMembers[ni])
	cp.subjects = make([]int32, 0, cp.subject.count())
	cp.subject.each(func(i int) { cp.subjects = append(cp.subjects, int32(i)) })
	if cp.subject.isEmpty() {
		cp.warnEmpty("selects no workload", k.c.Namespaces[ni])
	}
	id := func(rules []*crule, i int) int {
		if reuse == nil {
			return -1
		}
		return rules[i].id
	}
	if p.Ingress {
		for i := range p.IngressRules {
			cp.ingress = append(cp.ingress, k.compileRule(cp, &p.IngressRules[i], ni, false, id(reuse.ingressOrNil(), i)))
		}
	}
	if p.Egress {
		for i := range p.EgressRules {
			cp.egress = append(cp.egress, k.compileRule(cp, &p.EgressRules[i], ni, true, id(reuse.egressOrNil(), i)))
		}
	}
	return cp
}

func (cp *cpolicy) ingressOrNil() []*crule {
	if cp == nil {
		return nil
	}
	return cp.ingress
}

func (cp *cpolicy) egressOrNil() []*crule {
	if cp == nil {
		return nil
	}
	return cp.egress
}

// addPolicy appends a compiled policy and its findings.
func (k *compiled) addPolicy(cp *cpolicy) {
	k.policies = append(k.policies, cp)
	k.diags = append(k.diags, cp.diags...)
}

// isolation computes which workloads policies isolate for ingress and
// for egress.
func (k *compiled) isolation() {
	clear(k.ingIso)
	clear(k.egIso)
	for _, cp := range k.policies {
		if cp.p.Ingress {
			k.ingIso.or(cp.subject)
		}
		if cp.p.Egress {
			k.egIso.or(cp.subject)
		}
	}
}

// finish derives the facts that follow from the policies.
func (k *compiled) finish() {
	k.egOpen = k.present.clone()
	k.egOpen.andNot(k.egIso)
	if !k.present.isEmpty() {
		k.openIn = Row{{Ports: k.sp.allPorts, Peers: k.present}}
	}
	k.openExt = Row{{Ports: k.sp.allPorts, Peers: k.allExt}}
	if len(k.sp.External) == 0 {
		k.openExt = nil
	}
}

// selMemo is a selector and what it selects.
type selMemo struct {
	sel model.Selector
	set bitset
}

// ownSelectors copies the selector maps shared with a base compilation
// before the first write.
func (k *compiled) ownSelectors() {
	if !k.selOwned {
		k.podSel, k.nsSel, k.selOwned = maps.Clone(k.podSel), maps.Clone(k.nsSel), true
	}
}

// podsAnywhere returns the index in k.pods of the workloads whose labels
// match s, in any namespace. Without a label index (an incremental
// compilation), a selector not seen before is tested on every workload.
func (k *compiled) podsAnywhere(s model.Selector) int32 {
	key := s.Key()
	if i, ok := k.podSel[key]; ok {
		return i
	}
	var b bitset
	if k.podIdx.byPair != nil {
		b = k.podIdx.match(s, k.present)
	} else {
		b = newBitset(k.nw)
		k.present.each(func(i int) {
			if s.Matches(k.wl[i].Labels) {
				b.set(i)
			}
		})
	}
	k.ownSelectors()
	i := int32(len(k.pods))
	k.pods = append(k.pods, selMemo{s, b})
	k.podSel[key] = i
	return i
}

// podsInNamespaces returns the index in k.nss of every workload of the
// namespaces matching s.
func (k *compiled) podsInNamespaces(s model.Selector) int32 {
	key := s.Key()
	if i, ok := k.nsSel[key]; ok {
		return i
	}
	if k.nsIdx.byPair == nil { // built on first use
		k.nsIdx = newLabelIndex(len(k.c.Namespaces))
		for i, ns := range k.c.Namespaces {
			k.nsIdx.add(i, ns.Labels)
		}
	}
	nss := k.nsIdx.match(s, k.allNS)
	b := newBitset(k.nw)
	nss.each(func(ni int) { b.or(k.nsMembers[ni]) })
	k.ownSelectors()
	i := int32(len(k.nss))
	k.nss = append(k.nss, selMemo{s, b})
	k.nsSel[key] = i
	return i
}

// term interns the selectors of peer (not an ipBlock).
func (k *compiled) term(peer *model.Peer) peerTerm {
	switch {
	case peer.IPBlock != nil:
		return peerTerm{kind: termIP}
	case peer.ViaIPBlock:
		// Added by the calico profile after an ipBlock holding every
		// pod address: all pods but the host-networked ones.
		return peerTerm{kind: termVia}
	case peer.NamespaceSel == nil:
		// "podSelector ... selects particular Pods in the same namespace
		// as the NetworkPolicy" (NetworkPolicyPeer)
		sel := model.Everything
		if peer.PodSel != nil {
			sel = *peer.PodSel
		}
		return peerTerm{kind: termOwnNS, pod: k.podsAnywhere(sel)}
	}
	// "If namespaceSelector is also set, then the NetworkPolicyPeer as
	// a whole selects the Pods matching PodSelector in the Namespaces
	// selected by NamespaceSelector. Otherwise it selects all Pods in
	// the Namespaces selected by NamespaceSelector." (NetworkPolicyPeer)
	t := peerTerm{kind: termNS, pod: -1, ns: k.podsInNamespaces(*peer.NamespaceSel)}
	if peer.PodSel != nil {
		t.pod = k.podsAnywhere(*peer.PodSel)
	}
	return t
}

// compileRule compiles rule r of cp, with the given id (a new one when
// negative).
func (k *compiled) compileRule(cp *cpolicy, r *model.Rule, ni int, egress bool, id int) *crule {
	if id < 0 {
		id = len(k.rules)
		k.rules = append(k.rules, nil)
	}
	cr := &crule{id: id, pol: cp, rule: r, egress: egress, peers: newBitset(k.nw), ext: newBitset(len(k.sp.External))}
	k.rules[id] = cr
	if r.AllPeers {
		cr.peers.copyFrom(k.present)
		cr.ext.copyFrom(k.allExt)
	}
	cr.terms = make([]peerTerm, len(r.Peers))
	cr.empty = make([]bool, len(r.Peers))
	for pi := range r.Peers {
		peer := &r.Peers[pi]
		t := k.term(peer)
		cr.terms[pi] = t
		if t.kind == termIP {
			for _, rg := range peer.IPBlock.Set.Ranges() {
				first, last, ok := ipset.AtomSpan(k.sp.External, rg)
				if !ok {
					continue
				}
				for i := first; i <= last; i++ {
					cr.ext.set(i)
				}
			}
			continue
		}
		a, b := k.termSets(t, ni) // the peer's workloads are a AND b
		empty := true
		for i, w := range a {
			x := w & b[i]
			cr.peers[i] |= x
			empty = empty && x == 0
		}
		if empty && !peer.ViaIPBlock {
			cr.empty[pi] = true
			dir := "ingress"
			if egress {
				dir = "egress"
			}
			cp.warnEmpty(fmt.Sprintf("%s[%d] peer %d selects no workload", dir, r.Index, r.WrittenPeer(pi)), nil)
		}
	}
	cr.npeers = cr.peers.count()
	cr.ports = newBitset(len(k.sp.PortAtoms))
	if r.AllPorts {
		cr.ports.copyFrom(k.sp.allPorts)
	}
	for _, ps := range r.Ports {
		if ps.Name != "" {
			key := nameProto{ps.Name, ps.Protocol}
			id, ok := k.nameIDs[key]
			if !ok {
				id = len(k.nameIDs)
				k.nameIDs[key] = id
			}
			cr.named = append(cr.named, id)
			continue
		}
		cr.ports.or(k.sp.portMask(ps.Protocol, ps.Lo, ps.Hi))
	}
	return cr
}

// podAddressed returns the present workloads that are not host-networked.
func (k *compiled) podAddressed() bitset {
	if k.podAddr == nil {
		k.podAddr = newBitset(k.nw)
		k.present.each(func(i int) {
			if !k.wl[i].HostNetwork {
				k.podAddr.set(i)
			}
		})
	}
	return k.podAddr
}

// resolveNamed resolves, on every workload, the container ports whose name
// (and protocol) some rule uses; the first such port wins.
func (k *compiled) resolveNamed() {
	k.wNamed = make([][]namedPort, k.nw)
	if len(k.nameIDs) == 0 {
		return
	}
	for id := range k.wl {
		k.wNamed[id] = k.namedOf(id)
	}
}

// namedOf resolves the named ports of workload id.
func (k *compiled) namedOf(id int) []namedPort {
	w := k.wl[id]
	if w == nil {
		return nil
	}
	var out []namedPort
	for _, cp := range w.Ports {
		n, ok := k.nameIDs[nameProto{cp.Name, cp.Protocol}]
		if !ok || slices.ContainsFunc(out, func(np namedPort) bool { return np.id == n }) {
			continue
		}
		out = append(out, namedPort{id: n, mask: k.sp.portMask(cp.Protocol, cp.Port, cp.Port)})
	}
	return out
}

// index fills the per-destination and per-source rule lists and the
// all-destination egress facts.
func (k *compiled) index() {
	for _, cp := range k.policies {
		for _, r := range cp.egress {
			r.all = r.rule.AllPeers || r.peers.equal(k.present)
		}
	}
	k.inRules = buildAdjacency(k.nw, func(emit func(int, int32)) {
		for _, cp := range k.policies {
			for _, d := range cp.subjects {
				for _, r := range cp.ingress {
					emit(int(d), int32(r.id))
				}
			}
		}
	})
	k.egFrom = buildAdjacency(k.nw, func(emit func(int, int32)) {
		for _, cp := range k.policies {
			for _, s := range cp.subjects {
				for _, r := range cp.egress {
					emit(int(s), int32(r.id))
				}
			}
		}
	})
	k.indexEgTo()
	mw := len(k.sp.allPorts)
	k.allAcc = make([]uint64, k.nw*mw)
	for _, cp := range k.policies {
		for _, r := range cp.egress {
			if !r.all {
				continue
			}
			for _, s := range cp.subjects {
				acc := k.allAcc[int(s)*mw : int(s)*mw+mw]
				for i, w := range r.ports {
					acc[i] |= w
				}
			}
		}
	}
	k.indexEgAllNamed()
}

func (k *compiled) indexEgTo() {
	k.egTo = buildAdjacency(k.nw, func(emit func(int, int32)) {
		for _, cp := range k.policies {
			for _, r := range cp.egress {
				if r.all {
					continue
				}
				id := int32(r.id)
				r.peers.each(func(d int) { emit(d, id) })
			}
		}
	})
}

func (k *compiled) indexEgAllNamed() {
	k.egAllNamed = make([][]*crule, len(k.nameIDs))
	for _, cp := range k.policies {
		for _, r := range cp.egress {
			if r.all {
				for _, n := range r.named {
					k.egAllNamed[n] = append(k.egAllNamed[n], r)
				}
			}
		}
	}
}

// warnEmpty reports a selector that matches nothing. Pods often come from an
// operator's custom resources, which the manifests do not expand: naming
// them tells the reader why a real policy change shows no reachability change.
func (cp *cpolicy) warnEmpty(what string, ns *model.Namespace) {
	p := cp.p
	msg := "NetworkPolicy " + what
	if ns != nil && len(ns.CustomResources) > 0 {
		msg += fmt.Sprintf("; its pods may come from custom resources in namespace %s (%s), which reachdiff cannot expand",
			ns.Name, strings.Join(ns.CustomResources, ", "))
	}
	cp.diags = append(cp.diags, diag.Diagnostic{Severity: diag.Warning, File: p.Source.File, Line: p.Source.Line,
		Object: "NetworkPolicy " + p.Key(), Message: msg})
}
