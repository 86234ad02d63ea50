// Package report renders reachability, changes and explanations as text for
// a terminal, Markdown for GitHub, and versioned JSON.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// Version is the version of the JSON report formats.
const Version = 1

// EvalText writes one "SRC => DST : CONNS" line per allowed pair, the format
// of np-guard/netpol-analyzer's connlist.
func EvalText(w io.Writer, conns []reach.Conn) error {
	var b strings.Builder
	for _, c := range conns {
		b.WriteString(c.Src.String())
		b.WriteString(" => ")
		b.WriteString(c.Dst.String())
		b.WriteString(" : ")
		b.WriteString(c.Conns.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// EvalConn is one pair in the JSON output of eval.
type EvalConn struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Conns string `json:"conns"`
}

// EvalJSON is the JSON document of `reachdiff eval --output json`.
type EvalJSON struct {
	Version     int               `json:"version"`
	Connections []EvalConn        `json:"connections"`
	Diagnostics []diag.Diagnostic `json:"diagnostics"`
	// CNI is the CNI profile the connections were computed under.
	CNI *CNI `json:"cni,omitempty"`
}

// WriteEvalJSON writes the eval JSON document; cni may be nil.
func WriteEvalJSON(w io.Writer, conns []reach.Conn, diags []diag.Diagnostic, cni *CNI) error {
	doc := EvalJSON{Version: Version, Connections: []EvalConn{}, Diagnostics: diags, CNI: cni}
	if doc.Diagnostics == nil {
		doc.Diagnostics = []diag.Diagnostic{}
	}
	for _, c := range conns {
		doc.Connections = append(doc.Connections, EvalConn{Src: c.Src.String(), Dst: c.Dst.String(), Conns: c.Conns.String()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// EvalMarkdown writes a table of allowed pairs and the diagnostics, under
// the CNI profile's header line when cni is not nil.
func EvalMarkdown(w io.Writer, conns []reach.Conn, diags []diag.Diagnostic, cni *CNI) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Reachability\n\n%d allowed pairs.", len(conns))
	if cni != nil {
		fmt.Fprintf(&b, " %s.", Escape(cni.Header()))
	}
	b.WriteString("\n\n")
	if len(conns) > 0 {
		b.WriteString("| Source | Destination | Connections |\n|---|---|---|\n")
		for _, c := range conns {
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", c.Src, c.Dst, c.Conns)
		}
	}
	writeDiagnosticsMarkdown(&b, diags)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDiagnosticsMarkdown(b *strings.Builder, diags []diag.Diagnostic) {
	if len(diags) == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>%d diagnostics</summary>\n\n", len(diags))
	for _, d := range diags {
		fmt.Fprintf(b, "- %s\n", Escape(d.String()))
	}
	b.WriteString("\n</details>\n")
}

// Escape makes text safe inside Markdown table cells and lists: pipes,
// backticks, angle brackets and newlines from manifests cannot break the
// layout or inject HTML.
func Escape(s string) string {
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ", "`", "'")
	return r.Replace(s)
}
