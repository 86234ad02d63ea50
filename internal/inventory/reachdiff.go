package inventory

import (
	"encoding/json"
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// ReachDiff is how sub-processor reach changed between base and head.
type ReachDiff struct {
	// Vendors are per-workload vendor reach changes, sorted by workload
	// then vendor.
	Vendors []VendorDelta `json:"vendors"`
	// Undeclared is undeclared reach that head allows and base did not,
	// sorted by workload, then "any external host" first, then range.
	Undeclared []UndeclaredDelta `json:"undeclared"`
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
	Workload     string `json:"workload"`
	Subprocessor string `json:"subprocessor"`
	// Change is NewlyReachable, NoLongerReachable or PortsChanged.
	Change string      `json:"change"`
	Before connset.Set `json:"before"`
	After  connset.Set `json:"after"`
}

// UndeclaredDelta is newly allowed undeclared external reach.
type UndeclaredDelta struct {
	Workload string `json:"workload"`
	// Any is "IPv4" or "IPv6" when the workload newly reaches any external
	// host of that family (Range is then the family's whole space); "" for
	// a range.
	Any   string      `json:"any,omitempty"`
	Range ipset.Range `json:"-"`
	// Conns are the newly allowed connections.
	Conns connset.Set `json:"conns"`
	// Vendors own the range when only the ports are undeclared.
	Vendors []string `json:"vendors,omitempty"`
}

// MarshalJSON prints the range in the report notation ("any external host"
// for internet-wide reach).
func (u UndeclaredDelta) MarshalJSON() ([]byte, error) {
	type plain UndeclaredDelta
	r := u.Range.String()
	if u.Any != "" {
		r = "any external host"
	}
	return json.Marshal(struct {
		Range string `json:"range"`
		plain
	}{r, plain(u)})
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
// connection by connection. Both lists are sorted and disjoint, so one sweep
// suffices.
func subtractPieces(head, base []piece) []piece {
	if len(base) == 0 {
		return head
	}
	var out []piece
	j := 0
	for _, h := range head {
		for j < len(base) && base[j].r.Last.Less(h.r.First) {
			j++
		}
		at := h.r.First
		for k := j; k < len(base) && !h.r.Last.Less(base[k].r.First); k++ {
			b := base[k]
			if at.Less(b.r.First) { // a gap before b: nothing to subtract
				out = append(out, piece{r: ipset.Range{First: at, Last: b.r.First.Prev()}, conns: h.conns, owners: h.owners})
				at = b.r.First
			}
			last := b.r.Last
			if h.r.Last.Less(last) {
				last = h.r.Last
			}
			if c := h.conns.Subtract(b.conns); !c.IsEmpty() {
				out = append(out, piece{r: ipset.Range{First: at, Last: last}, conns: c, owners: h.owners})
			}
			if last == h.r.Last {
				at = netip.Addr{}
				break
			}
			at = last.Next()
		}
		if at.IsValid() {
			out = append(out, piece{r: ipset.Range{First: at, Last: h.r.Last}, conns: h.conns, owners: h.owners})
		}
	}
	return out
}
