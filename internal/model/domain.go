package model

import (
	"fmt"
	"strings"
)

// DomainSyntax says whose wildcard rules a DomainPattern follows.
type DomainSyntax uint8

// The two syntaxes of DNS-name peers.
const (
	// SyntaxNPA is ClusterNetworkPolicy domainNames: "'*', the wildcard
	// specifier, matches one or more entire labels. It does not support
	// partial matches. '*' may only be specified as a prefix."
	SyntaxNPA DomainSyntax = iota
	// SyntaxCilium is Cilium toFQDNs: matchName is literal; in matchPattern
	// "'*' matches 0 or more DNS valid characters, and may occur anywhere
	// in the pattern" (not a dot: see ciliumMatch).
	SyntaxCilium
)

// DomainPattern is a DNS name, or a pattern of names, that a policy lets
// workloads reach. Its addresses are unknown to reachdiff: it is an
// external endpoint of its own, printed "name[FQDN]".
type DomainPattern struct {
	// Text is the name or pattern, lower case, without a trailing dot.
	Text   string
	Syntax DomainSyntax
}

// ParseDomainPattern normalises a name or pattern (lower case, no trailing
// dot) and checks its characters.
func ParseDomainPattern(text string, syntax DomainSyntax) (DomainPattern, error) {
	t := strings.TrimSuffix(strings.ToLower(text), ".")
	if t == "" {
		return DomainPattern{}, fmt.Errorf("empty domain name")
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*' {
			continue
		}
		return DomainPattern{}, fmt.Errorf("domain %q: character %q is not allowed in a DNS name", text, c)
	}
	if strings.Contains(t, "..") || strings.HasPrefix(t, ".") {
		return DomainPattern{}, fmt.Errorf("domain %q: empty label", text)
	}
	if syntax == SyntaxNPA && strings.Contains(strings.TrimPrefix(t, "*."), "*") {
		return DomainPattern{}, fmt.Errorf("domain %q: '*' may only be specified as a prefix (\"*.example.com\")", text)
	}
	return DomainPattern{Text: t, Syntax: syntax}, nil
}

// IsName reports whether the pattern names exactly one domain.
func (d DomainPattern) IsName() bool { return !strings.Contains(d.Text, "*") }

// String prints the pattern as written in policies (normalised).
func (d DomainPattern) String() string { return d.Text }

// Matches reports whether the DNS name (lower case, no trailing dot)
// matches the pattern.
func (d DomainPattern) Matches(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if d.IsName() {
		return d.Text == name
	}
	if d.Syntax == SyntaxNPA {
		// "*.kubernetes.io" matches "www.kubernetes.io" and
		// "latest.blog.kubernetes.io", not "kubernetes.io".
		suffix := d.Text[1:] // ".kubernetes.io"
		return len(name) > len(suffix) && strings.HasSuffix(name, suffix)
	}
	return ciliumMatch(d.Text, name)
}

// ciliumMatch applies a Cilium matchPattern as Cilium's matcher compiles
// it (pkg/fqdn/matchpattern): "*" alone matches every name; elsewhere "*"
// becomes "[-a-zA-Z0-9_]*", so it never crosses a dot. The examples of
// FQDNSelector.matchPattern agree: "`*cilium.io` matches cilium.io and all
// subdomains ends with "cilium.io" except those containing "." separator".
func ciliumMatch(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	return labelGlob(pattern, name)
}

// labelGlob matches pattern against name where "*" matches any run of
// characters other than ".".
func labelGlob(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	if pattern[0] == '*' {
		for i := 0; i <= len(name); i++ {
			if labelGlob(pattern[1:], name[i:]) {
				return true
			}
			if i < len(name) && name[i] == '.' {
				break
			}
		}
		return false
	}
	return name != "" && pattern[0] == name[0] && labelGlob(pattern[1:], name[1:])
}

// Covers reports whether every name that other matches, d matches too:
// the test a rule's pattern passes to decide a domain endpoint that is
// itself a pattern. It is exact for names and conservative for patterns
// (equal patterns, "*", or an NPA "*.suffix" around a deeper pattern).
func (d DomainPattern) Covers(other DomainPattern) bool {
	if other.IsName() {
		return d.Matches(other.Text)
	}
	if d.Text == other.Text && d.Syntax == other.Syntax {
		return true
	}
	if d.Syntax == SyntaxCilium && d.Text == "*" {
		return true
	}
	if d.Syntax == SyntaxNPA && !d.IsName() {
		// Every name other matches ends with other's literal suffix after
		// its last "*"; if that suffix is below d's, d matches them all.
		last := strings.LastIndexByte(other.Text, '*')
		lit := other.Text[last+1:]
		suffix := d.Text[1:]
		return strings.HasPrefix(lit, ".") && strings.HasSuffix(lit, suffix) && len(lit) >= len(suffix)
	}
	return false
}
