package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const domainInventory = `apiVersion: reachdiff.dev/v1
kind: SubprocessorInventory
subprocessors:
  - name: Stripe
    purpose: Payment processing
    endpoints:
      - fqdn: api.stripe.com
        ports: [443/TCP]
  - name: Sentry
    purpose: Error tracking
    endpoints:
      - fqdn: "*.ingest.sentry.io"
        ports: [443/TCP]
`

func TestDomainOwners(t *testing.T) {
	inv := mustParse(t, domainInventory)
	tests := []struct {
		domain string
		want   []string
	}{
		{"api.stripe.com", []string{"Stripe"}},
		{"API.Stripe.com.", []string{"Stripe"}},
		{"files.stripe.com", nil},
		{"o1.ingest.sentry.io", []string{"Sentry"}},
		{"*.eu.ingest.sentry.io", []string{"Sentry"}},
		// The wildcard stands for at least one label: the bare suffix is
		// not covered, nor is a broader pattern.
		{"ingest.sentry.io", nil},
		{"*.sentry.io", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, o := range inv.DomainOwners(tt.domain) {
			got = append(got, o.Subprocessor)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("DomainOwners(%q) (-want +got):\n%s", tt.domain, d)
		}
	}
}

func TestClassifyWithDomains(t *testing.T) {
	inv := mustParse(t, domainInventory)
	c := inv.ClassifyWithDomains(nil, []DomainReach{
		{Workload: "shop/pay[Deployment]", Domain: "api.stripe.com", Conns: conns("TCP 443,8443")},
		// Reach on ports the vendor does not declare is not vendor reach.
		{Workload: "shop/web[Deployment]", Domain: "api.stripe.com", Conns: conns("TCP 80")},
		{Workload: "shop/web[Deployment]", Domain: "unknown.example", Conns: conns("TCP 443")},
	})
	got := map[string][]string{}
	for _, w := range c.Workloads {
		for _, v := range w.Vendors {
			got[w.Workload] = append(got[w.Workload], v.Subprocessor+" "+v.Conns.String())
		}
	}
	want := map[string][]string{"shop/pay[Deployment]": {"Stripe TCP 443"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ClassifyWithDomains vendors (-want +got):\n%s", d)
	}
}

func TestClassifyWithDomainsVerifiesNamedFQDNs(t *testing.T) {
	inv := mustParse(t, domainInventory)
	c := inv.ClassifyWithDomains(nil, []DomainReach{{Workload: "shop/pay[Deployment]", Domain: "api.stripe.com", Conns: conns("TCP 443")}})
	var got []string
	for _, u := range c.Unverifiable {
		got = append(got, u.FQDN)
	}
	// Policies name api.stripe.com, so its reach is known; Sentry's
	// pattern is named by none.
	if d := cmp.Diff([]string{"*.ingest.sentry.io"}, got); d != "" {
		t.Errorf("ClassifyWithDomains: unverifiable FQDNs (-want +got):\n%s", d)
	}
}
