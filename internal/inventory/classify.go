package inventory

import (
	"encoding/json"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// ExternalReach is one allowed (workload -> external range, or workload ->
// domain) path, as the evaluator reports it.
type ExternalReach struct {
	Workload string
	Range    ipset.Range
	Conns    connset.Set
}

// DomainReach is one allowed (workload -> domain) path: a DNS name or
// pattern a policy names (Cilium toFQDNs, ClusterNetworkPolicy
// domainNames).
type DomainReach struct {
	Workload string
	Domain   string
	Conns    connset.Set
}

// Classification labels the external reach of every workload that has any.
type Classification struct {
	// Workloads are sorted by name.
	Workloads []WorkloadReach `json:"workloads"`
	// Unverifiable are the declared FQDN endpoints: NetworkPolicy has no
	// host names, so their reach is not known from the policies.
	Unverifiable []Unverifiable `json:"unverifiable"`
}

// WorkloadReach is what one workload can reach outside the cluster.
type WorkloadReach struct {
	Workload string `json:"workload"`
	// Vendors are the sub-processors it reaches on their declared ports,
	// sorted by name.
	Vendors []VendorReach `json:"vendors"`
	// AnyIPv4 (AnyIPv6) are the connections on which the workload reaches
	// every IPv4 (IPv6) address outside all declared ranges: "any external
	// host". None when some undeclared address is not reachable.
	AnyIPv4 connset.Set `json:"anyIPv4"`
	AnyIPv6 connset.Set `json:"anyIPv6"`
	// Undeclared is the rest of its undeclared reach, beyond AnyIPv4 and
	// AnyIPv6: ranges no vendor owns, and vendor ranges on ports the vendor
	// does not declare. Sorted by range.
	Undeclared []UndeclaredReach `json:"undeclared"`

	// undeclared is all undeclared reach as disjoint pieces, before "any
	// external host" is folded out, for DiffReach.
	undeclared []piece
}

// AnyExternal reports whether the workload reaches any external host (of
// either address family) on some connection.
func (w WorkloadReach) AnyExternal() bool {
	return !w.AnyIPv4.IsEmpty() || !w.AnyIPv6.IsEmpty()
}

// VendorReach is a sub-processor a workload reaches.
type VendorReach struct {
	Subprocessor string `json:"subprocessor"`
	// Conns are the connections allowed within the vendor's declared ports.
	Conns connset.Set `json:"conns"`
	// Ranges are the vendor's addresses reached (merged, sorted).
	Ranges []ipset.Range `json:"-"`
	// ViaAnyExternal is set for a vendor reached only through its FQDN
	// endpoints by a workload that reaches any external host: NetworkPolicy
	// cannot name hosts, but internet-wide egress reaches them all. Conns
	// are then the FQDN endpoints' declared ports that the egress allows.
	ViaAnyExternal bool `json:"viaAnyExternal,omitempty"`
}

// UndeclaredReach is reach to an external range that no vendor declares.
type UndeclaredReach struct {
	Range ipset.Range `json:"-"`
	Conns connset.Set `json:"conns"`
	// Vendors are the owners of the range when the reach is undeclared only
	// because the ports fall outside what they declare; empty when no
	// vendor owns the range.
	Vendors []string `json:"vendors,omitempty"`
}

// piece is a disjoint part of a workload's external reach.
type piece struct {
	r      ipset.Range
	conns  connset.Set
	owners []string // vendors owning r, none for "the internet"
}

// Families' whole address spaces.
var (
	allIPv4 = ipset.Range{First: netip.IPv4Unspecified(), Last: netip.AddrFrom4([4]byte{255, 255, 255, 255})}
	allIPv6 = ipset.Range{First: netip.IPv6Unspecified(), Last: netip.AddrFrom16([16]byte{
		255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})}
)

// Classify labels external reach: per workload, the vendors it can reach
// (with ports), the undeclared ranges (no vendor owns them, or the ports fall
// outside the vendor's declared ports), and whether it reaches "any external
// host" (the whole IPv4 or IPv6 space outside every declared range). inv may
// be nil: then every external range is undeclared. The input need not be
// split at the inventory's boundaries, nor disjoint.
func (inv *Inventory) Classify(reach []ExternalReach) Classification {
	return inv.ClassifyWithDomains(reach, nil)
}

// ClassifyWithDomains is Classify, plus the vendors owning the domains
// workloads reach by name.
func (inv *Inventory) ClassifyWithDomains(reach []ExternalReach, domainReach []DomainReach) Classification {
	c := Classification{Unverifiable: inv.FQDNEndpoints()}
	// Group by workload: sort the usable entries' indices by name.
	idx := make([]int, 0, len(reach))
	domains := map[string][]DomainReach{}
	for _, r := range domainReach {
		if !r.Conns.IsEmpty() {
			domains[r.Workload] = append(domains[r.Workload], r)
		}
	}
	for i, r := range reach {
		if r.Conns.IsEmpty() || !r.Range.IsValid() || r.Range.First.Is4() != r.Range.Last.Is4() {
			continue
		}
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(reach[a].Workload, reach[b].Workload) })
	atoms := inv.ownedAtoms()
	group := make([]ExternalReach, 0, 64)
	for start := 0; start < len(idx); {
		end := start + 1
		for end < len(idx) && reach[idx[end]].Workload == reach[idx[start]].Workload {
			end++
		}
		group = group[:0]
		for _, i := range idx[start:end] {
			group = append(group, reach[i])
		}
		w := classifyWorkload(reach[idx[start]].Workload, group, atoms)
		if w.AnyExternal() {
			w.Vendors = inv.addFQDNVendors(w.Vendors, w.AnyIPv4.Union(w.AnyIPv6))
		}
		c.Workloads = append(c.Workloads, w)
		start = end
	}
	return inv.classifyDomains(c, domains)
}

// classifyDomains adds the vendors owning the domains each workload
// reaches by name.
func (inv *Inventory) classifyDomains(c Classification, domains map[string][]DomainReach) Classification {
	if len(domains) == 0 {
		return c
	}
	// A declared FQDN that a policy names is verified by the evaluation.
	named := map[string]bool{}
	for _, rs := range domains {
		for _, r := range rs {
			named[r.Domain] = true
		}
	}
	c.Unverifiable = slices.DeleteFunc(c.Unverifiable, func(u Unverifiable) bool { return named[u.FQDN] })
	at := map[string]int{}
	for i, w := range c.Workloads {
		at[w.Workload] = i
	}
	for name, rs := range domains {
		i, ok := at[name]
		if !ok {
			i = len(c.Workloads)
			c.Workloads = append(c.Workloads, WorkloadReach{Workload: name, AnyIPv4: connset.None(), AnyIPv6: connset.None()})
		}
		c.Workloads[i].Vendors = inv.addDomainVendors(c.Workloads[i].Vendors, rs)
	}
	sort.Slice(c.Workloads, func(i, j int) bool { return c.Workloads[i].Workload < c.Workloads[j].Workload })
	return c
}

// addFQDNVendors adds the vendors with FQDN endpoints that internet-wide
// egress on anyc reaches, unless their CIDR endpoints are reached already.
func (inv *Inventory) addFQDNVendors(vs []VendorReach, anyc connset.Set) []VendorReach {
	if inv == nil {
		return vs
	}
	have := map[string]bool{}
	for _, v := range vs {
		have[v.Subprocessor] = true
	}
	for _, sp := range inv.Subprocessors {
		if have[sp.Name] {
			continue
		}
		in := connset.None()
		for _, ep := range sp.Endpoints {
			if ep.FQDN != "" {
				in = in.Union(anyc.Intersect(ep.Ports))
			}
		}
		if !in.IsEmpty() {
			vs = append(vs, VendorReach{Subprocessor: sp.Name, Conns: in, ViaAnyExternal: true})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Subprocessor < vs[j].Subprocessor })
	return vs
}

// ownedAtom is a part of the address space that no endpoint boundary
// splits, with the vendors owning it (none for "the internet").
type ownedAtom struct {
	r      ipset.Range
	owners []Ownership
	names  []string
	ports  connset.Set // union of the owners' declared ports
}

// ownedAtoms splits both address families at every endpoint CIDR.
func (inv *Inventory) ownedAtoms() []ownedAtom {
	rs := ipset.Atoms(inv.Boundaries())
	out := make([]ownedAtom, len(rs))
	for i, r := range rs {
		a := ownedAtom{r: r, ports: connset.None()}
		if inv != nil && len(inv.Subprocessors) > 0 {
			a.owners = inv.Owners(r)
		}
		for _, o := range a.owners {
			a.names = append(a.names, o.Subprocessor)
			a.ports = a.ports.Union(o.Ports)
		}
		out[i] = a
	}
	return out
}

func classifyWorkload(name string, reach []ExternalReach, atoms []ownedAtom) WorkloadReach {
	w := WorkloadReach{Workload: name, AnyIPv4: connset.None(), AnyIPv6: connset.None()}
	w.undeclared = make([]piece, 0, len(reach))
	vendorConns := map[string]connset.Set{}
	vendorRanges := map[string][]ipset.Range{}
	for fi, family := range []ipset.Range{allIPv4, allIPv6} {
		rs := make([]ExternalReach, 0, len(reach))
		for _, r := range reach {
			if r.Range.First.Is4() == family.First.Is4() {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		anyc := connset.All()
		sawComplement := false
		for _, iv := range elementary(family, rs) {
			// Split the interval at the atoms it overlaps.
			k := sort.Search(len(atoms), func(k int) bool { return !atoms[k].r.Last.Less(iv.r.First) })
			for ; k < len(atoms) && !iv.r.Last.Less(atoms[k].r.First); k++ {
				a := &atoms[k]
				part := iv.r
				if part.First.Less(a.r.First) {
					part.First = a.r.First
				}
				if a.r.Last.Less(part.Last) {
					part.Last = a.r.Last
				}
				if len(a.owners) == 0 {
					sawComplement = true
					anyc = anyc.Intersect(iv.conns)
					if !iv.conns.IsEmpty() {
						w.undeclared = appendPiece(w.undeclared, piece{r: part, conns: iv.conns})
					}
					continue
				}
				if iv.conns.IsEmpty() {
					continue
				}
				for _, o := range a.owners {
					if in := iv.conns.Intersect(o.Ports); !in.IsEmpty() {
						vendorConns[o.Subprocessor] = vendorConns[o.Subprocessor].Union(in)
						vendorRanges[o.Subprocessor] = append(vendorRanges[o.Subprocessor], part)
					}
				}
				if out := iv.conns.Subtract(a.ports); !out.IsEmpty() {
					w.undeclared = appendPiece(w.undeclared, piece{r: part, conns: out, owners: a.names})
				}
			}
		}
		if !sawComplement {
			anyc = connset.None()
		}
		if fi == 0 {
			w.AnyIPv4 = anyc
		} else {
			w.AnyIPv6 = anyc
		}
	}
	for v, conns := range vendorConns {
		w.Vendors = append(w.Vendors, VendorReach{Subprocessor: v, Conns: conns, Ranges: mergeRanges(vendorRanges[v])})
	}
	sort.Slice(w.Vendors, func(i, j int) bool { return w.Vendors[i].Subprocessor < w.Vendors[j].Subprocessor })
	w.Undeclared = foldUndeclared(w.undeclared, w.AnyIPv4, w.AnyIPv6)
	return w
}

// appendPiece appends p, merging it into the previous piece when they touch
// and carry the same connections and owners.
func appendPiece(ps []piece, p piece) []piece {
	if n := len(ps); n > 0 {
		q := &ps[n-1]
		if q.r.Last.Next() == p.r.First && q.conns.Equal(p.conns) && slices.Equal(q.owners, p.owners) {
			q.r.Last = p.r.Last
			return ps
		}
	}
	return append(ps, p)
}

// foldUndeclared removes what "any external host" already says from the
// undeclared pieces and merges adjacent pieces with equal connections.
func foldUndeclared(ps []piece, any4, any6 connset.Set) []UndeclaredReach {
	out := make([]UndeclaredReach, 0, len(ps))
	for _, p := range ps {
		conns := p.conns
		if len(p.owners) == 0 {
			if p.r.First.Is4() {
				conns = conns.Subtract(any4)
			} else {
				conns = conns.Subtract(any6)
			}
		}
		if conns.IsEmpty() {
			continue
		}
		if n := len(out); n > 0 && len(p.owners) == 0 && len(out[n-1].Vendors) == 0 &&
			out[n-1].Conns.Equal(conns) && out[n-1].Range.Last.Next() == p.r.First {
			out[n-1].Range.Last = p.r.Last
			continue
		}
		out = append(out, UndeclaredReach{Range: p.r, Conns: conns, Vendors: p.owners})
	}
	return out
}

// interval is an elementary part of an address family: no reach range
// starts or ends inside it.
type interval struct {
	r     ipset.Range
	conns connset.Set
}

// elementary splits the family's space at every start and end of the reach
// ranges, and gives each part the union of the connections of the reach
// ranges covering it. Parts are sorted and cover the family.
func elementary(family ipset.Range, rs []ExternalReach) []interval {
	starts := make([]netip.Addr, 0, 2*len(rs)+1)
	starts = append(starts, family.First)
	for _, r := range rs {
		starts = append(starts, r.Range.First)
		if r.Range.Last != family.Last {
			starts = append(starts, r.Range.Last.Next())
		}
	}
	slices.SortFunc(starts, netip.Addr.Compare)
	starts = slices.Compact(starts)
	ivs := make([]interval, len(starts))
	for i, s := range starts {
		last := family.Last
		if i+1 < len(starts) {
			last = starts[i+1].Prev()
		}
		ivs[i] = interval{r: ipset.Range{First: s, Last: last}}
	}
	for _, r := range rs {
		i := sort.Search(len(ivs), func(i int) bool { return !ivs[i].r.First.Less(r.Range.First) })
		for ; i < len(ivs) && !r.Range.Last.Less(ivs[i].r.First); i++ {
			ivs[i].conns = ivs[i].conns.Union(r.Conns)
		}
	}
	return ivs
}

// mergeRanges sorts ranges and joins the ones that touch or overlap.
func mergeRanges(rs []ipset.Range) []ipset.Range {
	rs = append([]ipset.Range(nil), rs...)
	sortRanges(rs)
	var out []ipset.Range
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].First.Is4() == r.First.Is4() &&
			(!out[n-1].Last.Less(r.First) || out[n-1].Last.Next() == r.First) {
			if out[n-1].Last.Less(r.Last) {
				out[n-1].Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// MarshalJSON prints the ranges in the report notation (CIDR or first-last).
func (v VendorReach) MarshalJSON() ([]byte, error) {
	type plain VendorReach
	return json.Marshal(struct {
		plain
		Ranges []string `json:"ranges"`
	}{plain(v), rangeStrings(v.Ranges)})
}

// MarshalJSON prints the range in the report notation (CIDR or first-last).
func (u UndeclaredReach) MarshalJSON() ([]byte, error) {
	type plain UndeclaredReach
	return json.Marshal(struct {
		Range string `json:"range"`
		plain
	}{u.Range.String(), plain(u)})
}

func rangeStrings(rs []ipset.Range) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.String())
	}
	return out
}
