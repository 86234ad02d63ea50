package manifest

import (
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	sigsyaml "sigs.k8s.io/yaml"
)

// sameAsYAML checks that when the fast path decodes doc, go-yaml decodes
// it to the same objects and no diagnostic. It reports whether the fast
// path took the document.
func sameAsYAML(t *testing.T, doc Document) bool {
	t.Helper()
	fast, ok := decodeFast(doc)
	if !ok {
		return false
	}
	slow, diags := decodeYAML(doc)
	if len(diags) > 0 {
		t.Errorf("decodeFast(%s:%d %q) took a document that gives diagnostics: %v", doc.Source.File, doc.Source.Line, doc.Data, diags)
	}
	opts := []cmp.Option{cmp.Exporter(func(reflect.Type) bool { return true }), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(slow, fast, opts...); diff != "" {
		t.Errorf("decodeFast(%s:%d %q) differs from go-yaml (-yaml +fast):\n%s", doc.Source.File, doc.Source.Line, doc.Data, diff)
	}
	return true
}

func TestFastDecode(t *testing.T) {
	tests := []struct {
		name, text string
		fast       bool // whether the fast path takes it
	}{
		{"flow collections", genManifestsText(1), false},
		{"sequence of mappings at the key's indentation", lines(
			"apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: web", "  namespace: shop",
			"spec:", "  template:", "    spec:", "      containers:", "      - name: app", "        image: 'nginx:1.25'",
			"        ports:", "        -   containerPort: 80", "            protocol: TCP", "      -", "        name: side"), true},
		{"comments and blank lines", lines(
			"# leading", "apiVersion: v1", "", "kind: Service", "metadata:", "    # inside", "  name: s",
			"  labels: {}", "spec:", "  ports: []", "  selector:", "    app: web", "    empty:", "    on: yes"), true},
		{"scalars", lines(
			"apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "  annotations:", `    a: "true"`,
			"    b: /x:y@z", "    c: _u v  w", "data:", "  n: null", "  x: Null"), true},
		{"first line not the name", lines("kind: Namespace", "apiVersion: v1", "metadata:", "  labels:", "    a: b", "  name: n"), true},
		{"no name", lines("apiVersion: v1", "kind: Namespace"), true},
		{"typed integers and booleans", lines(
			"apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: d", "spec:", "  replicas: -0",
			"  paused: True", "  template:", "    spec:", "      hostNetwork: FALSE"), true},
		{"unknown kind", lines("apiVersion: example.com/v1", "kind: Widget", "metadata:", "  name: w", "spec:", "  x: 1"), true},
		// Left to go-yaml.
		{"comment after a value", lines("apiVersion: v1", "kind: Namespace # ns", "metadata:", "  name: n"), false},
		{"anchor", lines("apiVersion: v1", "kind: Namespace", "metadata: &m", "  name: n"), false},
		{"float", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "x: 1.0"), false},
		{"octal", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "x: 010"), false},
		{"block scalar", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "data:", "  a: |", "    x"), false},
		{"multi-line plain", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "data:", "  a: x", "   y"), false},
		{"escape", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "data:", `  a: "x\ty"`), false},
		{"flow mapping", lines("apiVersion: v1", "kind: Namespace", "metadata: {name: n}"), false},
		{"tab", lines("apiVersion: v1", "kind: Namespace", "metadata:", "\tname: n"), false},
		{"CRLF", "apiVersion: v1\r\nkind: Namespace\r\n", false},
		{"two documents", lines("apiVersion: v1", "kind: Namespace", "---", "apiVersion: v1", "kind: Namespace"), false},
		{"List", lines("apiVersion: v1", "kind: List", "items:", "- apiVersion: v1", "  kind: Namespace"), false},
		{"not an object", lines("a: b"), false},
		{"a sequence", lines("- a"), false},
		{"colon in a value", lines("apiVersion: v1", "kind: Namespace", "metadata:", "  name: a: b"), false},
		{"bad indentation", lines("apiVersion: v1", "kind: Namespace", "metadata:", "    name: n", "  labels: {}"), false},
		{"unknown field (a diagnostic)", lines("apiVersion: v1", "kind: Namespace", "metadata:", "  name: n", "bogus: 1"), false},
		{"policy with a type error", lines("apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata:", "  name: p", "spec:", "  podSelector: 3"), false},
		{"duplicate key", lines("apiVersion: v1", "kind: Namespace", "metadata:", "  name: n", "  name: m"), false},
		{"kustomization kind", lines("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization"), false},
		{"nested inline sequence", lines("apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: c", "x:", "- - a"), false},
		// One line of JSON, as rendered.
		{"JSON", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w","namespace":"n","labels":{"a":"b"}},"spec":{"replicas":-3,"paused":true,"template":{"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}}}` + "\n", true},
		{"JSON escapes", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c\u00e9"},"data":{"a":"\"x\\y\n\t\u003c"}}`, true},
		{"JSON without a name", `{"kind":"Namespace","apiVersion":"v1","metadata":null}`, true},
		{"JSON escaped slash", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c\/"}}`, false},
		{"JSON float", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"x":1.0}`, false},
		{"JSON minus zero", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":-0}}`, false},
		{"JSON surrogate", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"\ud83d\ude00"}}`, false},
		{"JSON with spaces", `{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}`, false},
		{"JSON on two lines", "{\"apiVersion\":\"v1\",\n\"kind\":\"Namespace\"}", false},
		{"JSON non-ASCII", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"é"}}`, false},
		{"JSON duplicate key", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n","name":"m"}}`, false},
		{"JSON merge key", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"<<":"x"}}`, false},
		{"JSON List", `{"apiVersion":"v1","kind":"List","items":[]}`, false},
		{"JSON unknown field", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"},"bogus":1}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Lines are offset into the file.
			doc := Document{Source: Source{File: "f.yaml", Line: 11}, Data: []byte(tc.text)}
			if got := sameAsYAML(t, doc); got != tc.fast {
				t.Errorf("decodeFast(%q) took it: %v; want %v", doc.Data, got, tc.fast)
			}
		})
	}
}

// TestFastDecodeCorpus decodes every document of the repository's
// fixtures by both paths.
func TestFastDecodeCorpus(t *testing.T) {
	fast, all := 0, 0
	for _, dir := range []string{"../../testdata/corpus", "../../testdata/oracle", "../../testdata/example"} {
		fsys := os.DirFS(dir)
		err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			docs, _ := SplitLazy(p, data)
			for _, doc := range docs {
				all++
				if sameAsYAML(t, doc) {
					fast++
				}
				// The same document rendered: one line of JSON.
				if j, err := sigsyaml.YAMLToJSON(doc.Data); err == nil && len(j) > 0 && j[0] == '{' {
					all++
					if sameAsYAML(t, Document{Source: doc.Source, Data: j}) {
						fast++
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if all == 0 || fast == 0 {
		t.Errorf("fast path took %d of %d fixture documents; want some of many", fast, all)
	}
	t.Logf("fast path took %d of %d fixture documents", fast, all)
}

// FuzzFastDecode checks that whatever the fast path decodes, go-yaml
// decodes the same way and without diagnostics.
func FuzzFastDecode(f *testing.F) {
	f.Add([]byte(genManifestsText(1)))
	f.Add([]byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    name: \"h\"\n  -\n    port: 443\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: True\n  b: -12\n  c: 'x'\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p\u0041"},"spec":{"containers":[{"name":"c","ports":[{"containerPort":8080}]}]}}`))
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\nspec:\n  podSelector: {}\n  policyTypes:\n  - Egress\n  egress:\n  - ports:\n    - port: 53\n      protocol: UDP\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsYAML(t, Document{Source: Source{File: "f.yaml", Line: 3}, Data: data})
		if j, err := sigsyaml.YAMLToJSON(data); err == nil {
			sameAsYAML(t, Document{Source: Source{File: "f.yaml", Line: 3}, Data: j})
		}
	})
}
