package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDiff(t *testing.T) {
	base := mustParse(t, `apiVersion: reachdiff.dev/v1
kind: SubprocessorInventory
subprocessors:
  - name: Stripe
    purpose: Payment processing
    dataCategories: [payment-card, contact]
    location: US
    dpa: https://stripe.com/legal/dpa
    endpoints:
      - cidr: 203.0.113.0/24
        ports: [443/TCP]
  - name: Datadog
    purpose: Monitoring
    components:
      - image: gcr.io/datadoghq/agent*
  - name: OldCo
    purpose: Legacy email
    location: US
`)
	head := mustParse(t, `apiVersion: reachdiff.dev/v1
kind: SubprocessorInventory
subprocessors:
  - name: stripe
    purpose: Payment and billing processing
    dataCategories: [payment-card, contact, address]
    location: US
    dpa: https://stripe.com/legal/dpa
    endpoints:
      - cidr: 203.0.113.0/24
        ports: [443/TCP, 8443/TCP]
  - name: Datadog
    purpose: Monitoring
    location: EU
    components:
      - image: gcr.io/datadoghq/agent*
        namespace: monitoring
  - name: PayCo
    purpose: Payouts
    location: DE
    dataCategories: [bank-account]
`)
	got := Diff(base, head)
	want := []FieldChange{
		{Subprocessor: "Datadog", Change: Changed, Field: "location", After: "EU", Diff: "{+EU+}", Line: 12},
		{Subprocessor: "Datadog", Change: Changed, Field: "components", Added: []string{"gcr.io/datadoghq/agent* in monitoring"},
			Removed: []string{"gcr.io/datadoghq/agent*"}, Line: 16},
		{Subprocessor: "OldCo", Change: Removed, Before: "Legacy email; US", Line: 16},
		{Subprocessor: "PayCo", Change: Added, After: "Payouts; DE; bank-account", Line: 18},
		{Subprocessor: "stripe", Change: Changed, Field: "name", Before: "Stripe", After: "stripe", Diff: "[-Stripe-]{+stripe+}", Line: 4},
		{Subprocessor: "stripe", Change: Changed, Field: "purpose", Before: "Payment processing", After: "Payment and billing processing",
			Diff: "Payment {+and billing +}processing", Line: 4},
		{Subprocessor: "stripe", Change: Changed, Field: "dataCategories", Added: []string{"address"}, Line: 4},
		{Subprocessor: "stripe", Change: Changed, Field: "endpoints", Added: []string{"203.0.113.0/24 TCP 443,8443"},
			Removed: []string{"203.0.113.0/24 TCP 443"}, Line: 10},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Diff(base, head) mismatch (-want +got):\n%s", diff)
	}
	if d := Diff(head, head); len(d) != 0 {
		t.Errorf("Diff(head, head) = %v; want none", d)
	}
}

func TestDiffAbsent(t *testing.T) {
	inv := mustParse(t, header+"  - name: A\n    purpose: p\n")
	if got, want := Diff(nil, inv), []FieldChange{{Subprocessor: "A", Change: Added, After: "p", Line: 4}}; !cmp.Equal(got, want) {
		t.Errorf("Diff(nil, inv) = %v; want %v", got, want)
	}
	if got, want := Diff(inv, nil), []FieldChange{{Subprocessor: "A", Change: Removed, Before: "p", Line: 4}}; !cmp.Equal(got, want) {
		t.Errorf("Diff(inv, nil) = %v; want %v", got, want)
	}
	if got := Diff(nil, nil); len(got) != 0 {
		t.Errorf("Diff(nil, nil) = %v; want none", got)
	}
}

func TestWordDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"Payment processing", "Payment processing", "Payment processing"},
		{"Payment processing", "Card payment processing", "[-Payment-]{+Card payment+} processing"},
		{"EU (Frankfurt)", "US (Virginia)", "[-EU-]{+US+} [-(Frankfurt)-]{+(Virginia)+}"},
		{"", "new", "{+new+}"},
		{"old", "", "[-old-]"},
		{"ünïcode wörds", "ünïcode wörter", "ünïcode [-wörds-]{+wörter+}"},
	}
	for _, tc := range tests {
		if got := wordDiff(tc.a, tc.b); got != tc.want {
			t.Errorf("wordDiff(%q, %q) = %q; want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
