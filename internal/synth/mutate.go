package synth

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// annotationRevision is the annotation that text-only changes set.
const annotationRevision = "reachdiff.example.com/revision"

// mutation is the state of one Mutate call.
type mutation struct {
	b     *builder
	objs  []manifest.Object
	owned map[any]bool    // typed objects made or copied by this mutation
	dirty map[string]bool // files whose content changed
}

// Mutate returns a new cluster with n random changes drawn from seed, and the
// changes made, in order. base is not modified: the objects that did not
// change keep the same Typed pointers, changed ones are deep copies. Every
// change kind is drawn (see the Change* constants); fewer than n changes are
// made only when the cluster offers nothing to change.
func Mutate(base *Cluster, seed int64, n int) (*Cluster, []Change) {
	m := &mutation{
		b:     &builder{r: newRand(seed, 2), cfg: Config{}.withDefaults()},
		objs:  slices.Clone(base.Objects),
		owned: map[any]bool{},
		dirty: map[string]bool{},
	}
	total := 0
	for _, k := range changeKinds {
		total += k.weight
	}
	for i := range m.objs {
		// Objects that are not where WriteDir puts them (a cluster not made
		// here) are laid out again.
		if f := fileFor(m.objs[i]); m.objs[i].Source.File != f {
			m.objs[i].Source.File = f
			m.dirty[f] = true
		}
	}
	m.b.w = worldOf(m.objs)
	var changes []Change
	for tries := 0; len(changes) < n && tries < 20*n+20; tries++ {
		x := m.b.r.IntN(total)
		kind := changeKinds[len(changeKinds)-1].kind
		for _, k := range changeKinds {
			if x < k.weight {
				kind = k.kind
				break
			}
			x -= k.weight
		}
		if obj, ok := m.apply(kind); ok {
			changes = append(changes, Change{Kind: kind, Object: obj})
		}
	}
	kept := m.objs[:0]
	for _, o := range m.objs {
		if o.Typed != nil {
			kept = append(kept, o)
		}
	}
	// Stable: the objects of a file keep their order, added ones come last.
	slices.SortStableFunc(kept, func(a, b manifest.Object) int {
		return strings.Compare(fileRank(a.Source.File), fileRank(b.Source.File))
	})
	layout(kept, m.dirty)
	return &Cluster{Objects: kept}, changes
}

// fileRank orders files: namespaces.yaml first, then by name.
func fileRank(f string) string {
	if f == namespacesFile {
		return ""
	}
	return f
}

// apply makes one change of the given kind and names the object changed; it
// reports false when the cluster has nothing to change that way.
func (m *mutation) apply(kind string) (string, bool) {
	switch kind {
	case ChangeAddPolicy:
		nss := m.b.w.withWorkloads()
		if len(nss) == 0 || chance(m.b.r, 0.1) {
			nss = m.b.w.nss
		}
		if len(nss) == 0 {
			return "", false
		}
		return m.add(m.b.policy(pick(m.b.r, nss))), true
	case ChangeRemovePolicy:
		return m.remove(m.pickIndex(isPolicy))
	case ChangeEditPolicy:
		i := m.pickIndex(isPolicy)
		if i < 0 {
			return "", false
		}
		m.editPolicy(m.own(i).(*networkingv1.NetworkPolicy))
		return objectName(m.objs[i]), true
	case ChangeRelabelWorkload:
		i := m.pickIndex(isWorkload)
		if i < 0 {
			return "", false
		}
		m.relabelWorkload(m.own(i))
		m.refresh(i)
		return objectName(m.objs[i]), true
	case ChangeRelabelNamespace:
		i := m.pickIndex(func(o manifest.Object) bool { _, ok := o.Typed.(*corev1.Namespace); return ok })
		if i < 0 {
			return "", false
		}
		ns := m.own(i).(*corev1.Namespace)
		m.relabelNamespace(ns)
		m.b.w.ns(ns.Name).labels = ns.Labels
		return objectName(m.objs[i]), true
	case ChangeAddWorkload:
		var ns *nsView
		if len(m.b.w.nss) == 0 || chance(m.b.r, 0.1) {
			// A new namespace without a Namespace object.
			name := fmt.Sprintf("%s-%s-new%d", pick(m.b.r, teams), pick(m.b.r, envs), m.b.r.IntN(1000))
			ns = m.b.w.ns(name)
		} else {
			ns = pick(m.b.r, m.b.w.nss)
		}
		o, v := m.b.workload(ns, "")
		ns.workloads = append(ns.workloads, v)
		return m.add(o), true
	case ChangeRemoveWorkload:
		i := m.pickIndex(isWorkload)
		if i >= 0 {
			m.forget(viewOf(m.objs[i].Typed))
		}
		return m.remove(i)
	case ChangeWorkloadPorts:
		i := m.pickIndex(isWorkload)
		if i < 0 {
			return "", false
		}
		m.changePorts(podTemplate(m.own(i)))
		m.refresh(i)
		return objectName(m.objs[i]), true
	case ChangeAnnotate:
		i := m.pickIndex(func(manifest.Object) bool { return true })
		if i < 0 {
			return "", false
		}
		mo, ok := m.own(i).(metav1.Object)
		if !ok {
			return "", false
		}
		ann := copyLabels(mo.GetAnnotations())
		rev, _ := strconv.Atoi(ann[annotationRevision])
		ann[annotationRevision] = strconv.Itoa(rev + 1 + m.b.r.IntN(9))
		mo.SetAnnotations(ann)
		return objectName(m.objs[i]), true
	case ChangeReorder:
		var cands []int
		for i, o := range m.objs {
			if p, ok := o.Typed.(*networkingv1.NetworkPolicy); ok && len(swaps(p)) > 0 {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			return "", false
		}
		i := pick(m.b.r, cands)
		s := swaps(m.own(i).(*networkingv1.NetworkPolicy))
		pick(m.b.r, s)()
		return objectName(m.objs[i]), true
	}
	return "", false
}

// refresh replaces the world's view of the workload at i after a change.
func (m *mutation) refresh(i int) {
	v := viewOf(m.objs[i].Typed)
	ws := m.b.w.ns(v.ns).workloads
	for k, w := range ws {
		if w.kind == v.kind && w.name == v.name {
			ws[k] = v
		}
	}
}

// forget removes a workload from the world.
func (m *mutation) forget(v *workloadView) {
	n := m.b.w.ns(v.ns)
	n.workloads = slices.DeleteFunc(n.workloads, func(w *workloadView) bool { return w.kind == v.kind && w.name == v.name })
}

func isPolicy(o manifest.Object) bool { _, ok := o.Typed.(*networkingv1.NetworkPolicy); return ok }

func isWorkload(o manifest.Object) bool { return podTemplate(o.Typed) != nil }

// pickIndex returns the index of a random object that ok accepts, or -1.
func (m *mutation) pickIndex(ok func(manifest.Object) bool) int {
	var idx []int
	for i, o := range m.objs {
		if o.Typed != nil && ok(o) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return -1
	}
	return pick(m.b.r, idx)
}

// own returns the typed object at i, deep-copied first unless this mutation
// made it, and marks its file changed.
func (m *mutation) own(i int) any {
	o := &m.objs[i]
	m.dirty[o.Source.File] = true
	if m.owned[o.Typed] {
		return o.Typed
	}
	switch t := o.Typed.(type) {
	case *corev1.Namespace:
		o.Typed = t.DeepCopy()
	case *appsv1.Deployment:
		o.Typed = t.DeepCopy()
	case *appsv1.StatefulSet:
		o.Typed = t.DeepCopy()
	case *appsv1.DaemonSet:
		o.Typed = t.DeepCopy()
	case *networkingv1.NetworkPolicy:
		o.Typed = t.DeepCopy()
	}
	m.owned[o.Typed] = true
	return o.Typed
}

// add appends a new object and returns its name.
func (m *mutation) add(typed any) string {
	o := object(typed)
	m.owned[typed] = true
	m.dirty[o.Source.File] = true
	m.objs = append(m.objs, o)
	return objectName(o)
}

// remove deletes the object at i (none when i < 0).
func (m *mutation) remove(i int) (string, bool) {
	if i < 0 {
		return "", false
	}
	name := objectName(m.objs[i])
	m.dirty[m.objs[i].Source.File] = true
	m.objs[i].Typed = nil
	return name, true
}

// editPolicy changes p's meaning (or at least its text): its subject, a rule,
// a peer, a port, an ipBlock or its policyTypes.
func (m *mutation) editPolicy(p *networkingv1.NetworkPolicy) {
	b := m.b
	ns := b.w.ns(p.Namespace)
	before := p.DeepCopy()
	for range 10 {
		switch b.r.IntN(7) {
		case 0:
			p.Spec.PodSelector, _ = b.subject(ns)
		case 1:
			if len(p.Spec.Egress) > 0 && chance(b.r, 0.5) {
				p.Spec.Egress = append(p.Spec.Egress, b.egressRule(ns))
			} else {
				p.Spec.Ingress = append(p.Spec.Ingress, b.ingressRule(ns, nil))
			}
		case 2:
			if k := len(p.Spec.Ingress); k > 0 {
				p.Spec.Ingress = slices.Delete(p.Spec.Ingress, k-1, k)
			} else if k := len(p.Spec.Egress); k > 0 {
				p.Spec.Egress = slices.Delete(p.Spec.Egress, k-1, k)
			}
			if len(p.Spec.Ingress) == 0 {
				p.Spec.Ingress = nil
			}
			if len(p.Spec.Egress) == 0 {
				p.Spec.Egress = nil
			}
		case 3:
			if len(p.Spec.Ingress) > 0 {
				r := &p.Spec.Ingress[b.r.IntN(len(p.Spec.Ingress))]
				r.Ports = b.ports(nil)
			} else if len(p.Spec.Egress) > 0 {
				r := &p.Spec.Egress[b.r.IntN(len(p.Spec.Egress))]
				r.Ports = b.ports(nil)
			}
		case 4:
			peer, _ := b.peer(ns)
			if len(p.Spec.Ingress) > 0 {
				r := &p.Spec.Ingress[b.r.IntN(len(p.Spec.Ingress))]
				r.From = append(r.From, peer)
			} else if len(p.Spec.Egress) > 0 {
				r := &p.Spec.Egress[b.r.IntN(len(p.Spec.Egress))]
				r.To = append(r.To, peer)
			}
		case 5:
			blk := b.ipBlock()
			peer := networkingv1.NetworkPolicyPeer{IPBlock: blk}
			if len(p.Spec.Egress) > 0 {
				r := &p.Spec.Egress[b.r.IntN(len(p.Spec.Egress))]
				r.To = append(r.To, peer)
			} else {
				p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{
					To: []networkingv1.NetworkPolicyPeer{peer},
				})
			}
		default:
			m.flipTypes(p)
		}
		if !reflect.DeepEqual(before, p) {
			return
		}
	}
	m.flipTypes(p)
}

// flipTypes sets p's policyTypes to another of: omitted, Ingress, Egress, both.
func (m *mutation) flipTypes(p *networkingv1.NetworkPolicy) {
	opts := [][]networkingv1.PolicyType{nil, ingressOnly, egressOnly, bothTypes}
	var others [][]networkingv1.PolicyType
	for _, o := range opts {
		if !slices.Equal(o, p.Spec.PolicyTypes) || (o == nil) != (p.Spec.PolicyTypes == nil) {
			others = append(others, o)
		}
	}
	p.Spec.PolicyTypes = slices.Clone(pick(m.b.r, others))
}

// relabelWorkload changes the pod template labels of a workload: its app,
// tier, role or version (never the instance label its selector uses).
func (m *mutation) relabelWorkload(typed any) {
	t := podTemplate(typed)
	l := copyLabels(t.Labels)
	before := copyLabels(l)
	for range 10 {
		switch m.b.r.IntN(4) {
		case 0:
			if _, ok := l[labelApp]; ok {
				l[labelApp] = pick(m.b.r, m.b.w.apps)
				if mo, ok := typed.(metav1.Object); ok {
					ml := copyLabels(mo.GetLabels())
					ml[labelApp] = l[labelApp]
					mo.SetLabels(ml)
				}
			}
		case 1:
			if _, ok := l[labelRole]; ok {
				delete(l, labelRole)
			} else {
				l[labelRole] = pick(m.b.r, roles)
			}
		case 2:
			l[labelVersion] = pick(m.b.r, versions)
		default:
			l[labelTier] = pick(m.b.r, podTiers)
		}
		if !reflect.DeepEqual(before, l) {
			break
		}
	}
	if reflect.DeepEqual(before, l) {
		l["canary"] = "true"
	}
	t.Labels = l
}

// relabelNamespace changes a Namespace's team, env, tier or
// data-classification, or adds or drops kubernetes.io/metadata.name (which
// the API server sets anyway: a text-only change).
func (m *mutation) relabelNamespace(n *corev1.Namespace) {
	l := copyLabels(n.Labels)
	before := copyLabels(l)
	for range 10 {
		switch m.b.r.IntN(5) {
		case 0:
			l[labelTeam] = pick(m.b.r, teams)
		case 1:
			l[labelEnv] = pick(m.b.r, envs)
		case 2:
			l[labelTier] = pick(m.b.r, nsTiers)
		case 3:
			l[labelClass] = pick(m.b.r, classes)
		default:
			if _, ok := l[labelNSName]; ok && n.Name != kubeSystem {
				delete(l, labelNSName)
			} else {
				l[labelNSName] = n.Name
			}
		}
		if !reflect.DeepEqual(before, l) {
			break
		}
	}
	n.Labels = l
}

// changePorts changes a container port's number or name, adds one, or drops
// one; port names stay unique in the pod.
func (m *mutation) changePorts(t *corev1.PodTemplateSpec) {
	cs := t.Spec.Containers
	used := map[string]bool{}
	for _, c := range cs {
		for _, p := range c.Ports {
			used[p.Name] = true
		}
	}
	c := &cs[m.b.r.IntN(len(cs))]
	switch x := m.b.r.IntN(4); {
	case x == 0 && len(c.Ports) > 0:
		p := &c.Ports[m.b.r.IntN(len(c.Ports))]
		old := p.ContainerPort
		p.ContainerPort = pick(m.b.r, commonNum)
		if p.ContainerPort == old {
			p.ContainerPort = old%65535 + 1
		}
	case x == 1 && len(c.Ports) > 0:
		p := &c.Ports[m.b.r.IntN(len(c.Ports))]
		for _, d := range portCatalog {
			if !used[d.name] && d.proto == protoOrTCP(p.Protocol) && chance(m.b.r, 0.5) {
				p.Name = d.name
				return
			}
		}
		if p.Name == "" {
			p.Name = "alt-" + strconv.Itoa(int(p.ContainerPort))
		} else {
			p.Name = ""
		}
	case x == 2 && len(c.Ports) > 1:
		k := m.b.r.IntN(len(c.Ports))
		c.Ports = slices.Delete(c.Ports, k, k+1)
	default:
		for _, d := range portCatalog {
			if !used[d.name] {
				c.Ports = append(c.Ports, corev1.ContainerPort{Name: d.name, ContainerPort: pick(m.b.r, d.nums), Protocol: d.proto})
				return
			}
		}
		c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(7100 + m.b.r.IntN(100))})
	}
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// swaps returns the text-only reorderings possible in p: each swaps two
// different elements of a list whose order does not matter.
func swaps(p *networkingv1.NetworkPolicy) []func() {
	var out []func()
	add := func(n int, differ func(i, j int) bool, swap func(i, j int)) {
		for i := 1; i < n; i++ {
			if differ(0, i) {
				out = append(out, func() { swap(0, i) })
				return
			}
		}
	}
	sel := func(s *metav1.LabelSelector) {
		if s == nil {
			return
		}
		for k := range s.MatchExpressions {
			v := s.MatchExpressions[k].Values
			add(len(v), func(i, j int) bool { return v[i] != v[j] }, func(i, j int) { v[i], v[j] = v[j], v[i] })
		}
		e := s.MatchExpressions
		add(len(e), func(i, j int) bool { return !reflect.DeepEqual(e[i], e[j]) }, func(i, j int) { e[i], e[j] = e[j], e[i] })
	}
	ports := func(ps []networkingv1.NetworkPolicyPort) {
		add(len(ps), func(i, j int) bool { return !reflect.DeepEqual(ps[i], ps[j]) }, func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	}
	peers := func(ps []networkingv1.NetworkPolicyPeer) {
		add(len(ps), func(i, j int) bool { return !reflect.DeepEqual(ps[i], ps[j]) }, func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		for k := range ps {
			sel(ps[k].PodSelector)
			sel(ps[k].NamespaceSelector)
			if b := ps[k].IPBlock; b != nil {
				ex := b.Except
				add(len(ex), func(i, j int) bool { return ex[i] != ex[j] }, func(i, j int) { ex[i], ex[j] = ex[j], ex[i] })
			}
		}
	}
	sel(&p.Spec.PodSelector)
	t := p.Spec.PolicyTypes
	add(len(t), func(i, j int) bool { return t[i] != t[j] }, func(i, j int) {
		// policyTypes may share a backing array with other policies.
		p.Spec.PolicyTypes = []networkingv1.PolicyType{t[j], t[i]}
	})
	in := p.Spec.Ingress
	add(len(in), func(i, j int) bool { return !reflect.DeepEqual(in[i], in[j]) }, func(i, j int) { in[i], in[j] = in[j], in[i] })
	for k := range in {
		peers(in[k].From)
		ports(in[k].Ports)
	}
	eg := p.Spec.Egress
	add(len(eg), func(i, j int) bool { return !reflect.DeepEqual(eg[i], eg[j]) }, func(i, j int) { eg[i], eg[j] = eg[j], eg[i] })
	for k := range eg {
		peers(eg[k].To)
		ports(eg[k].Ports)
	}
	return out
}
