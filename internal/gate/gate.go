// Package gate decides the required status check: it evaluates the team's
// rules (undeclared egress, internet egress, sensitive ingress, missing
// default-deny, cross-namespace paths) against the paths a change opens, and
// applies the acknowledgements reviewers recorded.
package gate

import (
	"fmt"
	"sort"
	"strings"
)

// Severity is what a rule's violations do to the check: errors fail it,
// warnings only annotate, off disables the rule.
type Severity string

// The rule severities, from most to least serious.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Off     Severity = "off"
)

// ParseSeverity returns the severity named s ("error", "warning" or "off").
func ParseSeverity(s string) (Severity, error) {
	switch v := Severity(s); v {
	case Error, Warning, Off:
		return v, nil
	}
	return "", fmt.Errorf("bad severity %q: want error, warning or off", s)
}

// ParseFailOn reads the Action's fail-on input: a list of severities whose
// unacknowledged violations fail the check. Empty means [error]; "off" is
// refused because off rules produce no violations.
func ParseFailOn(values []string) ([]Severity, error) {
	var out []Severity
	seen := map[Severity]bool{}
	for _, v := range values {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		s, err := ParseSeverity(v)
		if err != nil || s == Off {
			return nil, fmt.Errorf("fail-on %q: want error or warning", v)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return []Severity{Error}, nil
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rank() < out[j].rank() })
	return out, nil
}

// rank orders severities for sorting: errors first.
func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// The built-in rule names, as written in the config file.
const (
	// RuleUndeclaredEgress fires for each new path to an external range
	// that no sub-processor owns (Path.External && Path.Undeclared). An
	// internet path is undeclared too, so it also fires internet-egress.
	RuleUndeclaredEgress = "undeclared-egress"
	// RuleInternetEgress fires for each new path to "any external host"
	// (0.0.0.0/0, ::/0, or an egress rule without `to`).
	RuleInternetEgress = "internet-egress"
	// RuleSensitiveIngress fires for each new path into a namespace that
	// carries the sensitive label in head, from a source outside that
	// namespace and outside the rule's allowFrom namespaces. Sources that
	// are not workloads (external ranges, {ingress-controller}) are always
	// outside.
	RuleSensitiveIngress = "sensitive-ingress"
	// RuleMissingDefaultDeny fires for a namespace with workloads in head
	// that lacks default-deny ingress or egress, but only when this change
	// is responsible: the namespace is new in head, gets its first
	// workloads, or lost default-deny in this change. Namespaces that
	// already lacked it at base are reported once per run as info notes
	// (Result.Notes), not violations: a rule that failed every PR of a
	// repository that never had default-deny would only get switched off.
	RuleMissingDefaultDeny = "missing-default-deny"
	// RuleNewCrossNamespace fires for each new path between workloads of
	// two different namespaces.
	RuleNewCrossNamespace = "new-cross-namespace"
)

// Rules lists the built-in rule names, sorted.
func Rules() []string {
	names := make([]string, 0, len(defaultSeverity))
	for n := range defaultSeverity {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// defaultSeverity is the severity of each built-in rule when the config
// file does not mention it (DESIGN.md section 10).
var defaultSeverity = map[string]Severity{
	RuleUndeclaredEgress:   Error,
	RuleInternetEgress:     Error,
	RuleSensitiveIngress:   Error,
	RuleMissingDefaultDeny: Warning,
	RuleNewCrossNamespace:  Warning,
}

// Config file identity.
const (
	APIVersion = "reachdiff.dev/v1"
	Kind       = "GateConfig"
)

// Default values of the configuration.
const (
	DefaultSensitiveNamespaceLabel = "data-classification=restricted"
	DefaultInventoryFile           = "subprocessors.yaml"
	DefaultConfigFile              = ".github/reachdiff.yaml"
)

// Config is a parsed .github/reachdiff.yaml (apiVersion reachdiff.dev/v1,
// kind GateConfig).
type Config struct {
	// SensitiveNamespaceLabel is the "key=value" namespace label that marks
	// a namespace as sensitive.
	SensitiveNamespaceLabel string
	// Rules holds the configuration of every built-in rule, by rule name.
	Rules map[string]RuleConfig
	// Acknowledge lists the reviewed violation or delta hashes.
	Acknowledge []Ack
	// FailOn lists the severities whose unacknowledged violations fail the
	// check (the Action's fail-on input); Default sets it to [error]. It is
	// not read from the config file.
	FailOn []Severity
	// InventoryFile is the sub-processor inventory path named in fix hints.
	// It is not read from the config file.
	InventoryFile string
}

// RuleConfig configures one rule.
type RuleConfig struct {
	Severity Severity
	// AllowFrom lists source namespaces exempt from the rule; only
	// sensitive-ingress accepts it.
	AllowFrom []string
	// Line is the line of the rule in the config file, 0 for defaults.
	Line int
}

// Ack is one acknowledgement: a violation hash or a delta hash a reviewer
// accepted, with the reason.
type Ack struct {
	Hash, Reason string
	// Line is the line of the entry in the config file.
	Line int
}

// Default returns the configuration used when the repository has no config
// file: the built-in rules with the severities of DESIGN.md section 10
// (undeclared-egress, internet-egress and sensitive-ingress are errors;
// missing-default-deny and new-cross-namespace are warnings). The default
// sensitive-ingress allow-list is empty: the allowFrom namespaces shown in
// the design's example file are the example team's choice, and exempting
// namespaces nobody chose would hide paths into sensitive data.
func Default() *Config {
	c := &Config{
		SensitiveNamespaceLabel: DefaultSensitiveNamespaceLabel,
		Rules:                   make(map[string]RuleConfig, len(defaultSeverity)),
		FailOn:                  []Severity{Error},
		InventoryFile:           DefaultInventoryFile,
	}
	for name, sev := range defaultSeverity {
		c.Rules[name] = RuleConfig{Severity: sev}
	}
	return c
}

// splitLabel splits "key=value" at the first '='.
func splitLabel(s string) (key, value string, ok bool) {
	return strings.Cut(s, "=")
}
