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

// fnode is a node of the subset: a mapping, a sequence or a scalar.
type fnode struct {
	kind  byte // 'm' mapping, 's' sequence, 'v' scalar
	tag   byte // scalars: 's' string, 'i' integer, 'b' boolean, 'n' null
	line  int  // in the document, 1-based
	value string
	keys  []fkey  // mapping keys
	items []fnode // sequence items, or the values of keys
}

// fkey is a mapping key and its line.
type fkey struct {
	name string
	line int
}

// fline is a line holding content: its indentation, its text (without the
// indentation and trailing spaces) and its number in the document.
type fline struct {
	indent int
	text   string
	num    int
}

// maxFastDepth bounds the nesting the fast path follows; deeper documents
// take the go-yaml path, which reports MaxDepth.
const maxFastDepth = MaxDepth / 2

type fparser struct {
	lines []fline
	pos   int
	depth int
}

// decodeFast decodes doc if it is one object in the subset and decodes
// without any diagnostic; ok is false otherwise, and then nothing is
// returned.
func decodeFast(doc Document) (objs []Object, ok bool) {
	lines, ok := fastLines(doc.Data)
	if !ok || len(lines) == 0 {
		return nil, false
	}
	p := fparser{lines: lines}
	root, ok := p.node()
	if !ok || p.pos != len(p.lines) || root.kind != 'm' {
		return nil, false
	}
	h := root.header()
	if h.apiVersion == "" && h.kind == "" || isKustomizeKind(h) {
		return nil, false
	}
	if strings.HasSuffix(h.kind, "List") && root.field("items") != nil {
		return nil, false
	}
	d := decoder{src: doc.Source, budget: 4*len(doc.Data) + 1<<16}
	d.objectOf(fastText{&root}, h)
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
		text := line[indent:end]
		if len(text) == 0 || text[0] == '#' {
			// Blank or a comment: "#" is printable ASCII, other bytes of
			// the comment are not checked by go-yaml either.
			if !printable(text) {
				return nil, false
			}
			continue
		}
		if !printable(text) || bytes.IndexByte(text, '#') >= 0 {
			return nil, false
		}
		if indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("...")) || text[0] == '%') {
			return nil, false
		}
		lines = append(lines, fline{indent: indent, text: string(text), num: num})
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

// node reads the block node starting at the current line.
func (p *fparser) node() (fnode, bool) {
	l := p.lines[p.pos]
	if isSeqEntry(l.text) {
		return p.sequence(l.indent)
	}
	return p.mapping(l.indent)
}

func isSeqEntry(text string) bool {
	return text == "-" || strings.HasPrefix(text, "- ")
}

// mapping reads the block mapping whose keys are indented by ind.
func (p *fparser) mapping(ind int) (fnode, bool) {
	if p.depth++; p.depth > maxFastDepth {
		return fnode{}, false
	}
	defer func() { p.depth-- }()
	n := fnode{kind: 'm', line: p.lines[p.pos].num}
	for p.pos < len(p.lines) && p.lines[p.pos].indent == ind {
		l := p.lines[p.pos]
		key, rest, ok := splitKey(l.text)
		if !ok {
			return fnode{}, false
		}
		p.pos++
		var v fnode
		if rest == "" {
			v, ok = p.child(ind, l.num, true)
		} else {
			v, ok = fastScalar(rest, l.num)
		}
		if !ok {
			return fnode{}, false
		}
		n.keys = append(n.keys, fkey{key, l.num})
		n.items = append(n.items, v)
	}
	if p.pos < len(p.lines) && p.lines[p.pos].indent > ind {
		return fnode{}, false // a continuation line, or bad indentation
	}
	return n, true
}

// child reads the value of a key (or sequence entry) at indentation ind
// with nothing after the ":" (or "-"): a block node indented further, a
// sequence at the key's own indentation (for a key), or null.
func (p *fparser) child(ind, line int, isKey bool) (fnode, bool) {
	if p.pos < len(p.lines) {
		next := p.lines[p.pos]
		if next.indent > ind || isKey && next.indent == ind && isSeqEntry(next.text) {
			return p.node()
		}
	}
	return fnode{kind: 'v', tag: 'n', line: line}, true
}

// sequence reads the block sequence whose entries are indented by ind.
func (p *fparser) sequence(ind int) (fnode, bool) {
	if p.depth++; p.depth > maxFastDepth {
		return fnode{}, false
	}
	defer func() { p.depth-- }()
	n := fnode{kind: 's', line: p.lines[p.pos].num}
	for p.pos < len(p.lines) && p.lines[p.pos].indent == ind && isSeqEntry(p.lines[p.pos].text) {
		l := p.lines[p.pos]
		rest := strings.TrimLeft(l.text[1:], " ")
		var (
			v  fnode
			ok bool
		)
		switch {
		case rest == "":
			p.pos++
			v, ok = p.child(ind, l.num, false)
		case isSeqEntry(rest):
			return fnode{}, false // "- - x"
		default:
			if _, _, isMap := splitKey(rest); isMap {
				// "- key: value" starts a mapping indented to its key.
				col := ind + len(l.text) - len(rest)
				p.lines[p.pos] = fline{indent: col, text: rest, num: l.num}
				v, ok = p.mapping(col)
			} else {
				p.pos++
				v, ok = fastScalar(rest, l.num)
			}
		}
		if !ok {
			return fnode{}, false
		}
		n.items = append(n.items, v)
	}
	if p.pos < len(p.lines) && p.lines[p.pos].indent > ind {
		return fnode{}, false
	}
	return n, true
}

// splitKey splits "key: rest" or "key:"; ok is false unless the key is a
// plain run of letters, digits, ".", "_", "/" and "-" (not first).
func splitKey(text string) (key, rest string, ok bool) {
	i := 0
	for i < len(text) && isKeyByte(text[i]) {
		i++
	}
	if i == 0 || text[0] == '-' || i == len(text) || text[i] != ':' {
		return "", "", false
	}
	if i+1 < len(text) && text[i+1] != ' ' {
		return "", "", false
	}
	return text[:i], strings.TrimLeft(text[i+1:], " "), true
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == '/' || c == '-'
}

// fastScalar reads a one-line value: an empty flow mapping or sequence, a
// quoted string without escapes, or a plain scalar that go-yaml resolves
// as this does (strings starting with a letter, "/" or "_"; true, false
// and null in their three spellings; decimal integers without leading
// zeros). ok is false for anything else.
func fastScalar(s string, line int) (fnode, bool) {
	switch s {
	case "{}":
		return fnode{kind: 'm', line: line}, true
	case "[]":
		return fnode{kind: 's', line: line}, true
	}
	v := fnode{kind: 'v', tag: 's', line: line, value: s}
	switch c := s[0]; {
	case c == '"' || c == '\'':
		if len(s) < 2 || s[len(s)-1] != c || strings.ContainsAny(s[1:len(s)-1], "\"'\\") {
			return fnode{}, false
		}
		v.value = s[1 : len(s)-1]
		return v, true
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '_':
		if strings.Contains(s, ": ") || s[len(s)-1] == ':' {
			return fnode{}, false
		}
		switch s {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			v.tag = 'b'
		case "null", "Null", "NULL":
			v.tag = 'n'
		}
		return v, true
	case '0' <= c && c <= '9' || c == '-':
		digits := strings.TrimPrefix(s, "-")
		if digits == "" || digits[0] == '0' && len(digits) > 1 {
			return fnode{}, false
		}
		for i := 0; i < len(digits); i++ {
			if digits[i] < '0' || digits[i] > '9' {
				return fnode{}, false
			}
		}
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return fnode{}, false
		}
		v.tag = 'i'
		return v, true
	}
	return fnode{}, false
}

// field returns the value of key in mapping n (the last one, as field
// does), nil if absent.
func (n *fnode) field(key string) *fnode {
	if n == nil || n.kind != 'm' {
		return nil
	}
	var found *fnode
	for i, k := range n.keys {
		if k.name == key {
			found = &n.items[i]
		}
	}
	return found
}

// str is scalar's counterpart: the text of a non-null scalar, else "".
func (n *fnode) str() string {
	if n == nil || n.kind != 'v' || n.tag == 'n' {
		return ""
	}
	return n.value
}

// header is readHeader's counterpart.
func (n *fnode) header() header {
	h := header{apiVersion: n.field("apiVersion").str(), kind: n.field("kind").str()}
	if md := n.field("metadata"); md != nil && md.kind == 'm' {
		h.namespace = md.field("namespace").str()
		h.name = md.field("name").str()
		for _, k := range md.keys {
			if k.name == "name" {
				h.nameLine = k.line
			}
		}
	}
	return h
}

// fastText is an object read by the fast path.
type fastText struct{ n *fnode }

func (t fastText) firstLine() int { return t.n.line }

func (t fastText) toJSON(budget int) ([]byte, int, int, error) {
	buf := t.n.appendJSON(make([]byte, 0, 1024))
	if len(buf) > budget {
		return nil, 0, 0, errBudget
	}
	return buf, len(buf), 0, nil
}

// pathLine is not needed: a document that gives a diagnostic is decoded
// again by the go-yaml path, which locates it.
func (t fastText) pathLine(string) int { return 0 }

// appendJSON appends the JSON form of n, as nodeToJSON writes it.
func (n *fnode) appendJSON(buf []byte) []byte {
	switch n.kind {
	case 'm':
		buf = append(buf, '{')
		for i, k := range n.keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONString(buf, k.name)
			buf = append(buf, ':')
			buf = n.items[i].appendJSON(buf)
		}
		return append(buf, '}')
	case 's':
		buf = append(buf, '[')
		for i := range n.items {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = n.items[i].appendJSON(buf)
		}
		return append(buf, ']')
	}
	switch n.tag {
	case 'n':
		return append(buf, "null"...)
	case 'b':
		return strconv.AppendBool(buf, n.value[0] == 't' || n.value[0] == 'T')
	case 'i':
		i, _ := strconv.ParseInt(n.value, 10, 64) // checked by scalar
		return strconv.AppendInt(buf, i, 10)
	}
	return appendJSONString(buf, n.value)
}
