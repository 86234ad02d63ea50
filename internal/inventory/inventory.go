// Package inventory reads the sub-processor inventory (subprocessors.yaml),
// checks it against what the network policies allow and what runs in the
// cluster, diffs it between two revisions and renders the disclosure table.
//
// It is pure: the caller reads files and evaluates policies, and passes the
// bytes and the evaluator's external reach in.
package inventory

import (
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// Inventory is a parsed, validated sub-processor inventory.
type Inventory struct {
	Subprocessors []Subprocessor
	// File is the path the inventory was read from, for diagnostics.
	File string
}

// Subprocessor is one vendor that handles traffic or data on the company's
// behalf.
type Subprocessor struct {
	Name, Purpose, Location, DPA string
	DataCategories               []string
	Endpoints                    []Endpoint
	Components                   []ComponentPattern
	// Line is the line of the entry's name in the file.
	Line int
}

// Endpoint is an external destination of a sub-processor: a CIDR (masked)
// or an FQDN (lower case, without a final dot, possibly "*.example.com").
type Endpoint struct {
	CIDR netip.Prefix
	FQDN string
	// Ports are the declared ports; All() when the file omits them.
	Ports connset.Set
	Line  int
}

// ComponentPattern is an in-cluster component run on a vendor's behalf: an
// image pattern (see the image matching rules in image.go) and, optionally,
// a namespace (a glob; "" matches any).
type ComponentPattern struct {
	Image     string
	Namespace string
	Line      int
}

// Ownership is a vendor owning an external range, with the ports its
// endpoints containing that range declare.
type Ownership struct {
	Subprocessor string
	Ports        connset.Set
}

// Boundaries returns every endpoint CIDR as an ipset.Range, for the
// evaluator's external-address split, sorted and without duplicates.
func (inv *Inventory) Boundaries() []ipset.Range {
	if inv == nil {
		return nil
	}
	seen := map[ipset.Range]bool{}
	var out []ipset.Range
	for _, sp := range inv.Subprocessors {
		for _, ep := range sp.Endpoints {
			if !ep.CIDR.IsValid() {
				continue
			}
			r := ipset.RangeOf(ep.CIDR)
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	sortRanges(out)
	return out
}

// Owners returns the vendors with a CIDR endpoint containing r, sorted by
// name, each with the union of the ports of its endpoints that contain r.
func (inv *Inventory) Owners(r ipset.Range) []Ownership {
	return inv.ownersBy(func(ep Endpoint) bool { return ep.CIDR.IsValid() && ipset.RangeOf(ep.CIDR).ContainsRange(r) })
}

// ownersBy returns the vendors with an endpoint that owns, sorted by name,
// each with the union of the ports of those endpoints.
func (inv *Inventory) ownersBy(owns func(Endpoint) bool) []Ownership {
	if inv == nil {
		return nil
	}
	var out []Ownership
	for _, sp := range inv.Subprocessors {
		ports, found := connset.None(), false
		for _, ep := range sp.Endpoints {
			if owns(ep) {
				found = true
				ports = ports.Union(ep.Ports)
			}
		}
		if found {
			out = append(out, Ownership{Subprocessor: sp.Name, Ports: ports})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Subprocessor < out[j].Subprocessor })
	return out
}

// FQDNEndpoints returns the vendors' FQDN endpoints, which reachdiff cannot
// verify against NetworkPolicy (it has no DNS names): declared but
// unverifiable.
func (inv *Inventory) FQDNEndpoints() []Unverifiable {
	if inv == nil {
		return nil
	}
	var out []Unverifiable
	for _, sp := range inv.Subprocessors {
		for _, ep := range sp.Endpoints {
			if ep.FQDN != "" {
				out = append(out, Unverifiable{Subprocessor: sp.Name, FQDN: ep.FQDN, Ports: ep.Ports.String(), Line: ep.Line})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Subprocessor != out[j].Subprocessor {
			return out[i].Subprocessor < out[j].Subprocessor
		}
		return out[i].FQDN < out[j].FQDN
	})
	return out
}

// Unverifiable is a declared FQDN endpoint: NetworkPolicy cannot name hosts,
// so whether a workload reaches it is not known from the policies.
type Unverifiable struct {
	Subprocessor string `json:"subprocessor"`
	FQDN         string `json:"fqdn"`
	Ports        string `json:"ports"`
	Line         int    `json:"line,omitempty"`
}

func sortRanges(rs []ipset.Range) {
	sort.Slice(rs, func(i, j int) bool { return rangeLess(rs[i], rs[j]) })
}

// rangeLess orders ranges IPv4 first, then by first and last address.
func rangeLess(a, b ipset.Range) bool {
	if c := a.First.Compare(b.First); c != 0 {
		return c < 0
	}
	return a.Last.Less(b.Last)
}
