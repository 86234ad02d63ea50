package pipeline

import (
	"maps"
	"reflect"
	"slices"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/inventory"
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

// tieredDeltas compares two tiered results, as reach deltas. IPv6 ranges
// are left out unless showV6, as the bitset engine does.
func tieredDeltas(br, hr *tiered.Result, showV6 bool) []reach.Delta {
	var out []reach.Delta
	for _, d := range tiered.Compare(br, hr) {
		src, dst := TieredEndpoint(d.Src), TieredEndpoint(d.Dst)
		if !showV6 && (src.IsRange() && !src.External.Is4() || dst.IsRange() && !dst.External.Is4()) {
			continue
		}
		out = append(out, reach.Delta{Src: src, Dst: dst, Before: d.Before, After: d.After})
	}
	return out
}

// TieredEndpoint converts a tiered point to a reach endpoint.
func TieredEndpoint(p tiered.Point) reach.Endpoint {
	return reach.Endpoint{Workload: p.Name, Domain: p.Domain, External: p.External}
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
	r.ExternalReach(func(w string, dst tiered.Point, conns connset.Set) {
		if dst.Domain != "" {
			dom = append(dom, inventory.DomainReach{Workload: w, Domain: dst.Domain, Conns: conns})
		} else {
			ext = append(ext, inventory.ExternalReach{Workload: w, Range: dst.External, Conns: conns})
		}
	})
	return ext, dom
}

// tieredCauses explains a change of an overlay with policy tiers from the
// tiers' decisions: the endpoint causes diff found stay; the policy causes
// become the decisions that differ between base and head for the changed
// ports (a rule that allows or denies them now, one that did before),
// each with its policy, rule and file:line. When no decision differs (a
// change that only moved a selector, say) the changed admin and Cilium
// policies are named instead.
func tieredCauses(base, head *tiered.Result, c diff.Change, changed []diff.Cause) []diff.Cause {
	var out []diff.Cause
	for _, x := range c.Causes {
		if diff.IsEndpointCause(x.Kind) {
			out = append(out, x)
		}
	}
	if c.Src.Workload == tiered.IngressController {
		if x := exposureCauses(base.Cluster(), head.Cluster(), c.Dst.Workload); len(x) > 0 {
			return append(out, x...)
		}
	}
	before := tieredSteps(base, c)
	after := tieredSteps(head, c)
	var found []diff.Cause
	add := func(kind, verb string, s tiered.Step, conns connset.Set) {
		what := s.Policy + " " + s.Rule + " " + verb + " " + conns.String()
		if s.Policy == "" {
			what = s.Text + " (" + conns.String() + ")"
			if kind == diff.CauseRuleRemoved || kind == diff.CauseDenyRemoved {
				what = "before: " + what
			}
		}
		x := diff.Cause{Kind: kind, Policy: s.Policy, File: s.File, Line: s.Line, Path: s.Path, Text: what}
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
func tieredSteps(r *tiered.Result, ch diff.Change) []tiered.Step {
	c := r.Cluster()
	end := func(e reach.Endpoint) (tiered.Endpoint, bool) {
		switch {
		case e.Workload != "":
			w := c.Workload(e.Workload)
			return tiered.Endpoint{Workload: w}, w != nil
		case e.Domain != "":
			d := tiered.FindDomain(r.Domains(), e.Domain)
			return tiered.Endpoint{Domain: d}, d != nil
		}
		return tiered.Endpoint{External: e.External}, true
	}
	src, ok1 := end(ch.Src)
	dst, ok2 := end(ch.Dst)
	if !ok1 || !ok2 {
		return nil
	}
	ex := r.Explain(src, dst)
	var out []tiered.Step
	for _, d := range []*tiered.Direction{ex.Egress, ex.Ingress} {
		if d != nil {
			out = append(out, d.Steps...)
		}
	}
	return out
}

// exposureCauses names the Ingresses and Routes whose targets on workload
// differ between base and head: one that exposes it now (added, or
// pointing at it anew) or no longer does.
func exposureCauses(base, head *model.Cluster, workload string) []diff.Cause {
	targets := func(c *model.Cluster) map[string]*model.Exposure {
		m := map[string]*model.Exposure{}
		for _, e := range c.Exposures {
			for _, t := range e.Targets {
				if t.Workload == workload {
					m[e.Key()] = e
				}
			}
		}
		return m
	}
	conns := func(e *model.Exposure) connset.Set {
		out := connset.None()
		for _, t := range e.Targets {
			if t.Workload == workload {
				out = out.Union(t.Conns)
			}
		}
		return out
	}
	bt, ht := targets(base), targets(head)
	var out []diff.Cause
	for _, key := range slices.Sorted(maps.Keys(ht)) {
		e := ht[key]
		if b, ok := bt[key]; !ok || !conns(b).Equal(conns(e)) {
			out = append(out, diff.Cause{Kind: diff.CauseExposure, Policy: key, File: e.Source.File, Line: e.Source.Line,
				Text: key + " exposes " + conns(e).String() + " of " + workload})
		}
	}
	for _, key := range slices.Sorted(maps.Keys(bt)) {
		if _, ok := ht[key]; !ok {
			e := bt[key]
			out = append(out, diff.Cause{Kind: diff.CauseExposure, Policy: key, File: e.Source.File, Line: e.Source.Line,
				Text: key + " no longer exposes " + workload})
		}
	}
	return out
}
