package pipeline

import (
	"reflect"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

// tieredDeltas compares two clusters with the per-pair tiered evaluator
// (AdminNetworkPolicy > NetworkPolicy > BaselineAdminNetworkPolicy, and the
// ingress controller), for overlays the bitset engine does not cover yet.
// External ranges of both sides are split into common pieces before the
// comparison, then adjacent pieces that changed alike are merged again.
func tieredDeltas(base, head *model.Cluster, showV6 bool) []reach.Delta {
	bl, hl := tiered.Evaluate(base), tiered.Evaluate(head)
	var bounds []ipset.Range
	for _, ls := range [][]tiered.Line{bl, hl} {
		for _, l := range ls {
			for _, p := range []tiered.Point{l.Src, l.Dst} {
				if p.Name == "" {
					bounds = append(bounds, p.External)
				}
			}
		}
	}
	atoms := ipset.Atoms(bounds)
	type key struct {
		src, dst string
		atom     int // -1 for two named ends
		extIsDst bool
	}
	expand := func(ls []tiered.Line) map[key]connset.Set {
		m := map[key]connset.Set{}
		for _, l := range ls {
			switch {
			case l.Src.Name != "" && l.Dst.Name != "":
				m[key{l.Src.Name, l.Dst.Name, -1, false}] = l.Conns
			case l.Dst.Name == "":
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
		d := reach.Delta{Before: bm[k], After: hm[k],
			Src: reach.Endpoint{Workload: k.src}, Dst: reach.Endpoint{Workload: k.dst}}
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

// adminCauses names the admin policies (and exposures) that differ between
// base and head: the causes of changes the NetworkPolicy explanation does not
// account for.
func adminCauses(base, head *model.Cluster) []diff.Cause {
	index := func(c *model.Cluster) map[string]*model.AdminPolicy {
		m := map[string]*model.AdminPolicy{}
		for _, p := range c.AdminPolicies {
			m[p.Key()] = p
		}
		return m
	}
	bi, hi := index(base), index(head)
	var out []diff.Cause
	for key, hp := range hi {
		bp, ok := bi[key]
		switch {
		case !ok:
			out = append(out, diff.Cause{Kind: diff.CausePolicyAdded, Policy: key, File: hp.Source.File, Line: hp.Source.Line,
				Text: key + " was added"})
		case !sameAdmin(bp, hp):
			out = append(out, diff.Cause{Kind: diff.CausePolicyChanged, Policy: key, File: hp.Source.File, Line: hp.Source.Line,
				Text: key + " changed"})
		}
	}
	for key, bp := range bi {
		if _, ok := hi[key]; !ok {
			out = append(out, diff.Cause{Kind: diff.CausePolicyDeleted, Policy: key, File: bp.Source.File, Line: bp.Source.Line,
				Text: key + " was deleted"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Policy < out[j].Policy })
	return out
}

func sameAdmin(a, b *model.AdminPolicy) bool {
	x, y := *a, *b
	x.Source, y.Source = manifest.Source{}, manifest.Source{}
	return reflect.DeepEqual(x, y)
}
