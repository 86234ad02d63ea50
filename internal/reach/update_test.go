package reach

import (
	"fmt"
	"testing"

	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/synth"
)

// TestUpdateSharesUntouchedRows checks that an incremental update keeps the
// rows a small change does not touch shared with base (so Compare skips
// them), and that it still equals a full evaluation.
func TestUpdateSharesUntouchedRows(t *testing.T) {
	base := synth.Generate(synth.Config{Seed: 3, Workloads: 400, Policies: 160, Namespaces: 20})
	for seed := int64(1); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { checkShares(t, base, seed) })
	}
}

func checkShares(t *testing.T, base *synth.Cluster, seed int64) {
	head, changes := synth.Mutate(base, seed, 2)
	bc, hc := model.Build(base.Objects, model.Options{}), model.Build(head.Objects, model.Options{})
	sp := NewSpace([]*model.Cluster{bc, hc}, nil)
	br, err := Evaluate(sp, bc)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := Update(br, hc)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Evaluate(sp, hc)
	if err != nil {
		t.Fatal(err)
	}
	if !SameResult(inc, full) {
		t.Fatalf("Update after %v differs from Evaluate", changes)
	}
	// A row is copied only when it changes; a destination isolated by no
	// policy has its side's one open row.
	present, copiedIn, copiedEg, needless := 0, 0, 0, 0
	inc.k.present.each(func(d int) {
		present++
		a, b := br.in[d], inc.in[d]
		if len(a) == 0 || len(b) == 0 || &a[0] != &b[0] && !(&a[0] == &br.k.openIn[0] && &b[0] == &inc.k.openIn[0]) {
			copiedIn++
			if len(a) > 0 && len(b) > 0 && equalRows(a, b) {
				needless++
			}
		}
		if br.eg[d] != inc.eg[d] {
			copiedEg++
			if br.eg[d] != nil && inc.eg[d] != nil && equalEg(br.eg[d], inc.eg[d]) {
				needless++
			}
		}
	})
	if needless > 0 || copiedIn == present || copiedEg > present/2 {
		t.Errorf("Update after %v copies %d ingress and %d egress rows of %d (%d of them unchanged); want only changed rows copied",
			changes, copiedIn, copiedEg, present, needless)
	}
	reused := 0
	for _, p := range inc.k.policies {
		for _, q := range br.k.policies {
			if p == q {
				reused++
				break
			}
		}
	}
	if reused < len(inc.k.policies)/2 {
		t.Errorf("Update after %v reuses %d of %d compiled policies; want most", changes, reused, len(inc.k.policies))
	}
}
