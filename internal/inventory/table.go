package inventory

import (
	"fmt"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
)

// Table is the disclosure table and the undeclared findings, in a form that
// renders as Markdown and marshals as JSON.
type Table struct {
	File string `json:"file,omitempty"`
	// Rows are the sub-processors in the inventory's order.
	Rows []Row `json:"subprocessors"`
	// AnyExternal are the workloads that reach any external host.
	AnyExternal []AnyExternalRow `json:"anyExternalHost"`
	// UndeclaredReach is external reach no sub-processor declares, beyond
	// "any external host".
	UndeclaredReach []UndeclaredRow `json:"undeclaredReach"`
	// UndeclaredAgents are vendor components found in the manifests that no
	// inventory entry covers.
	UndeclaredAgents []AgentMatch `json:"undeclaredComponents"`
	// StaleComponents are declared components that no workload runs.
	StaleComponents []StaleComponent `json:"staleComponents"`
	// Unverifiable are declared FQDN endpoints.
	Unverifiable []Unverifiable `json:"unverifiable"`
}

// Row is one sub-processor of the disclosure table.
type Row struct {
	Vendor         string   `json:"vendor"`
	Purpose        string   `json:"purpose"`
	DataCategories []string `json:"dataCategories"`
	Location       string   `json:"location,omitempty"`
	DPA            string   `json:"dpa,omitempty"`
	Line           int      `json:"line,omitempty"`
	// ReachedBy are the workloads that reach it, sorted.
	ReachedBy []ReachRow `json:"reachedBy"`
	// RunBy are the workloads running its declared components, sorted.
	RunBy []string `json:"runBy"`
}

// ReachRow is a workload reaching a sub-processor.
type ReachRow struct {
	Workload string `json:"workload"`
	Conns    string `json:"conns"`
	// Via is "cidr" when the policies allow the vendor's declared ranges,
	// or "any external host" when only internet-wide egress reaches the
	// vendor's FQDN endpoints (which reachdiff cannot resolve).
	Via string `json:"via"`
}

// AnyExternalRow is a workload reaching any external host.
type AnyExternalRow struct {
	Workload string `json:"workload"`
	IPv4     string `json:"ipv4,omitempty"`
	IPv6     string `json:"ipv6,omitempty"`
}

// UndeclaredRow is undeclared external reach of a workload.
type UndeclaredRow struct {
	Workload string   `json:"workload"`
	Range    string   `json:"range"`
	Conns    string   `json:"conns"`
	Vendors  []string `json:"vendors,omitempty"`
}

// The values of ReachRow.Via.
const (
	ViaCIDR        = "cidr"
	ViaAnyExternal = "any external host"
)

// Disclosure builds the disclosure table (vendor, purpose, data categories,
// location, DPA, workloads reaching it) and the undeclared findings.
func Disclosure(inv *Inventory, c Classification, a AgentReport) Table {
	t := Table{
		AnyExternal:      []AnyExternalRow{},
		UndeclaredReach:  []UndeclaredRow{},
		UndeclaredAgents: append([]AgentMatch{}, a.Undeclared...),
		StaleComponents:  append([]StaleComponent{}, a.Stale...),
		Unverifiable:     append([]Unverifiable{}, c.Unverifiable...),
		Rows:             []Row{},
	}
	if inv != nil {
		t.File = inv.File
		for _, sp := range inv.Subprocessors {
			row := Row{Vendor: sp.Name, Purpose: sp.Purpose, DataCategories: append([]string{}, sp.DataCategories...),
				Location: sp.Location, DPA: sp.DPA, Line: sp.Line, ReachedBy: []ReachRow{}, RunBy: []string{}}
			for _, w := range c.Workloads {
				for _, v := range w.Vendors {
					if v.Subprocessor == sp.Name {
						via := ViaCIDR
						if v.ViaAnyExternal {
							via = ViaAnyExternal
						}
						row.ReachedBy = append(row.ReachedBy, ReachRow{Workload: w.Workload, Conns: v.Conns.String(), Via: via})
					}
				}
			}
			seen := map[string]bool{}
			for _, m := range a.Declared {
				if m.Subprocessor == sp.Name && !seen[m.Workload] {
					seen[m.Workload] = true
					row.RunBy = append(row.RunBy, m.Workload)
				}
			}
			t.Rows = append(t.Rows, row)
		}
	}
	for _, w := range c.Workloads {
		if w.AnyExternal() {
			r := AnyExternalRow{Workload: w.Workload}
			if !w.AnyIPv4.IsEmpty() {
				r.IPv4 = w.AnyIPv4.String()
			}
			if !w.AnyIPv6.IsEmpty() {
				r.IPv6 = w.AnyIPv6.String()
			}
			t.AnyExternal = append(t.AnyExternal, r)
		}
		for _, u := range w.Undeclared {
			t.UndeclaredReach = append(t.UndeclaredReach, UndeclaredRow{Workload: w.Workload, Range: u.Range.String(), Conns: u.Conns.String(), Vendors: u.Vendors})
		}
	}
	return t
}

// maxCellWorkloads bounds the workloads listed in one table cell; the JSON
// output has them all.
const maxCellWorkloads = 10

// Markdown renders the table for a PR comment or a terminal.
func (t Table) Markdown() string {
	var b strings.Builder
	title := "Sub-processors"
	if t.File != "" {
		title += " (" + mdCode(t.File) + ")"
	}
	fmt.Fprintf(&b, "### %s\n\n", title)
	if len(t.Rows) == 0 {
		b.WriteString("No sub-processor is declared.\n\n")
	} else {
		b.WriteString("| Vendor | Purpose | Data categories | Location | DPA | Reached by | Runs in cluster as |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, r := range t.Rows {
			var reached []string
			for _, w := range r.ReachedBy {
				s := mdCode(w.Workload) + " (" + mdCell(w.Conns)
				if w.Via == ViaAnyExternal {
					s += ", via any external host"
				}
				reached = append(reached, s+")")
			}
			var runs []string
			for _, w := range r.RunBy {
				runs = append(runs, mdCode(w))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n",
				cellOr(mdCell(r.Vendor)), cellOr(mdCell(r.Purpose)), cellOr(mdCell(strings.Join(r.DataCategories, ", "))),
				cellOr(mdCell(r.Location)), cellOr(mdCell(r.DPA)), cellOr(capList(reached)), cellOr(capList(runs)))
		}
		b.WriteString("\n")
	}

	b.WriteString("### Undeclared\n\n")
	if len(t.AnyExternal)+len(t.UndeclaredReach)+len(t.UndeclaredAgents) == 0 {
		b.WriteString("No undeclared external reach and no undeclared vendor component.\n\n")
	}
	if len(t.AnyExternal) > 0 {
		b.WriteString("**Any external host**: these workloads may reach the whole internet, so every sub-processor and every undeclared host:\n\n")
		for _, r := range t.AnyExternal {
			var fams []string
			if r.IPv4 != "" {
				fams = append(fams, connsText(r.IPv4)+" (IPv4)")
			}
			if r.IPv6 != "" {
				fams = append(fams, connsText(r.IPv6)+" (IPv6)")
			}
			fmt.Fprintf(&b, "- %s: %s\n", mdCode(r.Workload), mdCell(strings.Join(fams, "; ")))
		}
		b.WriteString("\n")
	}
	if len(t.UndeclaredReach) > 0 {
		b.WriteString("**Undeclared external reach** (no sub-processor declares these destinations or ports):\n\n")
		for _, r := range t.UndeclaredReach {
			note := ""
			if len(r.Vendors) > 0 {
				note = " (outside the ports " + mdCell(strings.Join(r.Vendors, ", ")) + " declares)"
			}
			fmt.Fprintf(&b, "- %s => %s : %s%s\n", mdCode(r.Workload), mdCode(r.Range), mdCell(connsText(r.Conns)), note)
		}
		b.WriteString("\n")
	}
	if len(t.UndeclaredAgents) > 0 {
		b.WriteString("**Undeclared vendor components** (in the built-in catalogue, not in the inventory):\n\n")
		for _, m := range t.UndeclaredAgents {
			fmt.Fprintf(&b, "- %s runs %s: %s (%s, %s)\n", mdCode(m.Workload), mdCode(m.Image), mdCell(m.Component), mdCell(m.Vendor), mdCell(m.Category))
		}
		b.WriteString("\n")
	}
	if len(t.StaleComponents) > 0 {
		b.WriteString("### Stale components\n\nDeclared, but no workload in the manifests runs them:\n\n")
		for _, s := range t.StaleComponents {
			where := ""
			if s.Namespace != "" {
				where = " in namespace " + mdCode(s.Namespace)
			}
			fmt.Fprintf(&b, "- %s: %s%s%s\n", mdCell(s.Subprocessor), mdCode(s.Image), where, t.lineRef(s.Line))
		}
		b.WriteString("\n")
	}
	if len(t.Unverifiable) > 0 {
		b.WriteString("### Declared but unverifiable\n\nFQDN endpoints: NetworkPolicy cannot name hosts, so which workloads reach them is not known (only internet-wide egress is listed above):\n\n")
		for _, u := range t.Unverifiable {
			fmt.Fprintf(&b, "- %s: %s (%s)%s\n", mdCell(u.Subprocessor), mdCode(u.FQDN), mdCell(u.Ports), t.lineRef(u.Line))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func (t Table) lineRef(line int) string {
	if t.File == "" || line == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", mdCell(t.File), line)
}

// connsText prints a connection set for people: "All Connections except
// TCP 443" when that is shorter than the set itself.
func connsText(s string) string {
	c, err := connset.Parse(s)
	if err != nil || c.IsAll() || c.IsEmpty() {
		return s
	}
	if rest := connset.All().Subtract(c).String(); len(rest) < len(s) {
		return "All Connections except " + rest
	}
	return s
}

func capList(xs []string) string {
	if len(xs) > maxCellWorkloads {
		n := len(xs) - maxCellWorkloads
		xs = append(xs[:maxCellWorkloads:maxCellWorkloads], fmt.Sprintf("and %d more", n))
	}
	return strings.Join(xs, "<br>")
}

func cellOr(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// mdCell makes text safe inside a Markdown table cell or list item: no line
// breaks, no column separators, no HTML.
func mdCell(s string) string {
	r := strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`, "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// mdCode renders s as inline code, safe in a table cell.
func mdCode(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "`", "'", "|", `\|`).Replace(s)
	return "`" + s + "`"
}
