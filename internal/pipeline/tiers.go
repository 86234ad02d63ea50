package pipeline

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

// tieredResults evaluates base and head with the tiered evaluator (admin
// tier > NetworkPolicy and Cilium > baseline tier, the ingress controller,
// domain endpoints), for overlays the bitset engine does not cover. Head
// is derived from base incrementally (tiered.Update) unless full is set.
func tieredResults(base, head *model.Cluster, full bool) (*tiered.Result, *tiered.Result) {
	// Both sides are evaluated over the domains either names.
	domains := tiered.CommonDomains(base, head)
	br := tiered.Compute(base, domains...)
	if full {
		return br, tiered.Compute(head, domains...)
	}
	return br, tiered.Update(br, head, domains...)
}

// tieredDeltas compares two tiered results. External ranges of both sides are split into common pieces before the
// comparison, then adjacent pieces that changed alike are merged again.
func tieredDeltas(br, hr *tiered.Result, showV6 bool) []reach.Delta {
	bl, hl := br.Lines(), hr.Lines()
	var bounds []ipset.Range
	for _, ls := range [][]tiered.Line{bl, hl} {
		for _, l := range ls {
			for _, p := range []tiered.Point{l.Src, l.Dst} {
				if p.IsExternal() {
					bounds = append(bounds, p.External)
				}
			}
		}
	}
	atoms := ipset.Atoms(bounds)
	type key struct {
		src, dst string // workload keys, or a domain's printed form
		atom     int    // -1 for two named ends
		extIsDst bool
	}
	name := func(p tiered.Point) string {
		if p.Domain != "" {
			return p.String()
		}
		return p.Name
	}
	expand := func(ls []tiered.Line) map[key]connset.Set {
		m := map[key]connset.Set{}
		for _, l := range ls {
			switch {
			case !l.Src.IsExternal() && !l.Dst.IsExternal():
				m[key{name(l.Src), name(l.Dst), -1, false}] = l.Conns
			case l.Dst.IsExternal():
				first, last, ok := ipset.AtomSpan(atoms, l.Dst.External)
				for i := first; ok && i <= last; i++ {
					m[key{l.Src.Name, "", i, true}] = l.Conns
				}
			default:
				first, last, ok := ipset.AtomSpan(atoms, l.Src.External)
				for i := first; ok && i <= last; i++ {
					m[key{"", l.Dst.Name, i, false}] = l.Conns
				}
			}
		}
		return m
	}
	bm, hm := expand(bl), expand(hl)
	keys := map[key]bool{}
	for k := range bm {
		keys[k] = true
	}
	for k := range hm {
		keys[k] = true
	}
	var ks []key
	for k := range keys {
		if !bm[k].Equal(hm[k]) && (k.atom < 0 || showV6 || atoms[k.atom].Is4()) {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.src != b.src {
			return a.src < b.src
		}
		if a.dst != b.dst {
			return a.dst < b.dst
		}
		return a.atom < b.atom
	})
	var out []reach.Delta
	for _, k := range ks {
		d := reach.Delta{Before: bm[k], After: hm[k], Src: reach.Endpoint{Workload: k.src}, Dst: reach.Endpoint{Workload: k.dst}}
		if domain, ok := strings.CutSuffix(k.dst, tiered.DomainSuffix); ok {
			d.Dst = reach.Endpoint{Domain: domain}
		}
		if k.atom >= 0 {
			r := atoms[k.atom]
			if k.extIsDst {
				d.Dst.External = r
			} else {
				d.Src.External = r
			}
			// Merge with the previous delta when it is the next piece of the
			// same pair and changed alike.
			if n := len(out); n > 0 {
				p := &out[n-1]
				pr, isDst := p.Src.External, false
				if p.Dst.IsExternal() {
					pr, isDst = p.Dst.External, true
				}
				if p.Src.Workload == d.Src.Workload && p.Dst.Workload == d.Dst.Workload && isDst == k.extIsDst &&
					p.Before.Equal(d.Before) && p.After.Equal(d.After) && pr.Last.Next() == r.First && pr.Is4() == r.Is4() {
					if isDst {
						p.Dst.External.Last = r.Last
					} else {
						p.Src.External.Last = r.Last
					}
					continue
				}
			}
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if as, bs := a.Src.String(), b.Src.String(); as != bs {
			return as < bs
		}
		return a.Dst.String() < b.Dst.String()
	})
	return out
}

// adminCauses names the admin and Cilium policies that differ between
// base and head: the causes of changes the NetworkPolicy explanation does
// not account for.
func adminCauses(base, head *model.Cluster) []diff.Cause {
	type policy struct {
		src  manifest.Source
		body any // the compiled policy without its source
	}
	index := func(c *model.Cluster) map[string]policy {
		m := map[string]policy{}
		for _, p := range c.AdminPolicies {
			x := *p
			x.Source = manifest.Source{}
			m[p.Key()] = policy{p.Source, x}
		}
		for _, p := range c.CiliumPolicies {
			x := *p
			x.Source = manifest.Source{}
			m[p.Key()] = policy{p.Source, x}
		}
		return m
	}
	bi, hi := index(base), index(head)
	var out []diff.Cause
	for key, hp := range hi {
		bp, ok := bi[key]
		switch {
		case !ok:
			out = append(out, diff.Cause{Kind: diff.CausePolicyAdded, Policy: key, File: hp.src.File, Line: hp.src.Line,
				Text: key + " was added"})
		case !reflect.DeepEqual(bp.body, hp.body):
			out = append(out, diff.Cause{Kind: diff.CausePolicyChanged, Policy: key, File: hp.src.File, Line: hp.src.Line,
				Text: key + " changed"})
		}
	}
	for key, bp := range bi {
		if _, ok := hi[key]; !ok {
			out = append(out, diff.Cause{Kind: diff.CausePolicyDeleted, Policy: key, File: bp.src.File, Line: bp.src.Line,
				Text: key + " was deleted"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Policy < out[j].Policy })
	return out
}

// TieredReach lists what each workload may reach outside the cluster by
// address and by domain, from a tiered result.
func TieredReach(r *tiered.Result) ([]inventory.ExternalReach, []inventory.DomainReach) {
	var ext []inventory.ExternalReach
	var dom []inventory.DomainReach
	for _, l := range r.Lines() {
		switch {
		case l.Src.Name == "" || l.Src.Name == tiered.IngressController:
		case l.Dst.Domain != "":
			dom = append(dom, inventory.DomainReach{Workload: l.Src.Name, Domain: l.Dst.Domain, Conns: l.Conns})
		case l.Dst.IsExternal():
			ext = append(ext, inventory.ExternalReach{Workload: l.Src.Name, Range: l.Dst.External, Conns: l.Conns})
		}
	}
	return ext, dom
}

// tieredCauses explains a change of an overlay with policy tiers from the
// tiers' decisions: the endpoint causes diff found stay; the policy causes
// become the decisions that differ between base and head for the changed
// ports (a rule that allows or denies them now, one that did before),
// each with its policy, rule and file:line. When no decision differs (a
// change that only moved a selector, say) the changed admin and Cilium
// policies are named instead.
func tieredCauses(base, head *model.Cluster, domains []model.DomainPattern, c diff.Change, changed []diff.Cause) []diff.Cause {
	var out []diff.Cause
	for _, x := range c.Causes {
		if diff.IsEndpointCause(x.Kind) {
			out = append(out, x)
		}
	}
	before := tieredSteps(base, domains, c)
	after := tieredSteps(head, domains, c)
	var found []diff.Cause
	add := func(kind, verb string, s tiered.Step, conns connset.Set) {
		what := s.Policy + " " + s.Rule + " " + verb + " " + conns.String()
		if s.Policy == "" {
			what = s.Text + " (" + conns.String() + ")"
			if kind == diff.CauseRuleRemoved || kind == diff.CauseDenyRemoved {
				what = "before: " + what
			}
		}
		x := diff.Cause{Kind: kind, Policy: s.Policy, File: s.File, Line: s.Line, Text: what}
		if !slices.Contains(found, x) {
			found = append(found, x)
		}
	}
	// Rules first; the tier defaults and isolation only when no rule
	// decision differs.
	for _, rules := range []bool{true, false} {
		for _, s := range after {
			if (s.Policy != "") != rules {
				continue
			}
			x := stepDiff(s, before)
			switch {
			case allows(s) && !x.Intersect(c.Opened).IsEmpty():
				add(diff.CausePolicyRule, "allows", s, x.Intersect(c.Opened))
			case s.Action == "Deny" && !x.Intersect(c.Closed).IsEmpty():
				add(diff.CauseDenyRule, "denies", s, x.Intersect(c.Closed))
			}
		}
		for _, s := range before {
			if (s.Policy != "") != rules {
				continue
			}
			x := stepDiff(s, after)
			switch {
			case allows(s) && !x.Intersect(c.Closed).IsEmpty():
				add(diff.CauseRuleRemoved, "no longer allows", s, x.Intersect(c.Closed))
			case s.Action == "Deny" && !x.Intersect(c.Opened).IsEmpty():
				add(diff.CauseDenyRemoved, "no longer denies", s, x.Intersect(c.Opened))
			}
		}
		if len(found) > 0 {
			return append(out, found...)
		}
	}
	return append(out, changed...)
}

// allows reports whether a step lets traffic through (Pass only hands it
// to the next tier, and is not a decision).
func allows(s tiered.Step) bool { return s.Action == "Allow" || s.Action == "Accept" }

// stepDiff is the part of a step's connections that the same decision
// (same policy, rule and action, or the same tier default) does not make
// on the other side.
func stepDiff(s tiered.Step, other []tiered.Step) connset.Set {
	x := s.Conns
	if s.Action == "Pass" {
		return connset.None()
	}
	for _, o := range other {
		if o.Policy == s.Policy && o.Rule == s.Rule && o.Action == s.Action && o.Tier == s.Tier && o.Text == s.Text {
			x = x.Subtract(o.Conns)
		}
	}
	return x
}

// tieredSteps lists the decisions of both directions for a change's pair
// in c (none when an end does not exist there).
func tieredSteps(c *model.Cluster, domains []model.DomainPattern, ch diff.Change) []tiered.Step {
	end := func(e reach.Endpoint) (tiered.Endpoint, bool) {
		switch {
		case e.Workload != "":
			w := c.Workload(e.Workload)
			return tiered.Endpoint{Workload: w}, w != nil
		case e.Domain != "":
			for i := range domains {
				if domains[i].Text == e.Domain {
					return tiered.Endpoint{Domain: &domains[i]}, true
				}
			}
			return tiered.Endpoint{}, false
		}
		return tiered.Endpoint{External: e.External}, true
	}
	src, ok1 := end(ch.Src)
	dst, ok2 := end(ch.Dst)
	if !ok1 || !ok2 {
		return nil
	}
	ex := tiered.Explain(c, src, dst)
	var out []tiered.Step
	for _, d := range []*tiered.Direction{ex.Egress, ex.Ingress} {
		if d != nil {
			out = append(out, d.Steps...)
		}
	}
	return out
}
