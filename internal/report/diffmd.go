package report

import (
	"fmt"
	"sort"
	"strings"
)

// MarkdownSection is one part of the Markdown report. The PR comment fits
// the report into GitHub's size limit by dropping or shortening whole
// sections, never cutting one in the middle.
type MarkdownSection struct {
	Name string // "summary", "opened:<overlay>", "closed:<overlay>", "graph", "diagnostics", "gate"
	Text string
	// Short is a shorter replacement (top paths only), "" when none.
	Short string
}

// DiffMarkdown renders the report as sections: counts first, then per
// overlay a table of opened paths, closed paths folded in <details>, a
// mermaid graph of opened paths, the gate verdict and diagnostics.
func DiffMarkdown(d *Diff) []MarkdownSection {
	var out []MarkdownSection
	var head strings.Builder
	fmt.Fprintf(&head, "### reachdiff: %s\n\n", countsLine(d.Summary))
	fmt.Fprintf(&head, "Base `%s` → head `%s`.", Escape(d.Base), Escape(d.Head))
	if d.Gate != nil {
		icon := "✅"
		if d.Gate.Conclusion == "failure" {
			icon = "❌"
		}
		fmt.Fprintf(&head, " Gate: %s **%s**.", icon, d.Gate.Conclusion)
	}
	head.WriteString("\n")
	if d.CNI != nil {
		fmt.Fprintf(&head, "\n%s.\n", Escape(d.CNI.Header()))
	}
	out = append(out, MarkdownSection{Name: "summary", Text: head.String()})
	if d.Gate != nil && len(d.Gate.Violations) > 0 {
		out = append(out, MarkdownSection{Name: "gate", Text: gateMarkdown(d.Gate)})
	}
	for _, o := range d.Overlays {
		if o.Unchanged {
			continue
		}
		opened, closed := split(o.Changes)
		opened, closed = grouped(opened), grouped(closed)
		if subs, ok := o.Subprocessors.(*Subprocessors); len(opened) == 0 && len(closed) == 0 && (!ok || subs.empty()) {
			out = append(out, MarkdownSection{Name: "overlay:" + o.Path,
				Text: fmt.Sprintf("\n#### `%s`: no reachability change\n", Escape(o.Path))})
			continue
		}
		title := fmt.Sprintf("\n#### `%s`: %d opened, %d closed\n\n", Escape(o.Path), len(opened), len(closed))
		if len(opened) > 0 {
			out = append(out, MarkdownSection{Name: "opened:" + o.Path,
				Text:  title + "**Opened**\n\n" + changeTable(opened, func(c Change) string { return c.Opened }, 0),
				Short: title + "**Opened** (top 20)\n\n" + changeTable(opened, func(c Change) string { return c.Opened }, 20)})
			title = ""
		}
		if len(closed) > 0 {
			table := changeTable(closed, func(c Change) string { return c.Closed }, 0)
			out = append(out, MarkdownSection{Name: "closed:" + o.Path,
				Text:  title + fmt.Sprintf("<details><summary>Closed (%d): these can break an app</summary>\n\n%s\n</details>\n", len(closed), table),
				Short: title + fmt.Sprintf("Closed: %d paths (see the job summary).\n", len(closed))})
		}
		if subs, ok := o.Subprocessors.(*Subprocessors); ok && !subs.empty() {
			var b strings.Builder
			b.WriteString("\n**Sub-processors**\n\n")
			for _, l := range subprocessorLines(subs) {
				fmt.Fprintf(&b, "- %s\n", Escape(l))
			}
			out = append(out, MarkdownSection{Name: "subprocessors:" + o.Path, Text: b.String()})
		}
		if g := mermaid(opened); g != "" {
			out = append(out, MarkdownSection{Name: "graph:" + o.Path, Text: g})
		}
		if len(o.Diagnostics) > 0 {
			var b strings.Builder
			writeDiagnosticsMarkdown(&b, o.Diagnostics)
			out = append(out, MarkdownSection{Name: "diagnostics:" + o.Path, Text: b.String()})
		}
	}
	if len(d.Inventory) > 0 {
		var b strings.Builder
		b.WriteString("\n**Inventory changes**\n\n")
		for _, c := range d.Inventory {
			fmt.Fprintf(&b, "- %s\n", Escape(inventoryChangeLine(c)))
		}
		out = append(out, MarkdownSection{Name: "inventory", Text: b.String()})
	}
	return out
}

// JoinMarkdown concatenates sections in full.
func JoinMarkdown(ss []MarkdownSection) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.Text)
	}
	return b.String()
}

func changeTable(cs []Change, what func(Change) string, limit int) string {
	var b strings.Builder
	b.WriteString("| Source | Destination | Ports | Was → now | Why |\n|---|---|---|---|---|\n")
	for i, c := range cs {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, "\n…and %d more (full list in the job summary and the JSON report).\n", len(cs)-limit)
			break
		}
		var why []string
		for _, cause := range c.Causes {
			why = append(why, Escape(cause.Text)+markdownLocation(cause.File, cause.Line))
		}
		dst := "`" + Escape(c.Dst) + "`"
		if c.Subprocessor != "" {
			dst += " (" + Escape(c.Subprocessor) + ")"
		}
		for _, r := range c.Risk {
			switch r {
			case RiskInternetEgress, RiskExternalIngress, RiskAllPorts:
				dst += " ⚠️ " + r
			case RiskIngressExposed:
				dst += " ⚠️ exposed through ingress"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s → %s | %s |\n", Escape(c.Src), dst, Escape(what(c)),
			Escape(c.Before), Escape(c.After), strings.Join(why, "<br>"))
	}
	return b.String()
}

func markdownLocation(file string, line int) string {
	if file == "" {
		return ""
	}
	if line > 0 {
		return fmt.Sprintf(" (`%s:%d`)", Escape(file), line)
	}
	return fmt.Sprintf(" (`%s`)", Escape(file))
}

func gateMarkdown(g *Gate) string {
	var b strings.Builder
	b.WriteString("\n| Rule | Severity | Finding | To pass |\n|---|---|---|---|\n")
	for _, v := range g.Violations {
		sev := v.Severity
		if v.Acknowledged {
			sev += " (acknowledged)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Rule, sev, Escape(v.Message), Escape(v.Fix))
	}
	return b.String()
}

// mermaid draws opened paths as a graph (at most 40 edges, so it stays
// readable).
func mermaid(opened []Change) string {
	if len(opened) == 0 || len(opened) > 40 {
		return ""
	}
	ids := map[string]string{}
	var names []string
	id := func(n string) string {
		if v, ok := ids[n]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[n] = v
		names = append(names, n)
		return v
	}
	var edges []string
	for _, c := range opened {
		edges = append(edges, fmt.Sprintf("  %s -->|%s| %s", id(c.Src), mermaidText(c.Opened), id(c.Dst)))
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("\n```mermaid\ngraph LR\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[n], mermaidText(n))
	}
	for _, e := range edges {
		b.WriteString(e + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}

func mermaidText(s string) string {
	return strings.NewReplacer("\"", "'", "|", "/", "[", "(", "]", ")", "<", "", ">", "", "\n", " ").Replace(s)
}
