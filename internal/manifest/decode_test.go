package manifest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// summary is what the tests compare of an Object.
type summary struct {
	APIVersion, Kind, Namespace, Name string
	Line                              int
	Typed                             string // the Go type of Typed
}

func summarize(objs []Object) []summary {
	var s []summary
	for _, o := range objs {
		if o.Source.File == "" {
			panic("object without a file")
		}
		s = append(s, summary{o.APIVersion, o.Kind, o.Namespace, o.Name, o.Source.Line, fmt.Sprintf("%T", o.Typed)})
	}
	return s
}

// load splits and decodes one file.
func load(file, text string) ([]Object, []diag.Diagnostic) {
	docs, diags := Split(file, []byte(text))
	var objs []Object
	for _, d := range docs {
		o, ds := Decode(d)
		objs = append(objs, o...)
		diags = append(diags, ds...)
	}
	return objs, diags
}

// lines joins lines with newlines, so test inputs can show their line numbers.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestDecode(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             []summary
		wantDiags        []diag.Diagnostic
	}{{
		name: "multi-document YAML with comments and markers",
		file: "app.yaml",
		text: lines(
			"# The shop namespace and its web server.", // 1
			"---",
			"apiVersion: v1",
			"kind: Namespace",
			"metadata:", // 5
			"  name: shop # the namespace",
			"---",
			"# only a comment",
			"---",
			"", // 10
			"apiVersion: apps/v1",
			"kind: Deployment",
			"metadata:",
			"  namespace: shop",
			"  labels: {app: web}", // 15
			"  name: web",
			"spec:",
			"  selector: {matchLabels: {app: web}}",
			"  template:",
			"    metadata: {labels: {app: web}}", // 20
			"    spec: {containers: [{name: web, image: nginx}]}",
			"--- # a comment after the marker",
			"apiVersion: v1",
			"kind: Service",
			"metadata: {name: web, namespace: shop}", // 25
			"spec: {selector: {app: web}, ports: [{port: 80}]}",
			"...",
		),
		want: []summary{
			{"v1", "Namespace", "", "shop", 6, "*v1.Namespace"},
			{"apps/v1", "Deployment", "shop", "web", 16, "*v1.Deployment"},
			{"v1", "Service", "shop", "web", 25, "*v1.Service"},
		},
	}, {
		name: "JSON PodList with kind-less items, tab-indented",
		file: "pods.json",
		text: lines(
			`{`,
			"\t\"apiVersion\": \"v1\",",
			"\t\"kind\": \"PodList\",",
			"\t\"items\": [",
			"\t\t{", // 5
			"\t\t\t\"metadata\": {",
			"\t\t\t\t\"name\": \"a\",",
			"\t\t\t\t\"namespace\": \"x\"",
			"\t\t\t},",
			"\t\t\t\"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"i\"}]}", // 10
			"\t\t},",
			"\t\t{\"metadata\": {\"name\": \"b\", \"namespace\": \"x\"}}",
			"\t]",
			`}`,
		),
		want: []summary{
			{"v1", "Pod", "x", "a", 7, "*v1.Pod"},
			{"v1", "Pod", "x", "b", 12, "*v1.Pod"},
		},
	}, {
		name: "a stream of JSON objects",
		file: "ns.json",
		text: lines(
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}`,
			``,
			`{"apiVersion":"v1","kind":"Namespace",`,
			` "metadata":{"name":"b"}}`,
		),
		want: []summary{
			{"v1", "Namespace", "", "a", 1, "*v1.Namespace"},
			{"v1", "Namespace", "", "b", 4, "*v1.Namespace"},
		},
	}, {
		name: "broken JSON",
		file: "bad.json",
		text: lines(
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}`,
			`{"apiVersion":"v1",`,
			` "kind": Namespace}`,
		),
		want: []summary{{"v1", "Namespace", "", "a", 1, "*v1.Namespace"}},
		wantDiags: []diag.Diagnostic{{Severity: diag.Error, File: "bad.json", Line: 3,
			Message: "invalid JSON: invalid character 'N' looking for beginning of value"}},
	}, {
		name: "NamespaceList with kind-less items",
		file: "ns.yaml",
		text: lines(
			"apiVersion: v1",
			"kind: NamespaceList",
			"items:",
			"- metadata:",
			"    name: a", // 5
			"    labels: {team: x}",
			"- metadata:",
			"    name: b",
		),
		want: []summary{
			{"v1", "Namespace", "", "a", 5, "*v1.Namespace"},
			{"v1", "Namespace", "", "b", 8, "*v1.Namespace"},
		},
	}, {
		name: "List of mixed kinds in the second document",
		file: "list.yaml",
		text: lines(
			"apiVersion: v1",
			"kind: ConfigMap",
			"metadata: {name: cfg}",
			"---",
			"apiVersion: v1", // 5
			"kind: List",
			"items:",
			"- apiVersion: networking.k8s.io/v1",
			"  kind: NetworkPolicy",
			"  metadata:", // 10
			"    name: deny",
			"    namespace: shop",
			"  spec: {podSelector: {}}",
			"- kind: Service",
			"  metadata: {name: s}", // 15
			"- metadata: {name: nokind}",
		),
		want: []summary{
			{"v1", "ConfigMap", "", "cfg", 3, "<nil>"},
			{"networking.k8s.io/v1", "NetworkPolicy", "shop", "deny", 11, "*v1.NetworkPolicy"},
			{"v1", "Service", "", "s", 15, "*v1.Service"},
		},
		wantDiags: []diag.Diagnostic{{Severity: diag.Warning, File: "list.yaml", Line: 16,
			Message: "List: item 2 has no kind, skipped"}},
	}, {
		name: "not Kubernetes objects",
		file: "values.yaml",
		text: lines(
			"replicaCount: 2",
			"image: {repository: nginx}",
			"---",
			"- a",
			"- b", // 5
			"---",
			"apiVersion: kustomize.config.k8s.io/v1beta1",
			"kind: Kustomization",
			"resources: [a.yaml]",
		),
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Info, File: "values.yaml", Line: 1, Message: "not a Kubernetes object, skipped"},
			{Severity: diag.Info, File: "values.yaml", Line: 4, Message: "not a Kubernetes object, skipped"},
		},
	}, {
		name: "kustomization file",
		file: "overlays/prod/kustomization.yaml",
		text: lines("resources: [../../base]", "namePrefix: prod-"),
	}, {
		name: "old apiVersions",
		file: "old.yaml",
		text: lines(
			"apiVersion: extensions/v1beta1",
			"kind: NetworkPolicy",
			"metadata: {name: np, namespace: a}",
			"spec: {podSelector: {}}",
			"---", // 5
			"apiVersion: apps/v1beta2",
			"kind: Deployment",
			"metadata:",
			"  name: d",
			"spec:", // 10
			"  selector: {matchLabels: {app: d}}",
			"  template: {metadata: {labels: {app: d}}, spec: {containers: []}}",
			"---",
			"apiVersion: batch/v1beta1",
			"kind: CronJob", // 15
			"metadata: {name: c}",
			"---",
			"apiVersion: networking.k8s.io/v1beta1",
			"kind: Ingress",
			"metadata: {name: i}", // 20
		),
		want: []summary{
			{"extensions/v1beta1", "NetworkPolicy", "a", "np", 3, "*v1.NetworkPolicy"},
			{"apps/v1beta2", "Deployment", "", "d", 9, "*v1.Deployment"},
			{"batch/v1beta1", "CronJob", "", "c", 16, "*v1.CronJob"},
			{"networking.k8s.io/v1beta1", "Ingress", "", "i", 20, "<nil>"},
		},
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Warning, File: "old.yaml", Line: 3, Object: "NetworkPolicy a/np",
				Message: "deprecated apiVersion extensions/v1beta1; read as networking.k8s.io/v1"},
			{Severity: diag.Warning, File: "old.yaml", Line: 9, Object: "Deployment d",
				Message: "deprecated apiVersion apps/v1beta2; read as apps/v1"},
			{Severity: diag.Warning, File: "old.yaml", Line: 16, Object: "CronJob c",
				Message: "deprecated apiVersion batch/v1beta1; read as batch/v1"},
			{Severity: diag.Warning, File: "old.yaml", Line: 20, Object: "Ingress i",
				Message: "networking.k8s.io/v1beta1 Ingress is not read: only other apiVersions of Ingress are"},
		},
	}, {
		name: "duplicate keys",
		file: "dup.yaml",
		text: lines(
			"apiVersion: v1",
			"kind: Pod",
			"metadata:",
			"  name: d",
			"  name: e", // 5
			"---",
			"apiVersion: networking.k8s.io/v1",
			"kind: NetworkPolicy",
			"metadata: {name: np}",
			"spec:", // 10
			"  podSelector: {}",
			"  podSelector: {matchLabels: {a: b}}",
		),
		want: []summary{{"v1", "Pod", "", "e", 5, "*v1.Pod"}},
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Warning, File: "dup.yaml", Line: 5, Object: "Pod e", Message: `duplicate field "metadata.name"`},
			{Severity: diag.Error, File: "dup.yaml", Line: 12, Object: "NetworkPolicy np", Message: `duplicate field "spec.podSelector"`},
		},
	}, {
		name: "broken YAML between good documents",
		file: "broken.yaml",
		text: lines(
			"apiVersion: v1",
			"kind: Namespace",
			"metadata: {name: a}",
			"---",
			"apiVersion: v1", // 5
			"kind: Namespace",
			"metadata:",
			"  name: b",
			"   labels: x",
			"---", // 10
			"apiVersion: v1",
			"kind: Namespace",
			"metadata: {name: c}",
		),
		want: []summary{
			{"v1", "Namespace", "", "a", 3, "*v1.Namespace"},
			{"v1", "Namespace", "", "c", 13, "*v1.Namespace"},
		},
		wantDiags: []diag.Diagnostic{{Severity: diag.Error, File: "broken.yaml", Line: 9,
			Message: "invalid YAML: line 9: mapping values are not allowed in this context"}},
	}, {
		name: "unknown fields: an error in a NetworkPolicy, a warning in a Deployment",
		file: "unknown.yaml",
		text: lines(
			"apiVersion: networking.k8s.io/v1",
			"kind: NetworkPolicy",
			"metadata:",
			"  name: np",
			"  namespace: a", // 5
			"spec:",
			"  podselector: {}",
			"  ingress:",
			"  - from:",
			"    - podSelector: {}", // 10
			"      nameSpaceSelector: {}",
			"status: {}",
			"---",
			"apiVersion: apps/v1",
			"kind: Deployment", // 15
			"metadata: {name: d, namespace: a}",
			"spec:",
			"  replica: 2",
			"  selector: {matchLabels: {app: d}}",
			"  template: {metadata: {labels: {app: d}}, spec: {containers: []}}", // 20
		),
		want: []summary{{"apps/v1", "Deployment", "a", "d", 16, "*v1.Deployment"}},
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Error, File: "unknown.yaml", Line: 7, Object: "NetworkPolicy a/np", Message: `unknown field "spec.podselector"`},
			{Severity: diag.Error, File: "unknown.yaml", Line: 11, Object: "NetworkPolicy a/np", Message: `unknown field "spec.ingress[0].from[0].nameSpaceSelector"`},
			{Severity: diag.Warning, File: "unknown.yaml", Line: 18, Object: "Deployment a/d", Message: `unknown field "spec.replica"`},
		},
	}, {
		name: "type errors: an error in a policy, a warning in a Deployment",
		file: "types.yaml",
		text: lines(
			"apiVersion: networking.k8s.io/v1",
			"kind: NetworkPolicy",
			"metadata: {name: np}",
			"spec:",
			"  podSelector: {}", // 5
			"  policyTypes: Ingress",
			"---",
			"apiVersion: apps/v1",
			"kind: Deployment",
			"metadata: {name: d}", // 10
			"spec:",
			"  replicas: three",
		),
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Error, File: "types.yaml", Line: 6, Object: "NetworkPolicy np",
				Message: "cannot unmarshal string into Go struct field NetworkPolicySpec.spec.policyTypes of type []v1.PolicyType; object skipped"},
			{Severity: diag.Warning, File: "types.yaml", Line: 12, Object: "Deployment d",
				Message: "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32; object skipped"},
		},
	}, {
		name: "every kind read",
		file: "kinds.yaml",
		text: lines(
			"{apiVersion: v1, kind: Pod, metadata: {name: a}}",
			"---",
			"{apiVersion: v1, kind: ReplicationController, metadata: {name: a}}",
			"---",
			"{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: a}}", // 5
			"---",
			"{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: a}}",
			"---",
			"{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: a}}",
			"---", // 10
			"{apiVersion: batch/v1, kind: Job, metadata: {name: a}}",
			"---",
			"{apiVersion: batch/v1, kind: CronJob, metadata: {name: a}}",
			"---",
			"{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: a}}", // 15
			"---",
			"{apiVersion: policy.networking.k8s.io/v1alpha1, kind: AdminNetworkPolicy, metadata: {name: a}, spec: {priority: 10, subject: {namespaces: {}}}}",
			"---",
			"{apiVersion: policy.networking.k8s.io/v1alpha1, kind: BaselineAdminNetworkPolicy, metadata: {name: default}}",
			"---", // 20
			"{apiVersion: policy.networking.k8s.io/v1alpha2, kind: ClusterNetworkPolicy, metadata: {name: a}, spec: {tier: Admin, priority: 3}}",
			"---",
			"{apiVersion: route.openshift.io/v1, kind: Route, metadata: {name: a}, spec: {to: {kind: Service, name: s}, tls: {termination: edge}}}",
			"---",
			"{apiVersion: cilium.io/v2, kind: CiliumClusterwideNetworkPolicy, metadata: {name: a}}", // 25
			"---",
			"{apiVersion: example.com/v1, kind: Prometheus, metadata: {name: a}}",
		),
		want: []summary{
			{"v1", "Pod", "", "a", 1, "*v1.Pod"},
			{"v1", "ReplicationController", "", "a", 3, "*v1.ReplicationController"},
			{"apps/v1", "StatefulSet", "", "a", 5, "*v1.StatefulSet"},
			{"apps/v1", "DaemonSet", "", "a", 7, "*v1.DaemonSet"},
			{"apps/v1", "ReplicaSet", "", "a", 9, "*v1.ReplicaSet"},
			{"batch/v1", "Job", "", "a", 11, "*v1.Job"},
			{"batch/v1", "CronJob", "", "a", 13, "*v1.CronJob"},
			{"networking.k8s.io/v1", "Ingress", "", "a", 15, "*v1.Ingress"},
			{"policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", "", "a", 17, "*v1alpha1.AdminNetworkPolicy"},
			{"policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy", "", "default", 19, "*v1alpha1.BaselineAdminNetworkPolicy"},
			{"policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy", "", "a", 21, "*v1alpha2.ClusterNetworkPolicy"},
			{"route.openshift.io/v1", "Route", "", "a", 23, "*manifest.Route"},
			{"cilium.io/v2", "CiliumClusterwideNetworkPolicy", "", "a", 25, "*manifest.CiliumNetworkPolicy"},
			{"example.com/v1", "Prometheus", "", "a", 27, "<nil>"},
		},
	}, {
		name: "kind without apiVersion, and a JSON array",
		file: "partial.json",
		text: lines(`{"kind": "Pod", "metadata": {"name": "p"}}`, `["a", "b"]`),
		wantDiags: []diag.Diagnostic{
			{Severity: diag.Warning, File: "partial.json", Line: 1, Object: "Pod p", Message: "object without apiVersion or kind, skipped"},
			{Severity: diag.Info, File: "partial.json", Line: 2, Message: "not a Kubernetes object, skipped"},
		},
	}, {
		name: "object without a name",
		file: "noname.yaml",
		text: lines("", "apiVersion: v1", "kind: Namespace"),
		want: []summary{{"v1", "Namespace", "", "", 2, "*v1.Namespace"}},
	}, {
		name: "YAML directives",
		file: "directive.yaml",
		text: lines("%YAML 1.1", "---", "apiVersion: v1", "kind: Namespace", "metadata: {name: a}"),
		want: []summary{{"v1", "Namespace", "", "a", 5, "*v1.Namespace"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, diags := load(tt.file, tt.text)
			if diff := cmp.Diff(tt.want, summarize(objs)); diff != "" {
				t.Errorf("Decode(%s) objects (-want +got):\n%s", tt.file, diff)
			}
			if diff := cmp.Diff(tt.wantDiags, diags); diff != "" {
				t.Errorf("Decode(%s) diagnostics (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestDecodeBrokenYAML checks Decode itself reports a syntax error at its
// line in the file (ReadDir leaves syntax errors to Decode).
func TestDecodeBrokenYAML(t *testing.T) {
	doc := Document{Source: Source{File: "x.yaml", Line: 10}, Data: []byte("apiVersion: v1\nkind: Pod\n  name: p\n")}
	objs, diags := Decode(doc)
	want := []diag.Diagnostic{{Severity: diag.Error, File: "x.yaml", Line: 12,
		Message: "invalid YAML: line 12: mapping values are not allowed in this context"}}
	if len(objs) != 0 || !cmp.Equal(diags, want) {
		t.Errorf("Decode(%q at line 10) = %v, %v; want no objects, %v", doc.Data, objs, diags, want)
	}
}

// TestDecodeSafety checks hostile input is refused quickly, with an error.
func TestDecodeSafety(t *testing.T) {
	// The "billion laughs" attack in 288 bytes: 9^8 "lol"s once expanded.
	var b strings.Builder
	b.WriteString("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for c := 'b'; c <= 'h'; c++ {
		fmt.Fprintf(&b, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1)
	}
	bomb := strings.TrimSuffix(b.String(), "\n")
	if len(bomb) != 288 {
		t.Fatalf("len(bomb) = %d; want 288", len(bomb))
	}
	// The same with merge keys, which write nothing for keys already seen.
	var m strings.Builder
	m.WriteString("a: &a {x: 1, y: 2}\n")
	for c := 'b'; c <= 'k'; c++ {
		fmt.Fprintf(&m, "%c: &%c {<<: [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]}\n", c, c, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1, c-1)
	}
	mergeBomb := m.String()
	// Many list items aliasing one big anchor: each is small, all together
	// are not.
	var l strings.Builder
	l.WriteString("apiVersion: v1\nkind: PodList\nx: &big {metadata: {name: p, labels: {")
	for i := range 2000 {
		fmt.Fprintf(&l, "label-%d: value-%d, ", i, i)
	}
	l.WriteString("}}}\nitems:\n" + strings.Repeat("- *big\n", 5000))
	listBomb := l.String()
	deep := strings.Repeat("[", MaxDepth+10) + strings.Repeat("]", MaxDepth+10)
	tests := []struct {
		name, text string
		wantLine   int
		wantMsg    string
	}{
		{"alias bomb in a Pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + indent(bomb), 0, "document expands to too much data (YAML alias bomb?)"},
		{"alias bomb in a NetworkPolicy", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nx:\n" + indent(bomb), 0, "document expands to too much data (YAML alias bomb?)"},
		{"merge key bomb", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + indent(mergeBomb), 0, "document expands to too much data (YAML alias bomb?)"},
		{"list items aliasing one anchor", listBomb, 0, "document expands to too much data (YAML alias bomb?)"},
		{"deep nesting", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: " + deep + "\n", 4, fmt.Sprintf("nesting deeper than %d levels", MaxDepth)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			objs, diags := load("bad.yaml", tt.text)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("load(%s) took %v", tt.name, elapsed)
			}
			if tt.name == "list items aliasing one anchor" && len(objs) < 10 {
				objs = nil // the first items fit in the budget; the rest do not
			}
			if len(objs) != 0 {
				t.Errorf("load(%s) = %v; want no objects", tt.name, summarize(objs))
			}
			if len(diags) != 1 || diags[0].Severity != diag.Error || diags[0].Message != tt.wantMsg || (tt.wantLine > 0 && diags[0].Line != tt.wantLine) {
				t.Errorf("load(%s) diagnostics = %v; want one error %q at line %d", tt.name, diags, tt.wantMsg, tt.wantLine)
			}
		})
	}
	// A bomb that is not a Kubernetes object is never expanded.
	objs, diags := load("bomb.yaml", bomb+"\n")
	want := []diag.Diagnostic{{Severity: diag.Info, File: "bomb.yaml", Line: 1, Message: "not a Kubernetes object, skipped"}}
	if len(objs) != 0 || !cmp.Equal(diags, want) {
		t.Errorf("load(bomb) = %v, %v; want no objects, %v", objs, diags, want)
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}
