package pipeline

import (
	"net/netip"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/gate"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/report"
)

// Inventories are the sub-processor inventory file at base and head (nil
// when the repository has none on that side).
type Inventories struct {
	File       string
	Base, Head *inventory.Inventory
}

// boundaries are the inventory's ranges, so the external address space is
// split where vendors start and end.
func (inv Inventories) boundaries() []ipset.Range {
	var out []ipset.Range
	for _, i := range []*inventory.Inventory{inv.Base, inv.Head} {
		if i != nil {
			out = append(out, i.Boundaries()...)
		}
	}
	return out
}

// ExternalReach lists what each workload may reach outside the cluster,
// in the inventory's terms.
func ExternalReach(res *reach.Result) []inventory.ExternalReach {
	var out []inventory.ExternalReach
	for _, c := range res.ExternalEgress() {
		if !c.Src.IsExternal() && c.Dst.IsExternal() {
			out = append(out, inventory.ExternalReach{Workload: c.Src.Workload, Range: c.Dst.External, Conns: c.Conns})
		}
	}
	return out
}

// AgentWorkloads lists the workloads and their images for catalogue
// matching.
func AgentWorkloads(c *model.Cluster) []inventory.Workload {
	out := make([]inventory.Workload, 0, len(c.Workloads))
	for _, w := range c.Workloads {
		out = append(out, inventory.Workload{Name: w.Key(), Namespace: w.Namespace, Images: w.Images})
	}
	return out
}

// subprocessors computes an overlay's sub-processor findings: vendors newly
// (or no longer) reachable per workload, newly undeclared external reach,
// and vendor agents running in head that the inventory does not declare.
func subprocessors(inv Inventories, r *OverlayResult) *report.Subprocessors {
	var base, head inventory.Classification
	if r.BaseTiered != nil {
		base = inv.Base.ClassifyWithDomains(TieredReach(r.BaseTiered))
		head = inv.Head.ClassifyWithDomains(TieredReach(r.HeadTiered))
	} else {
		// Listing a side's external reach walks every workload: do the
		// two sides at once. Both only read their results and inventories.
		done := make(chan struct{})
		go func() {
			defer close(done)
			base = inv.Base.Classify(ExternalReach(r.BaseResult))
		}()
		head = inv.Head.Classify(ExternalReach(r.HeadResult))
		<-done
	}
	rd := inventory.DiffReach(base, head)
	agents := inv.Head.Agents(AgentWorkloads(r.Head), inventory.DefaultCatalogue())
	return report.NewSubprocessors(report.Subprocessors{
		Inventory:        inv.File,
		HasInventory:     inv.Head != nil,
		Vendors:          rd.Vendors,
		Undeclared:       rd.Undeclared,
		UndeclaredAgents: agents.Undeclared,
		Stale:            agents.Stale,
		Unverifiable:     head.Unverifiable,
	}, head)
}

// ownersOf names the vendors owning an external range, for a change's
// `subprocessor` field.
func ownersOf(inv *inventory.Inventory, r ipset.Range) string {
	var names []string
	for _, o := range inv.Owners(r) {
		names = append(names, o.Subprocessor)
	}
	return strings.Join(names, ", ")
}

// domainOwnersOf names the vendors owning a domain a policy names.
func domainOwnersOf(inv *inventory.Inventory, domain string) string {
	var names []string
	for _, o := range inv.DomainOwners(domain) {
		names = append(names, o.Subprocessor)
	}
	return strings.Join(names, ", ")
}

// anyExternal reports the workloads that newly reach any external host.
func anyExternal(s *report.Subprocessors) map[string]bool {
	out := map[string]bool{}
	if s == nil {
		return out
	}
	for _, u := range s.Undeclared {
		if u.Any != "" {
			out[u.Workload] = true
		}
	}
	return out
}

// gateInput turns the opened changes of every overlay into the gate's
// paths, and the namespaces into its facts.
func gateInput(results []OverlayResult, subs []*report.Subprocessors, inv Inventories, labels []string) gate.Input {
	in := gate.Input{Labels: labels}
	seenNS := map[string]bool{}
	for i, r := range results {
		if r.Unchanged {
			continue
		}
		internet := anyExternal(subs[i])
		for _, c := range r.Changes {
			if c.Opened.IsEmpty() {
				continue
			}
			p := gate.Path{Src: c.Src.String(), Dst: c.Dst.String(), Opened: c.Opened.String(),
				SrcNamespace: namespaceOf(c.Src), DstNamespace: namespaceOf(c.Dst), External: c.Dst.IsExternal()}
			if c.Dst.IsDomain() {
				// A domain is a host on the internet: declared when a
				// vendor owns it.
				p.Subprocessor = domainOwnersOf(inv.Head, c.Dst.Domain)
				p.Undeclared = inv.Head != nil && p.Subprocessor == ""
			} else if p.External {
				p.Subprocessor = ownersOf(inv.Head, c.Dst.External)
				public := report.HasPublic(c.Dst.External)
				p.Undeclared = inv.Head != nil && public && p.Subprocessor == ""
				p.Internet = public && p.Subprocessor == "" && (internet[c.Src.Workload] || internetWide(c.Dst.External))
			}
			if f, l := firstLocation(c.Causes); f != "" {
				p.PolicyFile, p.PolicyLine = f, l
			}
			in.Opened = append(in.Opened, p)
		}
		for _, side := range []struct {
			c   *model.Cluster
			out *[]gate.Namespace
		}{{r.Base, &in.BaseNamespaces}, {r.Head, &in.HeadNamespaces}} {
			for _, ns := range namespaces(side.c) {
				key := r.Path + "\x00" + ns.Name + "\x00" + boolKey(side.out == &in.HeadNamespaces)
				if !seenNS[key] {
					seenNS[key] = true
					*side.out = append(*side.out, ns)
				}
			}
		}
	}
	return in
}

func boolKey(b bool) string {
	if b {
		return "h"
	}
	return "b"
}

func firstLocation(cs []diff.Cause) (string, int) {
	for _, c := range cs {
		if c.File != "" && (c.Kind == diff.CausePolicyRule || c.Kind == diff.CausePolicyChanged) {
			return c.File, c.Line
		}
	}
	return "", 0
}

func namespaceOf(e reach.Endpoint) string {
	if e.IsExternal() {
		return ""
	}
	ns, _, _ := strings.Cut(e.Workload, "/")
	return ns
}

// namespaces reports, per namespace, its labels and whether a policy
// selecting every pod isolates it for ingress and for egress (a default
// deny: every pod is then isolated, and only what policies allow passes).
func namespaces(c *model.Cluster) []gate.Namespace {
	hasWorkloads := map[string]bool{}
	for _, w := range c.Workloads {
		hasWorkloads[w.Namespace] = true
	}
	out := make([]gate.Namespace, 0, len(c.Namespaces))
	for _, ns := range c.Namespaces {
		g := gate.Namespace{Name: ns.Name, Labels: ns.Labels, HasWorkloads: hasWorkloads[ns.Name]}
		for _, p := range c.Policies {
			if p.Namespace != ns.Name || !p.Subject.IsEverything() {
				continue
			}
			g.DefaultDenyIngress = g.DefaultDenyIngress || p.Ingress
			g.DefaultDenyEgress = g.DefaultDenyEgress || p.Egress
		}
		out = append(out, g)
	}
	return out
}

// reportGate converts the gate's result for the report.
func reportGate(res gate.Result) *report.Gate {
	g := &report.Gate{Conclusion: res.Conclusion, DeltaHash: res.DeltaHash, Violations: []report.Violation{}}
	for _, v := range res.Violations {
		g.Violations = append(g.Violations, report.Violation{Rule: v.Rule, Severity: string(v.Severity),
			Message: v.Message, Hash: v.Hash, Acknowledged: v.Acknowledged, Fix: v.Fix,
			File: pathFile(v.Path), Line: pathLine(v.Path)})
	}
	g.Notes = append(g.Notes, res.Notes...)
	sort.SliceStable(g.Violations, func(i, j int) bool {
		return severityRank(g.Violations[i].Severity) < severityRank(g.Violations[j].Severity)
	})
	return g
}

func pathFile(p *gate.Path) string {
	if p == nil {
		return ""
	}
	return p.PolicyFile
}

func pathLine(p *gate.Path) int {
	if p == nil {
		return 0
	}
	return p.PolicyLine
}

func severityRank(s string) int {
	if s == string(gate.Error) {
		return 0
	}
	return 1
}

// internetWide reports whether a range holds at least as many addresses as
// an IPv4 /8 (an IPv6 /32): egress there is "the internet", not a host or a
// vendor.
func internetWide(r ipset.Range) bool {
	size := func(first, last netip.Addr, bits int) bool {
		// The range is wide when some aligned block of the given prefix
		// length fits inside it.
		p := netip.PrefixFrom(first, bits).Masked()
		if p.Addr() != first {
			next := ipset.RangeOf(p).Last.Next()
			if !next.IsValid() {
				return false
			}
			p = netip.PrefixFrom(next, bits)
		}
		return r.ContainsRange(ipset.RangeOf(p))
	}
	if r.Is4() {
		return size(r.First, r.Last, 8)
	}
	return size(r.First, r.Last, 32)
}

// splitByOwner cuts the external end of each change at the inventory's
// vendor boundaries, so that a change names one owner (or none) and a
// reviewer sees "Sentry" apart from "the rest of the internet".
func splitByOwner(changes []diff.Change, inv *inventory.Inventory) []diff.Change {
	if inv == nil {
		return changes
	}
	atoms := ipset.Atoms(inv.Boundaries())
	var out []diff.Change
	for _, c := range changes {
		ext, isDst := c.Dst.External, true
		if c.Src.IsExternal() {
			ext, isDst = c.Src.External, false
		} else if !c.Dst.IsRange() {
			// Workloads and domains are not split.
			out = append(out, c)
			continue
		}
		var cur *diff.Change
		curOwner := ""
		for _, a := range atoms {
			if !a.Overlaps(ext) {
				continue
			}
			piece := ipset.Range{First: maxAddr(a.First, ext.First), Last: minAddr(a.Last, ext.Last)}
			owner := ownersOf(inv, piece)
			if cur != nil && owner == curOwner {
				extend(cur, isDst, piece.Last)
				continue
			}
			if cur != nil {
				out = append(out, *cur)
			}
			next := c
			if isDst {
				next.Dst.External = piece
			} else {
				next.Src.External = piece
			}
			cur, curOwner = &next, owner
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out
}

func extend(c *diff.Change, isDst bool, last netip.Addr) {
	if isDst {
		c.Dst.External.Last = last
	} else {
		c.Src.External.Last = last
	}
}

func maxAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return b
	}
	return a
}

func minAddr(a, b netip.Addr) netip.Addr {
	if a.Less(b) {
		return a
	}
	return b
}
