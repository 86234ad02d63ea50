package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
)

// FuzzParse checks that no input panics Parse, that a usable result comes
// with no error diagnostic, and that every diagnostic names the file.
// Seeds: testdata/fuzz/FuzzParse and the example inventory.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "subprocessors.yaml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, ds := Parse("f.yaml", data)
		if (inv == nil) != diag.HasErrors(ds) {
			t.Fatalf("Parse(%q) = %v, %v: an inventory must come exactly when there is no error", data, inv, ds)
		}
		for _, d := range ds {
			if d.File != "f.yaml" || d.Message == "" {
				t.Fatalf("Parse(%q) diagnostic %+v lacks a file or message", data, d)
			}
		}
		if inv == nil {
			return
		}
		// What parsed must be usable by the rest of the package.
		inv.Boundaries()
		for _, r := range inv.Boundaries() {
			inv.Owners(r)
		}
		inv.Classify([]ExternalReach{{"w", allIPv4, connset.All()}, {"w", allIPv6, connset.All()}})
		inv.Agents([]Workload{{Name: "ns/w[Deployment]", Namespace: "ns", Images: []string{"gcr.io/datadoghq/agent:7"}}}, DefaultCatalogue())
		Diff(inv, nil)
		Disclosure(inv, Classification{}, AgentReport{}).Markdown()
	})
}
