package inventory

import (
	"sort"
	"strings"
	"unicode"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// FieldChange is one difference between two inventory files.
type FieldChange struct {
	Subprocessor string `json:"subprocessor"`
	// Change is "added" or "removed" (the whole vendor) or "changed" (Field).
	Change string `json:"change"`
	// Field is purpose, location, dpa, dataCategories, endpoints or
	// components; "" for a vendor added or removed.
	Field string `json:"field,omitempty"`
	// Before and After are the field's values (text fields), or the
	// vendor's summary for a vendor added or removed.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Added and Removed are the items of a list field that changed.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Diff is a word-level diff of a text field: "Payment [-processing-]{+and billing+}".
	Diff string `json:"diff,omitempty"`
	// Line is the line of the change in head, or in base for a removal.
	Line int `json:"line,omitempty"`
}

// The values of FieldChange.Change.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Diff compares two inventory files (nil = absent): vendors added and
// removed, and fields changed, matched by vendor name ignoring case. The
// result is sorted by vendor, then field.
func Diff(base, head *Inventory) []FieldChange {
	var out []FieldChange
	baseByName := map[string]*Subprocessor{}
	if base != nil {
		for i := range base.Subprocessors {
			baseByName[strings.ToLower(base.Subprocessors[i].Name)] = &base.Subprocessors[i]
		}
	}
	headNames := map[string]bool{}
	if head != nil {
		for i := range head.Subprocessors {
			h := &head.Subprocessors[i]
			key := strings.ToLower(h.Name)
			headNames[key] = true
			b, ok := baseByName[key]
			if !ok {
				out = append(out, FieldChange{Subprocessor: h.Name, Change: Added, After: summary(h), Line: h.Line})
				continue
			}
			out = append(out, diffEntry(b, h)...)
		}
	}
	if base != nil {
		for i := range base.Subprocessors {
			b := &base.Subprocessors[i]
			if !headNames[strings.ToLower(b.Name)] {
				out = append(out, FieldChange{Subprocessor: b.Name, Change: Removed, Before: summary(b), Line: b.Line})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Subprocessor != b.Subprocessor {
			return a.Subprocessor < b.Subprocessor
		}
		return fieldOrder[a.Field] < fieldOrder[b.Field]
	})
	return out
}

var fieldOrder = map[string]int{"": 0, "name": 1, "purpose": 2, "dataCategories": 3, "location": 4, "dpa": 5, "endpoints": 6, "components": 7}

// summary is a one-line description of an entry added or removed.
func summary(sp *Subprocessor) string {
	parts := []string{sp.Purpose}
	if sp.Location != "" {
		parts = append(parts, sp.Location)
	}
	if len(sp.DataCategories) > 0 {
		parts = append(parts, strings.Join(sp.DataCategories, ", "))
	}
	return strings.Join(parts, "; ")
}

func diffEntry(b, h *Subprocessor) []FieldChange {
	var out []FieldChange
	text := func(field, before, after string) {
		if before != after {
			out = append(out, FieldChange{Subprocessor: h.Name, Change: Changed, Field: field,
				Before: before, After: after, Diff: wordDiff(before, after), Line: h.Line})
		}
	}
	list := func(field string, before, after []string, line int) {
		added, removed := setDiff(before, after)
		if len(added)+len(removed) > 0 {
			out = append(out, FieldChange{Subprocessor: h.Name, Change: Changed, Field: field,
				Added: added, Removed: removed, Line: line})
		}
	}
	text("name", b.Name, h.Name)
	text("purpose", b.Purpose, h.Purpose)
	list("dataCategories", b.DataCategories, h.DataCategories, h.Line)
	text("location", b.Location, h.Location)
	text("dpa", b.DPA, h.DPA)
	list("endpoints", endpointStrings(b.Endpoints), endpointStrings(h.Endpoints), firstLine(h.Endpoints, h.Line))
	list("components", componentStrings(b.Components), componentStrings(h.Components), firstComponentLine(h.Components, h.Line))
	return out
}

func firstLine(eps []Endpoint, def int) int {
	if len(eps) > 0 {
		return eps[0].Line
	}
	return def
}

func firstComponentLine(cs []ComponentPattern, def int) int {
	if len(cs) > 0 {
		return cs[0].Line
	}
	return def
}

// String prints an endpoint as "203.0.113.0/24 TCP 443" or "api.stripe.com
// All Connections".
func (e Endpoint) String() string {
	dst := e.FQDN
	if e.CIDR.IsValid() {
		dst = e.CIDR.String()
	}
	return dst + " " + e.Ports.String()
}

func endpointStrings(eps []Endpoint) []string {
	out := make([]string, 0, len(eps))
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}

// String prints a component as "gcr.io/datadoghq/agent* in monitoring".
func (c ComponentPattern) String() string {
	if c.Namespace == "" {
		return c.Image
	}
	return c.Image + " in " + c.Namespace
}

func componentStrings(cs []ComponentPattern) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

// setDiff returns the items of after not in before and of before not in
// after, each sorted.
func setDiff(before, after []string) (added, removed []string) {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	b, a := in(before), in(after)
	for x := range a {
		if !b[x] {
			added = append(added, x)
		}
	}
	for x := range b {
		if !a[x] {
			removed = append(removed, x)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}

// wordDiff renders a word-level diff of two texts in git's --word-diff
// style: "[-removed-]{+added+}". Each word and each run of spaces is one
// token, so a change never splits a word.
func wordDiff(before, after string) string {
	var vocab []string
	index := map[string]rune{}
	encode := func(s string) []rune {
		var out []rune
		for _, tok := range tokenize(s) {
			r, ok := index[tok]
			if !ok {
				// Supplementary private use area: never a surrogate.
				r = rune(0xF0000 + len(vocab))
				vocab = append(vocab, tok)
				index[tok] = r
			}
			out = append(out, r)
		}
		return out
	}
	a, b := encode(before), encode(after)
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0 // no deadline: deterministic, and no clock
	diffs := dmp.DiffMainRunes(a, b, false)
	var sb strings.Builder
	for _, d := range diffs {
		var text strings.Builder
		for _, r := range d.Text {
			text.WriteString(vocab[r-0xF0000])
		}
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			sb.WriteString(text.String())
		case diffmatchpatch.DiffDelete:
			sb.WriteString("[-" + text.String() + "-]")
		case diffmatchpatch.DiffInsert:
			sb.WriteString("{+" + text.String() + "+}")
		}
	}
	return sb.String()
}

// tokenize splits text into words and runs of white space.
func tokenize(s string) []string {
	var out []string
	start, prevSpace := 0, false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if i > start && space != prevSpace {
			out = append(out, s[start:i])
			start = i
		}
		prevSpace = space
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
