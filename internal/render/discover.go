package render

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/source"
)

// kustomizationDirs returns the sorted directories of t that hold a
// kustomization file.
func kustomizationDirs(t *source.Tree) []string {
	seen := map[string]bool{}
	for _, f := range t.Files() {
		base := path.Base(f)
		for _, n := range kustFileNames {
			if base == n {
				seen[path.Dir(f)] = true
			}
		}
	}
	return sortedKeys(seen)
}

// Discover returns the overlay roots of t, sorted: every directory holding a
// kustomization file that no other kustomization references (through
// resources, bases, components, generators, transformers or validators) and
// that is not a Component. A kustomization that cannot be parsed is still a
// root, with a diagnostic, so that rendering reports it.
func Discover(t *source.Tree) ([]string, []diag.Diagnostic) {
	dirs := kustomizationDirs(t)
	referenced := map[string]bool{}
	component := map[string]bool{}
	var diags []diag.Diagnostic
	for _, dir := range dirs {
		kf := kustFile(t, dir)
		data, _ := t.Read(kf)
		k, err := parseKustomization(kf, data)
		if err != nil {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, File: kf, Message: "kustomization not understood: " + err.Error()})
			continue
		}
		component[dir] = k.component
		for _, r := range k.refs {
			if r.kind != refResource && r.kind != refComponent && r.kind != refPlugin {
				continue
			}
			p := path.Join(dir, strings.TrimSpace(r.value))
			if p != dir && source.Inside(p) && t.IsDir(p) {
				referenced[p] = true
			}
		}
	}
	var roots []string
	for _, dir := range dirs {
		if !referenced[dir] && !component[dir] {
			roots = append(roots, dir)
		}
	}
	diag.Sort(diags)
	return roots, diags
}

// Expand resolves overlay patterns (path.Match globs over the tree's
// directories, "deploy/*") to sorted directories. A directory without a
// kustomization file is a root too (plain YAML). A pattern that matches no
// directory is an error.
func Expand(t *source.Tree, patterns []string) ([]string, error) {
	var dirs []string
	seenDir := map[string]bool{".": true}
	dirs = append(dirs, ".")
	for _, f := range t.Files() {
		for d := path.Dir(f); d != "." && !seenDir[d]; d = path.Dir(d) {
			seenDir[d] = true
			dirs = append(dirs, d)
		}
	}
	sort.Strings(dirs)
	out := map[string]bool{}
	for _, pat := range patterns {
		clean := path.Clean(strings.TrimPrefix(pat, "./"))
		if _, err := path.Match(clean, ""); err != nil {
			return nil, fmt.Errorf("overlay pattern %q: %w", pat, err)
		}
		n := 0
		for _, d := range dirs {
			if ok, _ := path.Match(clean, d); ok {
				out[d] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("overlay pattern %q matches no directory of %s", pat, t.Label())
		}
	}
	return sortedKeys(out), nil
}

// Closure returns the sorted files that overlay root reads: its
// kustomization files, resources, patches, components, generator inputs and
// plugin configs, recursively. For a root without a kustomization file it
// is every .yaml, .yml and .json file below the root. Remote and missing
// entries are left out.
func Closure(t *source.Tree, root string) ([]string, error) {
	root = path.Clean(root)
	if kustFile(t, root) == "" {
		return plainFiles(t, root), nil
	}
	w := newWalker(t, root, false, true)
	if err := w.walkDir(root, false, ref{}, ""); err != nil {
		return nil, err
	}
	return sortedKeys(w.files), nil
}

// plainFiles returns the manifest files below dir, sorted.
func plainFiles(t *source.Tree, dir string) []string {
	var out []string
	for _, f := range t.Files() {
		if dir != "." && !strings.HasPrefix(f, dir+"/") {
			continue
		}
		switch strings.ToLower(path.Ext(f)) {
		case ".yaml", ".yml", ".json":
			out = append(out, f)
		}
	}
	return out
}

// Affected returns the roots (in their given order) whose closure in t
// contains any of the changed paths. A root whose closure cannot be
// computed is affected. Callers comparing two trees call it on both and
// take the union, so that files added or removed on either side count.
func Affected(t *source.Tree, roots, changed []string) []string {
	ch := map[string]bool{}
	for _, c := range changed {
		ch[c] = true
	}
	var out []string
	for _, r := range roots {
		files, err := Closure(t, r)
		if err != nil {
			out = append(out, r)
			continue
		}
		for _, f := range files {
			if ch[f] {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Preflight checks every kustomization that overlay root reads, before
// krusty runs, and returns the first refusal as an error naming the overlay
// and the file, plus warnings (deprecated fields). See the package
// documentation for what is refused.
func Preflight(t *source.Tree, root string, opts Options) ([]diag.Diagnostic, error) {
	root = path.Clean(root)
	w := newWalker(t, root, true, opts.AllowRemote)
	err := w.walkDir(root, false, ref{}, "")
	diag.Sort(w.diags)
	return w.diags, err
}
