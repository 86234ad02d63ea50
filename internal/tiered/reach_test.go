package tiered_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/oracle"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/synth"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

// TestAgreesWithReach checks that, without admin policies, the tiered
// evaluator reduces to NetworkPolicy: it gives the bitset evaluator's answer
// on synthetic clusters (ipBlocks, IPv6, named ports, hostNetwork, default
// deny), compared semantically. reach prints IPv6 ranges only when some
// input mentions one (Space.ShowIPv6); the comparison follows it.
func TestAgreesWithReach(t *testing.T) {
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			gen := synth.Generate(synth.Config{Seed: seed, Workloads: 60, Policies: 40, Namespaces: 6})
			c := model.Build(gen.Objects, model.Options{})
			if diag.HasErrors(c.Diagnostics) {
				t.Fatalf("synthetic cluster has errors: %v", c.Diagnostics)
			}
			sp := reach.NewSpace([]*model.Cluster{c}, nil)
			res, err := reach.Evaluate(sp, c)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []oracle.Line
			for _, cn := range res.Connections() {
				want = append(want, line(t, cn.Src.String(), cn.Dst.String(), cn.Conns.String()))
			}
			for _, l := range tiered.Evaluate(c) {
				got = append(got, line(t, l.Src.String(), l.Dst.String(), l.Conns.String()))
			}
			if d := oracle.Compare(got, want, oracle.CompareOptions{IgnoreIPv6: !sp.ShowIPv6}); len(d) > 0 {
				t.Errorf("tiered.Evaluate(synth seed %d) differs from reach.Evaluate (%d lines):\n%s", seed, len(d), strings.Join(d, "\n"))
			}
		})
	}
}

func line(t *testing.T, src, dst, conns string) oracle.Line {
	t.Helper()
	ls, err := oracle.ParseList([]byte(src + " => " + dst + " : " + conns))
	if err != nil || len(ls) != 1 {
		t.Fatalf("parse %s => %s : %s: %v", src, dst, conns, err)
	}
	return ls[0]
}

// BenchmarkEvaluate_200 measures the per-pair evaluator on a synthetic
// NetworkPolicy cluster (it is a reference, not built for scale).
func BenchmarkEvaluate_200(b *testing.B) {
	gen := synth.Generate(synth.Config{Seed: 1, Workloads: 200, Policies: 80, Namespaces: 10})
	c := model.Build(gen.Objects, model.Options{})
	b.ResetTimer()
	for b.Loop() {
		tiered.Evaluate(c)
	}
}
