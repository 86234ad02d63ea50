package model

import "testing"

func TestDomainPatternMatches(t *testing.T) {
	tests := []struct {
		syntax  DomainSyntax
		pattern string
		name    string
		want    bool
	}{
		// ClusterNetworkPolicy DomainName: "`kubernetes.io` matches only
		// `kubernetes.io`"; "`*.kubernetes.io` matches subdomains of
		// kubernetes.io. "www.kubernetes.io", "blog.kubernetes.io", and
		// "latest.blog.kubernetes.io" match, however "kubernetes.io", and
		// "wikipedia.org" do not."
		{SyntaxNPA, "kubernetes.io", "kubernetes.io", true},
		{SyntaxNPA, "kubernetes.io", "www.kubernetes.io", false},
		{SyntaxNPA, "kubernetes.io", "my-kubernetes.io", false},
		{SyntaxNPA, "*.kubernetes.io", "www.kubernetes.io", true},
		{SyntaxNPA, "*.kubernetes.io", "latest.blog.kubernetes.io", true},
		{SyntaxNPA, "*.kubernetes.io", "kubernetes.io", false},
		{SyntaxNPA, "*.kubernetes.io", "wikipedia.org", false},
		// Cilium FQDNSelector.matchPattern: "`*.cilium.io` matches
		// subomains of cilium at that level www.cilium.io and
		// blog.cilium.io match, cilium.io and google.com do not".
		{SyntaxCilium, "*.cilium.io", "www.cilium.io", true},
		{SyntaxCilium, "*.cilium.io", "a.b.cilium.io", false},
		{SyntaxCilium, "*.cilium.io", "cilium.io", false},
		{SyntaxCilium, "*cilium.io", "sub-cilium.io", true},
		{SyntaxCilium, "*cilium.io", "www.cilium.io", false},
		{SyntaxCilium, "sub*.cilium.io", "subdomain.cilium.io", true},
		{SyntaxCilium, "sub*.cilium.io", "www.cilium.io", false},
		{SyntaxCilium, "*", "anything.example", true},
		// "MatchName matches literal DNS names. A trailing "." is
		// automatically added when missing." Case does not matter in DNS.
		{SyntaxCilium, "api.stripe.com", "API.Stripe.com.", true},
	}
	for _, tt := range tests {
		p, err := ParseDomainPattern(tt.pattern, tt.syntax)
		if err != nil {
			t.Fatalf("ParseDomainPattern(%q) = %v", tt.pattern, err)
		}
		if got := p.Matches(tt.name); got != tt.want {
			t.Errorf("%q.Matches(%q) = %v; want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestDomainPatternCovers(t *testing.T) {
	npa := func(s string) DomainPattern { p, _ := ParseDomainPattern(s, SyntaxNPA); return p }
	cil := func(s string) DomainPattern { p, _ := ParseDomainPattern(s, SyntaxCilium); return p }
	tests := []struct {
		rule, endpoint DomainPattern
		want           bool
	}{
		{npa("*.example.com"), npa("api.example.com"), true},
		{npa("*.example.com"), npa("*.eu.example.com"), true},
		{npa("*.example.com"), cil("*.example.com"), true},
		{npa("*.eu.example.com"), npa("*.example.com"), false},
		{cil("*.example.com"), npa("*.example.com"), false}, // one label vs one or more
		{cil("*"), npa("*.example.com"), true},
		{npa("api.example.com"), npa("*.example.com"), false},
	}
	for _, tt := range tests {
		if got := tt.rule.Covers(tt.endpoint); got != tt.want {
			t.Errorf("%v.Covers(%v) = %v; want %v", tt.rule, tt.endpoint, got, tt.want)
		}
	}
}

func TestParseDomainPatternErrors(t *testing.T) {
	for _, tt := range []struct {
		text   string
		syntax DomainSyntax
	}{
		{"", SyntaxNPA}, {"a..b", SyntaxNPA}, {"a b.com", SyntaxCilium}, {"www.*.com", SyntaxNPA}, {".a.com", SyntaxCilium},
	} {
		if _, err := ParseDomainPattern(tt.text, tt.syntax); err == nil {
			t.Errorf("ParseDomainPattern(%q) = nil error; want one", tt.text)
		}
	}
}
