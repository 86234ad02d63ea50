package manifest

import (
	"encoding/json"
	"strings"
)

// The fast path for rendered documents: kustomize output is one line of
// compact JSON, which is YAML too. decodeFastJSON checks that the line is
// JSON that go-yaml reads to the same values (printable ASCII, no white
// space between tokens, integers only, no escaped surrogates, short keys)
// and hands it to the typed decoder as it is. Anything else, and any
// document that gives a diagnostic, takes the go-yaml path.

// maxFastKey is the longest key the JSON fast path takes: go-yaml stops
// looking for the ":" of a key 1024 bytes after its start.
const maxFastKey = 1000

// jscanner checks one line of JSON and notes the object's header.
type jscanner struct {
	data     []byte
	pos      int
	h        header
	hasItems bool
}

// decodeFastJSON decodes doc if it is one line of compact JSON as
// described above, holding one object that decodes without diagnostics.
func decodeFastJSON(doc Document) ([]Object, bool) {
	data := doc.Data
	end := len(data)
	for end > 0 && (data[end-1] == '\n' || data[end-1] == ' ') {
		end--
	}
	data = data[:end]
	if len(data) == 0 || data[0] != '{' || !printable(data) {
		return nil, false
	}
	s := jscanner{data: data}
	if !s.value(0, 0) || s.pos != len(data) {
		return nil, false
	}
	h := s.h
	if h.apiVersion == "" && h.kind == "" || isKustomizeKind(h) {
		return nil, false
	}
	if strings.HasSuffix(h.kind, "List") && s.hasItems {
		return nil, false
	}
	d := decoder{src: doc.Source, budget: 4*len(doc.Data) + 1<<16}
	d.objectOf(fastText{line: 1, json: data}, h)
	if len(d.diags) > 0 {
		return nil, false
	}
	return d.objs, true
}

// value scans one JSON value at depth; level is 0 for the root object, 1
// for metadata, 2 elsewhere (see fparser.mapping).
func (s *jscanner) value(depth, level int) bool {
	if depth > maxFastDepth || s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth, level)
	case c == '[':
		s.pos++
		if s.peek(']') {
			return true
		}
		for {
			if !s.value(depth+1, 2) {
				return false
			}
			if s.peek(']') {
				return true
			}
			if !s.peek(',') {
				return false
			}
		}
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '-' || '0' <= c && c <= '9':
		_, ok := s.number()
		return ok
	}
	for _, lit := range []string{"true", "false", "null"} {
		if strings.HasPrefix(string(s.data[s.pos:min(len(s.data), s.pos+5)]), lit) {
			s.pos += len(lit)
			return true
		}
	}
	return false
}

// peek consumes c if it is next.
func (s *jscanner) peek(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// object scans an object, noting the header fields at levels 0 and 1.
func (s *jscanner) object(depth, level int) bool {
	s.pos++ // '{'
	if s.peek('}') {
		return true
	}
	for {
		start := s.pos
		key, ok := s.str()
		if !ok || s.pos-start > maxFastKey || key == "<<" || !s.peek(':') {
			return false
		}
		var dst *string
		childLevel := 2
		switch {
		case level == 0 && key == "apiVersion":
			dst = &s.h.apiVersion
		case level == 0 && key == "kind":
			dst = &s.h.kind
		case level == 0 && key == "items":
			s.hasItems = true
		case level == 0 && key == "metadata":
			s.h.name, s.h.namespace, s.h.nameLine = "", "", 0
			childLevel = 1
		case level == 1 && key == "namespace":
			dst = &s.h.namespace
		case level == 1 && key == "name":
			dst = &s.h.name
			s.h.nameLine = 1
		}
		if dst != nil {
			// A scalar's text, as readHeader reads it.
			v, ok := s.scalarText()
			if !ok {
				return false
			}
			*dst = v
		} else if !s.value(depth+1, childLevel) {
			return false
		}
		if s.peek('}') {
			return true
		}
		if !s.peek(',') {
			return false
		}
	}
}

// scalarText scans a value and returns the text of a scalar: a string's
// value, a number or boolean as written, "" for null or a collection.
func (s *jscanner) scalarText() (string, bool) {
	if s.pos >= len(s.data) {
		return "", false
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		return s.str()
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	start := s.pos
	if !s.value(1, 2) {
		return "", false
	}
	switch v := string(s.data[start:s.pos]); v {
	case "true", "false":
		return v, true
	}
	return "", true
}

// str scans a string and returns its value. Escapes are those of JSON
// that YAML's double-quoted strings share: not "\/", nor surrogate halves.
func (s *jscanner) str() (string, bool) {
	if !s.peek('"') {
		return "", false
	}
	start := s.pos - 1
	escaped := false
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		s.pos++
		switch c {
		case '"':
			raw := s.data[start:s.pos]
			if !escaped {
				return string(raw[1 : len(raw)-1]), true
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", false
			}
			return v, true
		case '\\':
			if s.pos >= len(s.data) {
				return "", false
			}
			escaped = true
			e := s.data[s.pos]
			s.pos++
			switch e {
			case '"', '\\', 'b', 'f', 'n', 'r', 't': // go-yaml has no "\/"
			case 'u':
				if s.pos+4 > len(s.data) {
					return "", false
				}
				var r rune
				for _, h := range s.data[s.pos : s.pos+4] {
					switch {
					case '0' <= h && h <= '9':
						r = r<<4 | rune(h-'0')
					case 'a' <= h && h <= 'f':
						r = r<<4 | rune(h-'a'+10)
					case 'A' <= h && h <= 'F':
						r = r<<4 | rune(h-'A'+10)
					default:
						return "", false
					}
				}
				if 0xd800 <= r && r <= 0xdfff {
					return "", false
				}
				s.pos += 4
			default:
				return "", false
			}
		}
	}
	return "", false
}

// number scans an integer without leading zeros that fits in an int64 (go-yaml
// writes other numbers in another form) and returns it as written.
func (s *jscanner) number() (string, bool) {
	start := s.pos
	s.peek('-')
	digits := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	n := s.data[digits:s.pos]
	if len(n) == 0 || n[0] == '0' && (len(n) > 1 || digits > start) || len(n) > 18 {
		// Empty, a leading zero, "-0" (go-yaml writes 0) or possibly
		// beyond int64.
		return "", false
	}
	return string(s.data[start:s.pos]), true
}
