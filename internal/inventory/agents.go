package inventory

import (
	"sort"
	"strings"
)

// Workload is what catalogue matching needs of a workload.
type Workload struct {
	Name      string // "ns/name[Kind]"
	Namespace string
	Images    []string
}

// AgentReport tells which vendor components run in the cluster and how they
// compare with the inventory.
type AgentReport struct {
	// Declared are workload images that an inventory entry covers, through
	// a component pattern or, for a catalogue hit, through the entry's name.
	Declared []AgentMatch `json:"declared"`
	// Undeclared are catalogue hits that no inventory entry covers:
	// undeclared sub-processors.
	Undeclared []AgentMatch `json:"undeclared"`
	// Stale are inventory components that no workload matches.
	Stale []StaleComponent `json:"stale"`
}

// AgentMatch is one workload image attributed to a vendor.
type AgentMatch struct {
	Workload string `json:"workload"`
	Image    string `json:"image"`
	// Subprocessor is the inventory entry covering it ("" when undeclared).
	Subprocessor string `json:"subprocessor,omitempty"`
	// Pattern and Line are the inventory component that matched; Pattern is
	// "" when the entry covers a catalogue hit by its name only.
	Pattern string `json:"pattern,omitempty"`
	Line    int    `json:"line,omitempty"`
	// Vendor, Component and Category are the catalogue entry, if any.
	Vendor    string `json:"vendor,omitempty"`
	Component string `json:"component,omitempty"`
	Category  string `json:"category,omitempty"`
}

// StaleComponent is a declared component that nothing in the manifests runs.
type StaleComponent struct {
	Subprocessor string `json:"subprocessor"`
	Image        string `json:"image"`
	Namespace    string `json:"namespace,omitempty"`
	Line         int    `json:"line,omitempty"`
}

// Agents matches workloads' images against the built-in catalogue and the
// inventory's components: declared components found, undeclared vendor
// agents (a catalogue hit that no inventory entry covers) and stale
// inventory components (declared, no workload matches). cat may be nil
// (no catalogue); inv may be nil (no inventory: every hit is undeclared).
func (inv *Inventory) Agents(ws []Workload, cat *Catalogue) AgentReport {
	type compiled struct {
		sp   *Subprocessor
		c    ComponentPattern
		pat  imagePattern
		used bool
	}
	var comps []*compiled
	if inv != nil {
		for i := range inv.Subprocessors {
			sp := &inv.Subprocessors[i]
			for _, c := range sp.Components {
				comps = append(comps, &compiled{sp: sp, c: c, pat: compileImagePattern(c.Image)})
			}
		}
	}
	// Workloads share few images: match each distinct image once against
	// the catalogue and the components' patterns (namespaces are checked
	// per workload below).
	type imageMatches struct {
		comps []*compiled // components whose pattern matches, in order
		hits  []*CatalogueEntry
	}
	byImage := map[string]*imageMatches{}
	matchesOf := func(image string) *imageMatches {
		if m, ok := byImage[image]; ok {
			return m
		}
		m := &imageMatches{hits: cat.Match(image)}
		ref := parseImageRef(image)
		for _, c := range comps {
			if c.pat.matchImage(ref) {
				m.comps = append(m.comps, c)
			}
		}
		byImage[image] = m
		return m
	}
	var rep AgentReport
	for _, w := range ws {
		seenImage := map[string]bool{}
		for _, image := range w.Images {
			if seenImage[image] {
				continue
			}
			seenImage[image] = true
			im := matchesOf(image)
			covered := map[string]bool{} // subprocessor names covering this image
			for _, c := range im.comps {
				if namespaceMatch(c.c.Namespace, w.Namespace) {
					c.used = true
					if covered[c.sp.Name] {
						continue
					}
					covered[c.sp.Name] = true
					m := AgentMatch{Workload: w.Name, Image: image, Subprocessor: c.sp.Name, Pattern: c.c.Image, Line: c.c.Line}
					if hits := im.hits; len(hits) > 0 {
						m.Vendor, m.Component, m.Category = hits[0].Vendor, hits[0].Component, hits[0].Category
					}
					rep.Declared = append(rep.Declared, m)
				}
			}
			if len(covered) > 0 {
				continue
			}
			for _, e := range im.hits {
				m := AgentMatch{Workload: w.Name, Image: image, Vendor: e.Vendor, Component: e.Component, Category: e.Category}
				if sp := inv.byVendorName(e.Vendor); sp != nil {
					m.Subprocessor, m.Line = sp.Name, sp.Line
					rep.Declared = append(rep.Declared, m)
					continue
				}
				rep.Undeclared = append(rep.Undeclared, m)
			}
		}
	}
	for _, c := range comps {
		if !c.used {
			rep.Stale = append(rep.Stale, StaleComponent{Subprocessor: c.sp.Name, Image: c.c.Image, Namespace: c.c.Namespace, Line: c.c.Line})
		}
	}
	sortMatches(rep.Declared)
	sortMatches(rep.Undeclared)
	sort.Slice(rep.Stale, func(i, j int) bool {
		a, b := rep.Stale[i], rep.Stale[j]
		if a.Subprocessor != b.Subprocessor {
			return a.Subprocessor < b.Subprocessor
		}
		return a.Line < b.Line
	})
	return rep
}

// byVendorName finds the entry naming a catalogue vendor: equal names, or an
// entry name that starts with the vendor's as a whole word ("Datadog" is
// covered by "Datadog, Inc." and "Datadog EU"), ignoring case and
// punctuation.
func (inv *Inventory) byVendorName(vendor string) *Subprocessor {
	if inv == nil {
		return nil
	}
	v := normName(vendor)
	for i := range inv.Subprocessors {
		n := normName(inv.Subprocessors[i].Name)
		if n == v || strings.HasPrefix(n, v+" ") {
			return &inv.Subprocessors[i]
		}
	}
	return nil
}

func normName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}

func sortMatches(ms []AgentMatch) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Workload != b.Workload {
			return a.Workload < b.Workload
		}
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		if a.Subprocessor != b.Subprocessor {
			return a.Subprocessor < b.Subprocessor
		}
		return a.Component < b.Component
	})
}
