package tiered

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// TestCompareMatchesLines checks Compare, which reads results directly,
// against a comparison of the two sides' printed lines: on random clusters
// and edits, both give the same (before, after) for every pair, external
// ranges cut into the common pieces of both sides.
func TestCompareMatchesLines(t *testing.T) {
	checked := 0
	for seed := uint64(1); checked < 60 && seed < 200; seed++ {
		tc := drawCase(fmt.Sprintf("seed %d", seed), seed, smallCluster, seeded(seed+1<<32))
		gb := newGenBuilder()
		base, errs := gb.build(tc.revs[0], tc.opts)
		if len(errs) > 0 {
			continue
		}
		head, errs := gb.build(tc.revs[1], tc.opts)
		if len(errs) > 0 {
			continue
		}
		checked++
		domains := CommonDomains(base, head)
		br, hr := Compute(base, domains...), Compute(head, domains...)
		bl, hl := br.Lines(), hr.Lines()
		var bounds []ipset.Range
		for _, ls := range [][]Line{bl, hl} {
			for _, l := range ls {
				for _, p := range []Point{l.Src, l.Dst} {
					if p.IsExternal() {
						bounds = append(bounds, p.External)
					}
				}
			}
		}
		atoms := ipset.Atoms(bounds)
		// expand keys a pair by its ends, an external end by each common
		// atom it covers.
		expand := func(src, dst Point, add func(key string)) {
			switch {
			case src.IsExternal() || dst.IsExternal():
				ext, other, isDst := dst.External, src.String(), true
				if src.IsExternal() {
					ext, other, isDst = src.External, dst.String(), false
				}
				first, last, ok := ipset.AtomSpan(atoms, ext)
				for i := first; ok && i <= last; i++ {
					if isDst {
						add(other + " => " + atoms[i].String())
					} else {
						add(atoms[i].String() + " => " + other)
					}
				}
			default:
				add(src.String() + " => " + dst.String())
			}
		}
		sides := func(ls []Line) map[string]connset.Set {
			m := map[string]connset.Set{}
			for _, l := range ls {
				expand(l.Src, l.Dst, func(k string) { m[k] = l.Conns })
			}
			return m
		}
		bm, hm := sides(bl), sides(hl)
		want := map[string]string{}
		for _, m := range []map[string]connset.Set{bm, hm} {
			for k := range m {
				if !bm[k].Equal(hm[k]) {
					want[k] = bm[k].String() + " -> " + hm[k].String()
				}
			}
		}
		got := map[string]string{}
		for _, d := range Compare(br, hr) {
			expand(d.Src, d.Dst, func(k string) { got[k] = d.Before.String() + " -> " + d.After.String() })
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s: Compare differs from the line-level comparison (-want +got):\n%s\nbase:\n%s\nhead:\n%s", tc.name, d, tc.revs[0].yaml(), tc.revs[1].yaml())
		}
	}
	if checked < 50 {
		t.Fatalf("only %d valid cases", checked)
	}
}
