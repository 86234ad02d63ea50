package render

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/reachdiff/reachdiff/internal/source"
)

// kustFileNames are the names kustomize accepts, in its order of preference.
var kustFileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustFile returns the kustomization file of directory dir in t, or "".
func kustFile(t *source.Tree, dir string) string {
	for _, n := range kustFileNames {
		p := path.Join(dir, n)
		if _, ok := t.Read(p); ok {
			return p
		}
	}
	return ""
}

// refKind says how a kustomization field's entries are loaded.
type refKind int

const (
	refResource  refKind = iota // file or kustomization directory (resources, bases)
	refComponent                // kustomization directory of kind Component
	refYAMLFile                 // a YAML file (patch, crd, configuration, replacement)
	refPatch                    // patchesStrategicMerge: a YAML file or an inline patch
	refDataFile                 // a generator input, not parsed as YAML
	refPlugin                   // generators, transformers, validators: file, directory or inline config
)

// ref is one path-like entry of a kustomization.
type ref struct {
	field string
	value string
	line  int
	kind  refKind
}

// kustomization is what the preflight and the closure need of one
// kustomization file.
type kustomization struct {
	file      string
	component bool
	refs      []ref
	refused   []ref // fields refused outright (helm, openapi): value holds the field
	inline    []ref // inline patches and plugin configs (YAML text)
	deprec    []string
}

// refusedFields are kustomization fields reachdiff never lets krusty see.
var refusedFields = map[string]string{
	"helmCharts":                  "Helm charts are not rendered (they run helm)",
	"helmGlobals":                 "Helm charts are not rendered (they run helm)",
	"helmChartInflationGenerator": "Helm charts are not rendered (they run helm)",
	"openapi":                     "the openapi field is refused (it changes process-global kustomize state)",
}

// parseKustomization reads a kustomization file's path-like entries.
func parseKustomization(file string, data []byte) (*kustomization, error) {
	docs, err := parseYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var root *yaml.Node
	for _, d := range docs {
		if d.node == nil {
			continue
		}
		if root != nil {
			return nil, fmt.Errorf("%s: more than one YAML document", file)
		}
		root = d.node
	}
	k := &kustomization{file: file}
	if root == nil {
		return k, nil
	}
	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: a kustomization must be a mapping", file, root.Line)
	}
	k.component = scalar(get(root, "kind")) == "Component"
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := scalar(root.Content[i])
		val := resolve(root.Content[i+1])
		if _, bad := refusedFields[key]; bad {
			k.refused = append(k.refused, ref{field: key, line: root.Content[i].Line})
			continue
		}
		switch key {
		case "resources", "bases":
			k.addList(key, val, refResource)
		case "components":
			k.addList(key, val, refComponent)
		case "crds", "configurations":
			k.addList(key, val, refYAMLFile)
		case "patchesStrategicMerge":
			k.addList(key, val, refPatch)
		case "generators", "transformers", "validators":
			k.addList(key, val, refPlugin)
		case "patches", "patchesJson6902", "replacements":
			for _, e := range items(val) {
				if p := get(e, "path"); p != nil {
					k.add(key, p, refYAMLFile)
				}
				if in := get(e, "patch"); in != nil {
					k.inline = append(k.inline, ref{field: key, value: scalar(in), line: in.Line, kind: refPatch})
				}
			}
		case "configMapGenerator", "secretGenerator":
			for _, e := range items(val) {
				for _, f := range items(get(e, "files")) {
					v := scalar(f)
					if _, after, ok := strings.Cut(v, "="); ok {
						v = after
					}
					k.refs = append(k.refs, ref{field: key, value: v, line: f.Line, kind: refDataFile})
				}
				for _, f := range items(get(e, "envs")) {
					k.add(key, f, refDataFile)
				}
				if f := get(e, "env"); f != nil {
					k.add(key, f, refDataFile)
				}
			}
		}
	}
	// kustomize prints these to standard error itself; reachdiff reports
	// them as diagnostics instead (the captured copies are dropped).
	var kt types.Kustomization
	if err := kt.Unmarshal(data); err == nil {
		if msgs := kt.CheckDeprecatedFields(); msgs != nil {
			k.deprec = append(k.deprec, *msgs...)
		}
	}
	return k, nil
}

// items returns the elements of a sequence node (nil otherwise).
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, resolve(c))
	}
	return out
}

func (k *kustomization) addList(field string, n *yaml.Node, kind refKind) {
	for _, e := range items(n) {
		if kind == refPatch || kind == refPlugin {
			if e.Kind != yaml.ScalarNode || isInline(e.Value) {
				text := e.Value
				if e.Kind != yaml.ScalarNode {
					b, err := yaml.Marshal(e)
					if err != nil {
						continue
					}
					text = string(b)
				}
				k.inline = append(k.inline, ref{field: field, value: text, line: e.Line, kind: kind})
				continue
			}
		}
		k.add(field, e, kind)
	}
}

func (k *kustomization) add(field string, n *yaml.Node, kind refKind) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Value == "" {
		return
	}
	k.refs = append(k.refs, ref{field: field, value: n.Value, line: n.Line, kind: kind})
}

// isInline reports whether a patch or plugin entry is inline YAML rather
// than a path.
func isInline(s string) bool {
	return strings.Contains(s, "\n") || strings.Contains(s, ": ") || strings.HasPrefix(strings.TrimSpace(s), "{")
}

// isRemote reports whether a kustomization entry names something krusty
// would fetch over the network.
func isRemote(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	for _, p := range []string{"https://", "http://", "ssh://", "git://", "file://", "git::", "git@", "github.com/", "gitlab.com/", "bitbucket.org/", "dev.azure.com/"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return strings.Contains(l, "://") || strings.Contains(l, "?ref=") || strings.Contains(l, "?version=") || strings.Contains(l, "?timeout=") || strings.Contains(l, "?submodules=") || strings.Contains(l, ".git//")
}

// builtinKinds are the kinds of kustomize's built-in generators and
// transformers, the only plugin configs allowed.
var builtinKinds = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range krusty.GetBuiltinPluginNames() {
		m[n] = true
	}
	delete(m, "HelmChartInflationGenerator")
	return m
}()

// functionAnnotations mark KRM functions (containers or executables).
var functionAnnotations = []string{"config.kubernetes.io/function", "config.k8s.io/function"}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
