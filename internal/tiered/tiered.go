// Package tiered computes reachability through the policy tiers, pair by
// pair: the admin tier (AdminNetworkPolicy, Admin ClusterNetworkPolicy),
// then NetworkPolicy together with Cilium policies, then the baseline tier
// (BaselineAdminNetworkPolicy, Baseline ClusterNetworkPolicy), plus the
// ingress controller's reach through Ingresses and Routes and egress to
// DNS names (Cilium toFQDNs, ClusterNetworkPolicy domainNames).
//
// Evaluate computes a cluster whole; Update derives a head result from a
// base result by recomputing only the rows and columns of the workloads a
// change touches.
package tiered

import (
	"fmt"
	"slices"
	"strings"

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

// DomainSuffix marks a domain endpoint in printed lines: "api.stripe.com[FQDN]".
const DomainSuffix = "[FQDN]"

// Endpoint is one end of a connection: a workload, a domain name (egress
// only), or (when both are nil) an external address range.
type Endpoint struct {
	Workload *model.Workload
	Domain   *model.DomainPattern
	External ipset.Range
}

// String prints the workload key, the domain, or the range (a CIDR when it
// is one).
func (e Endpoint) String() string {
	switch {
	case e.Workload != nil:
		return e.Workload.Key()
	case e.Domain != nil:
		return e.Domain.Text + DomainSuffix
	}
	return e.External.String()
}

// Point names one end of a Line: a workload key or IngressController in
// Name, a domain in Domain, else the external range.
type Point struct {
	Name     string
	Domain   string
	External ipset.Range
}

// String prints the name, the domain with DomainSuffix, or the range (a
// CIDR when it is one).
func (p Point) String() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Domain != "":
		return p.Domain + DomainSuffix
	}
	return p.External.String()
}

// IsExternal reports whether the point is an address range.
func (p Point) IsExternal() bool { return p.Name == "" && p.Domain == "" }

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
// (admin policies, Cilium policies, Ingresses, Routes): the bitset
// evaluator's answer ignores them.
func Needed(c *model.Cluster) bool {
	return len(c.AdminPolicies) > 0 || len(c.CiliumPolicies) > 0 || len(c.Exposures) > 0
}

// peer is the other end of a direction: a workload with its namespace's
// labels, a domain, or an external range. A domain peer also carries ext:
// the address range that stands for the domain's unknown addresses (see
// domainStandIn).
type peer struct {
	w        *model.Workload
	nsLabels map[string]string
	domain   *model.DomainPattern
	ext      ipset.Range
}

// Conns is what src may open to dst: the source's egress verdict and the
// destination's ingress verdict, both per port. An external end has no
// verdict of its own; two external ends, or a workload with itself, have
// no connection. A domain is only ever a destination.
func Conns(c *model.Cluster, src, dst Endpoint) connset.Set {
	return newIndex(c).conns(src, dst)
}

func (x *index) conns(src, dst Endpoint) connset.Set {
	if src.Workload == nil && dst.Workload == nil || src.Workload != nil && src.Workload == dst.Workload || src.Domain != nil {
		return connset.None()
	}
	out := connset.All()
	if src.Workload != nil {
		out = out.Intersect(x.direction(src.Workload, true, x.peerOf(dst)))
	}
	if dst.Workload != nil {
		out = out.Intersect(x.direction(dst.Workload, false, x.peerOf(src)))
	}
	return out
}

// peerOf is an endpoint as the other end of a direction.
func (x *index) peerOf(e Endpoint) peer {
	switch {
	case e.Workload != nil:
		return x.workloadPeer(e.Workload)
	case e.Domain != nil:
		return peer{domain: e.Domain, ext: x.domainStandIn}
	}
	return peer{ext: e.External}
}

// IngressConns is what the ingress controller reaches on w through every
// Ingress and Route whose backends select w: the Service target ports, as
// far as the policies allow ingress into w from an arbitrary in-cluster
// workload. That workload is modelled as an unlabelled pod in a namespace
// of its own (labelled only kubernetes.io/metadata.name), whose egress is
// not restricted.
func IngressConns(c *model.Cluster, w *model.Workload) connset.Set {
	return newIndex(c).ingressConns(w)
}

func (x *index) ingressConns(w *model.Workload) connset.Set { return x.tracedIngress(w, nil) }

// tracedIngress is ingressConns, recording in tr (when not nil) the
// exposures and the decisions of w's ingress policies.
func (x *index) tracedIngress(w *model.Workload, tr *[]Step) connset.Set {
	exposed := connset.None()
	for _, e := range x.c.Exposures {
		for _, t := range e.Targets {
			if t.Workload == w.Key() {
				exposed = exposed.Union(t.Conns)
				if tr != nil {
					*tr = append(*tr, Step{Tier: "exposure", Policy: e.Key(), Action: "Expose", Conns: t.Conns, File: e.Source.File, Line: e.Source.Line})
				}
			}
		}
	}
	if exposed.IsEmpty() {
		return exposed
	}
	ctl := &model.Workload{Namespace: controllerNamespace, Name: "controller", Kind: "Pod", Labels: map[string]string{}}
	p := peer{w: ctl, nsLabels: map[string]string{model.NamespaceNameLabel: controllerNamespace}}
	if tr != nil {
		return exposed.Intersect(x.traced(w, false, p, tr))
	}
	return exposed.Intersect(x.direction(w, false, p))
}

// direction is the verdict of w's policies for one direction (egress when
// egress is set) against the peer p, per port: the admin tier by priority,
// then NetworkPolicy and Cilium policies, then the baseline tier by
// priority; what no tier decides is allowed.
//
// "Pass: instructs the selected traffic to skip any remaining ANP rules,
// and then pass execution to any NetworkPolicies that select the pod. If
// the pod is not selected by any NetworkPolicies then execution is passed
// to any BaselineAdminNetworkPolicies that select the pod."
// (AdminNetworkPolicyIngressRule.action)
func (x *index) direction(w *model.Workload, egress bool, p peer) connset.Set {
	return x.traced(w, egress, p, nil)
}

// traced is direction, recording each decision in tr when it is not nil.
func (x *index) traced(w *model.Workload, egress bool, p peer, tr *[]Step) connset.Set {
	// record is nil unless tracing, so that steps (and their printed
	// rule names) cost nothing in evaluation.
	var record func(Step)
	if tr != nil {
		record = func(s Step) {
			if !s.Conns.IsEmpty() {
				*tr = append(*tr, s)
			}
		}
	}
	// The port belongs to the destination: w on ingress, the peer on
	// egress (an external peer has no named ports).
	portHolder := w
	if egress {
		portHolder = p.w
	}
	allowed, undecided := connset.None(), connset.All()
	passed := connset.None()
	for _, ap := range x.admin(w, model.TierAdmin) {
		if undecided.IsEmpty() {
			break
		}
		for _, r := range rulesOf(ap, egress) {
			if !adminPeerMatches(r, p) {
				continue
			}
			set := r.Conns(portHolder).Intersect(undecided)
			if set.IsEmpty() {
				continue
			}
			if record != nil {
				record(adminStep(ap, r, egress, set))
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
	if undecided.IsEmpty() {
		return allowed
	}
	isolated, npAllowed, npDenied := x.npDirection(w, egress, p, portHolder, undecided, record)
	if isolated {
		if record != nil {
			record(Step{Tier: "NetworkPolicy", Action: "Deny", Conns: undecided.Subtract(npAllowed).Subtract(npDenied),
				Text: x.isolation(w, egress)})
		}
		return allowed.Union(undecided.Intersect(npAllowed))
	}
	// Not in default deny (a Cilium rule block with enableDefaultDeny
	// false): its deny rules still decide what they match.
	undecided = undecided.Subtract(npDenied)
	for _, bp := range x.admin(w, model.TierBaseline) {
		if undecided.IsEmpty() {
			break
		}
		for _, r := range rulesOf(bp, egress) {
			if !adminPeerMatches(r, p) {
				continue
			}
			set := r.Conns(portHolder).Intersect(undecided)
			if record != nil {
				record(adminStep(bp, r, egress, set))
			}
			undecided = undecided.Subtract(set)
			// A baseline Pass "passes evaluation to the next tier"
			// (ClusterNetworkPolicy v1alpha2): the default, which allows.
			if r.Action != model.ActionDeny {
				allowed = allowed.Union(set)
			}
		}
	}
	// "If a given connection wasn't allowed or denied by any of the tiers,
	// the default kubernetes policy is applied, which says that all pods
	// can communicate with each other." (ClusterNetworkPolicySpec.tier)
	if record != nil {
		record(Step{Tier: "default", Action: "Allow", Conns: undecided, Text: "no policy of any tier decides: allowed"})
	}
	return allowed.Union(undecided)
}

// isolation says which policies isolate w in a direction: the text of the
// step that denies what none of their rules allows.
func (x *index) isolation(w *model.Workload, egress bool) string {
	var names []string
	for _, np := range x.policies(w) {
		if egress && np.Egress || !egress && np.Ingress {
			names = append(names, "NetworkPolicy "+np.Key())
		}
	}
	for _, s := range x.cilium(w) {
		if s.spec.Isolates(egress) && !slices.Contains(names, s.policy.Key()) {
			names = append(names, s.policy.Key())
		}
	}
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	return w.Key() + " " + dir + " is isolated by " + strings.Join(names, ", ") + ": what none of their rules allows is denied"
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
// external ranges (and a domain through its stand-in range); "host-networked
// pods are not included in this type of peer" (namespaces and pods peers).
func adminPeerMatches(r model.AdminRule, p peer) bool {
	for _, pr := range r.Peers {
		switch {
		case p.w != nil:
			if !p.w.HostNetwork && pr.MatchesPod(p.nsLabels, p.w.Labels) {
				return true
			}
		case p.domain != nil && len(pr.Domains) > 0:
			for _, d := range pr.Domains {
				if d.Covers(*p.domain) {
					return true
				}
			}
		default:
			if pr.MatchesExternal(p.ext) {
				return true
			}
		}
	}
	return false
}

// npDirection is the verdict of the NetworkPolicy tier, where Cilium
// policies sit too: w is isolated when a NetworkPolicy of its namespace
// or a Cilium spec in default deny selects it for the direction; it then
// allows the union of the matching allow rules' ports, minus what a
// matching Cilium deny rule denies ("deny policies take precedence"),
// which is returned too: deny rules decide even without isolation. Steps
// are recorded within undecided, the part of the traffic this tier
// decides.
func (x *index) npDirection(w *model.Workload, egress bool, p peer, portHolder *model.Workload, undecided connset.Set, record func(Step)) (isolated bool, allowed, denied connset.Set) {
	allowed, denied = connset.None(), connset.None()
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	for _, np := range x.policies(w) {
		if egress && !np.Egress || !egress && !np.Ingress {
			continue
		}
		isolated = true
		rules := np.IngressRules
		if egress {
			rules = np.EgressRules
		}
		for _, r := range rules {
			if npPeerMatches(np, r, p) {
				cs := r.Conns(portHolder)
				allowed = allowed.Union(cs)
				if record == nil {
					continue
				}
				record(Step{Tier: "NetworkPolicy", Policy: "NetworkPolicy " + np.Key(), Rule: fmt.Sprintf("%s[%d]", dir, r.Index),
					Path:   fmt.Sprintf("spec.%s[%d]", dir, r.Index),
					Action: "Allow", Conns: cs.Intersect(undecided), File: np.Source.File, Line: np.Source.Line})
			}
		}
	}
	for _, s := range x.cilium(w) {
		allow, deny := s.spec.Rules(egress)
		if s.spec.Isolates(egress) {
			isolated = true
		}
		for _, r := range allow {
			if ciliumPeerMatches(r, p) {
				cs := r.Conns(portHolder)
				allowed = allowed.Union(cs)
				if record != nil {
					record(ciliumStep(s, dir, r, "Allow", cs.Intersect(undecided)))
				}
			}
		}
		for _, r := range deny {
			if ciliumPeerMatches(r, p) {
				cs := r.Conns(portHolder)
				denied = denied.Union(cs)
				if record != nil {
					record(ciliumStep(s, dir+"Deny", r, "Deny", cs.Intersect(undecided)))
				}
			}
		}
	}
	return isolated, allowed.Subtract(denied), denied
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
		if p.w == nil || !pr.MatchesWorkload(p.w) {
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

// ciliumPeerMatches applies a Cilium rule's L3 peers to p. Host-networked
// workloads carry the host's identity, so only the cluster entity (and
// "all") matches them.
func ciliumPeerMatches(r model.CiliumRule, p peer) bool {
	if r.AllPeers {
		return true
	}
	for _, pr := range r.Peers {
		switch {
		case p.w != nil:
			if pr.AllWorkloads || !p.w.HostNetwork && pr.MatchesPod(p.w.Namespace, p.nsLabels, p.w.Labels) {
				return true
			}
		case p.domain != nil && pr.Domain != nil:
			if pr.Domain.Covers(*p.domain) {
				return true
			}
		default:
			if pr.MatchesExternal(p.ext) {
				return true
			}
		}
	}
	return false
}
