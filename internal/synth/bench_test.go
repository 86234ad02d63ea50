package synth

import "testing"

// BenchmarkGenerate_10000 measures the scale of DESIGN.md section 6: 10,000
// workloads, 4,000 policies, 500 namespaces, Source lines included.
func BenchmarkGenerate_10000(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c := Generate(Config{Seed: 1, Namespaces: 500, Workloads: 10000, Policies: 4000})
		if len(c.Objects) < 14000 {
			b.Fatalf("Generate made %d objects; want at least 14000", len(c.Objects))
		}
	}
}

// BenchmarkMutate_10000 measures a 10-change PR on the 10,000-workload cluster.
func BenchmarkMutate_10000(b *testing.B) {
	base := Generate(Config{Seed: 1, Namespaces: 500, Workloads: 10000, Policies: 4000})
	b.ReportAllocs()
	seed := int64(0)
	for b.Loop() {
		seed++
		if _, ch := Mutate(base, seed, 10); len(ch) != 10 {
			b.Fatalf("Mutate(base, %d, 10) made %d changes; want 10", seed, len(ch))
		}
	}
}

// BenchmarkWriteDir_10000 measures writing the 10,000-workload cluster.
func BenchmarkWriteDir_10000(b *testing.B) {
	c := Generate(Config{Seed: 1, Namespaces: 500, Workloads: 10000, Policies: 4000})
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteDir(c, dir); err != nil {
			b.Fatalf("WriteDir = %v", err)
		}
	}
}
