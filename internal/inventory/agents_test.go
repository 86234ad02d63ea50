package inventory

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const agentsInventory = `apiVersion: reachdiff.dev/v1
kind: SubprocessorInventory
subprocessors:
  - name: Datadog
    purpose: Monitoring
    components:
      - image: "gcr.io/datadoghq/agent*"
        namespace: monitoring
      - image: "gcr.io/datadoghq/cluster-agent"
        namespace: monitoring
  - name: Vault
    purpose: Secrets
    components:
      - image: "hashicorp/vault"
  - name: Internal Billing
    purpose: Billing
    components:
      - image: "registry.example.com/billing/*"
  - name: Linkerd, Buoyant
    purpose: Service mesh
`

func TestAgents(t *testing.T) {
	inv := mustParse(t, agentsInventory)
	ws := []Workload{
		{Name: "monitoring/datadog[DaemonSet]", Namespace: "monitoring", Images: []string{"gcr.io/datadoghq/agent:7.52.0@sha256:abc", "gcr.io/datadoghq/agent:7.52.0@sha256:abc"}},
		{Name: "other/datadog[DaemonSet]", Namespace: "other", Images: []string{"datadog/agent:7"}},
		{Name: "shop/billing[Deployment]", Namespace: "shop", Images: []string{"registry.example.com/billing/api:1.2", "registry.k8s.io/ingress-nginx/controller:v1.10.0"}},
		{Name: "shop/web[Deployment]", Namespace: "shop", Images: []string{"nginx:1.25", "cr.l5d.io/linkerd/proxy:stable-2.14.10"}},
	}
	got := inv.Agents(ws, DefaultCatalogue())
	want := AgentReport{
		Declared: []AgentMatch{
			{Workload: "monitoring/datadog[DaemonSet]", Image: "gcr.io/datadoghq/agent:7.52.0@sha256:abc", Subprocessor: "Datadog",
				Pattern: "gcr.io/datadoghq/agent*", Line: 7, Vendor: "Datadog", Component: "Datadog Agent", Category: "monitoring"},
			// Outside the declared namespace, the catalogue hit is still covered by the entry's name.
			{Workload: "other/datadog[DaemonSet]", Image: "datadog/agent:7", Subprocessor: "Datadog", Line: 4,
				Vendor: "Datadog", Component: "Datadog Agent", Category: "monitoring"},
			{Workload: "shop/billing[Deployment]", Image: "registry.example.com/billing/api:1.2", Subprocessor: "Internal Billing",
				Pattern: "registry.example.com/billing/*", Line: 18},
			{Workload: "shop/web[Deployment]", Image: "cr.l5d.io/linkerd/proxy:stable-2.14.10", Subprocessor: "Linkerd, Buoyant", Line: 19,
				Vendor: "Linkerd", Component: "Linkerd proxy", Category: "mesh"},
		},
		Undeclared: []AgentMatch{
			{Workload: "shop/billing[Deployment]", Image: "registry.k8s.io/ingress-nginx/controller:v1.10.0",
				Vendor: "Kubernetes ingress-nginx", Component: "ingress-nginx controller", Category: "ingress"},
		},
		Stale: []StaleComponent{
			{Subprocessor: "Datadog", Image: "gcr.io/datadoghq/cluster-agent", Namespace: "monitoring", Line: 9},
			{Subprocessor: "Vault", Image: "hashicorp/vault", Line: 14},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Agents mismatch (-want +got):\n%s", diff)
	}
}

func TestAgentsWithoutInventory(t *testing.T) {
	var inv *Inventory
	got := inv.Agents([]Workload{{Name: "istio-system/istiod[Deployment]", Namespace: "istio-system", Images: []string{"docker.io/istio/pilot:1.21.0"}}}, DefaultCatalogue())
	want := AgentReport{Undeclared: []AgentMatch{{Workload: "istio-system/istiod[Deployment]", Image: "docker.io/istio/pilot:1.21.0",
		Vendor: "Istio", Component: "Istio control plane", Category: "mesh"}}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("nil.Agents mismatch (-want +got):\n%s", diff)
	}
	// No catalogue: nothing is undeclared, declared components still match.
	inv = mustParse(t, agentsInventory)
	got = inv.Agents([]Workload{{Name: "v/v[Deployment]", Namespace: "v", Images: []string{"hashicorp/vault:1.15"}}}, nil)
	if len(got.Undeclared) != 0 || len(got.Declared) != 1 || got.Declared[0].Subprocessor != "Vault" {
		t.Errorf("Agents(no catalogue) = %+v; want one declared Vault component", got)
	}
}

func TestByVendorName(t *testing.T) {
	inv := &Inventory{Subprocessors: []Subprocessor{{Name: "Datadog, Inc."}, {Name: "New-Relic EU"}, {Name: "Kongregate"}}}
	tests := []struct {
		vendor, want string
	}{
		{"Datadog", "Datadog, Inc."},
		{"New Relic", "New-Relic EU"},
		{"Kong", ""}, // a prefix of a word is no match
		{"Elastic", ""},
	}
	for _, tc := range tests {
		got := ""
		if sp := inv.byVendorName(tc.vendor); sp != nil {
			got = sp.Name
		}
		if got != tc.want {
			t.Errorf("byVendorName(%q) = %q; want %q", tc.vendor, got, tc.want)
		}
	}
}

// TestAgentsSharedImage checks that an image matched once for many
// workloads is still checked against each workload's namespace.
func TestAgentsSharedImage(t *testing.T) {
	inv := mustParse(t, agentsInventory)
	const image = "gcr.io/datadoghq/agent:7.52.0"
	ws := []Workload{
		{Name: "monitoring/a[DaemonSet]", Namespace: "monitoring", Images: []string{image}},
		{Name: "other/b[DaemonSet]", Namespace: "other", Images: []string{image}},
		{Name: "monitoring/c[DaemonSet]", Namespace: "monitoring", Images: []string{image}},
	}
	got := inv.Agents(ws, DefaultCatalogue())
	cat := AgentMatch{Vendor: "Datadog", Component: "Datadog Agent", Category: "monitoring"}
	byPattern := func(w string) AgentMatch {
		m := cat
		m.Workload, m.Image, m.Subprocessor, m.Pattern, m.Line = w, image, "Datadog", "gcr.io/datadoghq/agent*", 7
		return m
	}
	byName := cat
	byName.Workload, byName.Image, byName.Subprocessor, byName.Line = "other/b[DaemonSet]", image, "Datadog", 4
	want := []AgentMatch{byPattern("monitoring/a[DaemonSet]"), byPattern("monitoring/c[DaemonSet]"), byName}
	if diff := cmp.Diff(want, got.Declared, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Agents(%v).Declared mismatch (-want +got):\n%s", ws, diff)
	}
	if len(got.Undeclared) != 0 {
		t.Errorf("Agents(%v).Undeclared = %v; want none", ws, got.Undeclared)
	}
}
