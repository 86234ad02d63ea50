package synth

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	yamlv3 "go.yaml.in/yaml/v3"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestMarshalYAMLMatchesSigsYAML checks that marshalYAML says the same as
// sigs.k8s.io/yaml for every generated object: both read back to the same JSON.
func TestMarshalYAMLMatchesSigsYAML(t *testing.T) {
	c := Generate(configs[2])
	c.Objects = append(c.Objects, CIDRHeavy(1).Objects...)
	for _, o := range c.Objects {
		got, err := marshalYAML(o.Typed)
		if err != nil {
			t.Fatalf("marshalYAML(%s) = %v", objectName(o), err)
		}
		want, err := yaml.Marshal(o.Typed)
		if err != nil {
			t.Fatal(err)
		}
		g, w := newTyped(o.Typed), newTyped(o.Typed)
		if err := yaml.UnmarshalStrict(got, g); err != nil {
			t.Fatalf("marshalYAML(%s) is not YAML: %v\n%s", objectName(o), err, got)
		}
		if err := yaml.UnmarshalStrict(want, w); err != nil {
			t.Fatal(err)
		}
		// sigs.k8s.io/yaml drops empty lists; marshalYAML keeps them.
		if d := cmp.Diff(w, g, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("marshalYAML(%s) reads differently from sigs.k8s.io/yaml (-sigs +ours):\n%s", objectName(o), d)
		}
	}
}

// TestScalars round-trips awkward strings through both YAML libraries in use.
func TestScalars(t *testing.T) {
	for _, s := range []string{
		"", "y", "N", "yes", "on", "Off", "true", "null", "~", "53", "0x1F", "1e3", "1_000", ".5", "1.4.2",
		"10.0.0.0/8", "::/0", "2001:db8::/32", "a: b", "a #b", "-x", "- x", "*", "&a", "!t", "%x", "@x", "`x",
		"'q'", `"q"`, "{a}", "[a]", "a,b", "<html>", "tab\there", "line\nbreak", "üñï", "app.kubernetes.io/name",
		"v1", "kube-system", "reachdiff.example.com/revision", "Infinity", ".inf", "NaN", "2026-11-25",
	} {
		obj := map[string]string{s: s}
		doc, err := marshalYAML(obj)
		if err != nil {
			t.Fatalf("marshalYAML(%q) = %v", s, err)
		}
		var got map[string]string
		if err := yaml.Unmarshal(doc, &got); err != nil || !cmp.Equal(got, obj) {
			t.Errorf("sigs.k8s.io/yaml reads marshalYAML(%q) = %q as %q (%v); want %q", s, doc, got, err, obj)
		}
		var got3 map[string]string
		if err := yamlv3.Unmarshal(doc, &got3); err != nil || !cmp.Equal(got3, obj) {
			t.Errorf("yaml.v3 reads marshalYAML(%q) = %q as %q (%v); want %q", s, doc, got3, err, obj)
		}
	}
}

// TestMarshalYAMLShape pins the layout that Source lines depend on.
func TestMarshalYAMLShape(t *testing.T) {
	p := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "shop", Labels: map[string]string{"b": "2", "a": "1"}},
		Spec: networkingv1.NetworkPolicySpec{
			PolicyTypes: []networkingv1.PolicyType{"Ingress"},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{}, {From: []networkingv1.NetworkPolicyPeer{}, Ports: []networkingv1.NetworkPolicyPort{}}, {From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}}},
		},
	}
	want := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  labels:
    a: "1"
    b: "2"
  name: deny
  namespace: shop
spec:
  ingress:
  - {}
  - from: []
    ports: []
  - from:
    - ipBlock:
        cidr: "10.0.0.0/8"
        except:
        - "10.1.0.0/16"
  podSelector: {}
  policyTypes:
  - Ingress
`
	got, err := marshalYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, string(got)); d != "" {
		t.Errorf("marshalYAML(policy) (-want +got):\n%s", d)
	}
	line, err := nameLine(got)
	if err != nil || line != 7 {
		t.Errorf("nameLine(policy) = %d, %v; want 7", line, err)
	}
	if _, err := marshalYAML(nil); err == nil {
		t.Errorf("marshalYAML(nil) = nil error; want an error")
	}
	if _, err := marshalYAML(fmt.Stringer(nil)); err == nil {
		t.Errorf("marshalYAML(nil Stringer) = nil error; want an error")
	}
}
