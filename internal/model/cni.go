package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// CNI names a profile of the semantics network plugins disagree on. The
// first such point is whether an ipBlock (or an admin `networks` peer)
// matches pod addresses.
//
// The Kubernetes documentation leaves it open: "ipBlock: This selects
// particular IP CIDR ranges to allow as ingress sources or egress
// destinations. These should be cluster-external IPs, since Pod IPs are
// ephemeral and unpredictable." (concepts/services-networking/network-policies).
type CNI string

// The profiles. The zero value reads as CNICiliumLike.
const (
	// CNICiliumLike: an ipBlock never matches a pod, whatever its address
	// (Cilium selects pods by identity, CIDR rules by world addresses). It
	// is what reachdiff's oracle assumes.
	CNICiliumLike CNI = "cilium-like"
	// CNICalico: an ipBlock or networks CIDR matches every address inside
	// it, pod addresses included (Calico turns ipBlock into a CIDR match on
	// the packet's address, without regard to who owns it).
	CNICalico CNI = "calico"
)

// CNIs lists the profiles, the default first.
var CNIs = []CNI{CNICiliumLike, CNICalico}

// ParseCNI reads a profile name; "" is the default, cilium-like.
func ParseCNI(s string) (CNI, error) {
	switch c := CNI(strings.TrimSpace(s)); c {
	case "", CNICiliumLike:
		return CNICiliumLike, nil
	case CNICalico:
		return CNICalico, nil
	default:
		return "", fmt.Errorf("unknown CNI profile %q (want cilium-like or calico)", s)
	}
}

// Profile returns c with the zero value read as CNICiliumLike.
func (c CNI) Profile() CNI {
	if c == "" {
		return CNICiliumLike
	}
	return c
}

// IPBlockMatchesPods reports whether, under c, an ipBlock or networks CIDR
// matches the pods whose addresses fall inside it.
func (c CNI) IPBlockMatchesPods() bool { return c.Profile() == CNICalico }

// DefaultPodCIDRs are the pod address ranges assumed when none are given:
// all of IPv4 and IPv6, that is, pod addresses are unknown.
func DefaultPodCIDRs() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
}

// ParsePodCIDRs reads a comma-separated list of pod CIDRs (the cluster's
// --cluster-cidr, or Calico's IP pools), as given to --pod-cidr. Empty
// items are skipped; host bits are an error (a typo more often than not).
// The result is sorted and free of repeats.
func ParsePodCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, hostBits, err := ipset.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("pod CIDR %q: %w", f, err)
		}
		if hostBits {
			return nil, fmt.Errorf("pod CIDR %s has host bits set (did you mean %s?)", f, p.Masked())
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, comparePrefix)
	return slices.Compact(out), nil
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// podCIDRs returns the pod CIDRs in effect: the given ones, else the
// defaults.
func (o Options) podCIDRs() []netip.Prefix {
	if len(o.PodCIDRs) == 0 {
		return DefaultPodCIDRs()
	}
	return o.PodCIDRs
}

// sameCNI reports whether c was built with the CNI options of o, so that
// its compiled policies can be reused (Options.Reuse).
func (c *Cluster) sameCNI(o Options) bool {
	return c.cni == o.CNI.Profile() && slices.Equal(c.podCIDRs, o.PodCIDRs)
}

// CNI returns the profile the cluster was built with and the pod CIDRs in
// effect (DefaultPodCIDRs when none were given).
func (c *Cluster) CNI() (CNI, []netip.Prefix) {
	if len(c.podCIDRs) == 0 {
		return c.cni.Profile(), DefaultPodCIDRs()
	}
	return c.cni.Profile(), slices.Clone(c.podCIDRs)
}

// podOverlap is how an address set relates to the pod CIDRs.
type podOverlap uint8

const (
	podsOutside podOverlap = iota // no pod address is in the set
	podsPartly                    // some pod addresses are, maybe not all
	podsAll                       // every pod has an address in the set
)

// overlapPods classifies set against pods. A pod has one address per
// address family of the pod CIDRs (dual stack), so a set that holds every
// pod CIDR of one family reaches every pod.
func overlapPods(set ipset.Set, pods []netip.Prefix) podOverlap {
	held := map[bool]bool{} // address family (Is4) -> the set holds all its pod CIDRs
	some := false
	for _, p := range pods {
		r := ipset.RangeOf(p)
		is4 := p.Addr().Is4()
		h, seen := held[is4]
		held[is4] = (h || !seen) && set.ContainsRange(r)
		some = some || !set.Intersect(ipset.FromRanges(r)).IsEmpty()
	}
	switch {
	case held[true] || held[false]:
		return podsAll
	case some:
		return podsPartly
	}
	return podsOutside
}

// ipBlockPodPeer is the peer the calico profile adds after an ipBlock that
// holds every pod address: all pods (the engines leave host-networked ones
// out, their addresses are node addresses).
func ipBlockPodPeer() Peer {
	ns, pod := Everything, Everything
	return Peer{NamespaceSel: &ns, PodSel: &pod, ViaIPBlock: true}
}

// networksPodPeer is ipBlockPodPeer for admin policies.
func networksPodPeer() AdminPeer {
	ns := Everything
	return AdminPeer{NamespaceSel: &ns, ViaNetworks: true}
}

// MatchesWorkload reports whether a peer that selects w by its labels
// selects it: a peer added by the calico profile selects pods by address,
// and a host-networked pod's address is its node's.
func (p Peer) MatchesWorkload(w *Workload) bool { return !p.ViaIPBlock || !w.HostNetwork }

// WrittenPeer returns the position in the manifest of peer i of r: a peer
// added by the calico profile counts as the peer it follows.
func (r Rule) WrittenPeer(i int) int {
	n := i
	for _, p := range r.Peers[:i+1] {
		if p.ViaIPBlock {
			n--
		}
	}
	return n
}

// WrittenPeer returns the position in the manifest of peer i of r: a peer
// added by the calico profile counts as the peer it follows.
func (r AdminRule) WrittenPeer(i int) int {
	n := i
	for _, p := range r.Peers[:i+1] {
		if p.ViaNetworks {
			n--
		}
	}
	return n
}

// ipBlockMatchesPods applies the CNI profile to the ipBlock of peer i of
// a NetworkPolicy rule: it reports whether the peer matches every pod,
// and gives the diagnostics of the other cases.
func (b *builder) ipBlockMatchesPods(o manifest.Object, dir string, rule, i int, blk *IPBlock) bool {
	field := "from"
	if dir == "egress" {
		field = "to"
	}
	where := fmt.Sprintf("spec.%s[%d].%s[%d].ipBlock %s", dir, rule, field, i, ipBlockText(blk))
	if !b.opts.CNI.IPBlockMatchesPods() {
		// Only pod CIDRs the user gave are worth a note: by default pod
		// addresses are unknown, and the documentation says ipBlocks
		// "should be cluster-external IPs".
		for _, p := range b.opts.PodCIDRs {
			if blk.Set.ContainsRange(ipset.RangeOf(p)) {
				d := warnf(o, "%s holds pod CIDR %s; under the %s CNI profile an ipBlock does not match pods (use --cni calico if the cluster runs Calico)", where, p, CNICiliumLike)
				d.Severity = diag.Info
				b.diag(d)
				break
			}
		}
		return false
	}
	return b.podMatch(o, where, blk.Set)
}

// networksMatchPods is ipBlockMatchesPods for a networks peer of an admin
// policy rule.
func (b *builder) networksMatchPods(o manifest.Object, dir string, rule int, field string, i int, cidrs []string, set ipset.Set) bool {
	if !b.opts.CNI.IPBlockMatchesPods() {
		return false
	}
	return b.podMatch(o, fmt.Sprintf("spec.%s[%d].%s[%d].networks %s", dir, rule, field, i, strings.Join(cidrs, ",")), set)
}

// podMatch classifies set against the pod CIDRs under the calico profile:
// true when it holds every pod address; a warning when it holds some.
func (b *builder) podMatch(o manifest.Object, where string, set ipset.Set) bool {
	switch overlapPods(set, b.opts.podCIDRs()) {
	case podsAll:
		return true
	case podsPartly:
		hint := ""
		if len(b.opts.PodCIDRs) == 0 {
			hint = " (pod addresses are unknown: give the pod CIDRs with --pod-cidr)"
		}
		b.diag(warnf(o, "%s: under the %s CNI profile it matches the pods whose addresses fall inside it; reachdiff cannot tell which: treated as matching none%s", where, CNICalico, hint))
	}
	return false
}

// ipBlockText prints an ipBlock as written: "10.0.0.0/8" or
// "0.0.0.0/0 except 10.244.0.0/16".
func ipBlockText(blk *IPBlock) string {
	s := blk.CIDR.String()
	if len(blk.Except) == 0 {
		return s
	}
	ex := make([]string, len(blk.Except))
	for i, e := range blk.Except {
		ex[i] = e.String()
	}
	return s + " except " + strings.Join(ex, ",")
}

func cidrStrings[S ~string](cs []S) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}
