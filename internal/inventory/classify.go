package inventory

import (
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// ExternalReach is one allowed (workload -> external range) path, as the
// evaluator reports it.
type ExternalReach struct {
	Workload string
	Range    ipset.Range
	Conns    connset.Set
}

// Classification labels the external reach of every workload that has any.
type Classification struct {
	// Workloads are sorted by name.
	Workloads []WorkloadReach
	// Unverifiable are the declared FQDN endpoints: NetworkPolicy has no
	// host names, so their reach is not known from the policies.
	Unverifiable []Unverifiable
}

// WorkloadReach is what one workload can reach outside the cluster.
type WorkloadReach struct {
	Workload string
	// Vendors are the sub-processors it reaches on their declared ports,
	// sorted by name.
	Vendors []VendorReach
	// AnyIPv4 (AnyIPv6) are the connections on which the workload reaches
	// every IPv4 (IPv6) address outside all declared ranges: "any external
	// host". None when some undeclared address is not reachable.
	AnyIPv4, AnyIPv6 connset.Set
	// Undeclared is the rest of its undeclared reach, beyond AnyIPv4 and
	// AnyIPv6: ranges no vendor owns, and vendor ranges on ports the vendor
	// does not declare. Sorted by range.
	Undeclared []UndeclaredReach

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
	Subprocessor string
	// Conns are the connections allowed within the vendor's declared ports.
	Conns connset.Set
	// Ranges are the vendor's addresses reached (merged, sorted).
	Ranges []ipset.Range
}

// UndeclaredReach is reach to an external range that no vendor declares.
type UndeclaredReach struct {
	Range ipset.Range
	Conns connset.Set
	// Vendors are the owners of the range when the reach is undeclared only
	// because the ports fall outside what they declare; empty when no
	// vendor owns the range.
	Vendors []string
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
	c := Classification{Unverifiable: inv.FQDNEndpoints()}
	byWorkload := map[string][]ExternalReach{}
	var names []string
	for _, r := range reach {
		if r.Conns.IsEmpty() || !r.Range.First.IsValid() || !r.Range.Last.IsValid() ||
			r.Range.First.Is4() != r.Range.Last.Is4() || r.Range.Last.Less(r.Range.First) {
			continue
		}
		if _, ok := byWorkload[r.Workload]; !ok {
			names = append(names, r.Workload)
		}
		byWorkload[r.Workload] = append(byWorkload[r.Workload], r)
	}
	sort.Strings(names)
	bounds := inv.Boundaries()
	owners := map[ipset.Range][]Ownership{}
	ownersOf := func(r ipset.Range) []Ownership {
		o, ok := owners[r]
		if !ok {
			o = inv.Owners(r)
			owners[r] = o
		}
		return o
	}
	for _, name := range names {
		c.Workloads = append(c.Workloads, classifyWorkload(name, byWorkload[name], bounds, ownersOf))
	}
	return c
}

func classifyWorkload(name string, reach []ExternalReach, bounds []ipset.Range, ownersOf func(ipset.Range) []Ownership) WorkloadReach {
	w := WorkloadReach{Workload: name, AnyIPv4: connset.None(), AnyIPv6: connset.None()}
	vendorConns := map[string]connset.Set{}
	vendorRanges := map[string][]ipset.Range{}
	for fi, family := range []ipset.Range{allIPv4, allIPv6} {
		var rs []ExternalReach
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
		for _, iv := range elementary(family, rs, bounds) {
			os := ownersOf(iv.r)
			if len(os) == 0 {
				sawComplement = true
				anyc = anyc.Intersect(iv.conns)
				if !iv.conns.IsEmpty() {
					w.undeclared = append(w.undeclared, piece{r: iv.r, conns: iv.conns})
				}
				continue
			}
			if iv.conns.IsEmpty() {
				continue
			}
			declared := connset.None()
			var names []string
			for _, o := range os {
				names = append(names, o.Subprocessor)
				declared = declared.Union(o.Ports)
				if in := iv.conns.Intersect(o.Ports); !in.IsEmpty() {
					prev, ok := vendorConns[o.Subprocessor]
					if !ok {
						prev = connset.None()
					}
					vendorConns[o.Subprocessor] = prev.Union(in)
					vendorRanges[o.Subprocessor] = append(vendorRanges[o.Subprocessor], iv.r)
				}
			}
			if out := iv.conns.Subtract(declared); !out.IsEmpty() {
				w.undeclared = append(w.undeclared, piece{r: iv.r, conns: out, owners: names})
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

// foldUndeclared removes what "any external host" already says from the
// undeclared pieces and merges adjacent pieces with equal connections.
func foldUndeclared(ps []piece, any4, any6 connset.Set) []UndeclaredReach {
	var out []UndeclaredReach
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

// interval is an elementary part of an address family: no reach range or
// inventory boundary starts or ends inside it.
type interval struct {
	r     ipset.Range
	conns connset.Set
}

// elementary splits the family's space at every start and end of the reach
// ranges and boundaries, and gives each part the union of the connections of
// the reach ranges covering it. Parts are sorted and cover the family.
func elementary(family ipset.Range, rs []ExternalReach, bounds []ipset.Range) []interval {
	cuts := map[netip.Addr]bool{family.First: true}
	cut := func(r ipset.Range) {
		cuts[r.First] = true
		if r.Last != family.Last {
			cuts[r.Last.Next()] = true
		}
	}
	for _, r := range rs {
		cut(r.Range)
	}
	for _, b := range bounds {
		if b.First.Is4() == family.First.Is4() {
			cut(b)
		}
	}
	starts := make([]netip.Addr, 0, len(cuts))
	for a := range cuts {
		starts = append(starts, a)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Less(starts[j]) })
	ivs := make([]interval, len(starts))
	for i, s := range starts {
		last := family.Last
		if i+1 < len(starts) {
			last = starts[i+1].Prev()
		}
		ivs[i] = interval{r: ipset.Range{First: s, Last: last}, conns: connset.None()}
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
