package reach_test

import (
	"fmt"
	"testing"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/synth"
)

// TestCompareMatchesConnections checks Compare against the difference of
// the two sides' listed connections, pair by pair, and its order, on
// synthetic clusters large enough for Compare to split destinations
// between cores.
func TestCompareMatchesConnections(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			base := synth.Generate(synth.Config{Seed: seed, Workloads: 600, Policies: 240, Namespaces: 30})
			head, changes := synth.Mutate(base, seed+20, 6)
			bc := model.Build(base.Objects, model.Options{})
			hc := model.Build(head.Objects, model.Options{Reuse: bc})
			sp := reach.NewSpace([]*model.Cluster{bc, hc}, nil)
			br, err := reach.Evaluate(sp, bc)
			if err != nil {
				t.Fatal(err)
			}
			hr, err := reach.Update(br, hc)
			if err != nil {
				t.Fatal(err)
			}
			deltas, err := reach.Compare(br, hr)
			if err != nil {
				t.Fatal(err)
			}
			before, after := engineAll(t, br), engineAll(t, hr)
			isWorkload := map[string]bool{}
			for _, w := range sp.Workloads {
				isWorkload[w] = true
			}
			want := map[[2]string][2]connset.Set{}
			for _, m := range []map[[2]string]connset.Set{before, after} {
				for k := range m {
					if !isWorkload[k[0]] || !isWorkload[k[1]] {
						continue
					}
					b, a := before[k], after[k]
					if !b.Equal(a) {
						want[k] = [2]connset.Set{b, a}
					}
				}
			}
			got := map[[2]string][2]connset.Set{}
			for i, d := range deltas {
				if i > 0 && d.Src.String()+"\x00"+d.Dst.String() < deltas[i-1].Src.String()+"\x00"+deltas[i-1].Dst.String() {
					t.Fatalf("Compare after %v: delta %d (%s => %s) out of order", changes, i, d.Src, d.Dst)
				}
				if d.Src.IsExternal() || d.Dst.IsExternal() {
					continue
				}
				got[[2]string{d.Src.Workload, d.Dst.Workload}] = [2]connset.Set{d.Before, d.After}
			}
			if len(want) == 0 {
				t.Fatalf("changes %v changed no workload pair; want a test that compares something", changes)
			}
			for k, w := range want {
				g, ok := got[k]
				if !ok || !g[0].Equal(w[0]) || !g[1].Equal(w[1]) {
					t.Errorf("Compare after %v: %s => %s = %v, %v (listed %v); want %v, %v", changes, k[0], k[1], g[0], g[1], ok, w[0], w[1])
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("Compare after %v lists %s => %s; want it unchanged", changes, k[0], k[1])
				}
			}
		})
	}
}
