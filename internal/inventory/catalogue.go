package inventory

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed catalogue.yaml
var catalogueYAML []byte

// Categories of catalogue components.
var catalogueCategories = map[string]bool{
	"monitoring": true, "ingress": true, "gateway": true, "mesh": true,
	"cni": true, "secrets": true, "identity": true,
}

// Catalogue is a list of well-known vendor components that run inside a
// cluster on a vendor's behalf, recognised by image.
type Catalogue struct {
	Components []CatalogueEntry
}

// CatalogueEntry is one vendor component of the catalogue.
type CatalogueEntry struct {
	Vendor    string   `yaml:"vendor" json:"vendor"`
	Component string   `yaml:"component" json:"component"`
	Category  string   `yaml:"category" json:"category"`
	Purpose   string   `yaml:"purpose" json:"purpose"`
	Images    []string `yaml:"images" json:"images"`
	// Examples are real image references that must match this entry and no
	// other; the catalogue's test checks them.
	Examples []string `yaml:"examples" json:"examples,omitempty"`

	patterns []imagePattern
}

// DefaultCatalogue returns the built-in catalogue (catalogue.yaml, embedded).
// It panics only if the embedded file is invalid, which its test rules out.
func DefaultCatalogue() *Catalogue {
	c, err := ParseCatalogue(catalogueYAML)
	if err != nil {
		panic(fmt.Sprintf("inventory: embedded catalogue.yaml: %v", err))
	}
	return c
}

// ParseCatalogue reads a catalogue in the format of catalogue.yaml and
// validates it: every entry has a vendor, component, known category, purpose
// and at least one valid image pattern, and (vendor, component) is unique.
func ParseCatalogue(data []byte) (*Catalogue, error) {
	var doc struct {
		Components []CatalogueEntry `yaml:"components"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse catalogue: %w", err)
	}
	seen := map[string]bool{}
	for i := range doc.Components {
		e := &doc.Components[i]
		switch {
		case e.Vendor == "" || e.Component == "" || e.Purpose == "":
			return nil, fmt.Errorf("catalogue entry %d (%q): vendor, component and purpose are required", i+1, e.Component)
		case !catalogueCategories[e.Category]:
			return nil, fmt.Errorf("catalogue entry %q: unknown category %q", e.Component, e.Category)
		case len(e.Images) == 0:
			return nil, fmt.Errorf("catalogue entry %q: no image pattern", e.Component)
		}
		key := strings.ToLower(e.Vendor + "\x00" + e.Component)
		if seen[key] {
			return nil, fmt.Errorf("catalogue entry %q of %q appears twice", e.Component, e.Vendor)
		}
		seen[key] = true
		for _, im := range e.Images {
			if err := checkImagePattern(im); err != nil {
				return nil, fmt.Errorf("catalogue entry %q: image pattern %q: %w", e.Component, im, err)
			}
			e.patterns = append(e.patterns, compileImagePattern(im))
		}
	}
	return &Catalogue{Components: doc.Components}, nil
}

// Match returns the catalogue entries whose patterns match the image, in
// catalogue order.
func (c *Catalogue) Match(image string) []*CatalogueEntry {
	if c == nil {
		return nil
	}
	ref := parseImageRef(image)
	var out []*CatalogueEntry
	for i := range c.Components {
		e := &c.Components[i]
		pats := e.patterns
		if pats == nil { // built as a literal, not by ParseCatalogue
			for _, im := range e.Images {
				pats = append(pats, compileImagePattern(im))
			}
		}
		for _, p := range pats {
			if p.matchImage(ref) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// Vendors returns the catalogue's vendor names, sorted and unique.
func (c *Catalogue) Vendors() []string {
	set := map[string]bool{}
	for _, e := range c.Components {
		set[e.Vendor] = true
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
