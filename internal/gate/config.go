package gate

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// HashLen is the number of hex digits of violation and delta hashes.
const HashLen = 8

// Parse reads a gate config file. Rules absent from the file keep their
// defaults; a rule present in the file replaces its whole default entry.
// Unknown rules, unknown or repeated fields, bad severities, a malformed
// label, bad hashes and a wrong apiVersion or kind are diag.Error
// diagnostics with file and line; duplicate acknowledgements are warnings.
// When any error is reported the returned config is nil, so a broken config
// can never weaken the gate by accident.
func Parse(file string, data []byte) (*Config, []diag.Diagnostic) {
	p := &parser{file: file}
	cfg := p.parse(data)
	diag.Sort(p.diags)
	if diag.HasErrors(p.diags) {
		return nil, p.diags
	}
	return cfg, p.diags
}

// yamlLine finds the line number in a go.yaml.in/yaml/v3 syntax error.
var yamlLine = regexp.MustCompile(`line (\d+)`)

type parser struct {
	file  string
	diags []diag.Diagnostic
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.report(diag.Error, n, format, args...)
}

func (p *parser) report(sev diag.Severity, n *yaml.Node, format string, args ...any) {
	d := diag.Diagnostic{Severity: sev, File: p.file, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		d.Line = n.Line
	}
	p.diags = append(p.diags, d)
}

func (p *parser) parse(data []byte) *Config {
	cfg := Default()
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(nil, "empty gate config: want apiVersion %s, kind %s", APIVersion, Kind)
			return nil
		}
		d := diag.Diagnostic{Severity: diag.Error, File: p.file, Message: "parse gate config: " + err.Error()}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			d.Line, _ = strconv.Atoi(m[1])
		}
		p.diags = append(p.diags, d)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errorf(&extra, "gate config holds more than one YAML document")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		p.errorf(&doc, "gate config is not a YAML document")
		return nil
	}
	top := doc.Content[0]
	if !p.mapping(top, "gate config") {
		return nil
	}
	var seenAPI, seenKind bool
	for _, kv := range p.fields(top) {
		k, v := kv[0], kv[1]
		switch k.Value {
		case "apiVersion":
			seenAPI = true
			if s, ok := p.scalar(v, "apiVersion"); ok && s != APIVersion {
				p.errorf(v, "apiVersion %q: want %s", s, APIVersion)
			}
		case "kind":
			seenKind = true
			if s, ok := p.scalar(v, "kind"); ok && s != Kind {
				p.errorf(v, "kind %q: want %s", s, Kind)
			}
		case "sensitiveNamespaceLabel":
			if s, ok := p.scalar(v, "sensitiveNamespaceLabel"); ok {
				if err := checkLabel(s); err != nil {
					p.errorf(v, "sensitiveNamespaceLabel %q: %v", s, err)
				} else {
					cfg.SensitiveNamespaceLabel = s
				}
			}
		case "rules":
			p.rules(v, cfg)
		case "acknowledge":
			p.acks(v, cfg)
		default:
			p.errorf(k, "unknown field %q in gate config (known: apiVersion, kind, sensitiveNamespaceLabel, rules, acknowledge)", k.Value)
		}
	}
	if !seenAPI {
		p.errorf(top, "gate config has no apiVersion: want %s", APIVersion)
	}
	if !seenKind {
		p.errorf(top, "gate config has no kind: want %s", Kind)
	}
	return cfg
}

// fields returns the key/value pairs of a mapping, reporting repeated and
// non-scalar keys.
func (p *parser) fields(m *yaml.Node) [][2]*yaml.Node {
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "mapping key is not a string")
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "field %q repeated", k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// mapping reports whether n is a mapping, reporting it if not. Aliases are
// refused everywhere: a config this small never needs them.
func (p *parser) mapping(n *yaml.Node, what string) bool {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "%s: YAML aliases are not supported", what)
		return false
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping, got %s", what, describe(n))
		return false
	}
	return true
}

// isNull reports whether n is an explicit or implicit null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func (p *parser) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind == yaml.AliasNode {
		p.errorf(n, "%s: YAML aliases are not supported", what)
		return "", false
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, "%s: want a string, got %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a document"
}

func (p *parser) rules(n *yaml.Node, cfg *Config) {
	if isNull(n) {
		return
	}
	if !p.mapping(n, "rules") {
		return
	}
	for _, kv := range p.fields(n) {
		k, v := kv[0], kv[1]
		name := k.Value
		def, known := defaultSeverity[name]
		if !known {
			p.errorf(k, "unknown rule %q (known: %s)", name, strings.Join(Rules(), ", "))
			continue
		}
		rc := RuleConfig{Severity: def, Line: k.Line}
		if !p.mapping(v, "rule "+name) {
			continue
		}
		for _, fv := range p.fields(v) {
			fk, fval := fv[0], fv[1]
			switch fk.Value {
			case "severity":
				s, ok := p.scalar(fval, "rule "+name+" severity")
				if !ok {
					continue
				}
				sev, err := ParseSeverity(s)
				if err != nil {
					p.errorf(fval, "rule %s: %v", name, err)
					continue
				}
				rc.Severity = sev
			case "allowFrom":
				if name != RuleSensitiveIngress {
					p.errorf(fk, "rule %s: allowFrom applies only to %s", name, RuleSensitiveIngress)
					continue
				}
				rc.AllowFrom = p.namespaces(fval, "rule "+name+" allowFrom")
			default:
				known := "severity"
				if name == RuleSensitiveIngress {
					known = "severity, allowFrom"
				}
				p.errorf(fk, "unknown field %q in rule %s (known: %s)", fk.Value, name, known)
			}
		}
		cfg.Rules[name] = rc
	}
}

// namespaces reads a list of namespace names, sorted and deduplicated.
func (p *parser) namespaces(n *yaml.Node, what string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list of namespaces, got %s", what, describe(n))
		return nil
	}
	set := map[string]bool{}
	for _, item := range n.Content {
		s, ok := p.scalar(item, what)
		if !ok {
			continue
		}
		if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
			p.errorf(item, "%s: %q is not a namespace name: %s", what, s, strings.Join(errs, "; "))
			continue
		}
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (p *parser) acks(n *yaml.Node, cfg *Config) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "acknowledge: want a list of {hash, reason}, got %s", describe(n))
		return
	}
	seen := map[string]int{}
	for _, item := range n.Content {
		if !p.mapping(item, "acknowledge entry") {
			continue
		}
		a := Ack{Line: item.Line}
		var hashNode *yaml.Node
		hashGiven := false
		for _, kv := range p.fields(item) {
			k, v := kv[0], kv[1]
			switch k.Value {
			case "hash":
				hashGiven = true
				s, ok := p.scalar(v, "acknowledge hash")
				if !ok {
					continue
				}
				h, ok := normalizeHash(s)
				if !ok {
					p.errorf(v, "acknowledge hash %q: want %d hex digits, as printed in the reachdiff comment", s, HashLen)
					continue
				}
				a.Hash, hashNode = h, v
			case "reason":
				s, ok := p.scalar(v, "acknowledge reason")
				if ok {
					a.Reason = strings.TrimSpace(s)
				}
			default:
				p.errorf(k, "unknown field %q in acknowledge entry (known: hash, reason)", k.Value)
			}
		}
		if hashNode == nil {
			if !hashGiven {
				p.errorf(item, "acknowledge entry has no hash")
			}
			continue
		}
		if a.Reason == "" {
			p.errorf(item, "acknowledge %s has no reason: say who approved it and why", a.Hash)
			continue
		}
		if prev, dup := seen[a.Hash]; dup {
			p.report(diag.Warning, hashNode, "acknowledge %s repeated (first at line %d); the first reason is used", a.Hash, prev)
			continue
		}
		seen[a.Hash] = a.Line
		cfg.Acknowledge = append(cfg.Acknowledge, a)
	}
}

// normalizeHash lower-cases a hash and checks it is HashLen hex digits.
func normalizeHash(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != HashLen {
		return "", false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return s, true
}

// checkLabel validates a "key=value" namespace label.
func checkLabel(s string) error {
	key, value, ok := splitLabel(s)
	if !ok {
		return fmt.Errorf("want key=value")
	}
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return fmt.Errorf("bad label key %q: %s", key, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		return fmt.Errorf("bad label value %q: %s", value, strings.Join(errs, "; "))
	}
	return nil
}
