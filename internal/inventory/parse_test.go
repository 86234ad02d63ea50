package inventory

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
)

var setEqual = cmp.Comparer(func(a, b connset.Set) bool { return a.Equal(b) })

const header = "apiVersion: reachdiff.dev/v1\nkind: SubprocessorInventory\nsubprocessors:\n"

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("testdata/subprocessors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, ds := Parse("subprocessors.yaml", data)
	if len(ds) != 0 {
		t.Fatalf("Parse(testdata/subprocessors.yaml) diagnostics = %v; want none", ds)
	}
	want := &Inventory{File: "subprocessors.yaml", Subprocessors: []Subprocessor{
		{Name: "Stripe", Purpose: "Payment processing", DataCategories: []string{"payment-card", "contact"},
			Location: "US", DPA: "https://stripe.com/legal/dpa", Line: 4,
			Endpoints: []Endpoint{
				{CIDR: netip.MustParsePrefix("203.0.113.0/24"), Ports: connset.Ports(connset.TCP, 443, 443), Line: 10},
				{FQDN: "api.stripe.com", Ports: connset.All(), Line: 12},
			}},
		{Name: "Datadog", Purpose: "Monitoring", DataCategories: []string{"telemetry"}, Location: "EU", Line: 13,
			Components: []ComponentPattern{{Image: "gcr.io/datadoghq/agent*", Namespace: "monitoring", Line: 18}}},
		{Name: "PayCo", Purpose: "Payouts", Location: "DE", Line: 20,
			Endpoints: []Endpoint{
				{CIDR: netip.MustParsePrefix("198.51.100.0/25"), Ports: connset.Ports(connset.TCP, 443, 443).Union(connset.Ports(connset.TCP, 8443, 8444)).Union(connset.Ports(connset.UDP, 53, 53)), Line: 24},
				{CIDR: netip.MustParsePrefix("2001:db8:1::/48"), Ports: connset.All(), Line: 26},
			}},
	}}
	if diff := cmp.Diff(want, inv, setEqual, cmpopts.EquateComparable(netip.Prefix{})); diff != "" {
		t.Errorf("Parse(testdata/subprocessors.yaml) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseDiagnostics(t *testing.T) {
	type d struct {
		Severity diag.Severity
		Line     int
		Contains string
	}
	tests := []struct {
		name string
		yaml string
		want []d
	}{
		{"unknown top field", header + "  - name: A\n    purpose: p\ncolour: red\n",
			[]d{{diag.Error, 6, `unknown field "colour"`}}},
		{"unknown entry field", header + "  - name: A\n    purpose: p\n    website: x\n",
			[]d{{diag.Error, 6, `unknown field "website"`}}},
		{"unknown endpoint field", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        port: 443\n",
			[]d{{diag.Error, 8, `unknown field "port"`}}},
		{"bad cidr", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.300/8\n",
			[]d{{diag.Error, 7, "invalid cidr"}}},
		{"cidr without mask", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: banana\n",
			[]d{{diag.Error, 7, "invalid cidr"}}},
		{"host bits", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.1.2.3/8\n",
			[]d{{diag.Warning, 7, "host bits"}}},
		{"bad protocol", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        ports: [443/XYZ]\n",
			[]d{{diag.Error, 8, `invalid port "443/XYZ"`}}},
		{"port too big", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        ports:\n          - 443/TCP\n          - 70000/TCP\n",
			[]d{{diag.Error, 10, "outside 1-65535"}}},
		{"port zero", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        ports: [0/TCP]\n",
			[]d{{diag.Error, 8, "outside 1-65535"}}},
		{"reversed range", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        ports: [9000-8000/TCP]\n",
			[]d{{diag.Error, 8, "ends before it starts"}}},
		{"empty ports", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        ports: []\n",
			[]d{{diag.Error, 8, "ports is empty"}}},
		{"duplicate names", header + "  - name: Stripe\n    purpose: p\n  - name: stripe\n    purpose: q\n",
			[]d{{diag.Error, 6, `duplicate subprocessor name "stripe" (first at line 4)`}}},
		{"missing name", header + "  - purpose: p\n    location: EU\n",
			[]d{{diag.Error, 4, "without a name"}}},
		{"missing purpose", header + "  - name: A\n    location: EU\n",
			[]d{{diag.Error, 4, `"A" has no purpose`}}},
		{"overlapping vendors", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n  - name: B\n    purpose: p\n    endpoints:\n      - cidr: 10.1.0.0/16\n",
			[]d{{diag.Warning, 11, `endpoint 10.1.0.0/16 of "B" overlaps endpoint 10.0.0.0/8 of "A" (line 7)`}}},
		{"same fqdn twice", header + "  - name: A\n    purpose: p\n    endpoints:\n      - fqdn: api.example.com\n  - name: B\n    purpose: p\n    endpoints:\n      - fqdn: API.example.com.\n",
			[]d{{diag.Warning, 11, "also declared by"}}},
		{"cidr and fqdn", header + "  - name: A\n    purpose: p\n    endpoints:\n      - cidr: 10.0.0.0/8\n        fqdn: a.example.com\n",
			[]d{{diag.Error, 7, "not both"}}},
		{"endpoint without destination", header + "  - name: A\n    purpose: p\n    endpoints:\n      - ports: [443/TCP]\n",
			[]d{{diag.Error, 7, "needs a cidr or an fqdn"}}},
		{"bad fqdn", header + "  - name: A\n    purpose: p\n    endpoints:\n      - fqdn: \"bad name.com\"\n",
			[]d{{diag.Error, 7, "invalid fqdn"}}},
		{"component without image", header + "  - name: A\n    purpose: p\n    components:\n      - namespace: x\n",
			[]d{{diag.Error, 7, "needs an image"}}},
		{"wrong apiVersion", "apiVersion: v2\nkind: SubprocessorInventory\nsubprocessors: []\n",
			[]d{{diag.Error, 1, "not supported"}}},
		{"wrong kind", "apiVersion: reachdiff.dev/v1\nkind: GateConfig\nsubprocessors: []\n",
			[]d{{diag.Error, 2, `kind "GateConfig"`}}},
		{"missing kind", "apiVersion: reachdiff.dev/v1\nsubprocessors: []\n",
			[]d{{diag.Error, 1, "missing kind"}}},
		{"repeated key", header + "  - name: A\n    purpose: p\n    purpose: q\n",
			[]d{{diag.Error, 6, `field "purpose" repeated (first at line 5)`}}},
		{"name is a list", header + "  - name: [a]\n    purpose: p\n",
			[]d{{diag.Error, 4, "name must be a string"}, {diag.Error, 4, "without a name"}}},
		{"syntax error", header + "  - name: A\n    purpose: p\n      x: 1\n",
			[]d{{diag.Error, 6, "invalid YAML: mapping values are not allowed"}}},
		{"alias", header + "  - &a\n    name: A\n    purpose: p\n  - *a\n",
			[]d{{diag.Error, 7, "aliases"}}},
		{"not a mapping", "- 1\n- 2\n", []d{{diag.Error, 1, "must be a mapping"}}},
		{"empty", "", []d{{diag.Error, 0, "empty inventory"}}},
		{"no list", "apiVersion: reachdiff.dev/v1\nkind: SubprocessorInventory\n", []d{{diag.Warning, 1, "no subprocessors"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := Parse("inv.yaml", []byte(tc.yaml))
			var got []d
			for _, x := range ds {
				if x.File != "inv.yaml" {
					t.Errorf("diagnostic %v names file %q; want inv.yaml", x, x.File)
				}
				got = append(got, d{x.Severity, x.Line, x.Message})
			}
			ok := len(got) == len(tc.want)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i].Severity == tc.want[i].Severity && got[i].Line == tc.want[i].Line &&
					strings.Contains(got[i].Contains, tc.want[i].Contains)
			}
			if !ok {
				t.Errorf("Parse(%q) = %v; want %v", tc.yaml, ds, tc.want)
			}
		})
	}
}

func TestParseUnusable(t *testing.T) {
	inv, ds := Parse("inv.yaml", []byte(header+"  - name: A\n    purpose: p\n    endpoints: [{cidr: nope}]\n"))
	if inv != nil || !diag.HasErrors(ds) {
		t.Errorf("Parse(bad cidr) = %v, %v; want nil and an error", inv, ds)
	}
	inv, ds = Parse("inv.yaml", []byte(header+"  - name: A\n    purpose: p\n    endpoints: [{cidr: 10.1.0.0/8}]\n"))
	if inv == nil || diag.HasErrors(ds) {
		t.Errorf("Parse(host bits) = %v, %v; want an inventory and only a warning", inv, ds)
	}
	if got := inv.Subprocessors[0].Endpoints[0].CIDR; got != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("Parse(host bits) CIDR = %v; want 10.0.0.0/8", got)
	}
}

func TestPortSpec(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"443/TCP", "TCP 443"},
		{"443", "TCP 443"},
		{"53/udp", "UDP 53"},
		{"8000-8080/TCP", "TCP 8000-8080"},
		{" 9000 / SCTP ", "SCTP 9000"},
	}
	for _, tc := range tests {
		got, err := parsePortSpec(tc.in)
		if err != nil || got.String() != tc.want {
			t.Errorf("parsePortSpec(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"443/XYZ", "70000/TCP", "0", "-1/TCP", "http", "1-/TCP", "/TCP", "443/"} {
		if got, err := parsePortSpec(bad); err == nil {
			t.Errorf("parsePortSpec(%q) = %v; want an error", bad, got)
		}
	}
}
