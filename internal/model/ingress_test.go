package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// exposureBase has, in namespace shop, two workloads behind Service web
// (web, with container port http=8080, and admin, without a named port),
// api behind Service api, and a Service without a selector.
const exposureBase = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web, tier: front}}
    spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: admin, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web, tier: admin}}
    spec: {containers: [{name: c}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, ports: [{name: grpc, containerPort: 9000}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - {name: main, port: 80, targetPort: http}
  - {name: debug, port: 81, targetPort: 6060}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {name: grpc, port: 9000}
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: shop}
spec:
  ports: [{port: 443}]
`

type target struct{ Workload, Conns string }

func targets(e *Exposure) []target {
	var out []target
	for _, t := range e.Targets {
		out = append(out, target{t.Workload, t.Conns.String()})
	}
	return out
}

func TestExposures(t *testing.T) {
	tests := []struct {
		name, doc, text string
		want            []target
		diag            string // substring of a warning or info expected
	}{
		{
			name: "ingress by service port number, named target port",
			doc: "ServicePort.targetPort: Number or name of the port to access on the pods targeted by the service. " +
				"(a name resolves per pod: admin has no port named http)",
			text: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: shop}\nspec:\n" +
				"  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n",
			want: []target{{"shop/web[Deployment]", "TCP 8080"}},
		},
		{
			name: "ingress by service port name, default backend",
			doc:  "IngressBackend.service.port: Name is the name of the port on the Service. (defaultBackend serves requests no rule matches)",
			text: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: shop}\nspec:\n" +
				"  defaultBackend: {service: {name: web, port: {name: debug}}}\n" +
				"  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 9000}}}}]}}]\n",
			want: []target{
				{"shop/admin[Deployment]", "TCP 6060"},
				{"shop/api[Deployment]", "TCP 9000"},
				{"shop/web[Deployment]", "TCP 6060"},
			},
		},
		{
			name: "route without port: every service port",
			doc:  "RouteSpec.port: Most routers will use all endpoints exposed by the service by default",
			text: "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: shop}\nspec:\n  to: {kind: Service, name: web}\n",
			want: []target{{"shop/admin[Deployment]", "TCP 6060"}, {"shop/web[Deployment]", "TCP 6060,8080"}},
		},
		{
			name: "route targetPort by name and alternate backends",
			doc:  "RoutePort.targetPort: If this is a string, it will be looked up as a named port in the target endpoints port list.",
			text: "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: shop}\nspec:\n  to: {kind: Service, name: web}\n" +
				"  alternateBackends: [{kind: Service, name: api}]\n  port: {targetPort: main}\n",
			want: []target{{"shop/web[Deployment]", "TCP 8080"}},
		},
		{
			name: "route targetPort by number",
			doc:  "RoutePort.targetPort: The target port on pods selected by the service this route points to.",
			text: "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: shop}\nspec:\n  to: {kind: Service, name: web}\n  port: {targetPort: 8080}\n",
			want: []target{{"shop/web[Deployment]", "TCP 8080"}},
		},
		{
			name: "missing service",
			text: "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: shop}\nspec:\n  to: {kind: Service, name: nope}\n",
			diag: "backend Service shop/nope is not defined",
		},
		{
			name: "service without selector",
			doc:  "ServiceSpec.selector: If empty or not present, the service is assumed to have an external process managing its endpoints",
			text: "apiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: shop}\nspec:\n  to: {kind: Service, name: external}\n",
			diag: "backend Service shop/external has no selector",
		},
		{
			name: "unknown service port",
			text: "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: shop}\nspec:\n" +
				"  defaultBackend: {service: {name: web, port: {number: 8443}}}\n",
			diag: "backend Service shop/web has no port 8443",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := buildYAML(t, exposureBase+"---\n"+tc.text)
			if len(c.Exposures) != 1 {
				t.Fatalf("Build(%s).Exposures = %d; want 1", tc.name, len(c.Exposures))
			}
			if d := cmp.Diff(tc.want, targets(c.Exposures[0])); d != "" {
				t.Errorf("Build(%s) targets (%s) (-want +got):\n%s", tc.name, tc.doc, d)
			}
			if tc.diag == "" {
				return
			}
			for _, d := range c.Diagnostics {
				if d.Severity != diag.Error && strings.Contains(d.Message, tc.diag) && d.File == "test.yaml" && d.Line > 0 {
					return
				}
			}
			t.Errorf("Build(%s) diagnostics = %v; want one at test.yaml containing %q", tc.name, c.Diagnostics, tc.diag)
		})
	}
}
