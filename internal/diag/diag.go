// Package diag describes findings about the user's input: problems in
// manifests, inventories or configs that are reported, not failed on.
package diag

import (
	"fmt"
	"sort"
)

// Severity ranks a diagnostic. Errors make an answer unknowable (exit 2);
// warnings and infos are shown beside the answer.
type Severity string

// The severities, from most to least serious.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Diagnostic is one finding about the input, located by file and line when
// the input has them.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	// Object names the Kubernetes object concerned, "Kind ns/name", if any.
	Object  string `json:"object,omitempty"`
	Message string `json:"message"`
}

// String prints a diagnostic the way compilers do: "file:line: severity: message (object)".
func (d Diagnostic) String() string {
	loc := d.File
	if loc != "" && d.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, d.Line)
	}
	s := string(d.Severity) + ": " + d.Message
	if d.Object != "" {
		s += " (" + d.Object + ")"
	}
	if loc != "" {
		s = loc + ": " + s
	}
	return s
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file, line, severity and message, so output
// never depends on the order in which they were found.
func Sort(ds []Diagnostic) {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Message < b.Message
	})
}
