package manifest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxDepth is the deepest nesting of mappings and sequences accepted in an
// object that is decoded into a typed value. Kubernetes objects nest about
// twenty levels deep; the cap stops recursive aliases and hostile input.
const MaxDepth = 100

// errBudget is returned when a document expands (through aliases) to more
// than its output budget: the "billion laughs" attack.
var errBudget = errors.New("document expands to too much data (YAML alias bomb?)")

// jsonWriter converts a yaml.Node tree into JSON text directly, without an
// intermediate map[string]any, resolving aliases and merge keys and
// bounding both the output size and the nesting depth.
type jsonWriter struct {
	buf    []byte
	budget int // the most bytes buf may hold, and the most steps taken
	steps  int // nodes and mapping pairs visited: merge keys skip pairs without writing
}

// nodeToJSON returns the JSON form of n and the work it took (bytes
// written or nodes visited, whichever is more). budget caps that work, so
// that alias expansion cannot blow up.
func nodeToJSON(n *yaml.Node, budget int) ([]byte, int, error) {
	w := jsonWriter{buf: make([]byte, 0, 1024), budget: budget}
	if err := w.value(n, 0); err != nil {
		return nil, 0, err
	}
	return w.buf, max(len(w.buf), w.steps), nil
}

// nodeError locates an error in the YAML input.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

func (w *jsonWriter) value(n *yaml.Node, depth int) error {
	if depth > MaxDepth {
		return &nodeError{n.Line, fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
	}
	if w.steps++; len(w.buf) > w.budget || w.steps > w.budget {
		return &nodeError{n.Line, errBudget.Error()}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		return w.value(n.Content[0], depth)
	case yaml.AliasNode:
		if n.Alias == nil {
			return &nodeError{n.Line, "unknown alias"}
		}
		return w.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		w.buf = append(w.buf, '[')
		for i, c := range n.Content {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.value(c, depth+1); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
		return nil
	case yaml.MappingNode:
		w.buf = append(w.buf, '{')
		first := true
		if err := w.mapping(n, depth, &first, nil); err != nil {
			return err
		}
		w.buf = append(w.buf, '}')
		return nil
	case yaml.ScalarNode:
		return w.scalar(n)
	}
	return &nodeError{n.Line, fmt.Sprintf("unexpected YAML node kind %d", n.Kind)}
}

// mapping writes the pairs of n (without braces). Explicit keys win over
// merged ones ("<<: *base"), and earlier merge sources over later ones, as
// the YAML merge key type says. seen is nil when no merge is involved.
func (w *jsonWriter) mapping(n *yaml.Node, depth int, first *bool, seen map[string]bool) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
		}
	}
	if len(merges) > 0 && seen == nil {
		seen = map[string]bool{}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		if w.steps++; w.steps > w.budget {
			return &nodeError{k.Line, errBudget.Error()}
		}
		key, err := keyString(k)
		if err != nil {
			return err
		}
		if seen != nil {
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		if !*first {
			w.buf = append(w.buf, ',')
		}
		*first = false
		w.buf = appendJSONString(w.buf, key)
		w.buf = append(w.buf, ':')
		if err := w.value(v, depth+1); err != nil {
			return err
		}
	}
	for _, m := range merges {
		if err := w.merge(m, depth, first, seen); err != nil {
			return err
		}
	}
	return nil
}

func (w *jsonWriter) merge(m *yaml.Node, depth int, first *bool, seen map[string]bool) error {
	if depth > MaxDepth {
		return &nodeError{m.Line, fmt.Sprintf("nesting deeper than %d levels", MaxDepth)}
	}
	switch m.Kind {
	case yaml.AliasNode:
		if m.Alias == nil {
			return &nodeError{m.Line, "unknown alias"}
		}
		return w.merge(m.Alias, depth+1, first, seen)
	case yaml.MappingNode:
		return w.mapping(m, depth+1, first, seen)
	case yaml.SequenceNode:
		for _, c := range m.Content {
			if c.Kind == yaml.SequenceNode {
				return &nodeError{c.Line, "merge key value must be a mapping or a sequence of mappings"}
			}
			if err := w.merge(c, depth+1, first, seen); err != nil {
				return err
			}
		}
		return nil
	}
	return &nodeError{m.Line, "merge key value must be a mapping or a sequence of mappings"}
}

// keyString returns a mapping key as a JSON object key.
func keyString(k *yaml.Node) (string, error) {
	for i := 0; k.Kind == yaml.AliasNode && k.Alias != nil && i < 8; i++ {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		return "", &nodeError{k.Line, "mapping key is not a scalar"}
	}
	return k.Value, nil
}

func (w *jsonWriter) scalar(n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		w.buf = append(w.buf, "null"...)
	case "!!bool":
		var b bool
		switch n.Value {
		case "true", "True", "TRUE":
			b = true
		case "false", "False", "FALSE":
		default:
			if err := n.Decode(&b); err != nil {
				return &nodeError{n.Line, fmt.Sprintf("invalid boolean %q", n.Value)}
			}
		}
		w.buf = strconv.AppendBool(w.buf, b)
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			w.buf = strconv.AppendInt(w.buf, i, 10)
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return &nodeError{n.Line, fmt.Sprintf("invalid integer %q", n.Value)}
		}
		switch v := v.(type) {
		case int:
			w.buf = strconv.AppendInt(w.buf, int64(v), 10)
		case int64:
			w.buf = strconv.AppendInt(w.buf, v, 10)
		case uint64:
			w.buf = strconv.AppendUint(w.buf, v, 10)
		case float64:
			return w.float(n, v)
		default:
			return &nodeError{n.Line, fmt.Sprintf("invalid integer %q", n.Value)}
		}
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			if derr := n.Decode(&f); derr != nil {
				return &nodeError{n.Line, fmt.Sprintf("invalid number %q", n.Value)}
			}
		}
		return w.float(n, f)
	default: // !!str, !!timestamp, !!binary and custom tags: the text as written
		w.buf = appendJSONString(w.buf, n.Value)
	}
	return nil
}

func (w *jsonWriter) float(n *yaml.Node, f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return &nodeError{n.Line, fmt.Sprintf("number %q cannot be represented in JSON", n.Value)}
	}
	w.buf = strconv.AppendFloat(w.buf, f, 'g', -1, 64)
	return nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
