package tiered

import (
	"slices"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// index caches what every pair of a cluster asks again: namespace labels,
// the policies that select each workload, the external atoms and the
// domain endpoints.
type index struct {
	c        *model.Cluster
	nsLabels map[string]map[string]string

	atoms   []ipset.Range
	domains []model.DomainPattern
	// domainStandIn is an address range that stands for the unknown
	// addresses of a domain: a piece of IPv4 space no CIDR of any policy
	// names. Every CIDR set a policy writes either holds all of that
	// residual space or none of it, so any piece of it answers the same;
	// when policies name all of IPv4, it is the whole family.
	domainStandIn ipset.Range

	// selected holds the selection of every workload of c, computed up
	// front so that concurrent readers need no lock.
	selected map[*model.Workload]*selection
}

// selection lists the policies that select one workload.
type selection struct {
	admin, baseline []*model.AdminPolicy
	policies        []*model.Policy
	cilium          []ciliumSpec
}

type ciliumSpec struct {
	policy *model.CiliumPolicy
	spec   *model.CiliumSpec
}

func newIndex(c *model.Cluster, extra ...model.DomainPattern) *index {
	x := &index{c: c, nsLabels: map[string]map[string]string{}, selected: map[*model.Workload]*selection{}}
	for _, n := range c.Namespaces {
		x.nsLabels[n.Name] = n.Labels
	}
	bounds := boundaries(c)
	x.atoms = ipset.Atoms(bounds)
	x.domains = mergeDomains(Domains(c), extra)
	x.domainStandIn = standIn(bounds)
	sels := make([]*selection, len(c.Workloads))
	parallel(len(c.Workloads), func(i int) { sels[i] = x.computeSelection(c.Workloads[i]) })
	for i, w := range c.Workloads {
		x.selected[w] = sels[i]
	}
	return x
}

func (x *index) namespaceLabels(ns string) map[string]string {
	if l, ok := x.nsLabels[ns]; ok {
		return l
	}
	return map[string]string{model.NamespaceNameLabel: ns}
}

func (x *index) workloadPeer(w *model.Workload) peer {
	return peer{w: w, nsLabels: x.namespaceLabels(w.Namespace)}
}

// selectionOf computes (once) the policies that select w. Admin subjects
// and Cilium endpoint selectors never select host-networked pods: "Note
// that host-networked pods are not included in subject selection."
// (AdminNetworkPolicySpec.subject)
func (x *index) selectionOf(w *model.Workload) *selection {
	if s, ok := x.selected[w]; ok {
		return s
	}
	return x.computeSelection(w)
}

func (x *index) computeSelection(w *model.Workload) *selection {
	s := &selection{}
	nsLabels := x.namespaceLabels(w.Namespace)
	for _, ap := range x.c.AdminPolicies {
		if w.HostNetwork || !ap.Subject.Matches(nsLabels, w.Labels) {
			continue
		}
		if ap.Tier == model.TierAdmin {
			s.admin = append(s.admin, ap)
		} else {
			s.baseline = append(s.baseline, ap)
		}
	}
	for _, np := range x.c.PoliciesIn(w.Namespace) {
		if np.Subject.Matches(w.Labels) {
			s.policies = append(s.policies, np)
		}
	}
	for _, cp := range x.c.CiliumPolicies {
		for i := range cp.Specs {
			spec := &cp.Specs[i]
			if !w.HostNetwork && spec.Subject.Matches(w.Namespace, nsLabels, w.Labels) {
				s.cilium = append(s.cilium, ciliumSpec{cp, spec})
			}
		}
	}
	return s
}

func (x *index) admin(w *model.Workload, t model.AdminTier) []*model.AdminPolicy {
	if t == model.TierAdmin {
		return x.selectionOf(w).admin
	}
	return x.selectionOf(w).baseline
}

func (x *index) policies(w *model.Workload) []*model.Policy { return x.selectionOf(w).policies }

func (x *index) cilium(w *model.Workload) []ciliumSpec { return x.selectionOf(w).cilium }

// boundaries lists every CIDR (and except) any policy of c names:
// NetworkPolicy ipBlocks, admin networks, Cilium CIDR peers.
func boundaries(c *model.Cluster) []ipset.Range {
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
	for _, cp := range c.CiliumPolicies {
		for _, s := range cp.Specs {
			for _, rules := range [][]model.CiliumRule{s.Ingress, s.IngressDeny, s.Egress, s.EgressDeny} {
				for _, r := range rules {
					for _, pr := range r.Peers {
						if pr.CIDR != nil {
							bounds = append(bounds, pr.CIDR.Ranges()...)
						}
					}
				}
			}
		}
	}
	return bounds
}

// Atoms splits the external address space at every CIDR and except any
// policy of c names.
func Atoms(c *model.Cluster) []ipset.Range { return ipset.Atoms(boundaries(c)) }

// standIn picks the range that stands for a domain's addresses: the first
// IPv4 atom outside every bound narrower than the whole family.
func standIn(bounds []ipset.Range) ipset.Range {
	all := ipset.All4()
	var named ipset.Set
	for _, b := range bounds {
		if b.Is4() && b != all {
			named = named.Add(b)
		}
	}
	rest := ipset.FromRanges(all).Subtract(named).Ranges()
	if len(rest) == 0 {
		return all
	}
	return rest[0]
}

// Domains lists the domain endpoints of c: every DNS name or pattern a
// Cilium toFQDNs or a ClusterNetworkPolicy domainNames peer mentions, once
// each, sorted. A pattern written in both syntaxes ("*.example.com") is
// one endpoint with Cilium's narrower meaning (one label where
// domainNames allows several), so that rules of both kinds cover it and
// adding a policy of the other kind changes no one else's answer.
func Domains(c *model.Cluster) []model.DomainPattern {
	var all []model.DomainPattern
	note := func(d model.DomainPattern) { all = append(all, d) }
	for _, ap := range c.AdminPolicies {
		for _, r := range ap.Egress {
			for _, pr := range r.Peers {
				for _, d := range pr.Domains {
					note(d)
				}
			}
		}
	}
	for _, cp := range c.CiliumPolicies {
		for _, s := range cp.Specs {
			for _, rules := range [][]model.CiliumRule{s.Egress, s.EgressDeny} {
				for _, r := range rules {
					for _, pr := range r.Peers {
						if pr.Domain != nil {
							note(*pr.Domain)
						}
					}
				}
			}
		}
	}
	return mergeDomains(nil, all)
}

// mergeDomains returns the sorted union of two lists of domain endpoints,
// one per text; a text in both syntaxes takes Cilium's.
func mergeDomains(a, b []model.DomainPattern) []model.DomainPattern {
	seen := map[string]model.DomainPattern{}
	for _, d := range append(slices.Clip(a), b...) {
		if old, ok := seen[d.Text]; !ok || old.Syntax == model.SyntaxNPA && d.Syntax == model.SyntaxCilium {
			seen[d.Text] = d
		}
	}
	out := make([]model.DomainPattern, 0, len(seen))
	for _, d := range seen {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	return out
}

// FindDomain returns the endpoint of ds that name denotes (any case, with
// or without a final dot or the DomainSuffix), or nil.
func FindDomain(ds []model.DomainPattern, name string) *model.DomainPattern {
	text := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(name, DomainSuffix), "."))
	for i := range ds {
		if ds[i].Text == text {
			return &ds[i]
		}
	}
	return nil
}

// CommonDomains lists the domain endpoints of several clusters: the
// endpoints both sides of a comparison are evaluated over, so that a
// domain only one side's policies name still compares.
func CommonDomains(cs ...*model.Cluster) []model.DomainPattern {
	var out []model.DomainPattern
	for _, c := range cs {
		out = mergeDomains(out, Domains(c))
	}
	return out
}

// MentionsIPv6 reports whether a cluster names an IPv6 range (NetworkPolicy
// ipBlock, admin networks, Cilium CIDR). Without one, IPv6 reach mirrors
// the rules that allow every peer, and reports leave it out, like the
// bitset engine does.
func MentionsIPv6(c *model.Cluster) bool {
	for _, a := range Atoms(c) {
		if !a.Is4() && a != ipset.All6() {
			return true
		}
	}
	return false
}
