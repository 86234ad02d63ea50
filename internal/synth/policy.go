package synth

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	ingressOnly = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	egressOnly  = []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	bothTypes   = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}
)

func protoPtr(p corev1.Protocol) *corev1.Protocol { return &p }

// policy returns a new NetworkPolicy in ns, with a name not yet used there.
func (b *builder) policy(ns *nsView) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{}
	var base string
	switch x := b.r.Float64(); {
	case x < b.cfg.DefaultDenyFraction:
		base = b.defaultDeny(p)
	default:
		switch y := b.r.IntN(100); {
		case y < 6:
			base = b.dnsEgress(ns, p)
		case y < 8:
			base = b.allowAll(p)
		case y < 11:
			base = b.selectsNothing(ns, p)
		default:
			base = b.general(ns, p)
		}
	}
	name := uniqueName(base, len(ns.policies), func(s string) bool {
		for _, n := range ns.policies {
			if n == s {
				return true
			}
		}
		return false
	})
	ns.policies = append(ns.policies, name)
	p.TypeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
	p.ObjectMeta = metav1.ObjectMeta{Name: name, Namespace: ns.name}
	return p
}

// defaultDeny makes `podSelector: {}` without rules, for ingress, egress or
// both; policyTypes is sometimes omitted (which means Ingress).
func (b *builder) defaultDeny(p *networkingv1.NetworkPolicy) string {
	switch b.r.IntN(10) {
	case 0, 1, 2:
		p.Spec.PolicyTypes = slices.Clone(ingressOnly)
		return "default-deny-ingress"
	case 3, 4:
		p.Spec.PolicyTypes = slices.Clone(egressOnly)
		return "default-deny-egress"
	case 5:
		return "default-deny"
	default:
		p.Spec.PolicyTypes = slices.Clone(bothTypes)
		return "default-deny-all"
	}
}

// dnsEgress allows egress to kube-dns on UDP and TCP 53.
func (b *builder) dnsEgress(ns *nsView, p *networkingv1.NetworkPolicy) string {
	if len(ns.workloads) > 0 && chance(b.r, 0.3) {
		p.Spec.PodSelector, _ = b.subject(ns)
	}
	p.Spec.PolicyTypes = slices.Clone(egressOnly)
	peer := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{labelNSName: kubeSystem}},
	}
	if chance(b.r, 0.7) {
		peer.PodSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}}
	}
	p53 := intstr.FromInt32(53)
	rule := networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{peer},
		Ports: []networkingv1.NetworkPolicyPort{
			{Protocol: protoPtr(corev1.ProtocolUDP), Port: &p53},
			{Protocol: protoPtr(corev1.ProtocolTCP), Port: &p53},
		},
	}
	if chance(b.r, 0.2) {
		dns := intstr.FromString("dns")
		rule.Ports[0].Port = &dns
	}
	p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{rule}
	return "allow-dns"
}

// allowAll allows all ingress or all egress of every pod of the namespace
// (a rule without peers and ports).
func (b *builder) allowAll(p *networkingv1.NetworkPolicy) string {
	if chance(b.r, 0.6) {
		p.Spec.PolicyTypes = slices.Clone(ingressOnly)
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
		return "allow-all-ingress"
	}
	p.Spec.PolicyTypes = slices.Clone(egressOnly)
	p.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{}}
	return "allow-all-egress"
}

// selectsNothing makes a policy whose podSelector matches no workload (its
// pods would come from an operator, or the app was retired).
func (b *builder) selectsNothing(ns *nsView, p *networkingv1.NetworkPolicy) string {
	if chance(b.r, 0.5) {
		p.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{labelApp: "retired-" + pick(b.r, appWords)}}
	} else {
		p.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}}
	}
	p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{b.ingressRule(ns, nil)}
	return "allow-operator-pods"
}

// general makes the common policy: a narrow subject with ingress and/or
// egress rules.
func (b *builder) general(ns *nsView, p *networkingv1.NetworkPolicy) string {
	sel, subj := b.subject(ns)
	p.Spec.PodSelector = sel
	egress := chance(b.r, b.cfg.EgressFraction)
	ingress := !egress || chance(b.r, 0.4)
	for range b.ruleCount() {
		if ingress {
			p.Spec.Ingress = append(p.Spec.Ingress, b.ingressRule(ns, subj))
		}
	}
	if egress {
		for range b.ruleCount() {
			p.Spec.Egress = append(p.Spec.Egress, b.egressRule(ns))
		}
	}
	// policyTypes: omitted in a third of the policies (then Ingress, plus
	// Egress when there are egress rules), else explicit. An egress-only
	// policy without policyTypes isolates ingress too: a real footgun.
	if chance(b.r, 0.65) {
		switch {
		case ingress && egress:
			p.Spec.PolicyTypes = slices.Clone(bothTypes)
		case egress:
			p.Spec.PolicyTypes = slices.Clone(egressOnly)
			if chance(b.r, 0.05) {
				// Ingress rules of a policy whose policyTypes lack Ingress are
				// ignored.
				p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{b.ingressRule(ns, subj)}
			}
		default:
			p.Spec.PolicyTypes = slices.Clone(ingressOnly)
		}
	}
	app := "pods"
	if subj != nil {
		app = subj.labels[labelApp]
		if app == "" {
			app = "pods"
		}
	}
	switch {
	case ingress && egress:
		return "allow-" + app
	case egress:
		return "allow-" + app + "-egress"
	default:
		return "allow-" + app + "-ingress"
	}
}

// ruleCount is 1 mostly, up to 3.
func (b *builder) ruleCount() int {
	switch x := b.r.IntN(10); {
	case x < 7:
		return 1
	case x < 9:
		return 2
	default:
		return 3
	}
}

// ingressRule returns a rule whose named ports refer to subj's ports.
func (b *builder) ingressRule(ns *nsView, subj *workloadView) networkingv1.NetworkPolicyIngressRule {
	var rule networkingv1.NetworkPolicyIngressRule
	switch x := b.r.Float64(); {
	case x < 0.05: // from absent: all sources
	case x < 0.08:
		rule.From = []networkingv1.NetworkPolicyPeer{} // from: [] means the same
	default:
		for range 1 + b.r.IntN(3)*b.r.IntN(2) {
			peer, _ := b.peer(ns)
			rule.From = append(rule.From, peer)
		}
	}
	rule.Ports = b.ports(subj)
	return rule
}

// egressRule returns a rule whose named ports refer to the first peer's ports.
func (b *builder) egressRule(ns *nsView) networkingv1.NetworkPolicyEgressRule {
	var rule networkingv1.NetworkPolicyEgressRule
	var target *workloadView
	switch x := b.r.Float64(); {
	case x < 0.05: // to absent: all destinations
	case x < 0.08:
		rule.To = []networkingv1.NetworkPolicyPeer{} // to: [] means the same
	default:
		for i := range 1 + b.r.IntN(3)*b.r.IntN(2) {
			peer, w := b.peer(ns)
			if i == 0 {
				target = w
			}
			rule.To = append(rule.To, peer)
		}
	}
	rule.Ports = b.ports(target)
	return rule
}

// subject returns a podSelector for a workload of ns (nil when ns has none),
// matching it and often others.
func (b *builder) subject(ns *nsView) (metav1.LabelSelector, *workloadView) {
	if len(ns.workloads) == 0 {
		if chance(b.r, 0.5) {
			return metav1.LabelSelector{}, nil
		}
		return metav1.LabelSelector{MatchLabels: map[string]string{labelApp: pick(b.r, b.w.apps)}}, nil
	}
	w := pick(b.r, ns.workloads)
	if chance(b.r, 0.07) {
		return metav1.LabelSelector{}, w
	}
	return b.podSelectorFor(w), w
}

// podSelectorFor returns a selector that matches w: by app, app and tier,
// instance, or expressions.
func (b *builder) podSelectorFor(w *workloadView) metav1.LabelSelector {
	l := w.labels
	app, hasApp := l[labelApp]
	if !hasApp {
		if len(l) == 0 {
			return metav1.LabelSelector{}
		}
		// kube-dns and the like: match all their labels.
		return metav1.LabelSelector{MatchLabels: copyLabels(l)}
	}
	switch x := b.r.IntN(100); {
	case x < 50:
		return metav1.LabelSelector{MatchLabels: map[string]string{labelApp: app}}
	case x < 65 && l[labelTier] != "":
		return metav1.LabelSelector{MatchLabels: map[string]string{labelApp: app, labelTier: l[labelTier]}}
	case x < 75 && l[labelInstance] != "":
		return metav1.LabelSelector{MatchLabels: map[string]string{labelInstance: l[labelInstance]}}
	default:
		return b.expressionsFor(w)
	}
}

// expressionsFor returns matchExpressions (and sometimes matchLabels) that
// match w, using each operator.
func (b *builder) expressionsFor(w *workloadView) metav1.LabelSelector {
	l := w.labels
	var sel metav1.LabelSelector
	other := pick(b.r, b.w.apps)
	vals := []string{l[labelApp]}
	if other != l[labelApp] {
		vals = append(vals, other)
	}
	if chance(b.r, 0.5) {
		vals[0], vals[len(vals)-1] = vals[len(vals)-1], vals[0]
	}
	sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
		Key: labelApp, Operator: metav1.LabelSelectorOpIn, Values: vals,
	})
	switch b.r.IntN(4) {
	case 0:
		if t := l[labelTier]; t != "batch" {
			vals := []string{"batch"}
			if t != "data" && chance(b.r, 0.5) {
				vals = append(vals, "data")
			}
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
				Key: labelTier, Operator: metav1.LabelSelectorOpNotIn, Values: vals,
			})
		}
	case 1:
		op := metav1.LabelSelectorOpDoesNotExist
		if _, ok := l[labelRole]; ok {
			op = metav1.LabelSelectorOpExists
		}
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: labelRole, Operator: op})
	case 2:
		op := metav1.LabelSelectorOpDoesNotExist
		if _, ok := l[labelVersion]; ok {
			op = metav1.LabelSelectorOpExists
		}
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{Key: labelVersion, Operator: op})
	default:
		if t := l[labelTier]; t != "" {
			sel.MatchLabels = map[string]string{labelTier: t}
		}
	}
	return sel
}

// peer returns a rule peer, mostly narrow (one app in the same namespace),
// sometimes broad, and the workload whose ports named ports should use.
func (b *builder) peer(ns *nsView) (networkingv1.NetworkPolicyPeer, *workloadView) {
	if chance(b.r, b.cfg.IPBlockFraction) {
		return networkingv1.NetworkPolicyPeer{IPBlock: b.ipBlock()}, nil
	}
	sameNS := func() (networkingv1.NetworkPolicyPeer, *workloadView) {
		if len(ns.workloads) == 0 {
			return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}, nil
		}
		w := pick(b.r, ns.workloads)
		sel := b.podSelectorFor(w)
		return networkingv1.NetworkPolicyPeer{PodSelector: &sel}, w
	}
	switch x := b.r.IntN(100); {
	case x < 55:
		return sameNS()
	case x < 61:
		return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}}, nil
	case x < 73:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: b.namespaceSelector()}, nil
	case x < 88:
		others := b.w.withWorkloads()
		if len(others) == 0 {
			return sameNS()
		}
		o := pick(b.r, others)
		w := pick(b.r, o.workloads)
		sel := b.podSelectorFor(w)
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: b.namespaceSelectorFor(o), PodSelector: &sel}, w
	case x < 92:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}}, nil
	case x < 95:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{}}, nil
	default:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: b.namespaceExpressions()}, nil
	}
}

// namespaceSelector selects namespaces by the label of a declared one.
func (b *builder) namespaceSelector() *metav1.LabelSelector {
	decl := b.w.declared()
	if len(decl) == 0 {
		return &metav1.LabelSelector{MatchLabels: map[string]string{labelTeam: pick(b.r, teams)}}
	}
	return b.namespaceSelectorFor(pick(b.r, decl))
}

// namespaceSelectorFor returns a selector that matches n by one label, or by
// kubernetes.io/metadata.name (which every namespace has, declared or not).
func (b *builder) namespaceSelectorFor(n *nsView) *metav1.LabelSelector {
	keys := []string{labelTeam, labelEnv, labelClass, labelNSName, labelNSName}
	k := pick(b.r, keys)
	v := n.labels[k]
	if v == "" || k == labelNSName {
		k, v = labelNSName, n.name
	}
	return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
}

// namespaceExpressions returns a namespaceSelector with matchExpressions.
func (b *builder) namespaceExpressions() *metav1.LabelSelector {
	var req metav1.LabelSelectorRequirement
	switch b.r.IntN(4) {
	case 0:
		req = metav1.LabelSelectorRequirement{Key: labelClass, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"restricted", "confidential"}}
	case 1:
		req = metav1.LabelSelectorRequirement{Key: labelEnv, Operator: metav1.LabelSelectorOpIn, Values: []string{"prod", "staging"}}
	case 2:
		req = metav1.LabelSelectorRequirement{Key: labelTeam, Operator: metav1.LabelSelectorOpExists}
	default:
		req = metav1.LabelSelectorRequirement{Key: labelClass, Operator: metav1.LabelSelectorOpDoesNotExist}
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{req}}
}

// ports returns a rule's ports: absent (all) a quarter of the time, else
// numbers, names (of target's ports when known), endPort ranges, protocols.
func (b *builder) ports(target *workloadView) []networkingv1.NetworkPolicyPort {
	switch x := b.r.Float64(); {
	case x < 0.21:
		return nil // all ports
	case x < 0.25:
		return []networkingv1.NetworkPolicyPort{} // ports: [] means the same
	}
	var out []networkingv1.NetworkPolicyPort
	for range 1 + b.r.IntN(2)*b.r.IntN(3) {
		out = append(out, b.port(target))
	}
	return out
}

func (b *builder) port(target *workloadView) networkingv1.NetworkPolicyPort {
	var tp *corev1.ContainerPort
	if target != nil && len(target.ports) > 0 {
		tp = &target.ports[b.r.IntN(len(target.ports))]
	}
	proto := func(p corev1.Protocol) *corev1.Protocol {
		if p == "" || p == corev1.ProtocolTCP {
			if chance(b.r, 0.6) {
				return nil
			}
			return protoPtr(corev1.ProtocolTCP)
		}
		return protoPtr(p)
	}
	x := b.r.Float64()
	switch {
	case x < 0.04:
		// A protocol alone: all its ports.
		return networkingv1.NetworkPolicyPort{Protocol: protoPtr(pick(b.r, []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolSCTP, corev1.ProtocolTCP}))}
	case x < 0.04+b.cfg.NamedPortFraction:
		name, pr := "", corev1.Protocol("")
		if tp != nil && tp.Name != "" {
			name, pr = tp.Name, tp.Protocol
		} else {
			d := pick(b.r, portCatalog)
			name, pr = d.name, d.proto
		}
		if chance(b.r, 0.03) {
			pr = corev1.ProtocolUDP // often the wrong protocol: matches nothing
		}
		v := intstr.FromString(name)
		return networkingv1.NetworkPolicyPort{Protocol: proto(pr), Port: &v}
	}
	num, pr := pick(b.r, commonNum), corev1.Protocol("")
	if tp != nil && chance(b.r, 0.7) {
		num, pr = tp.ContainerPort, tp.Protocol
	}
	if pr == "" && chance(b.r, 0.05) {
		pr = pick(b.r, []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolSCTP})
	}
	v := intstr.FromInt32(num)
	p := networkingv1.NetworkPolicyPort{Protocol: proto(pr), Port: &v}
	if chance(b.r, 0.12) {
		end := min(num+int32(b.r.IntN(1000)), 65535)
		p.EndPort = &end
	}
	return p
}

// v4Bases and v6Bases are the address ranges ipBlocks are drawn from.
var (
	v4Bases = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("52.0.0.0/8"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
	}
	v6Bases = []netip.Prefix{
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("2600:1f00::/24"),
	}
	privateV4 = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
)

// ipBlock returns an IPv4 or IPv6 block, sometimes the whole internet minus
// private ranges, often with excepts strictly inside the cidr.
func (b *builder) ipBlock() *networkingv1.IPBlock {
	v6 := chance(b.r, b.cfg.IPv6Fraction)
	if chance(b.r, 0.15) {
		if v6 {
			blk := &networkingv1.IPBlock{CIDR: "::/0"}
			if chance(b.r, 0.5) {
				blk.Except = []string{"fd00::/8"}
			}
			return blk
		}
		blk := &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}
		if chance(b.r, 0.6) {
			blk.Except = append([]string(nil), privateV4[:1+b.r.IntN(3)]...)
		}
		return blk
	}
	bases, maxBits := v4Bases, 32
	if v6 {
		bases, maxBits = v6Bases, 128
	}
	base := pick(b.r, bases)
	bits := min(base.Bits()+b.r.IntN(13), maxBits-2)
	cidr := randomWithin(b, base, bits)
	blk := &networkingv1.IPBlock{CIDR: cidr.String()}
	if chance(b.r, 0.35) {
		for range 1 + b.r.IntN(2) {
			eb := min(cidr.Bits()+1+b.r.IntN(8), maxBits)
			blk.Except = append(blk.Except, randomWithin(b, cidr, eb).String())
		}
	}
	return blk
}

// randomWithin returns a random prefix of the given length inside p.
func randomWithin(b *builder, p netip.Prefix, bits int) netip.Prefix {
	a := p.Addr().As16()
	off := 0
	if p.Addr().Is4() {
		off = 12
	}
	for i := off; i < 16; i++ {
		bit := (i - off) * 8
		if bit+8 <= p.Bits() {
			continue
		}
		rnd := byte(b.r.IntN(256))
		keep := 0
		if bit < p.Bits() {
			keep = p.Bits() - bit
		}
		mask := byte(0xff) << (8 - keep)
		if keep == 0 {
			mask = 0
		}
		a[i] = a[i]&mask | rnd&^mask
	}
	addr := netip.AddrFrom16(a)
	if p.Addr().Is4() {
		addr = addr.Unmap()
	}
	return netip.PrefixFrom(addr, bits).Masked()
}

func copyLabels(l map[string]string) map[string]string {
	out := make(map[string]string, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}
