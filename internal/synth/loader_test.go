package synth

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// TestManifestLoaderReadsWriteDir reads WriteDir's output with the project's
// manifest loader: the same objects come back, at the same file and line,
// without diagnostics.
func TestManifestLoaderReadsWriteDir(t *testing.T) {
	clusters := map[string]*Cluster{"Generate": Generate(configs[2]), "CIDRHeavy": CIDRHeavy(1)}
	clusters["Mutate"], _ = Mutate(clusters["Generate"], 3, 10)
	for name, c := range clusters {
		t.Run(name, func(t *testing.T) {
			dir, _ := writeDir(t, c)
			docs, diags, err := manifest.ReadDir(os.DirFS(dir), ".")
			if err != nil || len(diags) > 0 {
				t.Fatalf("manifest.ReadDir(%s) = %v, %v; want no error or diagnostic", dir, diags, err)
			}
			got := map[string]manifest.Object{}
			for _, d := range docs {
				objs, diags := manifest.Decode(d)
				if len(diags) > 0 {
					t.Errorf("manifest.Decode(%s) diagnostics = %v; want none", d.Source.File, diags)
				}
				for _, o := range objs {
					got[objectName(o)] = o
				}
			}
			if len(got) != len(c.Objects) {
				t.Errorf("manifest loader read %d objects; want %d", len(got), len(c.Objects))
			}
			for _, want := range c.Objects {
				g, ok := got[objectName(want)]
				if !ok {
					t.Errorf("manifest loader did not read %s", objectName(want))
					continue
				}
				if d := cmp.Diff(want, g); d != "" {
					t.Errorf("manifest loader read %s as (-want +got):\n%s", objectName(want), d)
				}
			}
		})
	}
}
