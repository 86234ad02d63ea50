package manifest

import (
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// oracleWarnings lists the warnings expected in the oracle's manifests,
// each a real problem in the input, with the reason.
var oracleWarnings = map[string]string{
	// "apiVersion: apps/v1" on a Pod: a mistake in the input (Pods are v1);
	// the API server would refuse it, so reachdiff does not read it.
	"udn_with_ingress_controller/pod.yaml:4":           "apps/v1 Pod",
	"udn_with_ingress_controller_two_pods/pod.yaml:4":  "apps/v1 Pod",
	"udn_with_ingress_controller_two_pods/pod.yaml:39": "apps/v1 Pod",
	// A label written one level too high (template.metadata.app instead
	// of template.metadata.labels.app): the API server would drop it.
	"nad_test_1/pods.yaml:13": `unknown field "spec.template.metadata.app"`,
}

// oracleErrors lists the errors expected in the oracle's manifests. None:
// every case folder is valid input.
var oracleErrors = map[string]string{}

// npKindRE finds "kind: NetworkPolicy" in YAML or JSON text, to count the
// policies independently of the decoder.
var npKindRE = regexp.MustCompile(`(?m)^[\s-]*"?kind"?\s*:\s*"?NetworkPolicy"?\s*,?\s*$`)

// TestOracleManifests reads every case folder of the oracle's manifests
// and checks there is no diagnostic but the expected ones and that every
// NetworkPolicy in them decodes.
func TestOracleManifests(t *testing.T) {
	const root = "../../testdata/oracle/manifests"
	cases, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("found %d case folders in %s; want the 108 of the oracle", len(cases), root)
	}
	fsys := os.DirFS(root)
	dec := NewDecoder()
	gotWarnings, gotErrors := map[string]string{}, map[string]string{}
	for _, c := range cases {
		if !c.IsDir() {
			continue
		}
		docs, diags, err := ReadDir(fsys, c.Name())
		if err != nil {
			t.Fatalf("ReadDir(%s): %v", c.Name(), err)
		}
		objs, ds := dec.DecodeAll(docs)
		diags = append(diags, ds...)
		for _, d := range diags {
			key := c.Name() + "/" + d.File + ":" + strconv.Itoa(d.Line)
			switch d.Severity {
			case diag.Error:
				gotErrors[key] = d.Message
			case diag.Warning:
				gotWarnings[key] = d.Message
			case diag.Info:
				if d.Message != "not a Kubernetes object, skipped" || !strings.HasSuffix(d.File, "connlist_output.json") {
					t.Errorf("%s: unexpected %v", c.Name(), d)
				}
			}
		}
		policies := 0
		for _, o := range objs {
			if o.Kind != "NetworkPolicy" {
				continue
			}
			if np, ok := o.Typed.(*networkingv1.NetworkPolicy); !ok || np.Name != o.Name || o.Source.Line == 0 {
				t.Errorf("%s: %s:%d NetworkPolicy %s decoded as %T", c.Name(), o.Source.File, o.Source.Line, o.Name, o.Typed)
				continue
			}
			policies++
		}
		if want := countPolicies(t, fsys, c.Name()); policies != want {
			t.Errorf("%s: decoded %d NetworkPolicies; the files name %d", c.Name(), policies, want)
		}
	}
	if diff := cmp.Diff(oracleErrors, gotErrors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	for key, reason := range oracleWarnings {
		if !strings.Contains(gotWarnings[key], reason) {
			t.Errorf("warning at %s = %q; want one about %s", key, gotWarnings[key], reason)
		}
	}
	var extra []string
	for key, msg := range gotWarnings {
		if _, ok := oracleWarnings[key]; !ok {
			extra = append(extra, key+": "+msg)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("unexpected warnings:\n%s", strings.Join(extra, "\n"))
	}
}

func countPolicies(t *testing.T, fsys fs.FS, dir string) int {
	n := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		n += len(npKindRE.FindAll(data, -1))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
