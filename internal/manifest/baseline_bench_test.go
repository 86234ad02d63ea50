package manifest

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// BenchmarkBaselineSigsYAML decodes the same input the common way
// (sigs.k8s.io/yaml: YAML to JSON through map[string]any, then JSON into
// the typed struct), sequentially and without lines, for comparison with
// BenchmarkDecodeAll (set -cpu 1 to compare CPU cost).
func BenchmarkBaselineSigsYAML(b *testing.B) {
	data := genManifests(5000, 2000)
	docs, _ := Split("gen.yaml", data)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		for i, d := range docs {
			var err error
			if i < 5000 {
				err = sigsyaml.UnmarshalStrict(d.Data, new(appsv1.Deployment))
			} else {
				err = sigsyaml.UnmarshalStrict(d.Data, new(networkingv1.NetworkPolicy))
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
