package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// empty reports whether there is nothing to say about sub-processors.
func (s *Subprocessors) empty() bool {
	return s == nil || len(s.Vendors) == 0 && len(s.Undeclared) == 0 && len(s.UndeclaredAgents) == 0 && len(s.Stale) == 0
}

// subprocessorLines are the sub-processor findings as plain sentences, the
// same for text and Markdown.
func subprocessorLines(s *Subprocessors) []string {
	var out []string
	for _, v := range s.Vendors {
		switch v.Change {
		case inventory.NewlyReachable:
			out = append(out, fmt.Sprintf("%s newly reaches sub-processor %s on %s", v.Workload, v.Subprocessor, v.After))
		case inventory.NoLongerReachable:
			out = append(out, fmt.Sprintf("%s no longer reaches sub-processor %s (was %s)", v.Workload, v.Subprocessor, v.Before))
		default:
			out = append(out, fmt.Sprintf("%s reaches sub-processor %s on %s (was %s)", v.Workload, v.Subprocessor, v.After, v.Before))
		}
	}
	for i := 0; i < len(s.Undeclared); i++ {
		u := s.Undeclared[i]
		var what string
		if u.Any != "" {
			what = "any external host (" + u.Any + ")"
		} else {
			// Ranges reached alike by one workload print as one set.
			rs := []ipset.Range{u.Range}
			for i+1 < len(s.Undeclared) {
				n := s.Undeclared[i+1]
				if n.Any != "" || n.Workload != u.Workload || !n.Conns.Equal(u.Conns) || !slices.Equal(n.Vendors, u.Vendors) {
					break
				}
				rs = append(rs, n.Range)
				i++
			}
			what = RangeSetString(rs)
		}
		line := fmt.Sprintf("UNDECLARED: %s newly reaches %s on %s", u.Workload, what, u.Conns)
		if len(u.Vendors) > 0 {
			line += " (owned by " + strings.Join(u.Vendors, ", ") + ", but not on these ports)"
		} else if s.HasInventory {
			line += ", which no sub-processor in " + s.Inventory + " owns"
		}
		out = append(out, line)
	}
	for _, a := range s.UndeclaredAgents {
		out = append(out, fmt.Sprintf("UNDECLARED AGENT: %s runs %s (%s %s, %s), not in the inventory", a.Workload, a.Image, a.Vendor, a.Component, a.Category))
	}
	for _, st := range s.Stale {
		out = append(out, fmt.Sprintf("STALE: %s declares component %s, which no workload runs", st.Subprocessor, st.Image))
	}
	return out
}

func inventoryChangeLine(c inventory.FieldChange) string {
	switch c.Change {
	case "added":
		return "sub-processor added: " + c.Subprocessor
	case "removed":
		return "sub-processor removed: " + c.Subprocessor
	}
	what := c.Diff
	if what == "" {
		var parts []string
		if len(c.Added) > 0 {
			parts = append(parts, "+"+strings.Join(c.Added, ", +"))
		}
		if len(c.Removed) > 0 {
			parts = append(parts, "-"+strings.Join(c.Removed, ", -"))
		}
		what = strings.Join(parts, " ")
	}
	return fmt.Sprintf("%s %s: %s", c.Subprocessor, c.Field, what)
}
