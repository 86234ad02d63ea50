package manifest

import (
	"bytes"
	"strconv"
	"strings"
)

// The fast path: most manifests are block YAML of a narrow kind (plain
// keys, one-line scalars, no anchors, tags, comments after values, flow
// collections or block scalars). decodeFast reads such a document directly
// into JSON without go-yaml, which spends most of a large run building
// yaml.Node trees. Anything outside that subset, and any document that
// gives a diagnostic, is left to the go-yaml path, so both paths agree on
// every object and the diagnostics (and their lines) come from one place.
// FuzzFastDecode checks the agreement.

// fline is a line holding content: its indentation, its text (without the
// indentation and trailing spaces) and its number in the document.
type fline struct {
	indent int
	num    int
	text   []byte
}

// maxFastDepth bounds the nesting the fast path follows; deeper documents
// take the go-yaml path, which reports MaxDepth.
const maxFastDepth = MaxDepth / 2

// fparser reads the lines of a document and writes its JSON form to buf
// as it goes, noting the object's header on the way.
type fparser struct {
	lines []fline
	pos   int
	depth int
	buf   []byte

	h        header
	hasItems bool // the root mapping has "items"
}

// decodeFast decodes doc by the fast path for its syntax (one line of
// JSON, or block YAML); ok is false when it is left to go-yaml.
func decodeFast(doc Document) ([]Object, bool) {
	if len(doc.Data) > 0 && doc.Data[0] == '{' {
		return decodeFastJSON(doc)
	}
	return decodeFastYAML(doc)
}

// decodeFastYAML decodes doc if it is one object in the subset and decodes
// without any diagnostic; ok is false otherwise, and then nothing is
// returned.
func decodeFastYAML(doc Document) (objs []Object, ok bool) {
	lines, ok := fastLines(doc.Data)
	if !ok || len(lines) == 0 {
		return nil, false
	}
	p := fparser{lines: lines, buf: make([]byte, 0, len(doc.Data)+len(doc.Data)/4)}
	if l := p.lines[0]; isSeqEntry(l.text) || !p.mapping(l.indent, 0) || p.pos != len(p.lines) {
		return nil, false
	}
	h := p.h
	if h.apiVersion == "" && h.kind == "" || isKustomizeKind(h) {
		return nil, false
	}
	if strings.HasSuffix(h.kind, "List") && p.hasItems {
		return nil, false
	}
	d := decoder{src: doc.Source, budget: 4*len(doc.Data) + 1<<16}
	d.objectOf(fastText{line: lines[0].num, json: p.buf}, h)
	if len(d.diags) > 0 {
		return nil, false
	}
	return d.objs, true
}

// fastLines splits data into its content lines; ok is false when a line
// holds anything the subset leaves to go-yaml: tabs, carriage returns,
// bytes outside printable ASCII, comments after content, document
// markers and directives.
func fastLines(data []byte) ([]fline, bool) {
	lines := make([]fline, 0, bytes.Count(data, []byte{'\n'})+1)
	num := 0
	for len(data) > 0 {
		num++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		end := len(line)
		for end > indent && line[end-1] == ' ' {
			end--
		}
		text := line[indent:end:end]
		if !printable(text) {
			return nil, false
		}
		if len(text) == 0 || text[0] == '#' {
			continue // blank, or a comment
		}
		if bytes.IndexByte(text, '#') >= 0 {
			return nil, false
		}
		if indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) || text[0] == '%') {
			return nil, false
		}
		lines = append(lines, fline{indent: indent, num: num, text: text})
	}
	return lines, true
}

// printable reports whether s holds only printable ASCII.
func printable(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func isSeqEntry(text []byte) bool {
	return len(text) > 0 && text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// node reads the block node starting at the current line; level is 0 for
// the root, 1 for the root's values, 2 below.
func (p *fparser) node(level int) bool {
	l := p.lines[p.pos]
	if isSeqEntry(l.text) {
		return p.sequence(l.indent)
	}
	return p.mapping(l.indent, level)
}

// mapping reads the block mapping whose keys are indented by ind. At
// level 0 (the root) and 1 (metadata) it notes the header's fields.
func (p *fparser) mapping(ind, level int) bool {
	if p.depth++; p.depth > maxFastDepth {
		return false
	}
	defer func() { p.depth-- }()
	p.buf = append(p.buf, '{')
	first := true
	for p.pos < len(p.lines) && p.lines[p.pos].indent == ind {
		l := p.lines[p.pos]
		key, rest, ok := splitKey(l.text)
		if !ok {
			return false
		}
		p.pos++
		if !first {
			p.buf = append(p.buf, ',')
		}
		first = false
		p.buf = appendJSONBytes(p.buf, key)
		p.buf = append(p.buf, ':')
		// The header, as readHeader reads it: the last key of a name wins.
		var dst *string
		childLevel := 2
		switch {
		case level == 0 && string(key) == "apiVersion":
			dst = &p.h.apiVersion
		case level == 0 && string(key) == "kind":
			dst = &p.h.kind
		case level == 0 && string(key) == "items":
			p.hasItems = true
		case level == 0 && string(key) == "metadata":
			p.h.name, p.h.namespace, p.h.nameLine = "", "", 0
			childLevel = 1
		case level == 1 && string(key) == "namespace":
			dst = &p.h.namespace
		case level == 1 && string(key) == "name":
			dst = &p.h.name
			p.h.nameLine = l.num
		}
		if rest == nil {
			if !p.child(ind, true, childLevel) {
				return false
			}
			if dst != nil {
				*dst = "" // null, or not a scalar
			}
			continue
		}
		v, ok := p.scalar(rest)
		if !ok {
			return false
		}
		if dst != nil {
			*dst = v
		}
	}
	p.buf = append(p.buf, '}')
	return p.pos == len(p.lines) || p.lines[p.pos].indent <= ind // else a continuation line, or bad indentation
}

// child reads the value of a key (or sequence entry) at indentation ind
// with nothing after the ":" (or "-"): a block node indented further, a
// sequence at the key's own indentation (for a key), or null.
func (p *fparser) child(ind int, isKey bool, level int) bool {
	if p.pos < len(p.lines) {
		next := p.lines[p.pos]
		if next.indent > ind || isKey && next.indent == ind && isSeqEntry(next.text) {
			return p.node(level)
		}
	}
	p.buf = append(p.buf, "null"...)
	return true
}

// sequence reads the block sequence whose entries are indented by ind.
func (p *fparser) sequence(ind int) bool {
	if p.depth++; p.depth > maxFastDepth {
		return false
	}
	defer func() { p.depth-- }()
	p.buf = append(p.buf, '[')
	first := true
	for p.pos < len(p.lines) && p.lines[p.pos].indent == ind && isSeqEntry(p.lines[p.pos].text) {
		l := p.lines[p.pos]
		if !first {
			p.buf = append(p.buf, ',')
		}
		first = false
		rest := bytes.TrimLeft(l.text[1:], " ")
		switch {
		case len(rest) == 0:
			p.pos++
			if !p.child(ind, false, 2) {
				return false
			}
		case isSeqEntry(rest):
			return false // "- - x"
		default:
			if _, _, isMap := splitKey(rest); isMap {
				// "- key: value" starts a mapping indented to its key.
				col := ind + len(l.text) - len(rest)
				p.lines[p.pos] = fline{indent: col, num: l.num, text: rest}
				if !p.mapping(col, 2) {
					return false
				}
			} else {
				p.pos++
				if _, ok := p.scalar(rest); !ok {
					return false
				}
			}
		}
	}
	p.buf = append(p.buf, ']')
	return p.pos == len(p.lines) || p.lines[p.pos].indent <= ind
}

// splitKey splits "key: rest" or "key:" (rest is then nil); ok is false
// unless the key is a plain run of letters, digits, ".", "_", "/" and "-"
// (not first).
func splitKey(text []byte) (key, rest []byte, ok bool) {
	i := 0
	for i < len(text) && isKeyByte(text[i]) {
		i++
	}
	if i == 0 || text[0] == '-' || i == len(text) || text[i] != ':' {
		return nil, nil, false
	}
	if i+1 == len(text) {
		return text[:i], nil, true
	}
	if text[i+1] != ' ' {
		return nil, nil, false
	}
	return text[:i], bytes.TrimLeft(text[i+1:], " "), true
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '/' || c == '-'
}

// scalar writes a one-line value: an empty flow mapping or sequence, a
// quoted string without escapes, or a plain scalar that go-yaml resolves
// as this does (strings starting with a letter, "/" or "_"; true, false
// and null in their three spellings; decimal integers without leading
// zeros). It returns the value as readHeader's scalar would ("" for null
// and collections); ok is false for anything else.
func (p *fparser) scalar(s []byte) (value string, ok bool) {
	switch string(s) {
	case "{}", "[]":
		p.buf = append(p.buf, s...)
		return "", true
	}
	switch c := s[0]; {
	case c == '"' || c == '\'':
		if len(s) < 2 || s[len(s)-1] != c || bytes.ContainsAny(s[1:len(s)-1], "\"'\\") {
			return "", false
		}
		p.buf = appendJSONBytes(p.buf, s[1:len(s)-1])
		return string(s[1 : len(s)-1]), true
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '_':
		if bytes.Contains(s, []byte(": ")) || s[len(s)-1] == ':' {
			return "", false
		}
		switch string(s) {
		case "true", "True", "TRUE":
			p.buf = append(p.buf, "true"...)
		case "false", "False", "FALSE":
			p.buf = append(p.buf, "false"...)
		case "null", "Null", "NULL":
			p.buf = append(p.buf, "null"...)
			return "", true
		default:
			p.buf = appendJSONBytes(p.buf, s)
		}
		return string(s), true
	case '0' <= c && c <= '9' || c == '-':
		digits := bytes.TrimPrefix(s, []byte("-"))
		if len(digits) == 0 || digits[0] == '0' && len(digits) > 1 {
			return "", false
		}
		for _, d := range digits {
			if d < '0' || d > '9' {
				return "", false
			}
		}
		i, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return "", false
		}
		p.buf = strconv.AppendInt(p.buf, i, 10)
		return string(s), true
	}
	return "", false
}

// appendJSONBytes appends s, which is printable ASCII, as a JSON string.
func appendJSONBytes(buf []byte, s []byte) []byte {
	if bytes.ContainsAny(s, "\"\\") {
		return appendJSONString(buf, string(s))
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

// fastText is an object read by the fast path.
type fastText struct {
	line int
	json []byte
}

func (t fastText) firstLine() int { return t.line }

func (t fastText) toJSON(budget int) ([]byte, int, int, error) {
	if len(t.json) > budget {
		return nil, 0, 0, errBudget
	}
	return t.json, len(t.json), 0, nil
}

// pathLine is not needed: a document that gives a diagnostic is decoded
// again by the go-yaml path, which locates it.
func (t fastText) pathLine(string) int { return 0 }
