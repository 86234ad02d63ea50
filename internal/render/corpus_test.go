package render

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/source"
)

const corpus = "../../testdata/corpus/"

// loadDir reads a corpus directory into a Tree.
func loadDir(t *testing.T, dir string) *source.Tree {
	t.Helper()
	tree, _, err := source.FromDir(corpus+dir, source.Limits{})
	if err != nil {
		t.Fatalf("FromDir(%s) error: %v", dir, err)
	}
	return tree
}

// kindName decodes the kind and name of a rendered document.
func kindName(t *testing.T, d manifest.Document) (string, string) {
	t.Helper()
	var o struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name      string `yaml:"name"`
			Namespace string `yaml:"namespace"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(d.Data, &o); err != nil {
		t.Fatalf("rendered document from %v does not parse: %v\n%s", d.Source, err, d.Data)
	}
	if o.Metadata.Namespace != "" {
		return o.Kind, o.Metadata.Namespace + "/" + o.Metadata.Name
	}
	return o.Kind, o.Metadata.Name
}

// located is an expected provenance: object kind/name -> file:line.
type located struct {
	kind, name string
	want       manifest.Source
}

func TestRenderCorpus(t *testing.T) {
	tests := []struct {
		dir, root  string
		restrictor string
		netpols    int // counted by hand in the source files the root reads
		docs       int
		locate     []located
	}{
		{
			dir: "argo-cd/4ae5cdf7a4/before", root: "manifests/cluster-install", netpols: 5, docs: 40,
			locate: []located{
				{"NetworkPolicy", "argocd-dex-server-network-policy", manifest.Source{File: "manifests/base/dex/argocd-dex-server-network-policy.yaml", Line: 4}},
				{"Deployment", "argocd-redis", manifest.Source{File: "manifests/base/redis/argocd-redis-deployment.yaml", Line: 8}},
			},
		},
		{dir: "argo-cd/4ae5cdf7a4/before", root: "manifests/namespace-install", netpols: 5},
		{dir: "argo-cd/812664cbb1/before", root: "manifests/cluster-install", netpols: 7, docs: 56},
		{dir: "argo-cd/812664cbb1/before", root: "manifests/core-install", netpols: 4, docs: 33},
		{
			dir: "argo-cd/812664cbb1/before", root: "manifests/ha/cluster-install", netpols: 8, docs: 68,
			locate: []located{
				{"NetworkPolicy", "argocd-redis-ha-proxy-network-policy", manifest.Source{File: "manifests/ha/base/redis-ha/argocd-redis-ha-proxy-network-policy.yaml", Line: 4}},
			},
		},
		{
			dir: "microservices-demo/tree", root: "kustomize/tests/memorystore-with-all-components", netpols: 13, docs: 49,
			locate: []located{
				{"NetworkPolicy", "frontend", manifest.Source{File: "kustomize/components/network-policies/network-policy-frontend.yaml", Line: 18}},
			},
		},
		{dir: "microservices-demo/tree", root: "kustomize/tests/spanner-with-all-components", netpols: 13, docs: 49},
		{dir: "microservices-demo/tree", root: "kustomize/tests/service-mesh-istio-with-all-components", netpols: 13, docs: 55},
		{dir: "microservices-demo/tree", root: "kustomize", netpols: 0, docs: 35},
		{
			dir: "eks-workshop-v2/bb1b3000/tree", root: "zz-corpus/4-debug-fail", restrictor: "none", netpols: 5, docs: 42,
			locate: []located{
				{"NetworkPolicy", "ui/default-deny", manifest.Source{File: "manifests/modules/networking/network-policies/apply-network-policies/default-deny.yaml", Line: 4}},
			},
		},
		{dir: "eks-workshop-v2/bb1b3000/tree", root: "zz-corpus/5-debug-success", restrictor: "none", netpols: 5, docs: 42},
		{dir: "eks-workshop-v2/bb1b3000/tree", root: "zz-corpus/0-app", restrictor: "none", netpols: 0},
		{
			dir: "sock-shop/0a5dbc6/before", root: "zz-corpus-wrapper", restrictor: "none", netpols: 13, docs: 44,
			locate: []located{
				{"NetworkPolicy", "sock-shop/cart-access", manifest.Source{File: "deploy/kubernetes/manifests-policy/netpol-cart-access.yaml", Line: 5}}, // the file starts with ---
			},
		},
		{
			dir: "kube-prometheus/c3dad8c7/before", root: ".", netpols: 8, docs: 88,
			locate: []located{
				{"NetworkPolicy", "monitoring/prometheus-k8s", manifest.Source{File: "manifests/prometheus-networkPolicy.yaml", Line: 10}},
				// Items of a RoleList, told apart by namespace.
				{"Role", "kube-system/prometheus-k8s", manifest.Source{File: "manifests/prometheus-roleSpecificNamespaces.yaml", Line: 50}},
			},
		},
	}
	trees := map[string]*source.Tree{}
	for _, tt := range tests {
		t.Run(tt.dir+"/"+tt.root, func(t *testing.T) {
			tree, ok := trees[tt.dir]
			if !ok {
				tree = loadDir(t, tt.dir)
				trees[tt.dir] = tree
			}
			opts := Options{LoadRestrictor: tt.restrictor}
			res, err := Render(context.Background(), tree, tt.root, opts)
			if err != nil {
				t.Fatalf("Render(%s, %s) error: %v", tt.dir, tt.root, err)
			}
			if tt.docs > 0 && len(res.Documents) != tt.docs {
				t.Errorf("Render(%s, %s) = %d documents; want %d", tt.dir, tt.root, len(res.Documents), tt.docs)
			}
			netpols := 0
			got := map[string]manifest.Source{}
			for _, d := range res.Documents {
				kind, name := kindName(t, d)
				if kind == "NetworkPolicy" {
					netpols++
				}
				got[kind+"/"+name] = d.Source
				objs, _ := manifest.Decode(d)
				for _, o := range objs {
					if o.Source != d.Source {
						t.Errorf("Decode(%s/%s).Source = %+v; want the document's %+v", kind, name, o.Source, d.Source)
					}
				}
				if d.Source.File == "" || d.Source.Line == 0 {
					t.Errorf("Render(%s, %s): %s/%s has no provenance: %+v", tt.dir, tt.root, kind, name, d.Source)
				}
				if _, ok := tree.Read(d.Source.File); !ok {
					t.Errorf("Render(%s, %s): %s/%s provenance %s is not a file of the tree", tt.dir, tt.root, kind, name, d.Source.File)
				}
				for _, bad := range []string{"config.kubernetes.io/origin", "internal.config.kubernetes.io", "reachdiff-wrapper"} {
					if strings.Contains(string(d.Data), bad) {
						t.Errorf("Render(%s, %s): %s/%s still contains %q:\n%s", tt.dir, tt.root, kind, name, bad, d.Data)
					}
				}
			}
			if netpols != tt.netpols {
				t.Errorf("Render(%s, %s) = %d NetworkPolicies; want %d", tt.dir, tt.root, netpols, tt.netpols)
			}
			for _, l := range tt.locate {
				if diff := cmp.Diff(l.want, got[l.kind+"/"+l.name]); diff != "" {
					t.Errorf("Render(%s, %s): source of %s/%s mismatch (-want +got):\n%s", tt.dir, tt.root, l.kind, l.name, diff)
				}
			}
		})
	}
}

func TestRenderCorpusNeedsLoadRestrictorNone(t *testing.T) {
	tree := loadDir(t, "sock-shop/0a5dbc6/before")
	_, err := Render(context.Background(), tree, "zz-corpus-wrapper", Options{})
	want := "file 'deploy/kubernetes/manifests-policy/netpol-cart-access.yaml' is not in or below 'zz-corpus-wrapper'"
	if err == nil || !strings.Contains(err.Error(), "render overlay zz-corpus-wrapper") || !strings.Contains(err.Error(), want) {
		t.Errorf("Render(sock-shop wrapper, rootOnly) error = %v; want the overlay named and %q", err, want)
	}
	if strings.Contains(errString(err), ".reachdiff") || strings.Contains(errString(err), "must resolve to a file") {
		t.Errorf("Render error %q leaks the in-memory layout or the wrapper", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDiscoverCorpus(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		// The NOTICE lists cluster-install, ha/cluster-install, namespace-install,
		// ha/namespace-install and core-install. At 7f5c014 core-install does not
		// exist yet, and cluster-install references ../namespace-install (and
		// ha/cluster-install ../namespace-install), so by the rule "no other
		// kustomization references it" only two are roots.
		{"argo-cd/4ae5cdf7a4/before", []string{"manifests/cluster-install", "manifests/ha/cluster-install"}},
		{"argo-cd/812664cbb1/before", []string{"manifests/cluster-install", "manifests/core-install", "manifests/ha/cluster-install"}},
		// components/* are Components, kustomize/base is referenced by kustomize.
		{"microservices-demo/tree", []string{"kustomize", "kustomize/tests/memorystore-with-all-components", "kustomize/tests/service-mesh-istio-with-all-components", "kustomize/tests/spanner-with-all-components"}},
		// Each wrapper references the previous step; 4 and 5 both end the chain.
		{"eks-workshop-v2/bb1b3000/tree", []string{"zz-corpus/4-debug-fail", "zz-corpus/5-debug-success"}},
		{"sock-shop/0a5dbc6/before", []string{"zz-corpus-wrapper"}},
		{"kube-prometheus/c3dad8c7/before", []string{"."}},
	}
	for _, tt := range tests {
		tree := loadDir(t, tt.dir)
		got, diags := Discover(tree)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Discover(%s) mismatch (-want +got):\n%s", tt.dir, diff)
		}
		if len(diags) != 0 {
			t.Errorf("Discover(%s) diagnostics = %v; want none", tt.dir, diags)
		}
	}
	// The NOTICE's other roots are kustomizations read by the roots above;
	// a user names them with globs.
	tree := loadDir(t, "argo-cd/4ae5cdf7a4/before")
	named, err := Expand(tree, []string{"manifests/*-install", "manifests/ha/*-install"})
	if err != nil {
		t.Fatalf("Expand(argo-cd) error: %v", err)
	}
	wantNamed := []string{"manifests/cluster-install", "manifests/ha/cluster-install", "manifests/ha/namespace-install", "manifests/namespace-install"}
	if diff := cmp.Diff(wantNamed, named); diff != "" {
		t.Errorf("Expand(argo-cd, *-install) mismatch (-want +got):\n%s", diff)
	}
	for root, inner := range map[string]string{
		"manifests/cluster-install":    "manifests/namespace-install/kustomization.yaml",
		"manifests/ha/cluster-install": "manifests/ha/namespace-install/kustomization.yaml",
	} {
		closure, err := Closure(tree, root)
		if err != nil {
			t.Fatalf("Closure(%s) error: %v", root, err)
		}
		if !slices.Contains(closure, inner) {
			t.Errorf("Closure(%s) = %v; want it to contain %s", root, closure, inner)
		}
	}
}

// gitRun runs git in dir with a fixed identity and dates.
func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// copyTree copies directory src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGitCorpusPair(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	ctx := context.Background()
	repo := t.TempDir()
	gitRun(t, repo, "init", "-q", "-b", "main")
	copyTree(t, corpus+"argo-cd/812664cbb1/before", repo)
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "before")
	patch, err := filepath.Abs(corpus + "argo-cd/812664cbb1/after.patch")
	if err != nil {
		t.Fatal(err)
	}
	gitRun(t, repo, "apply", "--whitespace=nowarn", patch)
	gitRun(t, repo, "add", "-A")
	gitRun(t, repo, "commit", "-q", "-m", "after")

	base, _, err := source.FromGit(ctx, repo, "HEAD~1", source.Limits{})
	if err != nil {
		t.Fatalf("FromGit(HEAD~1) error: %v", err)
	}
	head, _, err := source.FromGit(ctx, repo, "HEAD", source.Limits{})
	if err != nil {
		t.Fatalf("FromGit(HEAD) error: %v", err)
	}
	changed, err := source.ChangedFiles(ctx, repo, "HEAD~1", "HEAD")
	if err != nil {
		t.Fatalf("ChangedFiles error: %v", err)
	}
	wantChanged := []string{
		"manifests/base/redis/argocd-redis-network-policy.yaml",
		"manifests/ha/base/redis-ha/argocd-redis-ha-proxy-network-policy.yaml",
		"manifests/ha/base/redis-ha/argocd-redis-ha-server-network-policy.yaml",
	}
	if diff := cmp.Diff(wantChanged, changed); diff != "" {
		t.Errorf("ChangedFiles(HEAD~1, HEAD) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(changed, source.DiffTrees(base, head)); diff != "" {
		t.Errorf("DiffTrees(base, head) differs from ChangedFiles (-changed +trees):\n%s", diff)
	}

	// Every kustomization directory as a candidate root: only those whose
	// closure reads a changed policy are affected.
	all := kustomizationDirs(base)
	got := Affected(base, all, changed)
	want := []string{
		"manifests/base", "manifests/base/redis", "manifests/cluster-install", "manifests/core-install",
		"manifests/ha/base", "manifests/ha/base/redis-ha", "manifests/ha/cluster-install",
		"manifests/ha/namespace-install", "manifests/namespace-install",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Affected(all kustomizations, %v) mismatch (-want +got):\n%s", changed, diff)
	}
	// Changing only the HA proxy policy leaves the non-HA overlays alone.
	roots, _ := Discover(head)
	got = Affected(head, roots, changed[1:2])
	if diff := cmp.Diff([]string{"manifests/ha/cluster-install"}, got); diff != "" {
		t.Errorf("Affected(%v, %v) mismatch (-want +got):\n%s", roots, changed[1:2], diff)
	}

	// Base and head render; only the changed policy differs. (One overlay:
	// argo-cd renders cost kustomize about half a second each.)
	roots = []string{"manifests/core-install"}
	before, err := RenderAll(ctx, base, roots, Options{})
	if err != nil {
		t.Fatalf("RenderAll(base) error: %v", err)
	}
	after, err := RenderAll(ctx, head, roots, Options{})
	if err != nil {
		t.Fatalf("RenderAll(head) error: %v", err)
	}
	for i := range roots {
		var differ []string
		for j, d := range before[i].Documents {
			if string(d.Data) != string(after[i].Documents[j].Data) {
				differ = append(differ, d.Source.File)
			}
		}
		for _, f := range differ {
			if !strings.HasSuffix(f, "-network-policy.yaml") {
				t.Errorf("render %s: %s differs between base and head; want only the changed policies", roots[i], f)
			}
		}
		if len(differ) == 0 {
			t.Errorf("render %s: base and head render identically; want the redis policies to differ", roots[i])
		}
	}
}
