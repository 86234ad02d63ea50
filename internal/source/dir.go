package source

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// FromDir reads the directory dir from disk, under the same limits as
// FromGit. .git directories are skipped; a symbolic link is kept (with its
// target's content) only when it resolves to a regular file inside dir,
// otherwise it is dropped with a diagnostic.
func FromDir(dir string, lim Limits) (*Tree, []diag.Diagnostic, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	b := newBuilder(dir, lim)
	var diags []diag.Diagnostic
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ".git" {
			return nil // a worktree's .git file
		}
		target := p
		if d.Type()&fs.ModeSymlink != 0 {
			reason := ""
			resolved, err := filepath.EvalSymlinks(p)
			switch {
			case err != nil:
				reason = "its target does not exist"
			case !within(root, resolved):
				reason = "its target leaves " + dir
			default:
				if st, err := os.Stat(resolved); err != nil || !st.Mode().IsRegular() {
					reason = "its target is not a regular file"
				}
			}
			if reason != "" {
				diags = append(diags, diag.Diagnostic{Severity: diag.Warning, File: rel, Message: "symbolic link dropped: " + reason})
				return nil
			}
			target = resolved
		} else if !d.Type().IsRegular() {
			return nil
		}
		st, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		if err := b.check(rel, st.Size()); err != nil {
			return err
		}
		data, err := os.ReadFile(target)
		if err != nil {
			return fmt.Errorf("read %s: %w", dir, err)
		}
		return b.add(rel, data)
	})
	if err != nil {
		return nil, nil, err
	}
	diag.Sort(diags)
	return b.tree(), diags, nil
}

// within reports whether p is root or below it (both absolute and clean).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
