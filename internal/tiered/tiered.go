// Package tiered computes reachability pair by pair through the policy
// tiers: AdminNetworkPolicy, then NetworkPolicy, then
// BaselineAdminNetworkPolicy, plus the ingress controller's reach through
// Ingresses and Routes. It is slow and plain on purpose: a reference.
package tiered

import (
	"cmp"
	"slices"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// IngressController is the source of traffic that arrives through an
// Ingress or a Route.
const IngressController = "{ingress-controller}"

// controllerNamespace is the namespace of the hypothetical workload that
// stands for the ingress controller. It is not a valid namespace name, so
// it never collides with a real one.
const controllerNamespace = "{ingress-controller}"

// Endpoint is one end of a connection: a workload, or (when Workload is
// nil) an external address range.
type Endpoint struct {
	Workload *model.Workload
	External ipset.Range
}

// String prints the workload key or the range (a CIDR when it is one).
func (e Endpoint) String() string {
	if e.Workload != nil {
		return e.Workload.Key()
	}
	return e.External.String()
}

// Point names one end of a Line: a workload key or IngressController in
// Name, else the external range.
type Point struct {
	Name     string
	External ipset.Range
}

// String prints the name, or the range (a CIDR when it is one).
func (p Point) String() string {
	if p.Name != "" {
		return p.Name
	}
	return p.External.String()
}

// Line is one allowed pair: SRC => DST : CONNS.
type Line struct {
	Src, Dst Point
	Conns    connset.Set
}

// String prints the line in the format of `reachdiff eval`.
func (l Line) String() string {
	return l.Src.String() + " => " + l.Dst.String() + " : " + l.Conns.String()
}

// Needed reports whether c holds objects that only this evaluator models
// (admin policies, Ingresses, Routes): the bitset evaluator's answer
// ignores them.
func Needed(c *model.Cluster) bool { return len(c.AdminPolicies) > 0 || len(c.Exposures) > 0 }

// peer is the other end of a direction: a workload with its namespace's
// labels, or an external range.
type peer struct {
	w        *model.Workload
	nsLabels map[string]string
	ext      ipset.Range
}

func workloadPeer(c *model.Cluster, w *model.Workload) peer {
	return peer{w: w, nsLabels: namespaceLabels(c, w.Namespace)}
}

func namespaceLabels(c *model.Cluster, ns string) map[string]string {
	if n := c.Namespace(ns); n != nil {
		return n.Labels
	}
	return map[string]string{model.NamespaceNameLabel: ns}
}

// Conns is what src may open to dst: the source's egress verdict and the
// destination's ingress verdict, both per port. An external end has no
// verdict of its own; two external ends, or a workload with itself, have
// no connection.
func Conns(c *model.Cluster, src, dst Endpoint) connset.Set {
	if src.Workload == nil && dst.Workload == nil || src.Workload != nil && src.Workload == dst.Workload {
		return connset.None()
	}
	out := connset.All()
	if src.Workload != nil {
		p := peer{ext: dst.External}
		if dst.Workload != nil {
			p = workloadPeer(c, dst.Workload)
		}
		out = out.Intersect(direction(c, src.Workload, true, p))
	}
	if dst.Workload != nil {
		p := peer{ext: src.External}
		if src.Workload != nil {
			p = workloadPeer(c, src.Workload)
		}
		out = out.Intersect(direction(c, dst.Workload, false, p))
	}
	return out
}

// IngressConns is what the ingress controller reaches on w through every
// Ingress and Route whose backends select w: the Service target ports, as
// far as the policies allow ingress into w from an arbitrary in-cluster
// workload. That workload is modelled as an unlabelled pod in a namespace
// of its own (labelled only kubernetes.io/metadata.name), whose egress is
// not restricted.
func IngressConns(c *model.Cluster, w *model.Workload) connset.Set {
	exposed := connset.None()
	for _, e := range c.Exposures {
		for _, t := range e.Targets {
			if t.Workload == w.Key() {
				exposed = exposed.Union(t.Conns)
			}
		}
	}
	if exposed.IsEmpty() {
		return exposed
	}
	ctl := &model.Workload{Namespace: controllerNamespace, Name: "controller", Kind: "Pod", Labels: map[string]string{}}
	p := peer{w: ctl, nsLabels: map[string]string{model.NamespaceNameLabel: controllerNamespace}}
	return exposed.Intersect(direction(c, w, false, p))
}

// direction is the verdict of w's policies for one direction (egress when
// egress is set) against the peer p, per port.
//
// "Pass: instructs the selected traffic to skip any remaining ANP rules,
// and then pass execution to any NetworkPolicies that select the pod. If
// the pod is not selected by any NetworkPolicies then execution is passed
// to any BaselineAdminNetworkPolicies that select the pod."
// (AdminNetworkPolicyIngressRule.action)
func direction(c *model.Cluster, w *model.Workload, egress bool, p peer) connset.Set {
	nsLabels := namespaceLabels(c, w.Namespace)
	// The port belongs to the destination: w on ingress, the peer on
	// egress (an external peer has no named ports).
	portHolder := w
	if egress {
		portHolder = p.w
	}
	allowed, undecided := connset.None(), connset.All()
	passed := connset.None()
	for _, ap := range c.AdminPoliciesOf(model.TierAdmin) {
		if undecided.IsEmpty() {
			break
		}
		if !subjectMatches(ap, nsLabels, w) {
			continue
		}
		for _, r := range rulesOf(ap, egress) {
			if !adminPeerMatches(r, p) {
				continue
			}
			set := r.Conns(portHolder).Intersect(undecided)
			if set.IsEmpty() {
				continue
			}
			undecided = undecided.Subtract(set)
			switch r.Action {
			case model.ActionAllow:
				allowed = allowed.Union(set)
			case model.ActionPass:
				passed = passed.Union(set)
			}
		}
	}
	undecided = undecided.Union(passed)
	if isolated, npAllowed := npDirection(c, w, egress, p, portHolder); isolated {
		return allowed.Union(undecided.Intersect(npAllowed))
	}
	for _, bp := range c.AdminPoliciesOf(model.TierBaseline) {
		if !subjectMatches(bp, nsLabels, w) {
			continue
		}
		for _, r := range rulesOf(bp, egress) {
			if !adminPeerMatches(r, p) {
				continue
			}
			set := r.Conns(portHolder).Intersect(undecided)
			undecided = undecided.Subtract(set)
			if r.Action == model.ActionAllow {
				allowed = allowed.Union(set)
			}
		}
	}
	// What no tier decides is allowed, as in a cluster without policies.
	return allowed.Union(undecided)
}

// subjectMatches applies an admin policy's subject to w. "Note that
// host-networked pods are not included in subject selection."
// (AdminNetworkPolicySpec.subject)
func subjectMatches(ap *model.AdminPolicy, nsLabels map[string]string, w *model.Workload) bool {
	return !w.HostNetwork && ap.Subject.Matches(nsLabels, w.Labels)
}

func rulesOf(ap *model.AdminPolicy, egress bool) []model.AdminRule {
	if egress {
		return ap.Egress
	}
	return ap.Ingress
}

// adminPeerMatches reports whether any peer of r selects p. "If any element
// matches the source of incoming traffic then the specified action is
// applied." Pod addresses are not modelled, so networks peers match only
// external ranges; "host-networked pods are not included in this type of
// peer" (namespaces and pods peers).
func adminPeerMatches(r model.AdminRule, p peer) bool {
	for _, pr := range r.Peers {
		if p.w == nil {
			if pr.MatchesExternal(p.ext) {
				return true
			}
			continue
		}
		if !p.w.HostNetwork && pr.MatchesPod(p.nsLabels, p.w.Labels) {
			return true
		}
	}
	return false
}

// npDirection is the NetworkPolicy verdict, with the semantics of
// reach.Explain: isolated when a policy of w's namespace selects w for the
// direction; then the union of the matching rules' ports.
func npDirection(c *model.Cluster, w *model.Workload, egress bool, p peer, portHolder *model.Workload) (bool, connset.Set) {
	isolated, allowed := false, connset.None()
	for _, np := range c.PoliciesIn(w.Namespace) {
		if !np.Subject.Matches(w.Labels) || egress && !np.Egress || !egress && !np.Ingress {
			continue
		}
		isolated = true
		rules := np.IngressRules
		if egress {
			rules = np.EgressRules
		}
		for _, r := range rules {
			if npPeerMatches(np, r, p) {
				allowed = allowed.Union(r.Conns(portHolder))
			}
		}
	}
	return isolated, allowed
}

func npPeerMatches(np *model.Policy, r model.Rule, p peer) bool {
	if r.AllPeers {
		return true
	}
	for _, pr := range r.Peers {
		if pr.IPBlock != nil {
			// ipBlock never matches a workload: pod IPs are not modelled.
			if p.w == nil && pr.IPBlock.Set.ContainsRange(p.ext) {
				return true
			}
			continue
		}
		if p.w == nil {
			continue
		}
		if pr.NamespaceSel == nil {
			if p.w.Namespace != np.Namespace {
				continue
			}
		} else if !pr.NamespaceSel.Matches(p.nsLabels) {
			continue
		}
		if pr.PodSel == nil || pr.PodSel.Matches(p.w.Labels) {
			return true
		}
	}
	return false
}

// Atoms splits the external address space at every CIDR and except of
// NetworkPolicy ipBlocks and every admin policy networks CIDR.
func Atoms(c *model.Cluster) []ipset.Range {
	var bounds []ipset.Range
	for _, p := range c.Policies {
		for _, rules := range [][]model.Rule{p.IngressRules, p.EgressRules} {
			for _, r := range rules {
				for _, pr := range r.Peers {
					if pr.IPBlock != nil {
						bounds = append(bounds, pr.IPBlock.Set.Ranges()...)
					}
				}
			}
		}
	}
	for _, ap := range c.AdminPolicies {
		for _, rules := range [][]model.AdminRule{ap.Ingress, ap.Egress} {
			for _, r := range rules {
				for _, pr := range r.Peers {
					if pr.Networks != nil {
						bounds = append(bounds, pr.Networks.Ranges()...)
					}
				}
			}
		}
	}
	return ipset.Atoms(bounds)
}

// Evaluate computes every allowed pair of c: workload to workload,
// workload to and from each external range (adjacent ranges with the same
// connections merged), and the ingress controller to exposed workloads.
// Lines are sorted by source, then destination.
func Evaluate(c *model.Cluster) []Line {
	var out []Line
	add := func(src, dst Point, conns connset.Set) {
		if !conns.IsEmpty() {
			out = append(out, Line{Src: src, Dst: dst, Conns: conns})
		}
	}
	atoms := Atoms(c)
	for _, s := range c.Workloads {
		sp := Point{Name: s.Key()}
		for _, d := range c.Workloads {
			if s != d {
				add(sp, Point{Name: d.Key()}, Conns(c, Endpoint{Workload: s}, Endpoint{Workload: d}))
			}
		}
		for _, r := range mergeAtoms(atoms, func(a ipset.Range) connset.Set {
			return Conns(c, Endpoint{Workload: s}, Endpoint{External: a})
		}) {
			add(sp, Point{External: r.rng}, r.conns)
		}
		for _, r := range mergeAtoms(atoms, func(a ipset.Range) connset.Set {
			return Conns(c, Endpoint{External: a}, Endpoint{Workload: s})
		}) {
			add(Point{External: r.rng}, sp, r.conns)
		}
		add(Point{Name: IngressController}, sp, IngressConns(c, s))
	}
	slices.SortFunc(out, func(a, b Line) int {
		return cmp.Or(cmp.Compare(a.Src.String(), b.Src.String()), cmp.Compare(a.Dst.String(), b.Dst.String()))
	})
	return out
}

// Lines prints Evaluate's lines.
func Lines(c *model.Cluster) []string {
	lines := Evaluate(c)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.String()
	}
	return out
}

type rangeConns struct {
	rng   ipset.Range
	conns connset.Set
}

// mergeAtoms evaluates f on each atom and merges adjacent atoms of one
// family whose connections are equal.
func mergeAtoms(atoms []ipset.Range, f func(ipset.Range) connset.Set) []rangeConns {
	var out []rangeConns
	for _, a := range atoms {
		cs := f(a)
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.rng.Is4() == a.Is4() && last.rng.Last.Next() == a.First && last.conns.Equal(cs) {
				last.rng.Last = a.Last
				continue
			}
		}
		out = append(out, rangeConns{rng: a, conns: cs})
	}
	return out
}

// MentionsIPv6 reports whether a cluster names an IPv6 range (NetworkPolicy
// ipBlock or admin policy networks). Without one, IPv6 reach mirrors the
// rules that allow every peer, and reports leave it out, like the bitset
// engine does.
func MentionsIPv6(c *model.Cluster) bool {
	for _, a := range Atoms(c) {
		if !a.Is4() && a != ipset.All6() {
			return true
		}
	}
	return false
}
