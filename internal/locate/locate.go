// Package locate finds the source line of a field of an object (a policy
// rule, say) for causes and annotations, when the object as evaluated
// still holds that field exactly as the source file writes it.
package locate

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Line returns the line, in source (a YAML file), of the node at path
// ("spec.egress[0]", "specs[1].ingress[2]") in the document of source that
// holds line (the object's line: its metadata.name, or its first line).
// It answers only when rendered (the object as evaluated: one line of
// JSON, or the document's YAML) holds an equal node at path, so that a
// rule that kustomize patched or relabelled keeps the object's line.
func Line(source []byte, line int, rendered []byte, path string) (int, bool) {
	return Parse(source).Line(line, Parse(rendered), path)
}

// File is a parsed YAML (or JSON) file, to answer many lookups with one
// parse.
type File struct {
	docs []*yaml.Node // nil when the file has anchors or does not parse
	// offset is added to the lines of docs: the line before the first
	// line of data in its file (see ParseAt).
	offset int
}

// Parse reads a file's documents. Anchors and aliases are not expanded
// (alias bombs), and a node reached through an alias has no line of its
// own: such a file answers no lookup.
func Parse(data []byte) *File { return ParseAt(data, 1) }

// ParseAt is Parse for data that starts at line first of its file (one
// document cut out of a file): lines in and out are the file's.
func ParseAt(data []byte, first int) *File {
	f := &File{offset: first - 1}
	if bytes.IndexByte(data, '&') >= 0 {
		return f
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			f.docs = nil
			return f
		}
		f.docs = append(f.docs, &n)
	}
}

// Line is the package's Line on parsed files; rendered's first document is
// the object as evaluated.
func (f *File) Line(line int, rendered *File, path string) (int, bool) {
	segs, ok := parsePath(path)
	if !ok || len(rendered.docs) == 0 {
		return 0, false
	}
	doc := f.documentAt(line - f.offset)
	if doc == nil {
		return 0, false
	}
	want := lookup(doc, segs)
	if want == nil {
		return 0, false
	}
	got := lookup(rendered.docs[0], segs)
	if got == nil || !sameValue(want, got) {
		return 0, false
	}
	return want.Line + f.offset, true
}

// segment is a mapping key or a sequence index.
type segment struct {
	key   string
	index int // -1 for a key
}

func parsePath(path string) ([]segment, bool) {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name == "" {
			return nil, false
		}
		out = append(out, segment{key: name, index: -1})
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(num)
			if !ok || err != nil || n < 0 {
				return nil, false
			}
			out = append(out, segment{index: n})
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out, len(out) > 0
}

// documentAt returns the document whose lines include line: the last one
// starting at or before it.
func (f *File) documentAt(line int) *yaml.Node {
	var prev *yaml.Node
	for _, d := range f.docs {
		if firstLine(d) > line {
			break
		}
		prev = d
	}
	return prev
}

func firstLine(n *yaml.Node) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0].Line
	}
	return n.Line
}

func lookup(n *yaml.Node, segs []segment) *yaml.Node {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	for _, s := range segs {
		switch {
		case s.index < 0 && n.Kind == yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.key {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return nil
			}
			n = next
		case s.index >= 0 && n.Kind == yaml.SequenceNode && s.index < len(n.Content):
			n = n.Content[s.index]
		default:
			return nil
		}
	}
	return n
}

// sameValue compares two nodes as data (JSON's view: YAML and JSON
// spellings of one value are equal).
func sameValue(a, b *yaml.Node) bool {
	va, ok1 := asJSON(a)
	vb, ok2 := asJSON(b)
	return ok1 && ok2 && reflect.DeepEqual(va, vb)
}

func asJSON(n *yaml.Node) (any, bool) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, false
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, false
	}
	return out, true
}
