package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// The header every inventory file carries.
const (
	APIVersion = "reachdiff.dev/v1"
	Kind       = "SubprocessorInventory"
)

// maxInventoryBytes bounds the input: an inventory is a hand-written file of
// a few hundred entries, never megabytes.
const maxInventoryBytes = 4 << 20

// parser collects diagnostics for one file.
type parser struct {
	file  string
	diags []diag.Diagnostic
}

func (p *parser) errorf(line int, format string, args ...any) {
	p.diags = append(p.diags, diag.Diagnostic{Severity: diag.Error, File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(line int, format string, args ...any) {
	p.diags = append(p.diags, diag.Diagnostic{Severity: diag.Warning, File: p.file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// Parse reads and validates an inventory file (apiVersion reachdiff.dev/v1,
// kind SubprocessorInventory). file names the file in diagnostics. Problems
// are diagnostics with file:line, sorted; an error-severity diagnostic means
// the inventory is unusable, and Parse then returns nil.
func Parse(file string, data []byte) (*Inventory, []diag.Diagnostic) {
	p := &parser{file: file}
	inv := p.parse(data)
	diag.Sort(p.diags)
	if diag.HasErrors(p.diags) {
		return nil, p.diags
	}
	return inv, p.diags
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

func (p *parser) parse(data []byte) *Inventory {
	if len(data) > maxInventoryBytes {
		p.errorf(0, "inventory is %d bytes, more than the %d allowed", len(data), maxInventoryBytes)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		p.errorf(line, "invalid YAML: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(0, "empty inventory: want apiVersion %s, kind %s and a list of subprocessors", APIVersion, Kind)
		return nil
	}
	root := doc.Content[0]
	if !p.checkMapping(root, "inventory") {
		return nil
	}
	inv := &Inventory{File: p.file}
	var haveAPI, haveKind, haveList bool
	p.fields(root, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "apiVersion":
			haveAPI = true
			if s, ok := p.scalar(v, key); ok && s != APIVersion {
				p.errorf(v.Line, "apiVersion %q is not supported; want %s", s, APIVersion)
			}
		case "kind":
			haveKind = true
			if s, ok := p.scalar(v, key); ok && s != Kind {
				p.errorf(v.Line, "kind %q is not supported; want %s", s, Kind)
			}
		case "subprocessors":
			haveList = true
			if isNull(v) {
				return true
			}
			if v.Kind != yaml.SequenceNode {
				p.errorf(v.Line, "subprocessors must be a list")
				return true
			}
			for _, item := range v.Content {
				if sp, ok := p.subprocessor(item); ok {
					inv.Subprocessors = append(inv.Subprocessors, sp)
				}
			}
		default:
			return false
		}
		return true
	})
	if !haveAPI {
		p.errorf(root.Line, "missing apiVersion (want %s)", APIVersion)
	}
	if !haveKind {
		p.errorf(root.Line, "missing kind (want %s)", Kind)
	}
	if !haveList {
		p.warnf(root.Line, "no subprocessors list: the inventory declares no sub-processor")
	}
	p.crossCheck(inv)
	return inv
}

// fields walks a mapping's keys in order, reporting duplicate keys and the
// keys that visit does not know (it returns false for them).
func (p *parser) fields(m *yaml.Node, visit func(key string, k, v *yaml.Node) bool) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "a field name must be a plain string")
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.errorf(k.Line, "field %q repeated (first at line %d)", k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			p.errorf(v.Line, "field %q: YAML aliases are not supported in an inventory", k.Value)
			continue
		}
		if !visit(k.Value, k, v) {
			p.errorf(k.Line, "unknown field %q", k.Value)
		}
	}
}

func (p *parser) checkMapping(n *yaml.Node, what string) bool {
	if n.Kind == yaml.AliasNode {
		p.errorf(n.Line, "%s: YAML aliases are not supported in an inventory", what)
		return false
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s must be a mapping", what)
		return false
	}
	return true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalar returns a field's string value; null is "" (absent).
func (p *parser) scalar(v *yaml.Node, key string) (string, bool) {
	if isNull(v) {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		p.errorf(v.Line, "%s must be a string", key)
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

func (p *parser) stringList(v *yaml.Node, key string) []string {
	if isNull(v) {
		return nil
	}
	if v.Kind == yaml.ScalarNode {
		// dataCategories: telemetry (one value without brackets) is common enough.
		if s := strings.TrimSpace(v.Value); s != "" {
			return []string{s}
		}
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.errorf(v.Line, "%s must be a list of strings", key)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range v.Content {
		if e.Kind != yaml.ScalarNode || isNull(e) {
			p.errorf(e.Line, "%s: each entry must be a string", key)
			continue
		}
		s := strings.TrimSpace(e.Value)
		if seen[s] {
			p.warnf(e.Line, "%s: %q listed twice", key, s)
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func (p *parser) subprocessor(n *yaml.Node) (Subprocessor, bool) {
	sp := Subprocessor{Line: n.Line}
	if !p.checkMapping(n, "a subprocessor") {
		return sp, false
	}
	p.fields(n, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			sp.Name, _ = p.scalar(v, key)
			sp.Line = k.Line
		case "purpose":
			sp.Purpose, _ = p.scalar(v, key)
		case "location":
			sp.Location, _ = p.scalar(v, key)
		case "dpa":
			sp.DPA, _ = p.scalar(v, key)
		case "dataCategories":
			sp.DataCategories = p.stringList(v, key)
		case "endpoints":
			if isNull(v) {
				return true
			}
			if v.Kind != yaml.SequenceNode {
				p.errorf(v.Line, "endpoints must be a list")
				return true
			}
			for _, e := range v.Content {
				if ep, ok := p.endpoint(e); ok {
					sp.Endpoints = append(sp.Endpoints, ep)
				}
			}
		case "components":
			if isNull(v) {
				return true
			}
			if v.Kind != yaml.SequenceNode {
				p.errorf(v.Line, "components must be a list")
				return true
			}
			for _, c := range v.Content {
				if cp, ok := p.component(c); ok {
					sp.Components = append(sp.Components, cp)
				}
			}
		default:
			return false
		}
		return true
	})
	ok := true
	if sp.Name == "" {
		p.errorf(n.Line, "subprocessor without a name")
		ok = false
	}
	if sp.Purpose == "" {
		p.errorf(sp.Line, "subprocessor %q has no purpose", sp.Name)
	}
	return sp, ok
}

func (p *parser) endpoint(n *yaml.Node) (Endpoint, bool) {
	ep := Endpoint{Line: n.Line, Ports: connset.All()}
	if !p.checkMapping(n, "an endpoint") {
		return ep, false
	}
	var hasCIDR, hasFQDN, ok = false, false, true
	p.fields(n, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "cidr":
			hasCIDR = true
			s, good := p.scalar(v, key)
			if !good {
				ok = false
				return true
			}
			pfx, hostBits, err := ipset.ParseCIDR(s)
			if err != nil || s == "" {
				p.errorf(v.Line, "invalid cidr %q: want an address range like 203.0.113.0/24 or 2001:db8::/32", s)
				ok = false
				return true
			}
			if hostBits {
				p.warnf(v.Line, "cidr %s has host bits set; read as %s", s, pfx.Masked())
			}
			ep.CIDR = pfx.Masked()
		case "fqdn":
			hasFQDN = true
			s, good := p.scalar(v, key)
			if !good {
				ok = false
				return true
			}
			name := strings.ToLower(strings.TrimSuffix(s, "."))
			if !validFQDN(name) {
				p.errorf(v.Line, "invalid fqdn %q: want a DNS name like api.example.com or *.example.com", s)
				ok = false
				return true
			}
			ep.FQDN = name
		case "ports":
			set, good := p.ports(v)
			if !good {
				ok = false
				return true
			}
			ep.Ports = set
		default:
			return false
		}
		return true
	})
	switch {
	case hasCIDR && hasFQDN:
		p.errorf(n.Line, "an endpoint has either a cidr or an fqdn, not both")
		ok = false
	case !hasCIDR && !hasFQDN:
		p.errorf(n.Line, "an endpoint needs a cidr or an fqdn")
		ok = false
	}
	return ep, ok
}

// validFQDN accepts DNS names of letters, digits, hyphens and underscores,
// with an optional leading "*." wildcard (Cilium's matchPattern form).
func validFQDN(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func (p *parser) ports(v *yaml.Node) (connset.Set, bool) {
	if isNull(v) {
		return connset.All(), true
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	if len(items) == 0 {
		p.errorf(v.Line, "ports is empty: omit it to allow every port, or list ports like 443/TCP")
		return connset.None(), false
	}
	set, ok := connset.None(), true
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || isNull(it) {
			p.errorf(it.Line, "each port must be written like 443/TCP, 8000-8080/TCP or 53/UDP")
			ok = false
			continue
		}
		r, err := parsePortSpec(it.Value)
		if err != nil {
			p.errorf(it.Line, "invalid port %q: %v", it.Value, err)
			ok = false
			continue
		}
		set = set.Union(r)
	}
	return set, ok
}

// parsePortSpec reads "443/TCP", "443" (TCP), "8000-8080/TCP", "53/udp".
func parsePortSpec(s string) (connset.Set, error) {
	s = strings.TrimSpace(s)
	num, proto, hasProto := strings.Cut(s, "/")
	pr := connset.TCP
	if hasProto {
		var err error
		if pr, err = connset.ParseProtocol(strings.TrimSpace(proto)); err != nil {
			return connset.Set{}, err
		}
	}
	loS, hiS, isRange := strings.Cut(strings.TrimSpace(num), "-")
	lo, err := portNumber(loS)
	if err != nil {
		return connset.Set{}, err
	}
	hi := lo
	if isRange {
		if hi, err = portNumber(hiS); err != nil {
			return connset.Set{}, err
		}
		if hi < lo {
			return connset.Set{}, fmt.Errorf("range %d-%d ends before it starts", lo, hi)
		}
	}
	return connset.Ports(pr, lo, hi), nil
}

func portNumber(s string) (uint16, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d is outside 1-65535", n)
	}
	return uint16(n), nil
}

func (p *parser) component(n *yaml.Node) (ComponentPattern, bool) {
	c := ComponentPattern{Line: n.Line}
	if !p.checkMapping(n, "a component") {
		return c, false
	}
	ok := true
	p.fields(n, func(key string, k, v *yaml.Node) bool {
		switch key {
		case "image":
			s, good := p.scalar(v, key)
			if !good {
				ok = false
				return true
			}
			if err := checkImagePattern(s); err != nil {
				p.errorf(v.Line, "invalid image pattern %q: %v", s, err)
				ok = false
				return true
			}
			c.Image = s
		case "namespace":
			s, good := p.scalar(v, key)
			if !good {
				ok = false
				return true
			}
			c.Namespace = s
		default:
			return false
		}
		return true
	})
	if c.Image == "" && ok {
		p.errorf(n.Line, "a component needs an image pattern")
		ok = false
	}
	return c, ok
}

// crossCheck reports what no single entry shows: duplicate names, and
// endpoints that two vendors both claim (a warning: traffic to the overlap
// is attributed to both).
func (p *parser) crossCheck(inv *Inventory) {
	byName := map[string]int{}
	for _, sp := range inv.Subprocessors {
		key := strings.ToLower(sp.Name)
		if first, dup := byName[key]; dup {
			p.errorf(sp.Line, "duplicate subprocessor name %q (first at line %d)", sp.Name, first)
			continue
		}
		byName[key] = sp.Line
	}
	subs := inv.Subprocessors
	for i := range subs {
		for j := i + 1; j < len(subs); j++ {
			if strings.EqualFold(subs[i].Name, subs[j].Name) {
				continue
			}
			for _, a := range subs[i].Endpoints {
				for _, b := range subs[j].Endpoints {
					switch {
					case a.FQDN == "" && b.FQDN == "" && a.CIDR.IsValid() && b.CIDR.IsValid() &&
						ipset.RangeOf(a.CIDR).Overlaps(ipset.RangeOf(b.CIDR)):
						p.warnf(b.Line, "endpoint %s of %q overlaps endpoint %s of %q (line %d): reach to the overlap counts for both",
							b.CIDR, subs[j].Name, a.CIDR, subs[i].Name, a.Line)
					case a.FQDN != "" && a.FQDN == b.FQDN:
						p.warnf(b.Line, "endpoint %s of %q is also declared by %q (line %d)", b.FQDN, subs[j].Name, subs[i].Name, a.Line)
					}
				}
			}
		}
	}
}
