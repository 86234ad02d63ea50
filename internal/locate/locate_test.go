package locate

import "testing"

const policies = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-in
  namespace: shop
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: api}}
    ports: [{port: 5432}]
  - from:
    - namespaceSelector: {matchLabels: {team: mon}}
    ports:
    - port: 9187
      protocol: TCP
`

func TestLine(t *testing.T) {
	rendered := `{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"db-in","namespace":"shop"},` +
		`"spec":{"podSelector":{"matchLabels":{"app":"db"}},"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"api"}}}],"ports":[{"port":5432}]},` +
		`{"from":[{"namespaceSelector":{"matchLabels":{"team":"mon"}}}],"ports":[{"port":9187,"protocol":"TCP"}]}]}}`
	patched := `{"spec":{"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"api","env":"prod"}}}],"ports":[{"port":5432}]},` +
		`{"from":[{"namespaceSelector":{"matchLabels":{"team":"mon"}}}],"ports":[{"port":9187,"protocol":"TCP"}]}]}}`
	tests := []struct {
		name     string
		line     int
		rendered string
		path     string
		want     int
		ok       bool
	}{
		{"first rule, JSON rendering", 8, rendered, "spec.ingress[0]", 13, true},
		{"second rule, block style", 8, rendered, "spec.ingress[1]", 16, true},
		{"document's first line", 5, rendered, "spec.ingress[1]", 16, true},
		{"a field inside a rule", 8, rendered, "spec.ingress[1].ports[0]", 19, true},
		{"patched rule keeps the object's line", 8, patched, "spec.ingress[0]", 0, false},
		{"unpatched rule of a patched object", 8, patched, "spec.ingress[1]", 16, true},
		{"no such rule", 8, rendered, "spec.egress[0]", 0, false},
		{"index out of range", 8, rendered, "spec.ingress[5]", 0, false},
		{"other document", 2, rendered, "spec.ingress[0]", 0, false},
		{"bad path", 8, rendered, "spec..x", 0, false},
		{"bad index", 8, rendered, "spec.ingress[x]", 0, false},
	}
	for _, tt := range tests {
		got, ok := Line([]byte(policies), tt.line, []byte(tt.rendered), tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: Line(policies, %d, %s) = %d, %v; want %d, %v", tt.name, tt.line, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLineRefusesAliases(t *testing.T) {
	src := "a: &x {b: 1}\nspec:\n  ingress: [*x]\n"
	if _, ok := Line([]byte(src), 1, []byte(src), "spec.ingress[0]"); ok {
		t.Errorf("Line on a file with anchors = ok; want refused")
	}
}

func FuzzLine(f *testing.F) {
	f.Add([]byte(policies), 8, []byte(policies), "spec.ingress[1]")
	f.Add([]byte("a: [1, 2]\n---\nb: {c: [x]}\n"), 3, []byte(`{"b":{"c":["x"]}}`), "b.c[0]")
	f.Fuzz(func(t *testing.T, source []byte, line int, rendered []byte, path string) {
		if len(source) > 1<<16 || len(rendered) > 1<<16 {
			return
		}
		if n, ok := Line(source, line, rendered, path); ok && n < 1 {
			t.Fatalf("Line = %d, true; want a line >= 1", n)
		}
	})
}
