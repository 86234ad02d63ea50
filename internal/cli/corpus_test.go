package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/report"
)

const corpusDir = "../../testdata/corpus"

// git runs git in dir with a fixed identity and dates, so commits are
// reproducible and no user configuration leaks in.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// copyTree copies the files below src into dst.
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

// corpusRepo builds a throwaway repository with the corpus pair's "before"
// tree committed, then the "after" tree (before + after.patch) committed.
func corpusRepo(t *testing.T, pair string) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	copyTree(t, filepath.Join(corpusDir, pair, "before"), dir)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "before")
	patch, err := filepath.Abs(filepath.Join(corpusDir, pair, "after.patch"))
	if err != nil {
		t.Fatal(err)
	}
	git(t, dir, "apply", patch)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "after")
	return dir
}

func diffJSON(t *testing.T, args ...string) *report.Diff {
	t.Helper()
	stdout, stderr, code := runCLI(t, append([]string{"diff", "--output", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("diff %v: exit %d\n%s", args, code, stderr)
	}
	var d report.Diff
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout)
	}
	return &d
}

type changeLine struct{ Src, Dst, Before, After, Opened, Closed string }

func changeLines(d *report.Diff) []changeLine {
	var out []changeLine
	for _, o := range d.Overlays {
		for _, c := range o.Changes {
			out = append(out, changeLine{c.Src, c.Dst, c.Before, c.After, c.Opened, c.Closed})
		}
	}
	return out
}

// TestCorpusArgoCDDexTypo: argo-cd 7f5c0142 -> 4ae5cdf7 fixed a YAML typo
// (`- port: 5558` and `- protocol: TCP` as two entries) that allowed every
// TCP port into dex. The fix closes all of them but 5558 from four
// workloads; argocd-server keeps 5556-5558 through another rule.
func TestCorpusArgoCDDexTypo(t *testing.T) {
	repo := corpusRepo(t, "argo-cd/4ae5cdf7a4")
	d := diffJSON(t, "--base", "HEAD~1", "--head", "HEAD", "--repo", repo, "manifests/cluster-install")
	dex := "default/argocd-dex-server[Deployment]"
	want := []changeLine{
		{"default/argocd-application-controller[StatefulSet]", dex, "TCP 1-65535", "TCP 5558", "", "TCP 1-5557,5559-65535"},
		{"default/argocd-redis[Deployment]", dex, "TCP 1-65535", "TCP 5558", "", "TCP 1-5557,5559-65535"},
		{"default/argocd-repo-server[Deployment]", dex, "TCP 1-65535", "TCP 5558", "", "TCP 1-5557,5559-65535"},
		{"default/argocd-server[Deployment]", dex, "TCP 1-65535", "TCP 5556-5558", "", "TCP 1-5555,5559-65535"},
	}
	if diff := cmp.Diff(want, changeLines(d)); diff != "" {
		t.Errorf("diff argo-cd 4ae5cdf7 changes (-want +got):\n%s", diff)
	}
	if d.Summary.Opened != 0 || d.Summary.Closed != 4 {
		t.Errorf("summary = %+v; want 0 opened, 4 closed", d.Summary)
	}
	for _, c := range d.Overlays[0].Changes {
		if len(c.Causes) == 0 || c.Causes[0].File != "manifests/base/dex/argocd-dex-server-network-policy.yaml" {
			t.Errorf("%s => %s: causes %+v; want the dex policy file", c.Src, c.Dst, c.Causes)
		}
	}
}

// TestCorpusArgoCDRemoveIPBlock: argo-cd 299af217 -> 812664cb, titled
// "remove 0.0.0.0/0 ipblock", in fact widens redis egress: the DNS rule
// loses its `to`, so port 53 reaches every peer, and redis newly reaches
// argocd-server on TCP and UDP 53. Nothing closes.
func TestCorpusArgoCDRemoveIPBlock(t *testing.T) {
	repo := corpusRepo(t, "argo-cd/812664cbb1")
	d := diffJSON(t, "--base", "HEAD~1", "--head", "HEAD", "--repo", repo, "manifests/cluster-install")
	want := []changeLine{{"default/argocd-redis[Deployment]", "default/argocd-server[Deployment]",
		"No Connections", "TCP 53,UDP 53", "TCP 53,UDP 53", ""}}
	if diff := cmp.Diff(want, changeLines(d)); diff != "" {
		t.Errorf("diff argo-cd 812664cb changes (-want +got):\n%s", diff)
	}
	causes := d.Overlays[0].Changes[0].Causes
	if len(causes) == 0 || !strings.Contains(causes[0].Text, "no `to`") || causes[0].Policy != "default/argocd-redis-network-policy" {
		t.Errorf("causes = %+v; want the redis policy's egress rule, saying it has no `to`", causes)
	}
	// The text output must make the widening obvious at a glance.
	stdout, _, _ := runCLI(t, "diff", "--base", "HEAD~1", "--repo", repo, "manifests/cluster-install")
	for _, want := range []string{"1 path opened, 0 closed", "OPENED", "argocd-redis[Deployment] => default/argocd-server[Deployment] : TCP 53,UDP 53", "no `to`"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestCorpusLabelsOnlyChange: relabelling policy metadata, reordering keys
// and reindenting changes no reachability.
func TestCorpusLabelsOnlyChange(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	copyTree(t, filepath.Join(corpusDir, "argo-cd/4ae5cdf7a4/before"), dir)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "before")
	file := filepath.Join(dir, "manifests/base/redis/argocd-redis-network-policy.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "metadata:\n", "metadata:\n  annotations:\n    reviewed-by: security\n", 1)
	text = strings.ReplaceAll(text, "\n", "\n") + "\n# trailing comment\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "commit", "-q", "-am", "annotate")
	d := diffJSON(t, "--base", "HEAD~1", "--repo", dir, "manifests/cluster-install")
	if got := changeLines(d); len(got) != 0 {
		t.Errorf("labels-only change reported %d changes: %+v", len(got), got)
	}
	stdout, _, _ := runCLI(t, "diff", "--base", "HEAD~1", "--repo", dir, "manifests/cluster-install")
	if !strings.Contains(stdout, "no reachability change") {
		t.Errorf("text output lacks \"no reachability change\":\n%s", stdout)
	}
}

// TestCorpusKubePrometheus: the policy change concerns pods that the
// prometheus-operator creates from a Prometheus custom resource, so no
// workload changes; the report must say why instead of staying silent.
func TestCorpusKubePrometheus(t *testing.T) {
	repo := corpusRepo(t, "kube-prometheus/c3dad8c7")
	d := diffJSON(t, "--base", "HEAD~1", "--repo", repo)
	if got := changeLines(d); len(got) != 0 {
		t.Errorf("changes = %+v; want none (the pods come from a custom resource)", got)
	}
	found := false
	for _, o := range d.Overlays {
		for _, dg := range o.Diagnostics {
			if dg.File == "manifests/prometheus-networkPolicy.yaml" && strings.Contains(dg.Message, "selects no workload") &&
				strings.Contains(dg.Message, "Prometheus k8s") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no diagnostic naming the Prometheus custom resource for manifests/prometheus-networkPolicy.yaml")
	}
}

// TestCorpusSockShopAPIMigration: moving NetworkPolicies from
// extensions/v1beta1 to networking.k8s.io/v1 (and Deployments to apps/v1
// with selectors) changes no reachability.
func TestCorpusSockShopAPIMigration(t *testing.T) {
	repo := corpusRepo(t, "sock-shop/0a5dbc6")
	d := diffJSON(t, "--base", "HEAD~1", "--repo", repo, "--load-restrictor-none", "zz-corpus-wrapper")
	if got := changeLines(d); len(got) != 0 {
		t.Errorf("changes = %+v; want none", got)
	}
}
