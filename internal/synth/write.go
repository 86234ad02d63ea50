package synth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// namespacesFile holds the Namespace objects.
const namespacesFile = "namespaces.yaml"

// fileFor returns the file WriteDir writes o to: namespaces.yaml for
// Namespaces, else the file of o's namespace.
func fileFor(o manifest.Object) string {
	if o.Kind == "Namespace" || o.Namespace == "" {
		return namespacesFile
	}
	return o.Namespace + ".yaml"
}

// docSeparator separates the documents of a file.
const docSeparator = "---\n"

// renderFiles renders the objects into files: the documents of a file in the
// order of objs, separated by "---". It returns the file names in order of
// first appearance, their bytes, and for each object the line of its
// metadata.name.
func renderFiles(objs []manifest.Object) (names []string, data map[string][]byte, lines []int, err error) {
	data = map[string][]byte{}
	next := map[string]int{} // next line number per file
	lines = make([]int, len(objs))
	for i, o := range objs {
		doc, err := marshalYAML(o.Typed)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("marshal %s: %w", objectName(o), err)
		}
		rel, err := nameLine(doc)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("marshal %s: %w", objectName(o), err)
		}
		f := fileFor(o)
		buf, seen := data[f]
		if !seen {
			names = append(names, f)
			next[f] = 1
		} else {
			buf = append(buf, docSeparator...)
			next[f]++
		}
		lines[i] = next[f] + rel - 1
		next[f] += bytes.Count(doc, []byte{'\n'})
		data[f] = append(buf, doc...)
	}
	return names, data, lines, nil
}

// nameLine returns the 1-based line of metadata.name in a document marshalled
// by sigs.k8s.io/yaml (keys sorted, two-space indentation).
func nameLine(doc []byte) (int, error) {
	inMeta := false
	line := 0
	for len(doc) > 0 {
		line++
		l := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			l, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		switch {
		case bytes.Equal(l, []byte("metadata:")):
			inMeta = true
		case inMeta && len(l) > 0 && l[0] != ' ':
			inMeta = false
		case inMeta && bytes.HasPrefix(l, []byte("  name: ")):
			return line, nil
		}
	}
	return 0, fmt.Errorf("no metadata.name in document")
}

// layout sets Source.File and Source.Line of objs. When files is not nil,
// only the objects in those files are laid out; the others are untouched.
// It leaves Line 0 when an object cannot be marshalled (WriteDir then
// reports the error).
func layout(objs []manifest.Object, files map[string]bool) {
	var idx []int
	var sub []manifest.Object
	for i, o := range objs {
		f := fileFor(o)
		if files != nil && !files[f] {
			continue
		}
		idx = append(idx, i)
		sub = append(sub, o)
	}
	_, _, lines, err := renderFiles(sub)
	for j, i := range idx {
		objs[i].Source.File = fileFor(objs[i])
		if err == nil {
			objs[i].Source.Line = lines[j]
		}
	}
}

// WriteDir writes the cluster as multi-document YAML files under dir (created
// if needed): namespaces.yaml with the Namespace objects and one file per
// namespace, named after it, with its workloads and policies. The bytes are
// the same for the same cluster, and each object's metadata.name is on the
// line its Source names. Files already in dir are overwritten or left alone,
// never removed.
func WriteDir(c *Cluster, dir string) error {
	names, data, _, err := renderFiles(c.Objects)
	if err != nil {
		return fmt.Errorf("write cluster to %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write cluster: %w", err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), data[n], 0o644); err != nil {
			return fmt.Errorf("write cluster: %w", err)
		}
	}
	return nil
}
