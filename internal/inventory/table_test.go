package inventory

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s mismatch (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func disclosureFixture(t *testing.T) Table {
	t.Helper()
	data, err := os.ReadFile("testdata/subprocessors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv, ds := Parse("subprocessors.yaml", data)
	if inv == nil {
		t.Fatalf("Parse: %v", ds)
	}
	c := inv.Classify([]ExternalReach{
		{"shop/checkout[Deployment]", rng("203.0.113.0/24"), tcp443},
		{"shop/payouts[Deployment]", rng("198.51.100.0/25"), conns("TCP 443,8443")},
		{"shop/payouts[Deployment]", rng("2001:db8:1::/48"), conns("TCP 443")},
		{"shop/legacy[Deployment]", rng("0.0.0.0/0"), connset.All()},
		{"shop/reports[CronJob]", rng("192.0.2.0/24"), conns("TCP 21")},
	})
	a := inv.Agents([]Workload{
		{Name: "monitoring/datadog-agent[DaemonSet]", Namespace: "monitoring", Images: []string{"gcr.io/datadoghq/agent:7.52.0"}},
		{Name: "ingress-nginx/ingress-nginx-controller[Deployment]", Namespace: "ingress-nginx",
			Images: []string{"registry.k8s.io/ingress-nginx/controller:v1.10.0@sha256:42b3f0e5d0846876b1791cd3afeb5f1cbbe4259d6f35651dcc1b5c980925379c"}},
	}, DefaultCatalogue())
	return Disclosure(inv, c, a)
}

func TestDisclosureMarkdown(t *testing.T) {
	golden(t, "disclosure.md", []byte(disclosureFixture(t).Markdown()))
}

func TestDisclosureJSON(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(disclosureFixture(t)); err != nil {
		t.Fatalf("json.Encode(table) error: %v", err)
	}
	golden(t, "disclosure.json", buf.Bytes())
}

func TestDisclosureEmpty(t *testing.T) {
	got := Disclosure(nil, Classification{}, AgentReport{}).Markdown()
	want := "### Sub-processors\n\nNo sub-processor is declared.\n\n### Undeclared\n\nNo undeclared external reach and no undeclared vendor component.\n"
	if got != want {
		t.Errorf("Disclosure(nil).Markdown() = %q; want %q", got, want)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	inv := &Inventory{Subprocessors: []Subprocessor{{Name: "A|B", Purpose: "line\nbreak <script>", DPA: "https://x.example/dpa"}}}
	got := Disclosure(inv, Classification{}, AgentReport{}).Markdown()
	if !strings.Contains(got, `| A\|B | line break &lt;script&gt; | — | — | https://x.example/dpa | — | — |`) {
		t.Errorf("Markdown() = %q; want the cell text escaped", got)
	}
}

func TestMarkdownCapsLongCells(t *testing.T) {
	inv := &Inventory{Subprocessors: []Subprocessor{{Name: "S", Purpose: "p", Endpoints: []Endpoint{{CIDR: rngPrefix("192.0.2.0/24"), Ports: connset.All()}}}}}
	var reach []ExternalReach
	for _, w := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		reach = append(reach, ExternalReach{"ns/" + w + "[Deployment]", rng("192.0.2.0/24"), tcp443})
	}
	table := Disclosure(inv, inv.Classify(reach), AgentReport{})
	if n := len(table.Rows[0].ReachedBy); n != 12 {
		t.Errorf("ReachedBy has %d workloads; want 12", n)
	}
	if md := table.Markdown(); !strings.Contains(md, "<br>and 2 more |") || strings.Contains(md, "ns/k[") {
		t.Errorf("Markdown() = %q; want 10 workloads then \"and 2 more\"", md)
	}
}

func TestDisclosureFQDNViaAnyExternal(t *testing.T) {
	inv := mustParse(t, matchInventory) // Mailer declares only smtp.mailer.example on TCP 587
	c := inv.Classify([]ExternalReach{
		{"ns/open[Deployment]", rng("0.0.0.0/0"), connset.All()},
		{"ns/web[Deployment]", rng("0.0.0.0/0"), tcp443}, // any external host, but not on Mailer's port
	})
	table := Disclosure(inv, c, AgentReport{})
	var mailer Row
	for _, r := range table.Rows {
		if r.Vendor == "Mailer" {
			mailer = r
		}
	}
	want := []ReachRow{{Workload: "ns/open[Deployment]", Conns: "TCP 587", Via: ViaAnyExternal}}
	if diff := cmp.Diff(want, mailer.ReachedBy); diff != "" {
		t.Errorf("Disclosure Mailer.ReachedBy (-want +got):\n%s", diff)
	}
	if md := table.Markdown(); !strings.Contains(md, "`ns/open[Deployment]` (TCP 587, via any external host)") {
		t.Errorf("Markdown() = %q; want Mailer reached via any external host", md)
	}
}
