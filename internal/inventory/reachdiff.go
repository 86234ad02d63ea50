package inventory

import (
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// ReachDiff is how sub-processor reach changed between base and head.
type ReachDiff struct {
	// Vendors are per-workload vendor reach changes, sorted by workload
	// then vendor.
	Vendors []VendorDelta
	// Undeclared is undeclared reach that head allows and base did not,
	// sorted by workload, then "any external host" first, then range.
	Undeclared []UndeclaredDelta
}

// The values of VendorDelta.Change.
const (
	NewlyReachable    = "newly-reachable"
	NoLongerReachable = "no-longer-reachable"
	PortsChanged      = "ports-changed"
)

// VendorDelta is a change in which vendor a workload reaches, or on which
// ports.
type VendorDelta struct {
	Workload, Subprocessor string
	// Change is NewlyReachable, NoLongerReachable or PortsChanged.
	Change        string
	Before, After connset.Set
}

// UndeclaredDelta is newly allowed undeclared external reach.
type UndeclaredDelta struct {
	Workload string
	// Any is "IPv4" or "IPv6" when the workload newly reaches any external
	// host of that family (Range is then the family's whole space); "" for
	// a range.
	Any   string
	Range ipset.Range
	// Conns are the newly allowed connections.
	Conns connset.Set
	// Vendors own the range when only the ports are undeclared.
	Vendors []string
}

// DiffReach compares base and head classifications: vendors newly (no
// longer) reachable per workload or reachable on other ports, and newly
// allowed undeclared reach, with internet-wide egress reported as "any
// external host".
func DiffReach(base, head Classification) ReachDiff {
	var d ReachDiff
	bw := map[string]*WorkloadReach{}
	for i := range base.Workloads {
		bw[base.Workloads[i].Workload] = &base.Workloads[i]
	}
	hw := map[string]*WorkloadReach{}
	for i := range head.Workloads {
		hw[head.Workloads[i].Workload] = &head.Workloads[i]
	}
	names := map[string]bool{}
	for n := range bw {
		names[n] = true
	}
	for n := range hw {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	empty := WorkloadReach{AnyIPv4: connset.None(), AnyIPv6: connset.None()}
	for _, n := range sorted {
		b, h := bw[n], hw[n]
		if b == nil {
			b = &empty
		}
		if h == nil {
			h = &empty
		}
		d.Vendors = append(d.Vendors, diffVendors(n, b.Vendors, h.Vendors)...)
		d.Undeclared = append(d.Undeclared, diffUndeclared(n, b, h)...)
	}
	return d
}

func diffVendors(workload string, base, head []VendorReach) []VendorDelta {
	bm := map[string]connset.Set{}
	for _, v := range base {
		bm[v.Subprocessor] = v.Conns
	}
	hm := map[string]connset.Set{}
	for _, v := range head {
		hm[v.Subprocessor] = v.Conns
	}
	var out []VendorDelta
	for _, v := range head {
		before, ok := bm[v.Subprocessor]
		switch {
		case !ok || before.IsEmpty():
			out = append(out, VendorDelta{Workload: workload, Subprocessor: v.Subprocessor, Change: NewlyReachable, Before: connset.None(), After: v.Conns})
		case !before.Equal(v.Conns):
			out = append(out, VendorDelta{Workload: workload, Subprocessor: v.Subprocessor, Change: PortsChanged, Before: before, After: v.Conns})
		}
	}
	for _, v := range base {
		if after, ok := hm[v.Subprocessor]; !ok || after.IsEmpty() {
			out = append(out, VendorDelta{Workload: workload, Subprocessor: v.Subprocessor, Change: NoLongerReachable, Before: v.Conns, After: connset.None()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subprocessor < out[j].Subprocessor })
	return out
}

func diffUndeclared(workload string, b, h *WorkloadReach) []UndeclaredDelta {
	var out []UndeclaredDelta
	newAny4 := h.AnyIPv4.Subtract(b.AnyIPv4)
	newAny6 := h.AnyIPv6.Subtract(b.AnyIPv6)
	if !newAny4.IsEmpty() {
		out = append(out, UndeclaredDelta{Workload: workload, Any: "IPv4", Range: allIPv4, Conns: newAny4})
	}
	if !newAny6.IsEmpty() {
		out = append(out, UndeclaredDelta{Workload: workload, Any: "IPv6", Range: allIPv6, Conns: newAny6})
	}
	for _, p := range subtractPieces(h.undeclared, b.undeclared) {
		conns := p.conns
		if len(p.owners) == 0 {
			// Already said by "any external host" in head.
			if p.r.First.Is4() {
				conns = conns.Subtract(h.AnyIPv4)
			} else {
				conns = conns.Subtract(h.AnyIPv6)
			}
		}
		if conns.IsEmpty() {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Any == "" && len(out[n-1].Vendors) == 0 && len(p.owners) == 0 &&
			out[n-1].Conns.Equal(conns) && out[n-1].Range.Last.Next() == p.r.First {
			out[n-1].Range.Last = p.r.Last
			continue
		}
		out = append(out, UndeclaredDelta{Workload: workload, Range: p.r, Conns: conns, Vendors: p.owners})
	}
	return out
}

// subtractPieces returns head's pieces minus base's, address by address and
// connection by connection. Both lists are sorted and disjoint.
func subtractPieces(head, base []piece) []piece {
	if len(base) == 0 {
		return head
	}
	var out []piece
	for _, h := range head {
		// Split h at every base boundary inside it.
		cuts := []netip.Addr{h.r.First}
		for _, b := range base {
			if b.r.Last.Less(h.r.First) || h.r.Last.Less(b.r.First) {
				continue
			}
			if h.r.First.Less(b.r.First) {
				cuts = append(cuts, b.r.First)
			}
			if b.r.Last.Less(h.r.Last) {
				cuts = append(cuts, b.r.Last.Next())
			}
		}
		sort.Slice(cuts, func(i, j int) bool { return cuts[i].Less(cuts[j]) })
		for i, s := range cuts {
			if i > 0 && cuts[i-1] == s {
				continue
			}
			last := h.r.Last
			for _, n := range cuts[i+1:] {
				if n != s {
					last = n.Prev()
					break
				}
			}
			part := ipset.Range{First: s, Last: last}
			conns := h.conns
			for _, b := range base {
				if !b.r.Last.Less(part.First) && !part.Last.Less(b.r.First) {
					conns = conns.Subtract(b.conns)
				}
			}
			if !conns.IsEmpty() {
				out = append(out, piece{r: part, conns: conns, owners: h.owners})
			}
		}
	}
	return out
}
