package manifest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// only returns the single typed object decoded from text, failing the test
// on any diagnostic.
func only[T any](t *testing.T, file, text string) T {
	t.Helper()
	objs, diags := load(file, text)
	if len(diags) != 0 || len(objs) != 1 {
		t.Fatalf("load(%s) = %v, %v; want one object, no diagnostics", file, summarize(objs), diags)
	}
	v, ok := objs[0].Typed.(T)
	if !ok {
		t.Fatalf("load(%s).Typed is %T; want %T", file, objs[0].Typed, v)
	}
	return v
}

func TestDecodeCilium(t *testing.T) {
	got := only[*CiliumNetworkPolicy](t, "cnp.yaml", lines(
		"apiVersion: cilium.io/v2",
		"kind: CiliumNetworkPolicy",
		"metadata: {name: c, namespace: a}",
		"spec:",
		"  endpointSelector: {matchLabels: {app: web}}",
		"  ingress:",
		"  - fromEndpoints: [{matchLabels: {app: lb}}]",
		"    fromEntities: [world]",
		"    fromCIDRSet: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}]",
		"  egressDeny:",
		"  - toCIDR: [192.0.2.0/24]",
		"  egress:",
		"  - toFQDNs: [{matchName: api.example.com}, {matchPattern: '*.example.org'}]",
		"    toPorts:",
		"    - ports: [{port: '443', protocol: TCP}, {port: '8000', endPort: 8100}]",
		"      rules: {http: [{method: GET}]}",
		"  - toServices: [{k8sService: {serviceName: db}}]",
	))
	want := &CiliumNetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "a"},
		Spec: &CiliumRule{
			EndpointSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []CiliumIngressRule{{
				FromEndpoints: []metav1.LabelSelector{{MatchLabels: map[string]string{"app": "lb"}}},
				FromEntities:  []string{"world"},
				FromCIDRSet:   []CiliumCIDRRule{{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}},
			}},
			EgressDeny: []CiliumEgressRule{{ToCIDR: []string{"192.0.2.0/24"}}},
			Egress: []CiliumEgressRule{{
				ToFQDNs: []CiliumFQDNSelector{{MatchName: "api.example.com"}, {MatchPattern: "*.example.org"}},
				ToPorts: []CiliumPortRule{{Ports: []CiliumPortProtocol{{Port: "443", Protocol: "TCP"}, {Port: "8000", EndPort: 8100}}}},
			}, {}},
		},
		Unmodelled: []string{"spec.egress[0].toPorts[0].rules", "spec.egress[1].toServices"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(cnp.yaml) (-want +got):\n%s", diff)
	}
}

func TestDecodeRoute(t *testing.T) {
	got := only[*Route](t, "route.yaml", lines(
		"apiVersion: route.openshift.io/v1",
		"kind: Route",
		"metadata: {name: web, namespace: shop}",
		"spec:",
		"  host: shop.example.com",
		"  path: /api",
		"  to: {kind: Service, name: web, weight: 90}",
		"  alternateBackends: [{kind: Service, name: web-canary, weight: 10}]",
		"  port: {targetPort: http}",
		"  tls: {termination: edge}",
		"  wildcardPolicy: None",
		"status: {ingress: []}",
	))
	w90, w10 := int32(90), int32(10)
	want := &Route{
		TypeMeta:   metav1.TypeMeta{APIVersion: "route.openshift.io/v1", Kind: "Route"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: RouteSpec{
			Host: "shop.example.com", Path: "/api",
			To:                RouteTargetReference{Kind: "Service", Name: "web", Weight: &w90},
			AlternateBackends: []RouteTargetReference{{Kind: "Service", Name: "web-canary", Weight: &w10}},
			Port:              &RoutePort{TargetPort: intstr.FromString("http")},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(route.yaml) (-want +got):\n%s", diff)
	}
}

// TestDecodeYAMLFeatures checks anchors, merge keys, scalars of every type
// and quoted numbers come out as Kubernetes would read them.
func TestDecodeYAMLFeatures(t *testing.T) {
	got := only[*appsv1.Deployment](t, "d.yaml", lines(
		"apiVersion: apps/v1",
		"kind: Deployment",
		"metadata:",
		"  name: d",
		"  labels: &labels {app: d, tier: web}",
		"  annotations:",
		"    yes: 'on'",
		"    n: \"0x10\"",
		"    multi: |",
		"      line one",
		"      line \"two\"",
		"spec:",
		"  replicas: 0x3",
		"  paused: true",
		"  minReadySeconds: ~",
		"  selector:",
		"    matchLabels: *labels",
		"  template:",
		"    metadata:",
		"      labels:",
		"        <<: *labels",
		"        tier: api",
		"    spec:",
		"      containers:",
		"      - name: c",
		"        ports: [{containerPort: 8_080, name: http}]",
	))
	three := int32(3)
	want := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        "d",
			Labels:      map[string]string{"app": "d", "tier": "web"},
			Annotations: map[string]string{"yes": "on", "n": "0x10", "multi": "line one\nline \"two\"\n"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &three,
			Paused:   true,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d", "tier": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d", "tier": "api"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 8080, Name: "http"}},
				}}},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decode(d.yaml) (-want +got):\n%s", diff)
	}
}

// TestDecodeOldSelector checks the selector of an extensions/v1beta1
// Deployment defaults to its template's labels, as that API version says.
func TestDecodeOldSelector(t *testing.T) {
	objs, diags := load("old.yaml", lines(
		"apiVersion: extensions/v1beta1",
		"kind: Deployment",
		"metadata: {name: d}",
		"spec: {template: {metadata: {labels: {app: d}}, spec: {containers: []}}}",
		"---",
		"apiVersion: apps/v1beta2",
		"kind: Deployment",
		"metadata: {name: e}",
		"spec: {template: {metadata: {labels: {app: e}}, spec: {containers: []}}}",
	))
	if len(objs) != 2 || len(diags) != 2 {
		t.Fatalf("load(old.yaml) = %v, %v; want 2 objects, 2 deprecation warnings", summarize(objs), diags)
	}
	got := objs[0].Typed.(*appsv1.Deployment).Spec.Selector
	if want := (&metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}}); !cmp.Equal(got, want) {
		t.Errorf("extensions/v1beta1 Deployment selector = %v; want %v", got, want)
	}
	// apps/v1beta2 requires the selector: no default.
	if got := objs[1].Typed.(*appsv1.Deployment).Spec.Selector; got != nil {
		t.Errorf("apps/v1beta2 Deployment selector = %v; want nil", got)
	}
}
