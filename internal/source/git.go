package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// maxSymlinkHops bounds chains of symbolic links.
const maxSymlinkHops = 8

// maxLinkTarget bounds the length of a symbolic link's target (PATH_MAX).
const maxLinkTarget = 4096

// gitEnv is the minimal environment git runs with: no GIT_DIR,
// GIT_WORK_TREE, GIT_CONFIG_* or other variables leak in from ours, and the
// system configuration is ignored. HOME is kept so that the user's
// safe.directory settings still apply.
func gitEnv() []string {
	env := []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}
	for _, k := range []string{"PATH", "HOME", "XDG_CONFIG_HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// gitCmd prepares a git command in repoDir.
func gitCmd(ctx context.Context, repoDir string, args ...string) *exec.Cmd {
	// safe.directory: in the Action's container the workspace belongs to
	// the runner's uid, and GIT_CONFIG_NOSYSTEM hides the image's
	// /etc/gitconfig; git honours the setting on the command line. Naming
	// this one directory is safe because only plumbing runs here (no hooks,
	// no checkout, fsmonitor off).
	safe := repoDir
	if abs, err := filepath.Abs(repoDir); err == nil {
		safe = abs
	}
	full := append([]string{"-C", repoDir, "-c", "core.fsmonitor=false", "-c", "safe.directory=" + safe}, args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = gitEnv()
	return cmd
}

// runGit runs git and returns its standard output.
func runGit(ctx context.Context, repoDir string, args ...string) ([]byte, error) {
	cmd := gitCmd(ctx, repoDir, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

// resolveCommit returns the full commit id of rev.
func resolveCommit(ctx context.Context, repoDir, rev string) (string, error) {
	if rev == "" || strings.HasPrefix(rev, "-") || strings.ContainsAny(rev, "\x00\n") {
		return "", fmt.Errorf("revision %q not found in %s", rev, repoDir)
	}
	out, err := runGit(ctx, repoDir, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("revision %q not found in %s", rev, repoDir)
	}
	return strings.TrimSpace(string(out)), nil
}

// lsEntry is one line of `git ls-tree -r -l`.
type lsEntry struct {
	mode, typ, oid string
	size           int64
	path           string
}

// parseLsTree parses the NUL-terminated output of `git ls-tree -r -l -z`.
func parseLsTree(out []byte) ([]lsEntry, error) {
	var entries []lsEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			return nil, fmt.Errorf("git ls-tree: malformed entry %q", rec)
		}
		f := strings.Fields(string(meta))
		if len(f) != 4 {
			return nil, fmt.Errorf("git ls-tree: malformed entry %q", rec)
		}
		e := lsEntry{mode: f[0], typ: f[1], oid: f[2], path: string(p)}
		if f[3] != "-" {
			n, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("git ls-tree: bad size in %q", rec)
			}
			e.size = n
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// FromGit reads revision rev of the repository at repoDir from git objects
// (`git ls-tree` and one `git cat-file --batch` process): no checkout, no
// worktree, and no `git archive`, which would obey the revision's own
// export-ignore attributes. Submodules are skipped; a symbolic link is kept
// (with its target's content) only when it resolves to a file of the tree,
// otherwise it is dropped with a diagnostic.
func FromGit(ctx context.Context, repoDir, rev string, lim Limits) (*Tree, []diag.Diagnostic, error) {
	commit, err := resolveCommit(ctx, repoDir, rev)
	if err != nil {
		return nil, nil, err
	}
	out, err := runGit(ctx, repoDir, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
	if err != nil {
		return nil, nil, fmt.Errorf("list files of %s: %w", rev, err)
	}
	entries, err := parseLsTree(out)
	if err != nil {
		return nil, nil, fmt.Errorf("list files of %s: %w", rev, err)
	}
	label := "rev " + shortRev(rev, commit)
	b := newBuilder(label, lim)
	var diags []diag.Diagnostic
	var blobs, links []lsEntry
	for _, e := range entries {
		switch {
		case e.mode == "160000" || e.typ == "commit":
			diags = append(diags, diag.Diagnostic{Severity: diag.Info, File: e.path, Message: "submodule skipped"})
		case e.typ != "blob":
			continue
		case e.mode == "120000" && e.size > maxLinkTarget:
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, File: e.path, Message: "symbolic link dropped: its target path is too long"})
		case e.mode == "120000":
			links = append(links, e)
		default:
			// Check the limits before reading anything.
			if err := b.reserve(e.path, e.size); err != nil {
				return nil, nil, err
			}
			blobs = append(blobs, e)
		}
	}
	b.unreserve()
	want := append(append([]lsEntry(nil), blobs...), links...)
	contents, err := catBlobs(ctx, repoDir, want)
	if err != nil {
		return nil, nil, fmt.Errorf("read files of %s: %w", rev, err)
	}
	for i, e := range blobs {
		if err := b.add(e.path, contents[i]); err != nil {
			return nil, nil, err
		}
	}
	targets := map[string]string{}
	for i, e := range links {
		targets[e.path] = string(contents[len(blobs)+i])
	}
	ds, err := resolveLinks(b, targets)
	if err != nil {
		return nil, nil, err
	}
	diags = append(diags, ds...)
	diag.Sort(diags)
	return b.tree(), diags, nil
}

// shortRev names a revision for messages: the user's spelling and the
// abbreviated commit.
func shortRev(rev, commit string) string {
	c := commit
	if len(c) > 7 {
		c = c[:7]
	}
	if rev == commit || strings.HasPrefix(commit, rev) {
		return c
	}
	return rev + " (" + c + ")"
}

// resolveLinks adds every symbolic link (path -> target text) whose target
// resolves, within the tree, to a regular file; the others are reported.
func resolveLinks(b *builder, targets map[string]string) ([]diag.Diagnostic, error) {
	var diags []diag.Diagnostic
	paths := make([]string, 0, len(targets))
	for p := range targets {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		cur := p
		var reason string
		for hop := 0; ; hop++ {
			t, isLink := targets[cur]
			if !isLink {
				if _, ok := b.files[cur]; !ok {
					reason = "its target is not a file of the tree"
				}
				break
			}
			if hop == maxSymlinkHops {
				reason = "too many levels of symbolic links"
				break
			}
			if strings.HasPrefix(t, "/") {
				reason = "its target " + t + " is absolute"
				break
			}
			next := path.Join(path.Dir(cur), t)
			if !Inside(next) {
				reason = "its target " + t + " leaves the repository"
				break
			}
			cur = next
		}
		if reason != "" {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, File: p, Message: "symbolic link dropped: " + reason})
			continue
		}
		if err := b.add(p, b.files[cur]); err != nil {
			return nil, err
		}
	}
	return diags, nil
}

// catBlobs reads the given blobs with one `git cat-file --batch` process and
// returns their contents in order.
func catBlobs(ctx context.Context, repoDir string, entries []lsEntry) ([][]byte, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := gitCmd(ctx, repoDir, "cat-file", "--batch")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(stdin)
		for _, e := range entries {
			if _, err := w.WriteString(e.oid + "\n"); err != nil {
				werr <- err
				stdin.Close()
				return
			}
		}
		err := w.Flush()
		stdin.Close()
		werr <- err
	}()
	r := bufio.NewReaderSize(stdout, 64<<10)
	out := make([][]byte, len(entries))
	var readErr error
	for i, e := range entries {
		header, err := r.ReadString('\n')
		if err != nil {
			readErr = fmt.Errorf("git cat-file: reading %s: %w", e.path, err)
			break
		}
		f := strings.Fields(header)
		if len(f) != 3 || f[0] != e.oid || f[1] != "blob" {
			readErr = fmt.Errorf("git cat-file: unexpected header %q for %s", strings.TrimSpace(header), e.path)
			break
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || n != e.size && e.mode != "120000" {
			readErr = fmt.Errorf("git cat-file: unexpected size in %q for %s", strings.TrimSpace(header), e.path)
			break
		}
		buf := make([]byte, n+1) // content and the trailing newline
		if _, err := io.ReadFull(r, buf); err != nil {
			readErr = fmt.Errorf("git cat-file: reading %s: %w", e.path, err)
			break
		}
		out[i] = buf[:n:n]
	}
	if readErr != nil {
		cancel()
	}
	_, _ = io.Copy(io.Discard, r)
	waitErr := cmd.Wait()
	writeErr := <-werr
	switch {
	case readErr != nil:
		return nil, readErr
	case waitErr != nil:
		return nil, fmt.Errorf("git cat-file: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	case writeErr != nil && !errors.Is(writeErr, os.ErrClosed):
		return nil, fmt.Errorf("git cat-file: %w", writeErr)
	}
	return out, nil
}

// ChangedFiles lists the sorted paths that differ between revisions base
// and head (`git diff --name-only --no-renames`).
func ChangedFiles(ctx context.Context, repoDir, base, head string) ([]string, error) {
	b, err := resolveCommit(ctx, repoDir, base)
	if err != nil {
		return nil, err
	}
	h, err := resolveCommit(ctx, repoDir, head)
	if err != nil {
		return nil, err
	}
	out, err := runGit(ctx, repoDir, "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", b, h, "--")
	if err != nil {
		return nil, fmt.Errorf("changed files %s..%s: %w", base, head, err)
	}
	var paths []string
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) > 0 {
			paths = append(paths, string(p))
		}
	}
	sort.Strings(paths)
	return paths, nil
}
