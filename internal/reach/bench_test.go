package reach_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/synth"
)

// benchCluster builds a synthetic cluster of the given size and, for
// incremental benchmarks, a head with n PR-like changes.
func benchClusters(b *testing.B, workloads, policies, namespaces, changes int) (*model.Cluster, *model.Cluster) {
	b.Helper()
	cfg := synth.Config{Seed: 1, Workloads: workloads, Policies: policies, Namespaces: namespaces}
	base := synth.Generate(cfg)
	bc := model.Build(base.Objects, model.Options{})
	if diag.HasErrors(bc.Diagnostics) {
		b.Fatalf("synthetic base has errors: %v", bc.Diagnostics[:1])
	}
	if changes == 0 {
		return bc, nil
	}
	head, _ := synth.Mutate(base, 2, changes)
	// As in the pipeline: unchanged objects compile to the same model values.
	hc := model.Build(head.Objects, model.Options{Reuse: bc})
	if diag.HasErrors(hc.Diagnostics) {
		b.Fatalf("synthetic head has errors: %v", hc.Diagnostics[:1])
	}
	return bc, hc
}

func benchmarkFull(b *testing.B, workloads, policies, namespaces int) {
	c, _ := benchClusters(b, workloads, policies, namespaces, 0)
	sp := reach.NewSpace([]*model.Cluster{c}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := reach.Evaluate(sp, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalFull_1000(b *testing.B)  { benchmarkFull(b, 1000, 400, 50) }
func BenchmarkEvalFull_5000(b *testing.B)  { benchmarkFull(b, 5000, 2000, 250) }
func BenchmarkEvalFull_10000(b *testing.B) { benchmarkFull(b, 10000, 4000, 500) }

func benchmarkIncremental(b *testing.B, changes int) {
	bc, hc := benchClusters(b, 10000, 4000, 500, changes)
	sp := reach.NewSpace([]*model.Cluster{bc, hc}, nil)
	base, err := reach.Evaluate(sp, bc)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		head, err := reach.Update(base, hc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := reach.Compare(base, head); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalIncremental_10000_1(b *testing.B)  { benchmarkIncremental(b, 1) }
func BenchmarkEvalIncremental_10000_10(b *testing.B) { benchmarkIncremental(b, 10) }

func BenchmarkCIDRHeavy(b *testing.B) {
	c := model.Build(synth.CIDRHeavy(1).Objects, model.Options{})
	sp := reach.NewSpace([]*model.Cluster{c}, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := reach.Evaluate(sp, c)
		if err != nil {
			b.Fatal(err)
		}
		_ = res.Connections()
	}
	b.ReportMetric(float64(len(sp.External)), "atoms")
}

// TestSyntheticIncremental checks incremental == full on a mid-sized
// synthetic cluster with PR-like changes (the generator the benchmarks use).
func TestSyntheticIncremental(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			base := synth.Generate(synth.Config{Seed: seed, Workloads: 300, Policies: 120, Namespaces: 20})
			head, changes := synth.Mutate(base, seed+10, 8)
			bc := model.Build(base.Objects, model.Options{})
			hc := model.Build(head.Objects, model.Options{})
			// The pipeline builds head reusing base's compiled objects; the
			// incremental result must not depend on it.
			hcReuse := model.Build(head.Objects, model.Options{Reuse: bc})
			sp := reach.NewSpace([]*model.Cluster{bc, hc}, nil)
			br, err := reach.Evaluate(sp, bc)
			if err != nil {
				t.Fatal(err)
			}
			full, err := reach.Evaluate(sp, hc)
			if err != nil {
				t.Fatal(err)
			}
			inc, err := reach.Update(br, hc)
			if err != nil {
				t.Fatal(err)
			}
			if !reach.SameResult(inc, full) {
				t.Fatalf("incremental != full after changes %v", changes)
			}
			if d := cmp.Diff(full.Diagnostics(), inc.Diagnostics()); d != "" {
				t.Fatalf("incremental Diagnostics() differ after changes %v (-full +incremental):\n%s", changes, d)
			}
			fd, _ := reach.Compare(br, full)
			id, _ := reach.Compare(br, inc)
			if deltaText(fd) != deltaText(id) {
				t.Fatalf("Compare(base, incremental) differs from Compare(base, full) after changes %v", changes)
			}
			incReuse, err := reach.Update(br, hcReuse)
			if err != nil {
				t.Fatal(err)
			}
			if !reach.SameResult(incReuse, full) {
				t.Fatalf("incremental from a head reusing base's objects != full after changes %v", changes)
			}
			if d := cmp.Diff(full.Diagnostics(), incReuse.Diagnostics()); d != "" {
				t.Fatalf("Diagnostics() with reuse differ after changes %v (-full +reuse):\n%s", changes, d)
			}
			rd, _ := reach.Compare(br, incReuse)
			if deltaText(fd) != deltaText(rd) {
				t.Fatalf("Compare(base, incremental with reuse) differs from Compare(base, full) after changes %v", changes)
			}
			if d := cmp.Diff(hc.Diagnostics, hcReuse.Diagnostics); d != "" {
				t.Fatalf("Build with Reuse changed the model diagnostics (-fresh +reuse):\n%s", d)
			}
		})
	}
}
