package render

import (
	"strings"
	"testing"

	"github.com/reachdiff/reachdiff/internal/source"
)

// FuzzPreflight feeds arbitrary bytes as a kustomization file to the
// preflight, Closure and Discover: they must return, never panic, and a
// refusal must name the overlay.
func FuzzPreflight(f *testing.F) {
	for _, seed := range []string{
		"resources:\n- np.yaml\n- ../base\n",
		"resources: [github.com/x/y?ref=v1]\npatches:\n- path: p.yaml\n- patch: |\n    kind: X\n",
		"configMapGenerator:\n- name: c\n  files: [k=f.txt]\n  envs: [e.env]\n  env: e.env\n",
		"kind: Component\ncomponents: [../c]\ntransformers:\n- |\n  kind: LabelTransformer\n",
		"helmCharts: [{name: x}]\nopenapi: {path: x}\n",
		"generators: [{kind: X}]\npatchesStrategicMerge: [\"a: b\", p.yaml]\n",
		aliasBomb,
		"a: &a [*a]\n",
		"resources: &r [np.yaml]\nbases: *r\n",
		"- just\n- a list\n",
		"{\"resources\": [\"np.yaml\"]}",
		"---\n---\nresources: []\n---\nkind: x\n",
		"resources:\n- ../../../../etc\n- /abs\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := source.NewTree("fuzz", map[string][]byte{
			"app/kustomization.yaml":  data,
			"app/np.yaml":             []byte(netpol),
			"app/p.yaml":              []byte(netpol),
			"base/kustomization.yaml": []byte("resources: [np.yaml]\n"),
			"base/np.yaml":            []byte(netpol),
			"c/kustomization.yaml":    []byte("kind: Component\n"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Preflight(tr, "app", Options{}); err != nil && !strings.Contains(err.Error(), "overlay app") {
			t.Errorf("Preflight(%q) error = %q; want it to name the overlay", data, err)
		}
		_, _ = Closure(tr, "app")
		_, _ = Discover(tr)
		_ = Affected(tr, []string{"app", "base"}, []string{"base/np.yaml"})
	})
}
