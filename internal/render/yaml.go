package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxAliasNodes bounds, per YAML document, the number of nodes that alias
// expansion adds to what is written. kustomize expands aliases into copies:
// a 288-byte "billion laughs" document costs it about a gigabyte. Real
// manifests that use anchors stay orders of magnitude below this.
const maxAliasNodes = 100_000

// yamlDoc is one parsed document of a YAML (or JSON) file.
type yamlDoc struct {
	node *yaml.Node // the document's content node; nil for an empty document
	line int        // first line of the document
}

// parseYAML parses every document of data into nodes, refusing documents
// whose alias expansion would exceed maxAliasNodes. Parsing into nodes
// does not expand aliases, so this is linear in the input.
func parseYAML(data []byte) ([]yamlDoc, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []yamlDoc
	for {
		var doc yaml.Node
		err := decodeSafely(dec, &doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if len(doc.Content) == 0 {
			docs = append(docs, yamlDoc{line: doc.Line})
			continue
		}
		n := doc.Content[0]
		if extra, ok := aliasExpansion(n); !ok {
			return docs, fmt.Errorf("document at line %d: YAML alias expansion exceeds %d nodes (%s)", n.Line, maxAliasNodes, extra)
		}
		docs = append(docs, yamlDoc{node: n, line: doc.Line})
	}
}

// decodeSafely decodes one document, turning a parser panic into an error.
func decodeSafely(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid YAML: %v", r)
		}
	}()
	return dec.Decode(n)
}

// aliasExpansion computes the number of nodes aliases add when expanded,
// memoising subtree sizes so that the cost is linear in the parsed nodes.
// It stops (false) as soon as the budget is exceeded or aliases form a cycle.
func aliasExpansion(root *yaml.Node) (string, bool) {
	size := map[*yaml.Node]int64{}
	visiting := map[*yaml.Node]bool{}
	const limit = maxAliasNodes + 1
	var walk func(n *yaml.Node) (int64, bool)
	walk = func(n *yaml.Node) (int64, bool) {
		if n == nil {
			return 0, true
		}
		if s, ok := size[n]; ok {
			return s, true
		}
		if visiting[n] {
			return 0, false
		}
		visiting[n] = true
		defer delete(visiting, n)
		var s int64 = 1
		if n.Kind == yaml.AliasNode {
			t, ok := walk(n.Alias)
			if !ok {
				return 0, false
			}
			s = t
		}
		for _, c := range n.Content {
			t, ok := walk(c)
			if !ok {
				return 0, false
			}
			s += t
			if s > 1<<40 {
				return 0, false
			}
		}
		size[n] = s
		return s, true
	}
	total, ok := walk(root)
	if !ok {
		return "recursive or huge", false
	}
	extra := total - int64(len(size))
	if extra >= limit {
		return fmt.Sprintf("%d nodes from %d written", total, len(size)), false
	}
	return "", true
}

// resolve follows an alias node to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// scalar returns the value of a scalar node, or "".
func scalar(n *yaml.Node) string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// objectInfo is what provenance needs of one document: kind, name and the
// line of metadata.name.
type objectInfo struct {
	apiVersion, kind, name string
	namespace              string
	nameLine, docLine      int
	annotations            map[string]string
}

// describe extracts objectInfo from a document node.
func describe(d yamlDoc) objectInfo {
	oi := objectInfo{docLine: d.line}
	if d.node == nil {
		return oi
	}
	oi.apiVersion = scalar(get(d.node, "apiVersion"))
	oi.kind = scalar(get(d.node, "kind"))
	md := get(d.node, "metadata")
	if nm := get(md, "name"); nm != nil && nm.Kind == yaml.ScalarNode {
		oi.name, oi.nameLine = nm.Value, nm.Line
	}
	oi.namespace = scalar(get(md, "namespace"))
	if an := get(md, "annotations"); an != nil && an.Kind == yaml.MappingNode {
		oi.annotations = map[string]string{}
		for i := 0; i+1 < len(an.Content); i += 2 {
			oi.annotations[scalar(an.Content[i])] = scalar(an.Content[i+1])
		}
	}
	return oi
}

// describeAll describes a document and, for List kinds, its items.
func describeAll(d yamlDoc) []objectInfo {
	out := []objectInfo{describe(d)}
	if strings.HasSuffix(out[0].kind, "List") {
		for _, it := range items(get(d.node, "items")) {
			out = append(out, describe(yamlDoc{node: it, line: it.Line}))
		}
	}
	return out
}
