package synth

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// CIDR-heavy shape: the size of netpol-analyzer's largest test.
const (
	heavyPeers       = 600 // ipBlock peers
	heavyExceptEvery = 15  // one peer in 15 has an except: 640 CIDRs in all
	heavyRules       = 4   // peers are split over 2 ingress and 2 egress rules
)

// CIDRHeavy returns a cluster shaped like netpol-analyzer's largest test: 29
// workloads in three namespaces and one NetworkPolicy whose rules name 640
// CIDRs (600 ipBlocks, 40 of them with an except), most of them distinct,
// some nested in others.
func CIDRHeavy(seed int64) *Cluster {
	b := &builder{r: newRand(seed, 3), cfg: Config{}.withDefaults(), w: newWorld()}
	b.w.apps = appVocab(8)
	var objs []manifest.Object
	for _, name := range []string{"default", "hello-world", kubeSystem} {
		n := b.w.ns(name)
		n.declared = true
		n.labels = map[string]string{labelNSName: name}
		objs = append(objs, object(namespaceObject(name, n.labels)))
	}
	perNS := map[string][]manifest.Object{}
	ks := b.w.byName[kubeSystem]
	dns := kubeDNS()
	ks.workloads = append(ks.workloads, viewOf(dns))
	perNS[kubeSystem] = append(perNS[kubeSystem], object(dns))
	for i := range 28 {
		n := b.w.nss[i%3]
		o, v := b.workload(n, "")
		n.workloads = append(n.workloads, v)
		perNS[n.name] = append(perNS[n.name], object(o))
	}

	seen := map[netip.Prefix]bool{}
	var peers []networkingv1.NetworkPolicyPeer
	var last netip.Prefix
	for i := range heavyPeers {
		var p netip.Prefix
		if i%10 == 9 && last.Bits() < 28 {
			// Nested in the previous block: the atoms split.
			p = randomWithin(b, last, last.Bits()+2)
		} else {
			for {
				a := netip.AddrFrom4([4]byte{byte(1 + b.r.IntN(223)), byte(b.r.IntN(256)), byte(b.r.IntN(256)), byte(b.r.IntN(256))})
				p = netip.PrefixFrom(a, 12+b.r.IntN(17)).Masked()
				if !seen[p] {
					break
				}
			}
		}
		seen[p] = true
		last = p
		blk := &networkingv1.IPBlock{CIDR: p.String()}
		if i%heavyExceptEvery == 0 {
			blk.Except = []string{randomWithin(b, p, min(p.Bits()+1+b.r.IntN(4), 32)).String()}
		}
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: blk})
	}
	chunk := heavyPeers / heavyRules
	tcp443, udp53, p80 := intstr.FromInt32(443), intstr.FromInt32(53), intstr.FromInt32(8080)
	end := int32(8090)
	pol := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "cidr-heavy", Namespace: kubeSystem},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: labelApp, Operator: metav1.LabelSelectorOpExists},
			}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: peers[:chunk:chunk]},
				{From: peers[chunk : 2*chunk : 2*chunk], Ports: []networkingv1.NetworkPolicyPort{{Port: &p80, EndPort: &end}}},
			},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: peers[2*chunk : 3*chunk : 3*chunk], Ports: []networkingv1.NetworkPolicyPort{{Port: &tcp443}}},
				{To: peers[3*chunk:], Ports: []networkingv1.NetworkPolicyPort{{Protocol: protoPtr(corev1.ProtocolUDP), Port: &udp53}}},
			},
		},
	}
	perNS[kubeSystem] = append(perNS[kubeSystem], object(pol))
	for _, name := range []string{"default", "hello-world", kubeSystem} {
		objs = append(objs, perNS[name]...)
	}
	layout(objs, nil)
	return &Cluster{Objects: objs}
}
