package tiered

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
)

// FuzzAdminPolicySpec feeds arbitrary specs to the AdminNetworkPolicy and
// ClusterNetworkPolicy compilers, next to the base fixture. Bad input must
// be a diagnostic naming the object, never a panic; a cluster that builds
// without errors must evaluate, and Update from the policy-free cluster
// must give Compute's lines.
func FuzzAdminPolicySpec(f *testing.F) {
	for _, seed := range []string{
		"tier: Admin\npriority: 3\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{networks: [0.0.0.0/0]}], protocols: [{tcp: {destinationPort: {number: 25}}}]}]",
		"tier: Baseline\npriority: 1\nsubject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}\ningress: [{action: Pass, from: [{namespaces: {}}]}]",
		"tier: Admin\npriority: 0\nsubject: {namespaces: {}}\negress: [{action: Accept, to: [{domainNames: ['*.example.com', api.stripe.com]}]}, {action: Deny, to: [{networks: ['::/0', 0.0.0.0/0]}]}]",
		"tier: Admin\npriority: 9\nsubject: {namespaces: {matchLabels: {team: a}}}\negress: [{action: Accept, to: [{pods: {namespaceSelector: {}, podSelector: {}}}], protocols: [{destinationNamedPort: http}, {udp: {destinationPort: {range: {start: 50, end: 60}}}}]}]",
		"priority: 5\nsubject: {namespaces: {}}\ningress: [{action: Allow, from: [{namespaces: {}}], ports: [{portRange: {start: 1, end: 9}}]}]",
		"tier: Admin\npriority: 2\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{nodes: {}}]}]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		indented := "  " + strings.ReplaceAll(spec, "\n", "\n  ")
		text := base + "\n---\napiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: f}\nspec:\n" + indented +
			"\n---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: g}\nspec:\n" + indented + "\n"
		docs, diags := manifest.Split("fuzz.yaml", []byte(text))
		dec := manifest.NewDecoder()
		objs, more := dec.DecodeAll(docs)
		c := model.Build(objs, model.Options{})
		all := append(append(diags, more...), c.Diagnostics...)
		for _, d := range all {
			if d.Severity == diag.Error && d.File == "" {
				t.Fatalf("error diagnostic without a file: %v", d)
			}
		}
		if diag.HasErrors(all) {
			return
		}
		plainDocs, _ := manifest.Split("base.yaml", []byte(base))
		plainObjs, _ := dec.DecodeAll(plainDocs)
		plain := model.Build(plainObjs, model.Options{})
		want := lineStrings(Compute(c))
		if d := cmp.Diff(want, lineStrings(Update(Compute(plain), c))); d != "" {
			t.Fatalf("spec %q: Update from the policy-free cluster differs from Compute (-want +got):\n%s", spec, d)
		}
	})
}
