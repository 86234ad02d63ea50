package inventory

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCatalogue validates the embedded catalogue: it parses, every vendor the
// issue names is there, and every entry's examples match that entry and no
// other.
func TestCatalogue(t *testing.T) {
	cat, err := ParseCatalogue(catalogueYAML)
	if err != nil {
		t.Fatalf("ParseCatalogue(catalogue.yaml) error: %v", err)
	}
	want := []string{
		"Datadog", "New Relic", "Dynatrace", "Elastic", "Splunk", "Grafana Labs", "OpenTelemetry",
		"Kubernetes ingress-nginx", "Traefik Labs", "HAProxy Technologies", "Kong", "Project Contour", "Envoy",
		"Amazon Web Services", "Istio", "Linkerd", "Tigera", "Cilium", "Antrea", "HashiCorp", "External Secrets",
	}
	have := map[string]bool{}
	for _, v := range cat.Vendors() {
		have[v] = true
	}
	for _, v := range want {
		if !have[v] {
			t.Errorf("catalogue lacks vendor %q", v)
		}
	}
	for _, e := range cat.Components {
		if len(e.Examples) == 0 {
			t.Errorf("catalogue entry %q has no examples", e.Component)
		}
		for _, ex := range e.Examples {
			var got []string
			for _, h := range cat.Match(ex) {
				got = append(got, h.Component)
			}
			if diff := cmp.Diff([]string{e.Component}, got); diff != "" {
				t.Errorf("Match(%q) = %v; want only %q", ex, got, e.Component)
			}
		}
	}
}

func TestParseCatalogueErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "components:\n- vendor: A\n  component: B\n  category: cni\n  purpose: p\n  images: [a/b]\n  colour: red\n", "colour"},
		{"missing purpose", "components:\n- vendor: A\n  component: B\n  category: cni\n  images: [a/b]\n", "required"},
		{"bad category", "components:\n- vendor: A\n  component: B\n  category: toaster\n  purpose: p\n  images: [a/b]\n", "unknown category"},
		{"no images", "components:\n- vendor: A\n  component: B\n  category: cni\n  purpose: p\n", "no image"},
		{"bad pattern", "components:\n- vendor: A\n  component: B\n  category: cni\n  purpose: p\n  images: [\"a//b\"]\n", "empty path component"},
		{"duplicate", "components:\n- {vendor: A, component: B, category: cni, purpose: p, images: [a/b]}\n- {vendor: A, component: B, category: cni, purpose: p, images: [a/c]}\n", "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCatalogue([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseCatalogue(%q) error = %v; want one containing %q", tc.yaml, err, tc.want)
			}
		})
	}
}

func TestImageMatch(t *testing.T) {
	tests := []struct {
		pattern, image string
		want           bool
	}{
		// Registry, tag and digest variants.
		{"gcr.io/datadoghq/agent*", "gcr.io/datadoghq/agent", true},
		{"gcr.io/datadoghq/agent*", "gcr.io/datadoghq/agent:7.52.0", true},
		{"gcr.io/datadoghq/agent*", "gcr.io/datadoghq/agent@sha256:abc", true},
		{"gcr.io/datadoghq/agent*", "gcr.io/datadoghq/agent:7@sha256:abc", true},
		{"gcr.io/datadoghq/agent*", "datadog/agent:7", false},
		{"datadog/agent", "datadog/agent:7", true},
		{"datadog/agent", "docker.io/datadog/agent:7", true},
		{"datadog/agent", "index.docker.io/datadog/agent", true},
		{"datadog/agent", "public.ecr.aws/datadog/agent:7", true},
		{"datadog/agent", "registry.example.com:5000/mirror/datadog/agent:7", true},
		{"docker.io/datadog/agent", "datadog/agent", true},
		{"docker.io/datadog/agent", "public.ecr.aws/datadog/agent", false},
		// Docker Hub official images.
		{"traefik", "traefik:v3.0", true},
		{"traefik", "docker.io/library/traefik", true},
		{"traefik", "docker.io/traefik", true},
		{"traefik", "mirror.example.com/traefik:v3", true},
		{"traefik", "example/traefik", false},
		{"traefik", "traefik-forward-auth", false},
		// No false positives on similar names.
		{"datadog/agent", "notdatadog/agent", false},
		{"datadog/agent", "datadog/agent-fake", false},
		{"datadog/agent", "datadog/agentx:1", false},
		{"istio/proxyv2", "istio/proxyv2-custom:1", false},
		{"calico/*", "calico/node:v3", true},
		{"calico/*", "calico/node/extra", false},
		{"calico/*", "calicoish/node", false},
		{"cilium/*", "quay.io/cilium/cilium:v1.15", true},
		{"cilium/*", "quay.io/notcilium/cilium", false},
		// Versioned patterns match the tag or digest.
		{"grafana/agent:v0.*", "grafana/agent:v0.40.4", true},
		{"grafana/agent:v0.*", "grafana/agent:v1.0.0", false},
		{"grafana/agent:v0.*", "grafana/agent", false},
		{"example.com/x@sha256:abc", "example.com/x:1@sha256:abc", true},
		// A registry given by a glob.
		{"*.live.dynatrace.com/linux/oneagent", "abc.live.dynatrace.com/linux/oneagent:1", true},
		{"*.live.dynatrace.com/linux/oneagent", "evil.com/x.live.dynatrace.com/linux/oneagent", false},
		// "**" crosses components.
		{"example.com/**/agent", "example.com/a/b/agent", true},
		{"example.com/*/agent", "example.com/a/b/agent", false},
	}
	for _, tc := range tests {
		got := compileImagePattern(tc.pattern).matchImage(parseImageRef(tc.image))
		if got != tc.want {
			t.Errorf("match(%q, %q) = %v; want %v", tc.pattern, tc.image, got, tc.want)
		}
	}
}

func TestCatalogueNoFalsePositive(t *testing.T) {
	cat := DefaultCatalogue()
	for _, image := range []string{
		"nginx:1.25", "docker.io/library/nginx", "haproxy:2.9", "envoy:1", "mycompany/agent:1",
		"gcr.io/mycompany/datadog-dashboards:1", "example.com/istio-demo/productpage:1",
		"registry.k8s.io/kube-proxy:v1.29.0", "vault-ui:1", "postgres:16", "otel-demo/frontend:1",
		"ghcr.io/example/kong-plugin:1", "grafana/grafana:10.4.0", "docker.elastic.co/elasticsearch/elasticsearch:8.13.0",
	} {
		if hits := cat.Match(image); len(hits) != 0 {
			t.Errorf("Match(%q) = %v; want no catalogue hit", image, hits[0].Component)
		}
	}
}

// TestCatalogueOnCorpus matches every image in the repository's corpus
// (real projects' manifests): the only vendor component among them is
// microservices-demo's OpenTelemetry collector.
func TestCatalogueOnCorpus(t *testing.T) {
	imageLine := regexp.MustCompile(`(?m)^\s*-?\s*image:\s*["']?([A-Za-z0-9./_:@-]+)`)
	images := map[string]bool{}
	err := filepath.WalkDir("../../testdata/corpus", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range imageLine.FindAllSubmatch(data, -1) {
			images[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(images) < 40 {
		t.Fatalf("found %d images in ../../testdata/corpus; want the corpus's 50-odd", len(images))
	}
	cat := DefaultCatalogue()
	got := map[string]string{}
	for im := range images {
		for _, e := range cat.Match(im) {
			got[im] = e.Component
		}
	}
	want := map[string]string{
		"otel/opentelemetry-collector-contrib:0.157.0@sha256:f2f01157055a9b2aab9df7118e1f1c9abf345e99b23bc7a2bc791db374a7d0f6": "OpenTelemetry Collector",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalogue hits on the corpus (-want +got):\n%s", diff)
	}
}
