package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/diff"
)

// DiffText writes the report for a terminal: a summary line of counts, then
// per overlay the opened paths, then the closed ones, each with its causes.
func DiffText(w io.Writer, d *Diff) error {
	var b strings.Builder
	fmt.Fprintf(&b, "reachdiff %s -> %s: %s\n", d.Base, d.Head, countsLine(d.Summary))
	if d.CNI != nil {
		fmt.Fprintf(&b, "%s\n", d.CNI.Header())
	}
	for _, o := range d.Overlays {
		if o.Unchanged {
			fmt.Fprintf(&b, "\n== %s: not affected by the change (not rendered)\n", o.Path)
			continue
		}
		opened, closed := split(o.Changes)
		if len(opened) == 0 && len(closed) == 0 {
			fmt.Fprintf(&b, "\n== %s: no reachability change\n", o.Path)
		} else {
			fmt.Fprintf(&b, "\n== %s\n", o.Path)
		}
		writeTextSection(&b, "OPENED", opened, func(c Change) string { return c.Opened })
		writeTextSection(&b, "CLOSED", closed, func(c Change) string { return c.Closed })
		if subs, ok := o.Subprocessors.(*Subprocessors); ok && !subs.empty() {
			b.WriteString("SUB-PROCESSORS\n")
			for _, l := range subprocessorLines(subs) {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
		for _, dg := range o.Diagnostics {
			if dg.Severity != diag.Info {
				fmt.Fprintf(&b, "  %s\n", dg)
			}
		}
	}
	if len(d.Inventory) > 0 {
		b.WriteString("\nINVENTORY CHANGES\n")
		for _, c := range d.Inventory {
			fmt.Fprintf(&b, "  %s\n", inventoryChangeLine(c))
		}
	}
	if d.Gate != nil {
		fmt.Fprintf(&b, "\ngate: %s\n", d.Gate.Conclusion)
		for _, v := range d.Gate.Violations {
			ack := ""
			if v.Acknowledged {
				ack = " (acknowledged)"
			}
			fmt.Fprintf(&b, "  %s %s%s: %s\n", v.Severity, v.Rule, ack, v.Message)
			if v.Fix != "" && !v.Acknowledged {
				fmt.Fprintf(&b, "      to pass: %s\n", v.Fix)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countsLine(s Summary) string {
	return fmt.Sprintf("%d %s opened, %d closed in %d %s",
		s.Opened, plural(s.Opened, "path", "paths"), s.Closed, s.Overlays, plural(s.Overlays, "overlay", "overlays"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// split separates changes that open something from those that close
// something; a change that does both is in both lists.
func split(cs []Change) (opened, closed []Change) {
	for _, c := range cs {
		if c.Opened != "" {
			opened = append(opened, c)
		}
		if c.Closed != "" {
			closed = append(closed, c)
		}
	}
	return opened, closed
}

func writeTextSection(b *strings.Builder, title string, cs []Change, what func(Change) string) {
	if len(cs) == 0 {
		return
	}
	cs = grouped(cs)
	fmt.Fprintf(b, "%s (%d)\n", title, len(cs))
	for _, c := range cs {
		fmt.Fprintf(b, "  %s => %s : %s", c.Src, c.Dst, what(c))
		fmt.Fprintf(b, "   [was %s, now %s]", c.Before, c.After)
		if c.Subprocessor != "" {
			fmt.Fprintf(b, " (%s)", c.Subprocessor)
		}
		if len(c.Risk) > 0 {
			fmt.Fprintf(b, " {%s}", strings.Join(c.Risk, ", "))
		}
		b.WriteString("\n")
		for _, cause := range c.Causes {
			fmt.Fprintf(b, "      because %s%s\n", cause.Text, location(cause))
		}
	}
}

func location(c diff.Cause) string {
	if c.File == "" {
		return ""
	}
	if c.Line > 0 {
		return fmt.Sprintf(" (%s:%d)", c.File, c.Line)
	}
	return " (" + c.File + ")"
}
