package report

import (
	"fmt"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

// TieredExplainText prints an explanation through the policy tiers: per
// direction, each decision in evaluation order (admin tier, NetworkPolicy
// and Cilium, baseline tier, default). With only set, the verdict and the
// steps are about those ports alone.
func TieredExplainText(ex tiered.Explanation, only *connset.Set) string {
	var b strings.Builder
	b.WriteString(verdictLine(ex.Src, ex.Dst, ex.Allowed, only))
	if ex.Egress == nil && ex.Ingress == nil {
		b.WriteString("  a workload is never reported as reaching itself\n")
		return b.String()
	}
	if ex.Src == tiered.IngressController {
		// Convention 9 of the oracle: an arbitrary in-cluster workload in a
		// namespace of its own, whose egress nothing restricts.
		b.WriteString("  egress of " + ex.Src + ": not restricted (it stands for an arbitrary in-cluster workload)\n")
	} else {
		writeTieredDirection(&b, "egress of "+ex.Src, ex.Egress, only)
	}
	writeTieredDirection(&b, "ingress of "+ex.Dst, ex.Ingress, only)
	return b.String()
}

func writeTieredDirection(b *strings.Builder, title string, d *tiered.Direction, only *connset.Set) {
	if d == nil {
		fmt.Fprintf(b, "  %s: not applicable (external endpoint)\n", title)
		return
	}
	allowed := d.Allowed
	if only != nil {
		allowed = allowed.Intersect(*only)
	}
	fmt.Fprintf(b, "  %s: %s\n", title, verdictText(allowed))
	for _, s := range d.Steps {
		conns := s.Conns
		if only != nil {
			conns = conns.Intersect(*only)
		}
		if conns.IsEmpty() {
			continue
		}
		where := s.Text
		if s.Policy != "" {
			where = strings.TrimSpace(s.Policy + " " + s.Rule)
			if s.File != "" {
				where += fmt.Sprintf(" (%s:%d)", s.File, s.Line)
			}
		}
		fmt.Fprintf(b, "    %-13s %-6s %s: %s\n", s.Tier, s.Action, conns, where)
	}
}

func verdictText(s connset.Set) string {
	if s.IsEmpty() {
		return "denied"
	}
	return "allows " + s.String()
}
