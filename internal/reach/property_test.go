package reach_test

import (
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// engineAll expands the engine's connections to one entry per workload pair
// and per (workload, external atom), like refAll.
func engineAll(t testing.TB, res *reach.Result) map[[2]string]connset.Set {
	out := map[[2]string]connset.Set{}
	atoms := res.Space.External
	expand := func(r ipset.Range) []string {
		var names []string
		for _, a := range atoms {
			if r.ContainsRange(a) {
				names = append(names, a.String())
			}
		}
		return names
	}
	for _, c := range res.Connections() {
		switch {
		case c.Src.IsExternal():
			for _, a := range expand(c.Src.External) {
				out[[2]string{a, c.Dst.Workload}] = c.Conns
			}
		case c.Dst.IsExternal():
			for _, a := range expand(c.Dst.External) {
				out[[2]string{c.Src.Workload, a}] = c.Conns
			}
		default:
			if _, dup := out[[2]string{c.Src.Workload, c.Dst.Workload}]; dup {
				t.Fatalf("pair %s => %s listed twice", c.Src, c.Dst)
			}
			out[[2]string{c.Src.Workload, c.Dst.Workload}] = c.Conns
		}
	}
	return out
}

func diffMaps(got, want map[[2]string]connset.Set) []string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		if !ok || !g.Equal(w) {
			out = append(out, k[0]+" => "+k[1]+": got "+g.String()+"; want "+w.String())
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, k[0]+" => "+k[1]+": got "+g.String()+"; want No Connections")
		}
	}
	sort.Strings(out)
	return out
}

// checkAgainstReference evaluates the cluster drawn from data with the
// engine and the naive reference and reports any difference.
func checkAgainstReference(t *testing.T, data []byte) {
	t.Helper()
	objs := genCluster(&chooser{data: data})
	c := buildCluster(objs)
	if diag.HasErrors(c.Diagnostics) {
		return // invalid input is rejected before evaluation
	}
	sp := reach.NewSpace([]*model.Cluster{c}, nil)
	res, err := reach.Evaluate(sp, c)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	got := engineAll(t, res)
	want := refAll(c, sp.External, sp.ShowIPv6)
	if d := diffMaps(got, want); len(d) > 0 {
		t.Errorf("engine != reference for cluster %q:\n%s", data, strings.Join(d, "\n"))
	}
}

// checkIncremental derives head incrementally from base and compares it,
// and its changes, with a full evaluation of head.
func checkIncremental(t *testing.T, data []byte) {
	t.Helper()
	ch := &chooser{data: data}
	baseObjs := genCluster(ch)
	headObjs := mutate(ch, baseObjs)
	bc, hc := buildCluster(baseObjs), buildCluster(headObjs)
	if diag.HasErrors(bc.Diagnostics) || diag.HasErrors(hc.Diagnostics) {
		return
	}
	sp := reach.NewSpace([]*model.Cluster{bc, hc}, nil)
	base, err := reach.Evaluate(sp, bc)
	if err != nil {
		t.Fatal(err)
	}
	full, err := reach.Evaluate(sp, hc)
	if err != nil {
		t.Fatal(err)
	}
	inc, err := reach.Update(base, hc)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffMaps(engineAll(t, inc), engineAll(t, full)); len(d) > 0 {
		t.Fatalf("incremental != full for %q:\n%s", data, strings.Join(d, "\n"))
	}
	if !reach.SameResult(inc, full) {
		t.Fatalf("incremental rows differ from full rows bit for bit for %q", data)
	}
	if d := cmp.Diff(full.Diagnostics(), inc.Diagnostics()); d != "" {
		t.Fatalf("incremental Diagnostics() differ from full ones for %q (-full +incremental):\n%s", data, d)
	}
	fullDeltas, err := reach.Compare(base, full)
	if err != nil {
		t.Fatal(err)
	}
	incDeltas, err := reach.Compare(base, inc)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := deltaText(incDeltas), deltaText(fullDeltas); g != w {
		t.Fatalf("Compare(base, incremental) = \n%s\nwant Compare(base, full) =\n%s\nfor %q", g, w, data)
	}
}

func deltaText(ds []reach.Delta) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Src.String() + " => " + d.Dst.String() + ": " + d.Before.String() + " -> " + d.After.String() + "\n")
	}
	return b.String()
}

func randomInputs(seed int64, n, size int) [][]byte {
	r := rand.New(rand.NewSource(seed))
	out := make([][]byte, n)
	for i := range out {
		b := make([]byte, size)
		r.Read(b)
		out[i] = b
	}
	return out
}

func TestEngineMatchesReference(t *testing.T) {
	for _, data := range randomInputs(1, 400, 200) {
		checkAgainstReference(t, data)
	}
}

func TestIncrementalMatchesFull(t *testing.T) {
	for _, data := range randomInputs(2, 400, 300) {
		checkIncremental(t, data)
	}
}

func FuzzEngineMatchesReference(f *testing.F) {
	for _, data := range randomInputs(3, 8, 200) {
		f.Add(data)
	}
	f.Fuzz(checkAgainstReference)
}

func FuzzIncrementalMatchesFull(f *testing.F) {
	for _, data := range randomInputs(4, 8, 300) {
		f.Add(data)
	}
	f.Fuzz(checkIncremental)
}

// TestGeneratorCoverage guards the property tests against a generator that
// silently produces only invalid or trivial clusters.
func TestGeneratorCoverage(t *testing.T) {
	valid, withPolicies, withEgress, withIPBlock := 0, 0, 0, 0
	inputs := randomInputs(1, 400, 200)
	for _, data := range inputs {
		c := buildCluster(genCluster(&chooser{data: data}))
		if diag.HasErrors(c.Diagnostics) {
			continue
		}
		valid++
		if len(c.Policies) > 0 {
			withPolicies++
		}
		for _, p := range c.Policies {
			if p.Egress {
				withEgress++
				break
			}
		}
		for _, p := range c.Policies {
			found := false
			for _, r := range append(append([]model.Rule(nil), p.IngressRules...), p.EgressRules...) {
				for _, peer := range r.Peers {
					found = found || peer.IPBlock != nil
				}
			}
			if found {
				withIPBlock++
				break
			}
		}
	}
	t.Logf("of %d clusters: %d valid, %d with policies, %d with egress policies, %d with ipBlocks", len(inputs), valid, withPolicies, withEgress, withIPBlock)
	if valid < len(inputs)/2 || withPolicies < valid/2 || withEgress < valid/5 || withIPBlock < valid/10 {
		t.Errorf("generator coverage too low: %d valid, %d with policies, %d egress, %d ipBlock", valid, withPolicies, withEgress, withIPBlock)
	}
}
