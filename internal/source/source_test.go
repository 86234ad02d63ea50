package source

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/reachdiff/reachdiff/internal/diag"
)

// git runs git in dir with a fixed identity and dates, failing the test on error.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(gitEnv(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
		"GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newRepo makes a repository with two commits and returns its directory.
func newRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{
		"a.yaml":          "kind: A\n",
		"deploy/b.yaml":   "kind: B\n",
		"deploy/c.yaml":   "kind: C\n",
		".gitattributes":  "deploy/** export-ignore\n",
		"outside/d.yaml":  "kind: D\n",
		"deploy/e/f.json": "{}",
	})
	for name, target := range map[string]string{
		"deploy/link.yaml":   "b.yaml",
		"deploy/up.yaml":     "../../etc/passwd",
		"deploy/abs.yaml":    "/etc/passwd",
		"deploy/dirlink":     "e",
		"deploy/chain.yaml":  "link.yaml",
		"deploy/dangling.ya": "nope.yaml",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "add", "-A")
	// A submodule entry, without a checkout.
	git(t, dir, "update-index", "--add", "--cacheinfo", "160000,1111111111111111111111111111111111111111,sub")
	git(t, dir, "commit", "-q", "-m", "one")
	writeFiles(t, dir, map[string]string{"deploy/c.yaml": "kind: C2\n", "new.yaml": "kind: N\n"})
	git(t, dir, "rm", "-q", "outside/d.yaml")
	git(t, dir, "add", "deploy/c.yaml", "new.yaml")
	git(t, dir, "commit", "-q", "-m", "two")
	return dir
}

func TestFromGit(t *testing.T) {
	repo := newRepo(t)
	ctx := context.Background()
	tree, diags, err := FromGit(ctx, repo, "HEAD~1", Limits{})
	if err != nil {
		t.Fatalf("FromGit(HEAD~1) error: %v", err)
	}
	wantFiles := []string{".gitattributes", "a.yaml", "deploy/b.yaml", "deploy/c.yaml", "deploy/chain.yaml", "deploy/e/f.json", "deploy/link.yaml", "outside/d.yaml"}
	if diff := cmp.Diff(wantFiles, tree.Files()); diff != "" {
		t.Errorf("FromGit(HEAD~1).Files() mismatch (-want +got):\n%s", diff)
	}
	if got, _ := tree.Read("deploy/link.yaml"); string(got) != "kind: B\n" {
		t.Errorf("Read(deploy/link.yaml) = %q; want the target's content", got)
	}
	if got, _ := tree.Read("deploy/chain.yaml"); string(got) != "kind: B\n" {
		t.Errorf("Read(deploy/chain.yaml) = %q; want the final target's content", got)
	}
	var dropped []string
	for _, d := range diags {
		dropped = append(dropped, d.File+" "+string(d.Severity))
	}
	wantDropped := []string{"deploy/abs.yaml warning", "deploy/dangling.ya warning", "deploy/dirlink warning", "deploy/up.yaml warning", "sub info"}
	if diff := cmp.Diff(wantDropped, dropped); diff != "" {
		t.Errorf("FromGit(HEAD~1) diagnostics mismatch (-want +got):\n%s\n%v", diff, diags)
	}
	if !strings.HasPrefix(tree.Label(), "rev HEAD~1 (") {
		t.Errorf("Label() = %q; want rev HEAD~1 (...)", tree.Label())
	}

	head, _, err := FromGit(ctx, repo, "HEAD", Limits{})
	if err != nil {
		t.Fatalf("FromGit(HEAD) error: %v", err)
	}
	changed, err := ChangedFiles(ctx, repo, "HEAD~1", "HEAD")
	if err != nil {
		t.Fatalf("ChangedFiles error: %v", err)
	}
	want := []string{"deploy/c.yaml", "new.yaml", "outside/d.yaml"}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("ChangedFiles(HEAD~1, HEAD) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, DiffTrees(tree, head)); diff != "" {
		t.Errorf("DiffTrees(HEAD~1, HEAD) mismatch (-want +got):\n%s", diff)
	}
}

func TestFromGitErrors(t *testing.T) {
	repo := newRepo(t)
	ctx := context.Background()
	tests := []struct {
		rev  string
		lim  Limits
		want string
	}{
		{"nosuchrev", Limits{}, `revision "nosuchrev" not found in ` + repo},
		{"--output=/tmp/x", Limits{}, `revision "--output=/tmp/x" not found in `},
		{"HEAD", Limits{MaxFileSize: 8}, "over the per-file limit of 8"},
		{"HEAD", Limits{MaxFiles: 3}, "exceeds the limit of 3 files"},
		{"HEAD", Limits{MaxTotalSize: 20}, "brings the total size over the limit of 20 bytes"},
	}
	for _, tt := range tests {
		_, _, err := FromGit(ctx, repo, tt.rev, tt.lim)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromGit(%q, %+v) error = %v; want containing %q", tt.rev, tt.lim, err, tt.want)
		}
	}
	_, _, err := FromGit(ctx, repo, "HEAD", Limits{MaxFileSize: 8})
	if err == nil || !strings.Contains(err.Error(), "file deploy/c.yaml") && !strings.Contains(err.Error(), "file deploy/e/f.json") && !strings.Contains(err.Error(), "file .gitattributes") {
		t.Errorf("FromGit(HEAD, MaxFileSize 8) error = %v; want it to name the file", err)
	}
	if _, err := ChangedFiles(ctx, repo, "HEAD", "nope"); err == nil || !strings.Contains(err.Error(), `revision "nope" not found`) {
		t.Errorf("ChangedFiles(HEAD, nope) error = %v; want revision not found", err)
	}
}

func TestFromDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "repo")
	writeFiles(t, dir, map[string]string{
		"a.yaml":          "kind: A\n",
		"sub/b.yaml":      "kind: B\n",
		".git/config":     "[core]\n",
		"sub/.git/HEAD":   "x",
		"../secret.yaml":  "kind: Secret\n",
		"big/large.yaml":  strings.Repeat("x", 100),
		"other/keep.json": "{}",
	})
	for name, target := range map[string]string{
		"sub/in.yaml":  "b.yaml",
		"sub/out.yaml": "../../secret.yaml",
		"sub/dir":      "../other",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	tree, diags, err := FromDir(dir, Limits{})
	if err != nil {
		t.Fatalf("FromDir error: %v", err)
	}
	want := []string{"a.yaml", "big/large.yaml", "other/keep.json", "sub/b.yaml", "sub/in.yaml"}
	if diff := cmp.Diff(want, tree.Files()); diff != "" {
		t.Errorf("FromDir(%s).Files() mismatch (-want +got):\n%s", dir, diff)
	}
	wantDiags := []diag.Diagnostic{
		{Severity: diag.Warning, File: "sub/dir", Message: "symbolic link dropped: its target is not a regular file"},
		{Severity: diag.Warning, File: "sub/out.yaml", Message: "symbolic link dropped: its target leaves " + dir},
	}
	if diff := cmp.Diff(wantDiags, diags); diff != "" {
		t.Errorf("FromDir(%s) diagnostics mismatch (-want +got):\n%s", dir, diff)
	}
	if got, _ := tree.Read("sub/in.yaml"); string(got) != "kind: B\n" {
		t.Errorf("Read(sub/in.yaml) = %q; want %q", got, "kind: B\n")
	}
	if _, _, err := FromDir(dir, Limits{MaxFileSize: 50}); err == nil || !strings.Contains(err.Error(), "big/large.yaml") {
		t.Errorf("FromDir(MaxFileSize 50) error = %v; want naming big/large.yaml", err)
	}
}

func TestFSAndNewTree(t *testing.T) {
	tree, err := NewTree("mem", map[string][]byte{"x/y.yaml": []byte("a: 1\n"), "z.yaml": []byte("b: 2\n")})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tree.FS()
	if err != nil {
		t.Fatal(err)
	}
	got, err := fs.ReadFile("/x/y.yaml")
	if err != nil || string(got) != "a: 1\n" {
		t.Errorf("FS().ReadFile(/x/y.yaml) = %q, %v; want %q", got, err, "a: 1\n")
	}
	if !fs.IsDir("/x") || fs.Exists("/w") {
		t.Errorf("FS(): /x directory = %v, /w exists = %v; want true, false", fs.IsDir("/x"), fs.Exists("/w"))
	}
	for _, d := range []string{".", "x"} {
		if !tree.IsDir(d) {
			t.Errorf("IsDir(%q) = false; want true", d)
		}
	}
	if tree.IsDir("x/y.yaml") {
		t.Errorf("IsDir(x/y.yaml) = true; want false")
	}
	if _, err := NewTree("mem", map[string][]byte{"../a": nil}); err == nil {
		t.Errorf("NewTree(../a) error = nil; want an error")
	}
}

// TestFromGitOtherOwner: in the Action's container the workspace belongs to
// another uid; git must still read it (safe.directory on the command line).
func TestFromGitOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the repository to another user")
	}
	dir := newRepo(t)
	if out, err := exec.Command("chown", "-R", "nobody", dir).CombinedOutput(); err != nil {
		t.Skipf("chown: %v %s", err, out)
	}
	t.Setenv("HOME", t.TempDir()) // no global safe.directory
	if _, _, err := FromGit(context.Background(), dir, "HEAD", Limits{}); err != nil {
		t.Fatalf("FromGit on a repository owned by another user: %v", err)
	}
}
