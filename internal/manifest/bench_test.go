package manifest

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// genManifestsText returns n generated Deployments and n NetworkPolicies.
func genManifestsText(n int) string { return string(genManifests(n, n)) }

// genManifests writes a deterministic multi-document YAML stream of
// deployments Deployments and policies NetworkPolicies, spread over ten
// namespaces, shaped like real application manifests.
func genManifests(deployments, policies int) []byte {
	var b strings.Builder
	for i := range deployments {
		fmt.Fprintf(&b, `---
# Deployment %[1]d
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%[1]d
  namespace: ns-%[2]d
  labels:
    app: app-%[1]d
    tier: "%[3]s"
    app.kubernetes.io/part-of: shop
spec:
  replicas: %[4]d
  selector:
    matchLabels:
      app: app-%[1]d
  template:
    metadata:
      labels:
        app: app-%[1]d
        tier: "%[3]s"
    spec:
      serviceAccountName: app-%[1]d
      containers:
      - name: main
        image: registry.example.com/shop/app-%[1]d:1.%[4]d.0
        args: ["--port=8080", "--metrics=9090"]
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        - name: metrics
          containerPort: 9090
        env:
        - name: MODE
          value: production
        resources:
          requests: {cpu: 100m, memory: 128Mi}
`, i, i%10, []string{"web", "api", "db"}[i%3], i%5)
	}
	for i := range policies {
		fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-%[1]d
  namespace: ns-%[2]d
spec:
  podSelector:
    matchLabels:
      app: app-%[1]d
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          tier: web
    - namespaceSelector:
        matchExpressions:
        - {key: kubernetes.io/metadata.name, operator: In, values: [ns-%[3]d, monitoring]}
    ports:
    - protocol: TCP
      port: 8080
    - port: metrics
  egress:
  - to:
    - ipBlock:
        cidr: 10.%[2]d.0.0/16
        except: [10.%[2]d.1.0/24]
    ports:
    - protocol: UDP
      port: 53
      endPort: 54
`, i, i%10, (i+1)%10)
	}
	return []byte(b.String())
}

// BenchmarkDecode measures the loader's path from files to objects:
// ReadDir (here from memory) then DecodeAll with a fresh cache, on 5,000
// Deployments and 2,000 NetworkPolicies in one file (5.2 MB).
func BenchmarkDecode(b *testing.B) {
	data := genManifests(5000, 2000)
	fsys := fstest.MapFS{"gen/all.yaml": {Data: data}}
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		docs, diags, err := ReadDir(fsys, "gen")
		if err != nil {
			b.Fatal(err)
		}
		objs, d2 := NewDecoder().DecodeAll(docs)
		if len(objs) != 7000 || len(diags)+len(d2) != 0 {
			b.Fatalf("decoded %d objects, %d diagnostics; want 7000, 0", len(objs), len(diags)+len(d2))
		}
	}
}

// BenchmarkDecodeAll measures DecodeAll alone (fresh cache), the part that
// runs on all cores.
func BenchmarkDecodeAll(b *testing.B) {
	data := genManifests(5000, 2000)
	docs, _ := Split("gen.yaml", data)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		NewDecoder().DecodeAll(docs)
	}
}

// BenchmarkSplit measures Split alone: cutting, and parsing each document
// to report syntax errors.
func BenchmarkSplit(b *testing.B) {
	data := genManifests(5000, 2000)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		Split("gen.yaml", data)
	}
}

// BenchmarkDecodeCached measures decoding the same documents a second time
// through one Decoder: the head-after-base case with no change.
func BenchmarkDecodeCached(b *testing.B) {
	data := genManifests(5000, 2000)
	docs, _ := Split("gen.yaml", data)
	d := NewDecoder()
	d.DecodeAll(docs)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		d.DecodeAll(docs)
	}
}

// reportCPU reports the CPU time per operation since start: on a shared,
// loaded machine wall time says little.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}
