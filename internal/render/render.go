// Package render turns the overlays of a repository snapshot into rendered
// Kubernetes documents with kustomize (krusty), after a safety preflight,
// keeping for every object the repository file and line it came from.
//
// PR content is untrusted. Before krusty runs, every kustomization an
// overlay reads is checked and these are refused, each with an error that
// names the overlay and the file: remote resources, bases, components and
// files (unless Options.AllowRemote), entries not found in the repository
// (krusty would try to fetch them), Helm fields, generators, transformers
// and validators that are not built in, KRM function annotations, the
// openapi field, paths that escape the repository root, and YAML documents
// whose alias expansion exceeds a budget. Krusty runs on an in-memory file
// system that holds only the repository.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/source"
)

// Options configures rendering. The zero value is the safe default.
type Options struct {
	// AllowRemote lets kustomize fetch remote resources; off by default.
	AllowRemote bool
	// LoadRestrictor is "rootOnly" (the default, kustomize's) or "none".
	LoadRestrictor string
	// Concurrency bounds the overlays rendered at once; default GOMAXPROCS.
	Concurrency int
	// Progress, when set, is called after each overlay is rendered, with
	// the number done and the total; calls may come from several goroutines
	// but never at once.
	Progress func(done, total int)
}

// Result is the rendering of one overlay.
type Result struct {
	Root string
	// Documents holds one document per rendered object. For a kustomize
	// root, Data is the object as one line of JSON and Source the
	// repository file and line of its metadata.name (generated objects:
	// the kustomization file and the generator's name line). For a plain
	// root, the documents are manifest.Split's.
	Documents []manifest.Document
	// Diagnostics holds kustomize's warnings and the preflight's findings.
	Diagnostics []diag.Diagnostic
}

// In the file system given to krusty the repository lives under srcDir and
// the wrapper kustomizations (which enable origin annotations) under
// wrapDir: neither name can collide with a repository path.
const (
	srcDir  = "/.reachdiff-repo"
	wrapDir = "/.reachdiff-wrapper"
)

// Render renders one overlay root of t. A root without a kustomization file
// is read as plain documents: every .yaml, .yml and .json file below it.
func Render(ctx context.Context, t *source.Tree, root string, opts Options) (Result, error) {
	rs, err := RenderAll(ctx, t, []string{root}, opts)
	if len(rs) == 1 {
		return rs[0], err
	}
	return Result{Root: root}, err
}

// RenderAll renders several roots concurrently, each once, and returns the
// results in input order. On failure the error joins every overlay's error
// and the results of the overlays that failed hold only their Root.
func RenderAll(ctx context.Context, t *source.Tree, roots []string, opts Options) ([]Result, error) {
	restrict, err := loadRestrictions(opts.LoadRestrictor)
	if err != nil {
		return nil, err
	}
	fs, err := t.FSAt(srcDir)
	if err != nil {
		return nil, err
	}
	// One wrapper per distinct kustomize root, written before any render
	// starts: the shared file system is only read concurrently.
	index := map[string]int{}
	var unique []string
	for _, r := range roots {
		r = path.Clean(r)
		if _, ok := index[r]; !ok {
			index[r] = len(unique)
			unique = append(unique, r)
			if kustFile(t, r) != "" {
				wrapper := fmt.Sprintf("resources:\n- %s\nbuildMetadata:\n- originAnnotations\n", quote(path.Join("../..", srcDir, r)))
				if err := fs.WriteFile(wrapperFile(index[r]), []byte(wrapper)); err != nil {
					return nil, fmt.Errorf("write wrapper for %s: %w", r, err)
				}
			}
		}
	}
	results := make([]Result, len(unique))
	errs := make([]error, len(unique))
	n := opts.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var progressMu sync.Mutex
	done := 0
	for i, r := range unique {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := ctx.Err(); err != nil {
				results[i], errs[i] = Result{Root: r}, fmt.Errorf("render %s: %w", r, err)
				return
			}
			results[i], errs[i] = renderOne(t, fs, r, i, restrict, opts)
			if opts.Progress != nil {
				progressMu.Lock()
				done++
				opts.Progress(done, len(unique))
				progressMu.Unlock()
			}
		}()
	}
	wg.Wait()
	out := make([]Result, len(roots))
	var all []error
	for i, r := range roots {
		j := index[path.Clean(r)]
		out[i] = results[j]
		if errs[j] != nil {
			out[i] = Result{Root: results[j].Root}
		}
	}
	for _, e := range errs {
		if e != nil {
			all = append(all, e)
		}
	}
	return out, errors.Join(all...)
}

func wrapperFile(i int) string {
	return fmt.Sprintf("%s/%d/kustomization.yaml", wrapDir, i)
}

// quote renders s as a YAML scalar.
func quote(s string) string {
	b, _ := yaml.Marshal(s)
	return strings.TrimSpace(string(b))
}

func loadRestrictions(name string) (types.LoadRestrictions, error) {
	switch name {
	case "", "rootOnly", "RootOnly", "LoadRestrictionsRootOnly":
		return types.LoadRestrictionsRootOnly, nil
	case "none", "None", "LoadRestrictionsNone":
		return types.LoadRestrictionsNone, nil
	}
	return types.LoadRestrictionsUnknown, fmt.Errorf("load restrictor %q: want rootOnly or none", name)
}

// renderOne renders root, the i-th wrapper of fs.
func renderOne(t *source.Tree, fs filesys.FileSystem, root string, i int, restrict types.LoadRestrictions, opts Options) (Result, error) {
	res := Result{Root: root}
	if root != "." && !t.IsDir(root) {
		return res, fmt.Errorf("render %s: no such directory in %s", root, t.Label())
	}
	if kustFile(t, root) == "" {
		docs, diags, err := plainDocuments(t, root)
		res.Documents, res.Diagnostics = docs, diags
		return res, err
	}
	diags, err := Preflight(t, root, opts)
	if err != nil {
		return res, err
	}
	ko := krusty.MakeDefaultOptions()
	ko.LoadRestrictions = restrict
	c, err := startCapture()
	if err != nil {
		return res, err
	}
	m, runErr := func() (m resmap.ResMap, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("kustomize panicked: %v", r)
			}
		}()
		return krusty.MakeKustomizer(ko).Run(fs, path.Dir(wrapperFile(i)))
	}()
	lines := stopCapture(c)
	known := map[string]bool{}
	for _, d := range diags {
		known["# "+strings.TrimPrefix(d.Message, "kustomize: ")] = true
		known[strings.TrimPrefix(d.Message, "kustomize: ")] = true
	}
	for _, l := range lines {
		if !known[l] {
			diags = append(diags, diag.Diagnostic{Severity: diag.Warning, File: kustFile(t, root), Message: "kustomize: " + cleanMessage(l)})
		}
	}
	res.Diagnostics = diags
	if runErr != nil {
		return res, fmt.Errorf("render overlay %s in %s: %s", root, t.Label(), cleanMessage(runErr.Error()))
	}
	lc := newLocator(t)
	for _, r := range m.Resources() {
		src := lc.locate(r, root)
		res.Documents = append(res.Documents, manifest.Document{Source: src})
	}
	if err := m.RemoveOriginAnnotations(); err != nil {
		return res, fmt.Errorf("render overlay %s: %w", root, err)
	}
	for j, r := range m.Resources() {
		stripInternal(r)
		// One line of JSON (which is YAML): the rendered layout is not the
		// source's, so every line of the document is the source line of
		// metadata.name, and manifest.Decode, which adds document lines to
		// Source.Line, maps the name and any finding in the object there.
		y, err := r.MarshalJSON()
		if err != nil {
			return res, fmt.Errorf("render overlay %s: %s: %w", root, r.CurId(), err)
		}
		res.Documents[j].Data = y
	}
	diag.Sort(res.Diagnostics)
	return res, nil
}

// cleanMessage rewrites in-memory paths in kustomize messages as
// repository paths.
// The wrapper's own layer of kustomize's error chain, which says nothing
// about the overlay.
var wrapperLayer = regexp.MustCompile(`accumulating resources: accumulation err='accumulating resources from '[^']*` + regexp.QuoteMeta(srcDir) + `[^']*': '[^']*' must resolve to a file': recursed accumulation of path '[^']*': `)

func cleanMessage(s string) string {
	s = wrapperLayer.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "../.."+srcDir+"/", "")
	s = strings.ReplaceAll(s, srcDir+"/", "")
	return strings.ReplaceAll(s, srcDir, ".")
}

// stripInternal removes kustomize's bookkeeping annotations.
func stripInternal(r *resource.Resource) {
	an := r.GetAnnotations()
	changed := false
	for k := range an {
		if strings.HasPrefix(k, "internal.config.kubernetes.io/") || k == "config.kubernetes.io/origin" || k == "alpha.config.kubernetes.io/transformations" {
			delete(an, k)
			changed = true
		}
	}
	if changed {
		_ = r.SetAnnotations(an)
	}
}

// locator maps rendered objects to repository files and lines.
type locator struct {
	t     *source.Tree
	cache map[string][]objectInfo
}

func newLocator(t *source.Tree) *locator {
	return &locator{t: t, cache: map[string][]objectInfo{}}
}

// objects returns the described documents of a repository file.
func (l *locator) objects(file string) []objectInfo {
	if ois, ok := l.cache[file]; ok {
		return ois
	}
	data, _ := l.t.Read(file)
	docs, _ := parseYAML(data)
	var ois []objectInfo
	for _, d := range docs {
		if d.node != nil {
			ois = append(ois, describeAll(d)...)
		}
	}
	l.cache[file] = ois
	return ois
}

// repoPath turns an origin path (relative to the wrapper directory) into a
// repository path, or "" when it is not inside the repository.
func repoPath(p string) string {
	full := path.Join(wrapDir, "0", p)
	rel, ok := strings.CutPrefix(full, srcDir+"/")
	if !ok {
		if full == srcDir {
			return "."
		}
		return ""
	}
	return rel
}

// locate finds the file and line of the object r of overlay root.
func (l *locator) locate(r *resource.Resource, root string) manifest.Source {
	fallback := manifest.Source{File: kustFile(l.t, root), Line: 0}
	o, err := r.GetOrigin()
	if err != nil || o == nil {
		return fallback
	}
	if o.Repo != "" {
		return manifest.Source{File: strings.TrimSuffix(o.Repo, "/") + "//" + o.Path}
	}
	if o.Path != "" {
		file := repoPath(o.Path)
		if file == "" {
			return fallback
		}
		return manifest.Source{File: file, Line: l.nameLine(file, r.GetKind(), r.GetNamespace(), r.GetName())}
	}
	if o.ConfiguredIn != "" {
		file := repoPath(o.ConfiguredIn)
		if file == "" {
			return fallback
		}
		return manifest.Source{File: file, Line: l.generatorLine(file, r.GetKind(), r.GetName())}
	}
	return fallback
}

// nameLine finds the line of metadata.name of the object kind/name in file.
// The rendered name may carry a prefix or suffix (namePrefix, nameSuffix):
// then the longest source name contained in it wins; failing that, a lone
// document of that kind.
func (l *locator) nameLine(file, kind, namespace, name string) int {
	ois := l.objects(file)
	best, bestLen, sameKind, sameKindLine, exact := 0, -1, 0, 0, 0
	for _, oi := range ois {
		if oi.kind != kind {
			continue
		}
		sameKind++
		sameKindLine = oi.nameLine
		if oi.name == name {
			// The namespace may have been set by the kustomization:
			// prefer an exact match, else the first object of that name.
			if oi.namespace == namespace {
				return oi.nameLine
			}
			if exact == 0 {
				exact = oi.nameLine
			}
			continue
		}
		if oi.name != "" && strings.Contains(name, oi.name) && len(oi.name) > bestLen {
			best, bestLen = oi.nameLine, len(oi.name)
		}
	}
	if exact != 0 {
		return exact
	}
	if bestLen >= 0 {
		return best
	}
	if sameKind == 1 {
		return sameKindLine
	}
	return 0
}

// generatorLine finds, in a kustomization file, the line of the name of
// the generator (configMapGenerator for ConfigMaps, secretGenerator for
// Secrets) that made the object: built-in generators do not record their
// name in the origin, so the longest generator name contained in the
// rendered name (which carries prefixes, suffixes and a hash) wins. 0 when
// none matches.
func (l *locator) generatorLine(file, kind, rendered string) int {
	field := map[string]string{"ConfigMap": "configMapGenerator", "Secret": "secretGenerator"}[kind]
	if field == "" {
		return 0
	}
	data, _ := l.t.Read(file)
	docs, _ := parseYAML(data)
	best, bestLen := 0, 0
	for _, d := range docs {
		for _, e := range items(get(d.node, field)) {
			if n := get(e, "name"); n != nil && n.Value != "" && strings.Contains(rendered, n.Value) && len(n.Value) > bestLen {
				best, bestLen = n.Line, len(n.Value)
			}
		}
	}
	return best
}

// plainDocuments reads every manifest file below root as documents, with
// manifest.Split (Source.Line is then each document's first line, which is
// what manifest.Decode expects of a document whose text is the file's).
// Alias bombs are refused first, like in kustomize inputs.
func plainDocuments(t *source.Tree, root string) ([]manifest.Document, []diag.Diagnostic, error) {
	var docs []manifest.Document
	var diags []diag.Diagnostic
	for _, f := range plainFiles(t, root) {
		data, _ := t.Read(f)
		// Only a file with an anchor can hold an alias bomb: skip the extra
		// parse for the others (the decoder parses every document once).
		if bytes.IndexByte(data, '&') >= 0 {
			if _, err := parseYAML(data); err != nil && strings.Contains(err.Error(), "alias expansion") {
				return nil, nil, fmt.Errorf("overlay %s: %s: %v", root, f, err)
			}
		}
		ds, dg := manifest.SplitLazy(f, data)
		docs = append(docs, ds...)
		diags = append(diags, dg...)
	}
	return docs, diags, nil
}
