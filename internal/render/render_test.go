package render

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/source"
)

// tree builds an in-memory tree from path -> content.
func tree(t *testing.T, files map[string]string) *source.Tree {
	t.Helper()
	m := map[string][]byte{}
	for p, c := range files {
		m[p] = []byte(c)
	}
	tr, err := source.NewTree("test", m)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

const netpol = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
spec:
  podSelector: {}
`

// aliasBomb is the classic "billion laughs" document (288 bytes or so).
const aliasBomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestRenderRefusals(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []string // substrings of the error, beyond the overlay name
	}{
		{
			name:  "remote resource",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- np.yaml\n- github.com/evil/repo//deploy?ref=v1\n", "app/np.yaml": netpol},
			want:  []string{"app/kustomization.yaml:3", "remote resources entry"},
		},
		{
			name:  "remote https base",
			files: map[string]string{"app/kustomization.yaml": "bases:\n- https://example.com/org/repo.git\n"},
			want:  []string{"app/kustomization.yaml:2", "remote bases entry"},
		},
		{
			name:  "remote patch file over http",
			files: map[string]string{"app/kustomization.yaml": "resources: [np.yaml]\npatches:\n- path: https://example.com/p.yaml\n", "app/np.yaml": netpol},
			want:  []string{"app/kustomization.yaml:3", "remote patches entry"},
		},
		{
			name:  "remote component in a base",
			files: map[string]string{"app/kustomization.yaml": "resources: [../base]\n", "base/kustomization.yaml": "components:\n- git@github.com:evil/c.git\n"},
			want:  []string{"base/kustomization.yaml:2", "remote components entry"},
		},
		{
			name:  "helmCharts",
			files: map[string]string{"app/kustomization.yaml": "helmCharts:\n- name: x\n  repo: https://charts.example.com\n"},
			want:  []string{"app/kustomization.yaml:1", "helmCharts refused"},
		},
		{
			name:  "exec function annotation",
			files: map[string]string{"app/kustomization.yaml": "resources: [np.yaml]\ntransformers:\n- fn.yaml\n", "app/np.yaml": netpol, "app/fn.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fn\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n"},
			want:  []string{"app/fn.yaml:1", "config.kubernetes.io/function"},
		},
		{
			name:  "container function annotation inline",
			files: map[string]string{"app/kustomization.yaml": "generators:\n- |\n  apiVersion: v1\n  kind: X\n  metadata:\n    name: g\n    annotations:\n      config.k8s.io/function: 'container: {image: evil}'\n"},
			want:  []string{"app/kustomization.yaml", "config.k8s.io/function"},
		},
		{
			name:  "plugin that is not built in",
			files: map[string]string{"app/kustomization.yaml": "resources: [np.yaml]\ntransformers: [t.yaml]\n", "app/np.yaml": netpol, "app/t.yaml": "apiVersion: someteam.example.com/v1\nkind: SedTransformer\nmetadata:\n  name: sed\n"},
			want:  []string{"app/t.yaml:1", "SedTransformer", "not a built-in"},
		},
		{
			name:  "plugin directory with a foreign kind",
			files: map[string]string{"app/kustomization.yaml": "transformers: [../plug]\n", "plug/kustomization.yaml": "resources: [p.yaml]\n", "plug/p.yaml": "apiVersion: x/v1\nkind: Evil\nmetadata:\n  name: e\n"},
			want:  []string{"plug/p.yaml:1", "Evil"},
		},
		{
			name:  "openapi field",
			files: map[string]string{"app/kustomization.yaml": "resources: [np.yaml]\nopenapi:\n  path: schema.json\n", "app/np.yaml": netpol},
			want:  []string{"app/kustomization.yaml:2", "openapi"},
		},
		{
			name:  "path escaping the repository",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- ../../../etc/passwd\n"},
			opts:  Options{LoadRestrictor: "none"},
			want:  []string{"app/kustomization.yaml:2", "escapes the repository root"},
		},
		{
			name:  "absolute path",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- /etc/passwd\n"},
			want:  []string{"app/kustomization.yaml:2", "absolute"},
		},
		{
			name:  "missing resource",
			files: map[string]string{"app/kustomization.yaml": "resources:\n- example.com/org/repo\n"},
			want:  []string{"app/kustomization.yaml:2", "not found in the repository"},
		},
		{
			name:  "alias bomb in a resource",
			files: map[string]string{"app/kustomization.yaml": "resources: [bomb.yaml]\n", "app/bomb.yaml": aliasBomb},
			want:  []string{"app/bomb.yaml", "alias expansion exceeds"},
		},
		{
			name:  "alias bomb in the kustomization",
			files: map[string]string{"app/kustomization.yaml": "resources: []\n" + aliasBomb},
			want:  []string{"app/kustomization.yaml", "alias expansion exceeds"},
		},
		{
			name:  "alias bomb in an inline patch",
			files: map[string]string{"app/kustomization.yaml": "resources: [np.yaml]\npatches:\n- patch: |\n" + indent(aliasBomb, "    "), "app/np.yaml": netpol},
			want:  []string{"app/kustomization.yaml", "alias expansion exceeds"},
		},
		{
			name:  "alias bomb in a plain YAML root",
			files: map[string]string{"app/bomb.yaml": aliasBomb},
			want:  []string{"app/bomb.yaml", "alias expansion exceeds"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tree(t, tt.files)
			start := time.Now()
			_, err := Render(context.Background(), tr, "app", tt.opts)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatalf("Render(app) error = nil; want a refusal containing %q", tt.want)
			}
			for _, w := range append([]string{"overlay app"}, tt.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Render(app) error = %q; want it to contain %q", err, w)
				}
			}
			if strings.Contains(tt.name, "alias bomb") && elapsed > time.Second {
				t.Errorf("Render(app) refused the alias bomb after %v; want well under a second", elapsed)
			}
		})
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestPreflightAllowRemote(t *testing.T) {
	tr := tree(t, map[string]string{"app/kustomization.yaml": "resources:\n- https://github.com/org/repo//x?ref=v1\n"})
	if _, err := Preflight(tr, "app", Options{AllowRemote: true}); err != nil {
		t.Errorf("Preflight(remote, AllowRemote) error = %v; want nil", err)
	}
	if _, err := Preflight(tr, "app", Options{}); err == nil {
		t.Errorf("Preflight(remote) error = nil; want a refusal")
	}
}

func TestRenderOversizedAndSymlink(t *testing.T) {
	dir := t.TempDir()
	write := func(p, c string) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/app/kustomization.yaml", "resources:\n- np.yaml\n- link.yaml\n")
	write("repo/app/np.yaml", netpol)
	write("outside.yaml", netpol)
	if err := os.Symlink("../../outside.yaml", filepath.Join(dir, "repo/app/link.yaml")); err != nil {
		t.Fatal(err)
	}
	tr, diags, err := source.FromDir(filepath.Join(dir, "repo"), source.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || diags[0].File != "app/link.yaml" {
		t.Errorf("FromDir diagnostics = %v; want one for app/link.yaml", diags)
	}
	_, err = Render(context.Background(), tr, "app", Options{})
	if err == nil || !strings.Contains(err.Error(), "overlay app") || !strings.Contains(err.Error(), "app/kustomization.yaml:3") || !strings.Contains(err.Error(), `"link.yaml" not found`) {
		t.Errorf("Render(app with dropped symlink) error = %v; want link.yaml not found, naming overlay and file", err)
	}

	write("repo/app/big.yaml", strings.Repeat("# padding\n", 200))
	_, _, err = source.FromDir(filepath.Join(dir, "repo"), source.Limits{MaxFileSize: 1000})
	if err == nil || !strings.Contains(err.Error(), "app/big.yaml") || !strings.Contains(err.Error(), "per-file limit") {
		t.Errorf("FromDir(MaxFileSize 1000) error = %v; want app/big.yaml over the per-file limit", err)
	}
}

func TestRenderProvenance(t *testing.T) {
	tr := tree(t, map[string]string{
		"base/kustomization.yaml": "resources:\n- deploy.yaml\n- np.yaml\n",
		"base/deploy.yaml":        "# header\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
		"base/np.yaml":            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n" + netpol,
		"prod/kustomization.yaml": "namePrefix: prod-\nnamespace: shop\nresources:\n- ../base\npatches:\n- path: patch.yaml\nconfigMapGenerator:\n- name: settings\n  literals: [a=b]\n",
		"prod/patch.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
	})
	res, err := Render(context.Background(), tr, "prod", Options{})
	if err != nil {
		t.Fatalf("Render(prod) error: %v", err)
	}
	got := map[string]manifest.Source{}
	for _, d := range res.Documents {
		kind, name := kindName(t, d)
		got[kind+" "+name] = d.Source
		if strings.Contains(string(d.Data), "config.kubernetes.io") {
			t.Errorf("Render(prod): %s %s keeps kustomize annotations:\n%s", kind, name, d.Data)
		}
	}
	var settings string
	for k := range got {
		if strings.HasPrefix(k, "ConfigMap shop/prod-settings-") {
			settings = k
		}
	}
	want := map[string]manifest.Source{
		"Deployment shop/prod-web":     {File: "base/deploy.yaml", Line: 5},
		"Service shop/prod-web":        {File: "base/np.yaml", Line: 4},
		"NetworkPolicy shop/prod-deny": {File: "base/np.yaml", Line: 9},
		settings:                       {File: "prod/kustomization.yaml", Line: 8},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render(prod) sources mismatch (-want +got):\n%s", diff)
	}
	// manifest.Decode, which adds lines within a document to Source.Line,
	// must land on the same lines. (It skips documents whose file is a
	// kustomization file, so the generated ConfigMap is not decoded.)
	delete(want, settings)
	if diff := cmp.Diff(want, decodedSources(t, res.Documents)); diff != "" {
		t.Errorf("Decode(Render(prod)) sources mismatch (-want +got):\n%s", diff)
	}
	for _, d := range res.Documents {
		if kind, _ := kindName(t, d); kind == "Deployment" && !strings.Contains(string(d.Data), `"replicas":3`) {
			t.Errorf("Render(prod) Deployment not patched:\n%s", d.Data)
		}
	}
}

func TestRenderPlainYAML(t *testing.T) {
	tr := tree(t, map[string]string{
		"plain/a.yaml":     "# comment\n---\n" + netpol + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n",
		"plain/sub/b.json": `{"apiVersion": "v1", "kind": "Namespace",` + "\n" + `"metadata": {"name": "json"}}`,
		"plain/README.md":  "# not a manifest",
		"other/c.yaml":     netpol,
	})
	res, err := Render(context.Background(), tr, "plain", Options{})
	if err != nil {
		t.Fatalf("Render(plain) error: %v", err)
	}
	got := decodedSources(t, res.Documents)
	want := map[string]manifest.Source{
		"NetworkPolicy deny": {File: "plain/a.yaml", Line: 6},
		"Namespace shop":     {File: "plain/a.yaml", Line: 13},
		"Namespace json":     {File: "plain/sub/b.json", Line: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render(plain) decoded sources mismatch (-want +got):\n%s", diff)
	}
}

// decodedSources decodes documents with manifest.Decode, as the pipeline
// does, and returns "Kind name" -> Source of the objects.
func decodedSources(t *testing.T, docs []manifest.Document) map[string]manifest.Source {
	t.Helper()
	got := map[string]manifest.Source{}
	for _, d := range docs {
		objs, diags := manifest.Decode(d)
		if diag.HasErrors(diags) {
			t.Errorf("Decode(%v) diagnostics: %v", d.Source, diags)
		}
		for _, o := range objs {
			name := o.Name
			if o.Namespace != "" {
				name = o.Namespace + "/" + name
			}
			got[o.Kind+" "+name] = o.Source
		}
	}
	return got
}

func TestRenderWarningsCaptured(t *testing.T) {
	tr := tree(t, map[string]string{
		"app/kustomization.yaml": "commonLabels:\n  team: a\nresources: [np.yaml]\nvars:\n- name: UNUSED\n  objref: {kind: NetworkPolicy, name: deny, apiVersion: networking.k8s.io/v1}\n",
		"app/np.yaml":            netpol,
	})
	stderr, logOut := os.Stderr, log.Writer()
	res, err := Render(context.Background(), tr, "app", Options{})
	if err != nil {
		t.Fatalf("Render(app) error: %v", err)
	}
	if os.Stderr != stderr || log.Writer() != logOut {
		t.Errorf("Render(app) did not restore os.Stderr and the log output")
	}
	var msgs []string
	for _, d := range res.Diagnostics {
		if d.Severity != diag.Warning || d.File != "app/kustomization.yaml" {
			t.Errorf("Render(app) diagnostic %v; want a warning on app/kustomization.yaml", d)
		}
		msgs = append(msgs, d.Message)
	}
	joined := strings.Join(msgs, "\n")
	for _, w := range []string{"'commonLabels' is deprecated", "'vars' is deprecated", "well-defined vars that were never replaced: UNUSED"} {
		if !strings.Contains(joined, w) {
			t.Errorf("Render(app) diagnostics = %q; want one containing %q", joined, w)
		}
	}
	if n := strings.Count(joined, "'commonLabels' is deprecated"); n != 1 {
		t.Errorf("Render(app) reports the commonLabels deprecation %d times; want once", n)
	}
}

func TestRenderAll(t *testing.T) {
	tr := tree(t, map[string]string{
		"a/kustomization.yaml":   "resources: [np.yaml]\nnamespace: a\n",
		"a/np.yaml":              netpol,
		"b/kustomization.yaml":   "resources: [np.yaml]\nnamespace: b\n",
		"b/np.yaml":              netpol,
		"bad/kustomization.yaml": "resources:\n- https://example.com/x.yaml\n",
		"plain/np.yaml":          netpol,
	})
	roots := []string{"b", "a", "b/", "plain"}
	rs, err := RenderAll(context.Background(), tr, roots, Options{Concurrency: 2})
	if err != nil {
		t.Fatalf("RenderAll(%v) error: %v", roots, err)
	}
	var got []string
	for _, r := range rs {
		_, name := kindName(t, r.Documents[0])
		got = append(got, r.Root+" "+name)
	}
	want := []string{"b b/deny", "a a/deny", "b b/deny", "plain deny"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RenderAll(%v) mismatch (-want +got):\n%s", roots, diff)
	}
	rs, err = RenderAll(context.Background(), tr, []string{"a", "bad", "nosuch"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "overlay bad: bad/kustomization.yaml:2") || !strings.Contains(err.Error(), "render nosuch: no such directory") {
		t.Errorf("RenderAll(a, bad, nosuch) error = %v; want errors for bad and nosuch", err)
	}
	if len(rs) != 3 || len(rs[0].Documents) != 1 || len(rs[1].Documents) != 0 {
		t.Errorf("RenderAll(a, bad, nosuch) = %d results; want 3, a rendered and bad empty", len(rs))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RenderAll(ctx, tr, []string{"a"}, Options{}); err == nil {
		t.Errorf("RenderAll(cancelled) error = nil; want the context error")
	}
	if _, err := RenderAll(context.Background(), tr, []string{"a"}, Options{LoadRestrictor: "sometimes"}); err == nil {
		t.Errorf("RenderAll(LoadRestrictor sometimes) error = nil; want an error")
	}
}

func TestExpand(t *testing.T) {
	tr := tree(t, map[string]string{
		"deploy/prod/kustomization.yaml":  "resources: []\n",
		"deploy/stage/kustomization.yaml": "resources: []\n",
		"deploy/README.md":                "x",
		"plain/a.yaml":                    netpol,
	})
	tests := []struct {
		patterns []string
		want     []string
		err      string
	}{
		{[]string{"deploy/*"}, []string{"deploy/prod", "deploy/stage"}, ""},
		{[]string{"./deploy/prod/", "plain"}, []string{"deploy/prod", "plain"}, ""},
		{[]string{"."}, []string{"."}, ""},
		{[]string{"deploy/p*", "deploy/prod"}, []string{"deploy/prod"}, ""},
		{[]string{"nothing/*"}, nil, `overlay pattern "nothing/*" matches no directory`},
		{[]string{"deploy/[", "x"}, nil, "syntax error"},
	}
	for _, tt := range tests {
		got, err := Expand(tr, tt.patterns)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Expand(%v) error = %v; want %q", tt.patterns, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Expand(%v) error: %v", tt.patterns, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Expand(%v) mismatch (-want +got):\n%s", tt.patterns, diff)
		}
	}
}

func TestClosureAndDiscover(t *testing.T) {
	tr := tree(t, map[string]string{
		"base/kustomization.yaml":   "resources: [np.yaml, https://example.com/remote.yaml]\nconfigMapGenerator:\n- name: c\n  files: [key=conf/app.properties]\n  envs: [conf/env]\n",
		"base/np.yaml":              netpol,
		"base/conf/app.properties":  "a=b",
		"base/conf/env":             "X=1",
		"base/unused.yaml":          netpol,
		"comp/kustomization.yaml":   "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatchesStrategicMerge:\n- p.yaml\n",
		"comp/p.yaml":               netpol,
		"lonely/kustomization.yml":  "kind: Component\n",
		"prod/kustomization.yaml":   "resources: [../base]\ncomponents: [../comp]\ntransformers: [t.yaml]\n",
		"prod/t.yaml":               "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: l}\nlabels: {a: b}\nfieldSpecs: [{path: metadata/labels, create: true}]\n",
		"broken/kustomization.yaml": "resources: [\n",
	})
	got, err := Closure(tr, "prod")
	if err != nil {
		t.Fatalf("Closure(prod) error: %v", err)
	}
	want := []string{"base/conf/app.properties", "base/conf/env", "base/kustomization.yaml", "base/np.yaml", "comp/kustomization.yaml", "comp/p.yaml", "prod/kustomization.yaml", "prod/t.yaml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Closure(prod) mismatch (-want +got):\n%s", diff)
	}
	roots, diags := Discover(tr)
	if diff := cmp.Diff([]string{"broken", "prod"}, roots); diff != "" {
		t.Errorf("Discover() roots mismatch (-want +got):\n%s", diff)
	}
	if len(diags) != 1 || diags[0].File != "broken/kustomization.yaml" {
		t.Errorf("Discover() diagnostics = %v; want one for broken/kustomization.yaml", diags)
	}
	if got := Affected(tr, []string{"prod", "base", "broken", "comp"}, []string{"comp/p.yaml", "base/unused.yaml"}); !cmp.Equal(got, []string{"prod", "broken", "comp"}) {
		t.Errorf("Affected(comp/p.yaml) = %v; want [prod broken comp]", got)
	}
}

// BenchmarkRenderArgoHA renders argo-cd's HA cluster install (68 objects).
func BenchmarkRenderArgoHA(b *testing.B) {
	tr, _, err := source.FromDir(corpus+"argo-cd/812664cbb1/before", source.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Render(context.Background(), tr, "manifests/ha/cluster-install", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreflightAliasBomb measures the refusal of a billion-laughs file.
func BenchmarkPreflightAliasBomb(b *testing.B) {
	tr, err := source.NewTree("bench", map[string][]byte{"app/kustomization.yaml": []byte("resources: [bomb.yaml]\n"), "app/bomb.yaml": []byte(aliasBomb)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Preflight(tr, "app", Options{}); err == nil {
			b.Fatal("alias bomb accepted")
		}
	}
}

func TestRenderAllWarningsConcurrent(t *testing.T) {
	files := map[string]string{}
	var roots []string
	for _, r := range []string{"a", "b", "c", "d"} {
		files[r+"/kustomization.yaml"] = "resources: [np.yaml]\nvars:\n- name: UNUSED_" + r + "\n  objref: {kind: NetworkPolicy, name: deny, apiVersion: networking.k8s.io/v1}\n"
		files[r+"/np.yaml"] = netpol
		roots = append(roots, r)
	}
	stderr := os.Stderr
	rs, err := RenderAll(context.Background(), tree(t, files), roots, Options{Concurrency: 4})
	if err != nil {
		t.Fatalf("RenderAll(%v) error: %v", roots, err)
	}
	if os.Stderr != stderr {
		t.Errorf("RenderAll did not restore os.Stderr")
	}
	for _, r := range rs {
		found := false
		for _, d := range r.Diagnostics {
			if strings.Contains(d.Message, "never replaced: UNUSED_"+r.Root) {
				found = true
			}
		}
		if !found {
			t.Errorf("RenderAll: overlay %s diagnostics = %v; want its unused-var warning", r.Root, r.Diagnostics)
		}
	}
}

func TestRenderAllProgress(t *testing.T) {
	tree, err := source.NewTree("test", map[string][]byte{
		"a/kustomization.yaml": []byte("resources: [cm.yaml]\n"),
		"a/cm.yaml":            []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
		"b/cm.yaml":            []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	_, err = RenderAll(context.Background(), tree, []string{"a", "b"}, Options{Progress: func(done, total int) {
		if total != 2 {
			t.Errorf("Progress total = %d; want 2", total)
		}
		seen = append(seen, done)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0] != 1 || seen[1] != 2 {
		t.Errorf("Progress calls = %v; want [1 2]", seen)
	}
}
