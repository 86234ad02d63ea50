package render

import (
	"fmt"
	"path"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/source"
)

// walker follows an overlay's kustomizations through the tree, collecting
// the files it reads and, when strict, refusing what is unsafe.
type walker struct {
	t           *source.Tree
	root        string
	strict      bool
	allowRemote bool

	files   map[string]bool
	visited map[string]bool
	checked map[string]bool
	diags   []diag.Diagnostic
	deprec  map[string]bool // deprecation messages already reported
}

func newWalker(t *source.Tree, root string, strict, allowRemote bool) *walker {
	return &walker{
		t: t, root: root, strict: strict, allowRemote: allowRemote,
		files: map[string]bool{}, visited: map[string]bool{}, checked: map[string]bool{}, deprec: map[string]bool{},
	}
}

// refuse builds the error of a refusal located at file:line.
func (w *walker) refuse(file string, line int, format string, args ...any) error {
	loc := file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d", file, line)
	}
	return fmt.Errorf("overlay %s: %s: %s", w.root, loc, fmt.Sprintf(format, args...))
}

// walkDir visits the kustomization of directory dir. plugin is true when
// the directory's resources are generator or transformer configs.
func (w *walker) walkDir(dir string, plugin bool, from ref, fromFile string) error {
	key := dir
	if plugin {
		key += "\x00plugin"
	}
	if w.visited[key] {
		return nil
	}
	w.visited[key] = true
	kf := kustFile(w.t, dir)
	if kf == "" {
		if w.strict {
			return w.refuse(fromFile, from.line, "%s entry %q: directory %s has no kustomization file", from.field, from.value, dir)
		}
		return nil
	}
	w.files[kf] = true
	data, _ := w.t.Read(kf)
	k, err := parseKustomization(kf, data)
	if err != nil {
		return fmt.Errorf("overlay %s: %w", w.root, err)
	}
	for _, m := range k.deprec {
		if !w.deprec[kf+"\x00"+m] {
			w.deprec[kf+"\x00"+m] = true
			w.diags = append(w.diags, diag.Diagnostic{Severity: diag.Warning, File: kf, Message: "kustomize: " + strings.TrimPrefix(m, "# ")})
		}
	}
	if w.strict && len(k.refused) > 0 {
		r := k.refused[0]
		return w.refuse(kf, r.line, "field %s refused: %s", r.field, refusedFields[r.field])
	}
	for _, in := range k.inline {
		if err := w.checkYAMLText(kf, in.line-1, []byte(in.value), plugin || in.kind == refPlugin); err != nil {
			return err
		}
	}
	for _, r := range k.refs {
		if err := w.follow(dir, kf, r, plugin); err != nil {
			return err
		}
	}
	return nil
}

// follow visits one path-like entry of kustomization file kf in dir.
func (w *walker) follow(dir, kf string, r ref, plugin bool) error {
	v := strings.TrimSpace(r.value)
	if isRemote(v) {
		if w.strict && !w.allowRemote {
			return w.refuse(kf, r.line, "remote %s entry %q refused (remote resources are fetched over the network; opt in to allow them)", r.field, v)
		}
		return nil
	}
	if strings.HasPrefix(v, "/") {
		if w.strict {
			return w.refuse(kf, r.line, "%s entry %q: absolute paths are refused", r.field, v)
		}
		return nil
	}
	p := path.Join(dir, v)
	if !source.Inside(p) {
		if w.strict {
			return w.refuse(kf, r.line, "%s entry %q escapes the repository root", r.field, v)
		}
		return nil
	}
	_, isFile := w.t.Read(p)
	isDir := w.t.IsDir(p)
	switch r.kind {
	case refResource, refComponent, refPlugin:
		switch {
		case isDir:
			return w.walkDir(p, plugin || r.kind == refPlugin, r, kf)
		case isFile && r.kind != refComponent:
			w.files[p] = true
			return w.checkYAMLFile(p, plugin || r.kind == refPlugin)
		case w.strict:
			// kustomize would try to fetch what it cannot find locally.
			return w.refuse(kf, r.line, "%s entry %q not found in the repository", r.field, v)
		}
	case refYAMLFile, refPatch:
		if isFile {
			w.files[p] = true
			return w.checkYAMLFile(p, plugin)
		}
	case refDataFile:
		if isFile {
			w.files[p] = true
		}
	}
	return nil
}

// checkYAMLFile parses a YAML file the overlay reads, once.
func (w *walker) checkYAMLFile(p string, plugin bool) error {
	key := p
	if plugin {
		key += "\x00plugin"
	}
	if w.checked[key] {
		return nil
	}
	w.checked[key] = true
	data, _ := w.t.Read(p)
	return w.checkYAMLText(p, 0, data, plugin)
}

// checkYAMLText refuses alias bombs, KRM function annotations and, for
// plugin configs, kinds that are not built-in. offset is added to lines.
func (w *walker) checkYAMLText(file string, offset int, data []byte, plugin bool) error {
	docs, err := parseYAML(data)
	if err != nil {
		if strings.Contains(err.Error(), "alias expansion") || w.strict && plugin {
			return w.refuse(file, 0, "%v", err)
		}
		// Malformed YAML is kustomize's to report.
		return nil
	}
	if !w.strict {
		return nil
	}
	for _, d := range docs {
		oi := describe(d)
		for _, a := range functionAnnotations {
			if _, ok := oi.annotations[a]; ok {
				return w.refuse(file, offset+d.line, "%s %q carries the KRM function annotation %s: exec and container functions are refused", oi.kind, oi.name, a)
			}
		}
		if plugin && d.node != nil && !builtinKinds[oi.kind] {
			return w.refuse(file, offset+d.line, "%s %q is not a built-in kustomize generator, transformer or validator: plugins are refused", oi.kind, oi.name)
		}
	}
	return nil
}
