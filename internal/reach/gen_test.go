package reach_test

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// chooser draws small choices from a byte string (fuzz input) or a seeded
// stream, so one generator serves fuzzing and property tests.
type chooser struct {
	data []byte
	pos  int
}

func (c *chooser) n(k int) int {
	if k <= 1 {
		return 0
	}
	if c.pos >= len(c.data) {
		return 0
	}
	b := int(c.data[c.pos])
	c.pos++
	return b % k
}

func (c *chooser) bool() bool { return c.n(2) == 1 }

var (
	genKeys    = []string{"app", "tier", "team"}
	genValues  = []string{"a", "b", "c"}
	genCIDRs   = []string{"10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/24", "0.0.0.0/0", "203.0.113.0/24", "2001:db8::/32", "::/0"}
	genExcepts = map[string][]string{"10.0.0.0/8": {"10.1.0.0/16", "10.2.0.0/16"}, "0.0.0.0/0": {"10.0.0.0/8"},
		"2001:db8::/32": {"2001:db8:1::/48"}, "::/0": {"2001:db8::/32"}}
	genPortNames = []string{"http", "dns", "grpc"}
)

func (c *chooser) labels() map[string]string {
	l := map[string]string{}
	for _, k := range genKeys {
		if c.n(3) > 0 {
			l[k] = genValues[c.n(len(genValues))]
		}
	}
	return l
}

func (c *chooser) selector() *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	switch c.n(4) {
	case 0: // {}
	case 1:
		s.MatchLabels = map[string]string{genKeys[c.n(3)]: genValues[c.n(3)]}
	case 2:
		ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn,
			metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
		op := ops[c.n(4)]
		e := metav1.LabelSelectorRequirement{Key: genKeys[c.n(3)], Operator: op}
		if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			e.Values = []string{genValues[c.n(3)], genValues[c.n(3)]}
		}
		s.MatchExpressions = []metav1.LabelSelectorRequirement{e}
	case 3:
		s.MatchLabels = map[string]string{genKeys[c.n(3)]: genValues[c.n(3)], genKeys[c.n(3)]: genValues[c.n(3)]}
	}
	return s
}

func (c *chooser) protocol() *corev1.Protocol {
	ps := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
	switch c.n(4) {
	case 0:
		return nil
	default:
		p := ps[c.n(3)]
		return &p
	}
}

func (c *chooser) ports() []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for i := c.n(3); i > 0; i-- {
		p := networkingv1.NetworkPolicyPort{Protocol: c.protocol()}
		switch c.n(4) {
		case 0: // all ports of the protocol
		case 1:
			v := intstr.FromString(genPortNames[c.n(3)])
			p.Port = &v
		case 2:
			v := intstr.FromInt32(int32(80 + c.n(3)))
			p.Port = &v
		case 3:
			lo := int32(79 + c.n(4))
			v := intstr.FromInt32(lo)
			end := lo + int32(c.n(5))
			p.Port, p.EndPort = &v, &end
		}
		out = append(out, p)
	}
	return out
}

func (c *chooser) peers() []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for i := c.n(3); i > 0; i-- {
		var p networkingv1.NetworkPolicyPeer
		switch c.n(4) {
		case 0:
			p.PodSelector = c.selector()
		case 1:
			p.NamespaceSelector = c.selector()
		case 2:
			p.PodSelector, p.NamespaceSelector = c.selector(), c.selector()
		case 3:
			cidr := genCIDRs[c.n(len(genCIDRs))]
			p.IPBlock = &networkingv1.IPBlock{CIDR: cidr}
			if ex := genExcepts[cidr]; len(ex) > 0 && c.bool() {
				p.IPBlock.Except = ex[:1+c.n(len(ex))]
			}
		}
		out = append(out, p)
	}
	return out
}

func (c *chooser) policy(ns string, i int) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("np%d", i), Namespace: ns},
	}
	np.Spec.PodSelector = *c.selector()
	switch c.n(4) {
	case 1:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	case 2:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	case 3:
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
	}
	for j := c.n(3); j > 0; j-- {
		np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: c.peers(), Ports: c.ports()})
	}
	for j := c.n(3); j > 0; j-- {
		np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: c.peers(), Ports: c.ports()})
	}
	return np
}

func (c *chooser) deployment(ns string, i int) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i), Namespace: ns},
	}
	d.Spec.Template.Labels = c.labels()
	ctr := corev1.Container{Name: "c", Image: "img"}
	for _, name := range genPortNames {
		if c.bool() {
			proto := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}[c.n(3)]
			ctr.Ports = append(ctr.Ports, corev1.ContainerPort{Name: name, ContainerPort: int32(79 + c.n(6)), Protocol: proto})
		}
	}
	d.Spec.Template.Spec.Containers = []corev1.Container{ctr}
	return d
}

// genCluster draws a small cluster: 1-3 namespaces (some without a
// Namespace object), 1-6 workloads, 0-5 policies.
func genCluster(c *chooser) []manifest.Object {
	var objs []manifest.Object
	nss := []string{"ns0", "ns1", "ns2"}[:1+c.n(3)]
	for _, ns := range nss {
		if c.n(4) == 0 {
			continue // referenced but not defined: assumed
		}
		o := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: c.labels()}}
		objs = append(objs, manifest.Object{APIVersion: "v1", Kind: "Namespace", Name: ns, Typed: o})
	}
	for i := c.n(6); i >= 0; i-- {
		ns := nss[c.n(len(nss))]
		d := c.deployment(ns, i)
		objs = append(objs, manifest.Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: d.Name, Typed: d})
	}
	for i := c.n(6); i > 0; i-- {
		ns := nss[c.n(len(nss))]
		p := c.policy(ns, i)
		objs = append(objs, manifest.Object{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: ns, Name: p.Name,
			Source: manifest.Source{File: ns + ".yaml", Line: i}, Typed: p})
	}
	return objs
}

// mutate applies 1-3 PR-like changes to a copy of objs: add, remove or
// replace a policy, relabel a workload or namespace, add or remove a
// workload, change a workload's ports.
func mutate(c *chooser, objs []manifest.Object) []manifest.Object {
	out := append([]manifest.Object(nil), objs...)
	for n := 1 + c.n(3); n > 0; n-- {
		switch c.n(6) {
		case 0: // new or replaced policy
			ns := []string{"ns0", "ns1", "ns2"}[c.n(3)]
			p := c.policy(ns, 1+c.n(5))
			o := manifest.Object{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: ns, Name: p.Name, Typed: p}
			out = replaceOrAdd(out, o)
		case 1: // remove an object
			if len(out) > 0 {
				i := c.n(len(out))
				out = append(out[:i:i], out[i+1:]...)
			}
		case 2: // relabel a workload
			for i, o := range out {
				if d, ok := o.Typed.(*appsv1.Deployment); ok && c.bool() {
					d2 := d.DeepCopy()
					d2.Spec.Template.Labels = c.labels()
					out[i].Typed = d2
					break
				}
			}
		case 3: // relabel or add a namespace
			ns := []string{"ns0", "ns1", "ns2"}[c.n(3)]
			o := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
				ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: c.labels()}}
			out = replaceOrAdd(out, manifest.Object{APIVersion: "v1", Kind: "Namespace", Name: ns, Typed: o})
		case 4: // add a workload
			ns := []string{"ns0", "ns1", "ns2"}[c.n(3)]
			d := c.deployment(ns, 10+c.n(4))
			out = replaceOrAdd(out, manifest.Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: ns, Name: d.Name, Typed: d})
		case 5: // change ports
			for i, o := range out {
				if d, ok := o.Typed.(*appsv1.Deployment); ok && c.bool() {
					d2 := c.deployment(d.Namespace, 0)
					d2.Name = d.Name
					d2.Spec.Template.Labels = d.Spec.Template.Labels
					out[i].Typed = d2
					break
				}
			}
		}
	}
	return out
}

func replaceOrAdd(objs []manifest.Object, o manifest.Object) []manifest.Object {
	for i, x := range objs {
		if x.Kind == o.Kind && x.Namespace == o.Namespace && x.Name == o.Name {
			objs[i] = o
			return objs
		}
	}
	return append(objs, o)
}

func buildCluster(objs []manifest.Object) *model.Cluster {
	return model.Build(objs, model.Options{})
}
