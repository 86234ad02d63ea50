package synth

import (
	"fmt"
	"net/netip"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// validate checks the Kubernetes validation rules that matter to reachdiff
// and returns the problems found.
func validate(c *Cluster) []string {
	var errs []string
	bad := func(o string, format string, args ...any) {
		errs = append(errs, o+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	for _, o := range c.Objects {
		name := objectName(o)
		if seen[name] {
			bad(name, "duplicate object")
		}
		seen[name] = true
		meta, ok := o.Typed.(metav1.Object)
		if !ok {
			bad(name, "typed %T is not a Kubernetes object", o.Typed)
			continue
		}
		if meta.GetName() != o.Name || meta.GetNamespace() != o.Namespace {
			bad(name, "Object says %s/%s, metadata %s/%s", o.Namespace, o.Name, meta.GetNamespace(), meta.GetName())
		}
		if o.Kind == "Namespace" {
			for _, m := range validation.IsDNS1123Label(o.Name) {
				bad(name, "name: %s", m)
			}
		} else {
			for _, m := range validation.IsDNS1123Label(o.Namespace) {
				bad(name, "namespace: %s", m)
			}
			for _, m := range validation.IsDNS1123Subdomain(o.Name) {
				bad(name, "name: %s", m)
			}
		}
		for _, e := range metav1validation.ValidateLabels(meta.GetLabels(), field.NewPath("metadata", "labels")) {
			bad(name, "%v", e)
		}
		for k := range meta.GetAnnotations() {
			for _, m := range validation.IsQualifiedName(k) {
				bad(name, "annotation %q: %s", k, m)
			}
		}
		if t := podTemplate(o.Typed); t != nil {
			errs = append(errs, validateWorkload(name, o.Typed, t)...)
		}
		if p, ok := o.Typed.(*networkingv1.NetworkPolicy); ok {
			errs = append(errs, validatePolicy(name, p)...)
		}
	}
	return errs
}

var protocols = map[corev1.Protocol]bool{corev1.ProtocolTCP: true, corev1.ProtocolUDP: true, corev1.ProtocolSCTP: true}

func validateWorkload(name string, typed any, t *corev1.PodTemplateSpec) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, name+": "+fmt.Sprintf(format, args...)) }
	var sel *metav1.LabelSelector
	switch w := typed.(type) {
	case *appsv1.Deployment:
		sel = w.Spec.Selector
	case *appsv1.StatefulSet:
		sel = w.Spec.Selector
	case *appsv1.DaemonSet:
		sel = w.Spec.Selector
	}
	for _, e := range metav1validation.ValidateLabels(t.Labels, field.NewPath("spec", "template", "metadata", "labels")) {
		bad("%v", e)
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || !s.Matches(labels.Set(t.Labels)) {
		bad("selector %v does not match template labels %v (%v)", sel, t.Labels, err)
	}
	names := map[string]bool{}
	for _, c := range t.Spec.Containers {
		for _, p := range c.Ports {
			for _, m := range validation.IsValidPortNum(int(p.ContainerPort)) {
				bad("containerPort %d: %s", p.ContainerPort, m)
			}
			if p.Protocol != "" && !protocols[p.Protocol] {
				bad("protocol %q", p.Protocol)
			}
			if p.Name == "" {
				continue
			}
			for _, m := range validation.IsValidPortName(p.Name) {
				bad("port name %q: %s", p.Name, m)
			}
			if names[p.Name] {
				bad("port name %q twice in the pod", p.Name)
			}
			names[p.Name] = true
		}
	}
	return errs
}

func validatePolicy(name string, p *networkingv1.NetworkPolicy) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, name+": "+fmt.Sprintf(format, args...)) }
	selector := func(path *field.Path, s *metav1.LabelSelector) {
		if s == nil {
			return
		}
		for _, e := range metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, path) {
			bad("%v", e)
		}
	}
	selector(field.NewPath("spec", "podSelector"), &p.Spec.PodSelector)
	types := map[networkingv1.PolicyType]bool{}
	for _, t := range p.Spec.PolicyTypes {
		if (t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress) || types[t] {
			bad("policyTypes %v", p.Spec.PolicyTypes)
		}
		types[t] = true
	}
	peers := func(path *field.Path, ps []networkingv1.NetworkPolicyPeer) {
		for i, pe := range ps {
			pp := path.Index(i)
			selector(pp.Child("podSelector"), pe.PodSelector)
			selector(pp.Child("namespaceSelector"), pe.NamespaceSelector)
			if pe.IPBlock == nil {
				if pe.PodSelector == nil && pe.NamespaceSelector == nil {
					bad("%s: empty peer", pp)
				}
				continue
			}
			if pe.PodSelector != nil || pe.NamespaceSelector != nil {
				bad("%s: ipBlock with a selector", pp)
			}
			cidr, err := netip.ParsePrefix(pe.IPBlock.CIDR)
			if err != nil {
				bad("%s: cidr: %v", pp, err)
				continue
			}
			for _, ex := range pe.IPBlock.Except {
				e, err := netip.ParsePrefix(ex)
				// "except ... must be a strict subset of cidr" (IPBlock docs).
				if err != nil || e.Addr().Is4() != cidr.Addr().Is4() || e.Bits() <= cidr.Bits() || !cidr.Contains(e.Addr()) {
					bad("%s: except %q not strictly inside %s (%v)", pp, ex, cidr, err)
				}
			}
		}
	}
	ports := func(path *field.Path, ps []networkingv1.NetworkPolicyPort) {
		for i, pt := range ps {
			pp := path.Index(i)
			if pt.Protocol != nil && !protocols[*pt.Protocol] {
				bad("%s: protocol %q", pp, *pt.Protocol)
			}
			if pt.Port == nil {
				if pt.EndPort != nil {
					bad("%s: endPort without port", pp)
				}
				continue
			}
			if pt.Port.StrVal != "" || pt.Port.Type != 0 {
				for _, m := range validation.IsValidPortName(pt.Port.StrVal) {
					bad("%s: port %q: %s", pp, pt.Port.StrVal, m)
				}
				if pt.EndPort != nil {
					bad("%s: endPort with a named port", pp)
				}
				continue
			}
			for _, m := range validation.IsValidPortNum(int(pt.Port.IntVal)) {
				bad("%s: port %d: %s", pp, pt.Port.IntVal, m)
			}
			if pt.EndPort != nil && (*pt.EndPort < pt.Port.IntVal || *pt.EndPort > 65535) {
				bad("%s: endPort %d with port %d", pp, *pt.EndPort, pt.Port.IntVal)
			}
		}
	}
	for i, r := range p.Spec.Ingress {
		peers(field.NewPath("spec", "ingress").Index(i).Child("from"), r.From)
		ports(field.NewPath("spec", "ingress").Index(i).Child("ports"), r.Ports)
	}
	for i, r := range p.Spec.Egress {
		peers(field.NewPath("spec", "egress").Index(i).Child("to"), r.To)
		ports(field.NewPath("spec", "egress").Index(i).Child("ports"), r.Ports)
	}
	return errs
}

func TestValid(t *testing.T) {
	clusters := map[string]*Cluster{"CIDRHeavy(1)": CIDRHeavy(1)}
	for _, cfg := range configs {
		c := Generate(cfg)
		clusters[fmt.Sprintf("Generate(%+v)", cfg)] = c
		for seed := range int64(2) {
			m, _ := Mutate(c, seed, 25)
			clusters[fmt.Sprintf("Mutate(Generate(%+v), %d, 25)", cfg, seed)] = m
		}
	}
	for name, c := range clusters {
		if errs := validate(c); len(errs) > 0 {
			if len(errs) > 10 {
				errs = errs[:10]
			}
			t.Errorf("validate(%s) = %d problems, first: %q; want none", name, len(errs), errs)
		}
	}
}

// TestValidateCatches makes sure the validator used above finds each kind of
// mistake it checks.
func TestValidateCatches(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *networkingv1.NetworkPolicy)
	}{
		{"except outside cidr", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].IPBlock.Except = []string{"11.0.0.0/16"}
		}},
		{"except equal to cidr", func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress[0].From[0].IPBlock.Except = []string{"10.0.0.0/8"}
		}},
		{"endPort below port", func(p *networkingv1.NetworkPolicy) {
			e := int32(1)
			p.Spec.Ingress[0].Ports[0].EndPort = &e
		}},
		{"bad label value", func(p *networkingv1.NetworkPolicy) { p.Spec.PodSelector.MatchLabels = map[string]string{"app": "-x-"} }},
		{"In without values", func(p *networkingv1.NetworkPolicy) {
			p.Spec.PodSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := intstrPort(80)
			p := &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
				Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				}}},
			}
			c := &Cluster{Objects: []manifest.Object{object(p)}}
			if errs := validate(c); len(errs) != 0 {
				t.Fatalf("validate(valid policy) = %q; want none", errs)
			}
			tt.edit(p)
			if errs := validate(c); len(errs) == 0 {
				t.Errorf("validate(%s) = none; want a problem", tt.name)
			}
		})
	}
}

func intstrPort(n int32) intstr.IntOrString { return intstr.FromInt32(n) }
