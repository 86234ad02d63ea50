package report

import (
	"fmt"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// ExplainText prints an explanation for a terminal. With only set, the
// verdict is about those ports alone.
func ExplainText(ex reach.Explanation, only *connset.Set) string {
	var b strings.Builder
	b.WriteString(verdictLine(ex.Src.String(), ex.Dst.String(), ex.Allowed, only))
	if ex.Src.Workload != "" && ex.Src.Workload == ex.Dst.Workload {
		b.WriteString("  a workload is never reported as reaching itself\n")
		return b.String()
	}
	writeDirection(&b, "egress of "+ex.Src.String(), ex.Egress, only)
	writeDirection(&b, "ingress of "+ex.Dst.String(), ex.Ingress, only)
	return b.String()
}

// verdictLine prints "SRC => DST[ on PORTS]: ALLOWED (CONNS)" or DENIED.
func verdictLine(src, dst string, allowed connset.Set, only *connset.Set) string {
	what := ""
	if only != nil {
		allowed = allowed.Intersect(*only)
		what = " on " + only.String()
	}
	verdict := "DENIED"
	if !allowed.IsEmpty() {
		verdict = "ALLOWED (" + allowed.String() + ")"
	}
	return fmt.Sprintf("%s => %s%s: %s\n", src, dst, what, verdict)
}

func writeDirection(b *strings.Builder, title string, d *reach.Direction, only *connset.Set) {
	if d == nil {
		fmt.Fprintf(b, "  %s: not applicable (external endpoint)\n", title)
		return
	}
	allowed := d.Allowed
	if only != nil {
		allowed = allowed.Intersect(*only)
	}
	if !d.Isolated {
		fmt.Fprintf(b, "  %s: not isolated (no NetworkPolicy selects it for this direction): %s\n", title, allowed)
		return
	}
	names := make([]string, len(d.Selecting))
	for i, p := range d.Selecting {
		names[i] = fmt.Sprintf("%s (%s:%d)", p.Key(), p.Source.File, p.Source.Line)
	}
	fmt.Fprintf(b, "  %s: isolated by %s\n", title, strings.Join(names, ", "))
	if len(d.Matches) == 0 {
		b.WriteString("    no rule of these policies allows this peer: denied\n")
		return
	}
	for _, m := range d.Matches {
		fmt.Fprintf(b, "    allowed by %s (%s:%d): %s\n", m, m.Policy.Source.File, m.Policy.Source.Line, m.Conns)
	}
	fmt.Fprintf(b, "    => %s\n", allowed)
}
