package inventory

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

const matchInventory = `apiVersion: reachdiff.dev/v1
kind: SubprocessorInventory
subprocessors:
  - name: Stripe
    purpose: Payment processing
    endpoints:
      - cidr: 203.0.113.0/24
        ports: [443/TCP]
  - name: Acquirer
    purpose: Card acquiring
    endpoints:
      - cidr: 203.0.113.128/25
        ports: [443/TCP]
  - name: PayCo
    purpose: Payouts
    endpoints:
      - cidr: 198.51.100.0/25
        ports: [443/TCP, 53/UDP]
      - cidr: 2001:db8:1::/48
  - name: Mailer
    purpose: Email
    endpoints:
      - fqdn: smtp.mailer.example
        ports: [587/TCP]
`

func mustParse(t *testing.T, yaml string) *Inventory {
	t.Helper()
	inv, ds := Parse("inv.yaml", []byte(yaml))
	if inv == nil {
		t.Fatalf("Parse: %v", ds)
	}
	return inv
}

func rng(s string) ipset.Range { return ipset.RangeOf(netip.MustParsePrefix(s)) }

func span(first, last string) ipset.Range {
	return ipset.Range{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
}

func conns(s string) connset.Set {
	c, err := connset.Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

var tcp443 = connset.Ports(connset.TCP, 443, 443)

var classifyOpts = cmp.Options{setEqual, cmpopts.IgnoreUnexported(WorkloadReach{}), cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

func TestClassify(t *testing.T) {
	inv := mustParse(t, matchInventory)
	none := connset.None()
	tests := []struct {
		name  string
		reach []ExternalReach
		want  WorkloadReach
	}{
		{"containment and overlapping vendors", []ExternalReach{{"w", rng("203.0.113.0/24"), tcp443}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none, Vendors: []VendorReach{
				{"Acquirer", tcp443, []ipset.Range{rng("203.0.113.128/25")}, false},
				{"Stripe", tcp443, []ipset.Range{rng("203.0.113.0/24")}, false},
			}}},
		{"inside a vendor range", []ExternalReach{{"w", rng("203.0.113.7/32"), tcp443}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none, Vendors: []VendorReach{
				{"Stripe", tcp443, []ipset.Range{rng("203.0.113.7/32")}, false},
			}}},
		{"ports outside the declared ones", []ExternalReach{{"w", rng("203.0.113.0/26"), conns("TCP 443,8443")}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none,
				Vendors:    []VendorReach{{"Stripe", tcp443, []ipset.Range{rng("203.0.113.0/26")}, false}},
				Undeclared: []UndeclaredReach{{rng("203.0.113.0/26"), conns("TCP 8443"), []string{"Stripe"}}}}},
		{"IPv6", []ExternalReach{{"w", rng("2001:db8:1:5::/64"), conns("UDP 53")}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none, Vendors: []VendorReach{
				{"PayCo", conns("UDP 53"), []ipset.Range{rng("2001:db8:1:5::/64")}, false},
			}}},
		{"no owner", []ExternalReach{{"w", rng("192.0.2.0/24"), conns("TCP 80")}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none,
				Undeclared: []UndeclaredReach{{rng("192.0.2.0/24"), conns("TCP 80"), nil}}}},
		{"straddles a vendor range", []ExternalReach{{"w", rng("198.51.100.0/24"), tcp443}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none,
				Vendors:    []VendorReach{{"PayCo", tcp443, []ipset.Range{rng("198.51.100.0/25")}, false}},
				Undeclared: []UndeclaredReach{{rng("198.51.100.128/25"), tcp443, nil}}}},
		{"internet-wide egress", []ExternalReach{{"w", rng("0.0.0.0/0"), tcp443}},
			WorkloadReach{Workload: "w", AnyIPv4: tcp443, AnyIPv6: none, Vendors: []VendorReach{
				{"Acquirer", tcp443, []ipset.Range{rng("203.0.113.128/25")}, false},
				{"PayCo", tcp443, []ipset.Range{rng("198.51.100.0/25")}, false},
				{"Stripe", tcp443, []ipset.Range{rng("203.0.113.0/24")}, false},
			}}},
		{"internet-wide on all ports, both families", []ExternalReach{
			{"w", rng("0.0.0.0/1"), connset.All()}, {"w", rng("128.0.0.0/1"), connset.All()}, {"w", rng("::/0"), connset.All()}},
			WorkloadReach{Workload: "w", AnyIPv4: connset.All(), AnyIPv6: connset.All(), Vendors: []VendorReach{
				{"Acquirer", tcp443, []ipset.Range{rng("203.0.113.128/25")}, false},
				{"Mailer", conns("TCP 587"), nil, true},                                                        // FQDN only: reached by internet-wide egress
				{"PayCo", connset.All(), []ipset.Range{rng("198.51.100.0/25"), rng("2001:db8:1::/48")}, false}, // the IPv6 endpoint declares every port
				{"Stripe", tcp443, []ipset.Range{rng("203.0.113.0/24")}, false},
			}, Undeclared: []UndeclaredReach{
				{rng("198.51.100.0/25"), connset.All().Subtract(conns("TCP 443,UDP 53")), []string{"PayCo"}},
				{rng("203.0.113.0/25"), connset.All().Subtract(tcp443), []string{"Stripe"}},
				{rng("203.0.113.128/25"), connset.All().Subtract(tcp443), []string{"Acquirer", "Stripe"}},
			}}},
		{"internet minus a hole is not any external host", []ExternalReach{
			{"w", span("0.0.0.0", "192.0.2.255"), tcp443}, {"w", span("192.0.3.1", "255.255.255.255"), tcp443}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none, Vendors: []VendorReach{
				{"Acquirer", tcp443, []ipset.Range{rng("203.0.113.128/25")}, false},
				{"PayCo", tcp443, []ipset.Range{rng("198.51.100.0/25")}, false},
				{"Stripe", tcp443, []ipset.Range{rng("203.0.113.0/24")}, false},
			}, Undeclared: []UndeclaredReach{
				{span("0.0.0.0", "192.0.2.255"), tcp443, nil},
				{span("192.0.3.1", "198.51.99.255"), tcp443, nil},
				{span("198.51.100.128", "203.0.112.255"), tcp443, nil},
				{span("203.0.114.0", "255.255.255.255"), tcp443, nil},
			}}},
		{"overlapping input ranges add up", []ExternalReach{
			{"w", rng("192.0.2.0/24"), conns("TCP 80")}, {"w", rng("192.0.2.0/25"), conns("TCP 81")}},
			WorkloadReach{Workload: "w", AnyIPv4: none, AnyIPv6: none, Undeclared: []UndeclaredReach{
				{rng("192.0.2.0/25"), conns("TCP 80-81"), nil},
				{rng("192.0.2.128/25"), conns("TCP 80"), nil},
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := inv.Classify(tc.reach)
			if len(got.Workloads) != 1 {
				t.Fatalf("Classify(%v) = %d workloads; want 1", tc.reach, len(got.Workloads))
			}
			if diff := cmp.Diff(tc.want, got.Workloads[0], classifyOpts); diff != "" {
				t.Errorf("Classify(%v) mismatch (-want +got):\n%s", tc.reach, diff)
			}
		})
	}
}

func TestClassifyWorkloadsAndUnverifiable(t *testing.T) {
	inv := mustParse(t, matchInventory)
	got := inv.Classify([]ExternalReach{
		{"z", rng("192.0.2.0/24"), tcp443},
		{"a", rng("192.0.2.0/24"), connset.None()}, // nothing allowed: not listed
		{"b", rng("203.0.113.0/24"), tcp443},
	})
	var names []string
	for _, w := range got.Workloads {
		names = append(names, w.Workload)
	}
	if diff := cmp.Diff([]string{"b", "z"}, names); diff != "" {
		t.Errorf("Classify workloads (-want +got):\n%s", diff)
	}
	want := []Unverifiable{{Subprocessor: "Mailer", FQDN: "smtp.mailer.example", Ports: "TCP 587", Line: 23}}
	if diff := cmp.Diff(want, got.Unverifiable); diff != "" {
		t.Errorf("Classify unverifiable (-want +got):\n%s", diff)
	}
	// Without an inventory everything is undeclared.
	var nilInv *Inventory
	g := nilInv.Classify([]ExternalReach{{"w", rng("0.0.0.0/0"), tcp443}})
	if len(g.Workloads) != 1 || !g.Workloads[0].AnyIPv4.Equal(tcp443) || len(g.Workloads[0].Undeclared) != 0 {
		t.Errorf("nil.Classify(0.0.0.0/0) = %+v; want any external host on TCP 443", g)
	}
}

func TestOwnersAndBoundaries(t *testing.T) {
	inv := mustParse(t, matchInventory)
	wantB := []ipset.Range{rng("198.51.100.0/25"), rng("203.0.113.0/24"), rng("203.0.113.128/25"), rng("2001:db8:1::/48")}
	if diff := cmp.Diff(wantB, inv.Boundaries(), classifyOpts); diff != "" {
		t.Errorf("Boundaries() (-want +got):\n%s", diff)
	}
	tests := []struct {
		r    ipset.Range
		want []Ownership
	}{
		{rng("203.0.113.200/32"), []Ownership{{"Acquirer", tcp443}, {"Stripe", tcp443}}},
		{rng("203.0.113.0/25"), []Ownership{{"Stripe", tcp443}}},
		{rng("203.0.112.0/23"), nil}, // wider than any endpoint
		{rng("2001:db8:1:2::1/128"), []Ownership{{"PayCo", connset.All()}}},
		{rng("192.0.2.1/32"), nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, inv.Owners(tc.r), classifyOpts); diff != "" {
			t.Errorf("Owners(%v) (-want +got):\n%s", tc.r, diff)
		}
	}
}

func TestDiffReach(t *testing.T) {
	inv := mustParse(t, matchInventory)
	base := inv.Classify([]ExternalReach{
		{"a", rng("203.0.113.0/25"), tcp443},
		{"b", rng("0.0.0.0/0"), tcp443},
		{"c", rng("192.0.2.0/24"), conns("TCP 80")},
	})
	head := inv.Classify([]ExternalReach{
		{"b", rng("0.0.0.0/0"), conns("TCP 443,UDP 53")},
		{"c", rng("192.0.2.0/24"), conns("TCP 80,443")},
		{"d", rng("203.0.113.0/24"), tcp443},
	})
	got := DiffReach(base, head)
	none := connset.None()
	want := ReachDiff{
		Vendors: []VendorDelta{
			{"a", "Stripe", NoLongerReachable, tcp443, none},
			{"b", "PayCo", PortsChanged, tcp443, conns("TCP 443,UDP 53")},
			{"d", "Acquirer", NewlyReachable, none, tcp443},
			{"d", "Stripe", NewlyReachable, none, tcp443},
		},
		Undeclared: []UndeclaredDelta{
			{Workload: "b", Any: "IPv4", Range: rng("0.0.0.0/0"), Conns: conns("UDP 53")},
			{Workload: "b", Range: rng("203.0.113.0/25"), Conns: conns("UDP 53"), Vendors: []string{"Stripe"}},
			{Workload: "b", Range: rng("203.0.113.128/25"), Conns: conns("UDP 53"), Vendors: []string{"Acquirer", "Stripe"}},
			{Workload: "c", Range: rng("192.0.2.0/24"), Conns: tcp443},
		},
	}
	if diff := cmp.Diff(want, got, classifyOpts); diff != "" {
		t.Errorf("DiffReach (-want +got):\n%s", diff)
	}
	if d := DiffReach(head, head); len(d.Vendors)+len(d.Undeclared) != 0 {
		t.Errorf("DiffReach(head, head) = %+v; want no change", d)
	}
}

func TestDiffReachInventoryChange(t *testing.T) {
	// The same reach; head's inventory drops Stripe: its range becomes undeclared.
	base := mustParse(t, matchInventory)
	head := mustParse(t, "apiVersion: reachdiff.dev/v1\nkind: SubprocessorInventory\nsubprocessors: []\n")
	reach := []ExternalReach{{"a", rng("203.0.113.0/25"), tcp443}}
	got := DiffReach(base.Classify(reach), head.Classify(reach))
	want := ReachDiff{
		Vendors:    []VendorDelta{{"a", "Stripe", NoLongerReachable, tcp443, connset.None()}},
		Undeclared: []UndeclaredDelta{{Workload: "a", Range: rng("203.0.113.0/25"), Conns: tcp443}},
	}
	if diff := cmp.Diff(want, got, classifyOpts); diff != "" {
		t.Errorf("DiffReach(inventory dropped Stripe) (-want +got):\n%s", diff)
	}
}

func rngPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
