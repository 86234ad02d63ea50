package tiered

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
)

// genStream is the second PCG word of every generator seed.
const genStream = 0x7469657265640a

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, genStream)) }

func lineStrings(r *Result) []string {
	ls := r.Lines()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.String()
	}
	return out
}

// updateCase is a base cluster and the revisions that follow it, with the
// edits that made each revision.
type updateCase struct {
	name  string
	revs  []genCluster
	edits [][]string
	// reuse builds each revision with model.Options.Reuse set to the one
	// before, as the pipeline does.
	reuse bool
	// opts are the CNI options every revision is built with.
	opts model.Options
}

// drawCase draws a base cluster from a seeded generator and two revisions
// with edits drawn from edits (the same generator, or a fuzz input); one
// case in eight reverts to the base in the second revision.
func drawCase(name string, seed uint64, size genSize, edits chooser) updateCase {
	r := seeded(seed)
	g := generate(r, size)
	h1, e1 := g.mutate(edits)
	h2, e2 := h1.mutate(edits)
	if oneIn(edits, 8) {
		h2, e2 = g, []string{"revert to revision 0"}
	}
	return updateCase{name: name, revs: []genCluster{g, h1, h2}, edits: [][]string{nil, e1, e2}, reuse: seed%2 == 0, opts: cniOptions(r)}
}

// check builds every revision of tc; when all are valid it derives each
// revision from the previous result with Update (a chain: Update(Update(
// Compute(base), h1), h2)) and compares it with Compute of the revision,
// after checking that Update with no change gives Compute's lines.
// It returns the built clusters, or nil and the errors when a revision is
// not valid input.
func (tc updateCase) check(t *testing.T) ([]*model.Cluster, []diag.Diagnostic) {
	t.Helper()
	gb := newGenBuilder()
	var cs []*model.Cluster
	opts := tc.opts
	for _, g := range tc.revs {
		c, errs := gb.build(g, opts)
		if len(errs) > 0 {
			return nil, errs
		}
		cs = append(cs, c)
		if tc.reuse {
			opts.Reuse = c
		}
	}
	prev := Compute(cs[0])
	if d := cmp.Diff(lineStrings(prev), lineStrings(Update(prev, cs[0]))); d != "" {
		t.Fatalf("%s: Update(Compute(revision 0), revision 0).Lines() differs from Compute(revision 0).Lines() (-want +got):\n%s\nrevision 0:\n%s",
			tc.name, d, tc.revs[0].yaml())
	}
	for i := 1; i < len(cs); i++ {
		got := Update(prev, cs[i])
		want := Compute(cs[i])
		if d := cmp.Diff(lineStrings(want), lineStrings(got)); d != "" {
			var edits strings.Builder
			for j := 1; j <= i; j++ {
				fmt.Fprintf(&edits, "  revision %d: %s\n", j, strings.Join(tc.edits[j], "; "))
			}
			t.Fatalf("%s (reuse %t, CNI %s, pod CIDRs %v): Update(revision %d's result, revision %d).Lines() differs from Compute(revision %d).Lines() (-want +got):\n%s\n"+
				"edits:\n%s\nrevision %d:\n%s\n\nrevision %d:\n%s", tc.name, tc.reuse, tc.opts.CNI, tc.opts.PodCIDRs, i-1, i, i, d, edits.String(), i-1, tc.revs[i-1].yaml(), i, tc.revs[i].yaml())
		}
		prev = got
	}
	return cs, nil
}

// propertyCases is how many valid cases TestUpdateMatchesCompute checks.
const propertyCases = 150

// TestUpdateMatchesCompute checks, on random clusters and random deltas,
// that Update gives Compute's lines, also when chained. It also checks that
// the generator nearly always produces valid input and that the cases
// cover every kind it writes.
func TestUpdateMatchesCompute(t *testing.T) {
	valid, rejected := 0, 0
	var firstRejects []string
	cover := map[string]int{}
	for seed := uint64(1); valid < propertyCases && seed < 4*propertyCases; seed++ {
		// The edits draw from another stream than the base cluster.
		tc := drawCase(fmt.Sprintf("seed %d", seed), seed, smallCluster, seeded(seed+1<<32))
		cs, errs := tc.check(t)
		if errs != nil {
			rejected++
			if len(firstRejects) < 3 {
				firstRejects = append(firstRejects, fmt.Sprintf("seed %d: %v", seed, errs))
			}
			continue
		}
		valid++
		for _, c := range cs {
			coverage(c, cover)
		}
	}
	t.Logf("%d valid cases, %d rejected; coverage over their revisions: %v", valid, rejected, cover)
	if valid < propertyCases || rejected*20 >= valid+rejected {
		t.Errorf("generator: %d valid cases, %d rejected (want < 5%% rejected); first rejects:\n%s", valid, rejected, strings.Join(firstRejects, "\n"))
	}
	// Each feature in at least a twentieth of the revisions, so that a
	// generator that stopped writing one is noticed.
	revisions := 3 * valid
	for _, k := range coverageKeys {
		if cover[k]*20 < revisions {
			t.Errorf("generator coverage: %q in %d of %d revisions; want at least a twentieth", k, cover[k], revisions)
		}
	}
}

var coverageKeys = []string{"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "Pass",
	"ipBlock", "IPv6", "domain", "exposed workload", "hostNetwork", "assumed namespace", "calico pod peer", "Cilium"}

// coverage counts the features of c that the property test is meant to
// exercise.
func coverage(c *model.Cluster, cover map[string]int) {
	seen := map[string]bool{}
	if len(c.Policies) > 0 {
		seen["NetworkPolicy"] = true
	}
	for _, p := range c.Policies {
		for _, r := range append(append([]model.Rule(nil), p.IngressRules...), p.EgressRules...) {
			for _, pr := range r.Peers {
				if pr.IPBlock != nil {
					seen["ipBlock"] = true
				}
				if pr.ViaIPBlock {
					seen["calico pod peer"] = true
				}
			}
		}
	}
	for _, p := range c.AdminPolicies {
		seen[p.Kind] = true
		for _, r := range append(append([]model.AdminRule(nil), p.Ingress...), p.Egress...) {
			if r.Action == model.ActionPass {
				seen["Pass"] = true
			}
			for _, pr := range r.Peers {
				if pr.ViaNetworks {
					seen["calico pod peer"] = true
				}
			}
		}
	}
	if len(c.CiliumPolicies) > 0 {
		seen["Cilium"] = true
	}
	if MentionsIPv6(c) {
		seen["IPv6"] = true
	}
	if len(Domains(c)) > 0 {
		seen["domain"] = true
	}
	for _, e := range c.Exposures {
		if len(e.Targets) > 0 {
			seen["exposed workload"] = true
		}
	}
	for _, w := range c.Workloads {
		if w.HostNetwork {
			seen["hostNetwork"] = true
		}
	}
	for _, n := range c.Namespaces {
		if n.Assumed {
			seen["assumed namespace"] = true
		}
	}
	for k := range seen {
		cover[k]++
	}
}

// FuzzUpdateMatchesCompute draws a base cluster from seed and two
// revisions from the bytes of edits, and checks that Update, chained,
// gives Compute's lines. Invalid inputs are skipped.
func FuzzUpdateMatchesCompute(f *testing.F) {
	for seed := range uint64(6) {
		edits := make([]byte, 24)
		r := seeded(seed + 1000)
		for i := range edits {
			edits[i] = byte(r.Uint32())
		}
		f.Add(seed, edits)
	}
	f.Fuzz(func(t *testing.T, seed uint64, edits []byte) {
		tc := drawCase(fmt.Sprintf("seed %d, edits %q", seed, edits), seed, smallCluster, &byteChooser{data: edits})
		tc.check(t)
	})
}

// benchCluster is a 300-workload cluster for the benchmarks, and the same
// cluster with one NetworkPolicy rewritten.
func benchCluster(b *testing.B) (base, head *model.Cluster) {
	b.Helper()
	size := genSize{namespaces: [2]int{12, 12}, workloads: [2]int{300, 300}, policies: 0, exposures: 0}
	r := seeded(300)
	g := generate(r, size)
	for range 80 {
		g.docs = append(g.docs, g.newPolicy(r))
	}
	for range 10 {
		g.addExposure(r)
	}
	h := genCluster{namespaces: g.namespaces, workloads: g.workloads, docs: append([]genDoc(nil), g.docs...), next: g.next}
	for i, d := range h.docs {
		if d.kind == "NetworkPolicy" {
			h.docs[i] = h.rewrite(r, d)
			break
		}
	}
	gb := newGenBuilder()
	base, errs := gb.build(g, model.Options{})
	if len(errs) > 0 {
		b.Fatalf("benchmark base cluster: %v", errs)
	}
	head, errs = gb.build(h, model.Options{Reuse: base})
	if len(errs) > 0 {
		b.Fatalf("benchmark head cluster: %v", errs)
	}
	return base, head
}

// BenchmarkCompute_300 evaluates a 300-workload cluster with every kind of
// policy from scratch.
func BenchmarkCompute_300(b *testing.B) {
	_, head := benchCluster(b)
	b.ResetTimer()
	for b.Loop() {
		Compute(head)
	}
}

// BenchmarkUpdate_300 derives the same cluster, one NetworkPolicy changed,
// from the base result.
func BenchmarkUpdate_300(b *testing.B) {
	base, head := benchCluster(b)
	br := Compute(base)
	b.ResetTimer()
	for b.Loop() {
		Update(br, head)
	}
}

// TestDomainEndpointIsLocal checks that adding a ClusterNetworkPolicy for
// other workloads leaves web's reach to a domain alone. Domains keeps one
// endpoint per pattern text; written in both syntaxes, it takes Cilium's
// narrower meaning, which the NPA pattern of the ClusterNetworkPolicy
// covers too.
func TestDomainEndpointIsLocal(t *testing.T) {
	cilium := "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c, namespace: a}\nspec:\n" +
		"  endpointSelector: {matchLabels: {app: web}}\n  egress:\n  - toFQDNs: [{matchPattern: \"*.example.com\"}]\n"
	other := "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: n}\nspec:\n" +
		"  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchLabels: {team: b}}}\n" +
		"  egress:\n  - {action: Accept, to: [{domainNames: [\"*.example.com\"]}]}\n"
	webLines := func(docs ...string) []string {
		var out []string
		for _, l := range Lines(build(t, docs...)) {
			if strings.HasPrefix(l, web+" => ") && strings.Contains(l, DomainSuffix) {
				out = append(out, l)
			}
		}
		return out
	}
	want := webLines(cilium)
	if got := webLines(cilium, other); !cmp.Equal(got, want) {
		t.Errorf("Lines(base + Cilium policy + ClusterNetworkPolicy for namespace b): web's domain lines = %q; want %q (as without the ClusterNetworkPolicy)", got, want)
	}
}
