package model

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// FuzzCompileSelector feeds arbitrary label selectors (as YAML) to the
// compiler: it must never panic, and a selector it accepts must have a
// canonical key that is stable under recompilation of the same input and
// must agree with Kubernetes' own selector semantics on sample labels.
func FuzzCompileSelector(f *testing.F) {
	for _, seed := range []string{
		"{}",
		"matchLabels: {app: web}",
		"matchExpressions: [{key: tier, operator: In, values: [a, b]}]",
		"matchExpressions: [{key: tier, operator: NotIn, values: [a]}, {key: app, operator: Exists}]",
		"matchExpressions: [{key: x, operator: DoesNotExist}]",
		"matchExpressions: [{key: x, operator: In}]",
		"matchLabels: {\"-bad\": v}",
		"matchLabels: {example.com/app: \"\"}",
	} {
		f.Add(seed, "app=web,tier=a")
	}
	f.Fuzz(func(t *testing.T, text, labelText string) {
		var ls metav1.LabelSelector
		if err := yaml.Unmarshal([]byte(text), &ls); err != nil {
			return
		}
		s, err := CompileSelector(&ls)
		if err != nil {
			return
		}
		again, err := CompileSelector(&ls)
		if err != nil || again.Key() != s.Key() {
			t.Fatalf("CompileSelector(%q) not stable: %q then %q (%v)", text, s.Key(), again.Key(), err)
		}
		labels := map[string]string{}
		if sel, err := metav1.ParseToLabelSelector(labelText); err == nil {
			for k, v := range sel.MatchLabels {
				labels[k] = v
			}
		}
		want, err := metav1.LabelSelectorAsSelector(&ls)
		if err != nil {
			return // apimachinery is stricter on some inputs: nothing to compare
		}
		if got := s.Matches(labels); got != want.Matches(labelsSet(labels)) {
			t.Fatalf("selector %q on %v: Matches = %v; apimachinery says %v", s.Key(), labels, got, !got)
		}
	})
}

type labelsSet map[string]string

func (l labelsSet) Has(k string) bool              { _, ok := l[k]; return ok }
func (l labelsSet) Get(k string) string            { return l[k] }
func (l labelsSet) Lookup(k string) (string, bool) { v, ok := l[k]; return v, ok }
