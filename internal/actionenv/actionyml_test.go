package actionenv

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestActionYAML checks action.yml against the parts of SchemaStore's
// github-action.json (testdata/github/schemas) that apply to a Docker action,
// by hand: required keys, allowed keys, key patterns, types and enums. The
// project has no JSON Schema library, so this is not a full validator.
func TestActionYAML(t *testing.T) {
	raw, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	var meta map[string]any
	if err := json.Unmarshal(js, &meta); err != nil {
		t.Fatal(err)
	}
	schemaRaw, err := os.ReadFile("../../testdata/github/schemas/github-action.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(schemaRaw, &schema); err != nil {
		t.Fatal(err)
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	strs := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		return out
	}
	props := obj(schema["properties"])
	defs := obj(schema["definitions"])

	// Top level: required keys, no unknown keys (additionalProperties: false).
	for _, k := range strs(schema["required"]) {
		if _, ok := meta[k]; !ok {
			t.Errorf("action.yml: missing required key %q", k)
		}
	}
	for k := range meta {
		if _, ok := props[k]; !ok {
			t.Errorf("action.yml: key %q is not allowed by the schema", k)
		}
	}
	for _, k := range []string{"name", "description", "author"} {
		if _, ok := meta[k].(string); !ok {
			t.Errorf("action.yml: %s must be a string", k)
		}
	}

	// runs: the Docker variant.
	runs := obj(meta["runs"])
	docker := obj(defs["runs-docker"])
	for _, k := range strs(docker["required"]) {
		if _, ok := runs[k]; !ok {
			t.Errorf("action.yml: runs is missing %q", k)
		}
	}
	for k := range runs {
		if _, ok := obj(docker["properties"])[k]; !ok {
			t.Errorf("action.yml: runs.%s is not allowed for a Docker action", k)
		}
	}
	if got, want := runs["using"], obj(obj(docker["properties"])["using"])["const"]; got != want {
		t.Errorf("action.yml: runs.using = %v; want %v", got, want)
	}
	if runs["image"] != "Dockerfile" {
		t.Errorf("action.yml: runs.image = %v; want Dockerfile", runs["image"])
	}
	if args, ok := runs["args"].([]any); !ok || len(args) != 1 || args[0] != "action" {
		t.Errorf("action.yml: runs.args = %v; want [action]", runs["args"])
	}

	// inputs: key pattern, allowed properties and their types.
	inSchema := obj(obj(props["inputs"])["patternProperties"])
	var inPattern string
	var inItem map[string]any
	for p, v := range inSchema {
		inPattern, inItem = p, obj(v)
	}
	inRE := regexp.MustCompile(inPattern)
	inputs := obj(meta["inputs"])
	for name, v := range inputs {
		in := obj(v)
		if !inRE.MatchString(name) {
			t.Errorf("action.yml: input name %q does not match %s", name, inPattern)
		}
		for _, k := range strs(inItem["required"]) {
			if _, ok := in[k]; !ok {
				t.Errorf("action.yml: input %s is missing %q", name, k)
			}
		}
		for k, val := range in {
			p := obj(obj(inItem["properties"])[k])
			if p == nil {
				t.Errorf("action.yml: input %s: key %q not allowed", name, k)
				continue
			}
			switch p["type"] {
			case "string":
				if _, ok := val.(string); !ok {
					t.Errorf("action.yml: input %s: %s = %v must be a string (quote it)", name, k, val)
				}
			case "boolean":
				if _, ok := val.(bool); !ok {
					t.Errorf("action.yml: input %s: %s = %v must be a boolean", name, k, val)
				}
			}
		}
	}

	// outputs (non-composite): description required, nothing else.
	outSchema := obj(obj(defs["outputs"])["patternProperties"])
	for p, v := range outSchema {
		re := regexp.MustCompile(p)
		item := obj(v)
		for name, o := range obj(meta["outputs"]) {
			if !re.MatchString(name) {
				t.Errorf("action.yml: output name %q does not match %s", name, p)
			}
			for k := range obj(o) {
				if _, ok := obj(item["properties"])[k]; !ok {
					t.Errorf("action.yml: output %s: key %q not allowed", name, k)
				}
			}
			if _, ok := obj(o)["description"].(string); !ok {
				t.Errorf("action.yml: output %s needs a description", name)
			}
		}
	}

	// branding: enums.
	bp := obj(obj(props["branding"])["properties"])
	branding := obj(meta["branding"])
	for _, k := range []string{"icon", "color"} {
		if !slices.Contains(strs(obj(bp[k])["enum"]), branding[k].(string)) {
			t.Errorf("action.yml: branding.%s = %v is not in the schema's enum", k, branding[k])
		}
	}

	// The action's contract with ReadInputs and the brief: these inputs and
	// outputs, with these defaults.
	var names []string
	for n := range inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	wantInputs := []string{"allow-remote", "annotations", "base-ref", "cni", "comment", "comment-tag", "config", "default-namespace", "fail-on", "github-token", "head-ref", "inventory", "overlays", "pod-cidr", "review"}
	if !slices.Equal(names, wantInputs) {
		t.Errorf("action.yml inputs = %v; want %v", names, wantInputs)
	}
	defaults := map[string]string{
		"inventory": DefaultInventory, "config": DefaultConfig, "comment": DefaultComment, "fail-on": DefaultFailOn,
		"annotations": "true", "allow-remote": "false", "review": "false", "github-token": "${{ github.token }}",
		"base-ref": "", "head-ref": "",
	}
	for n, want := range defaults {
		if got := obj(inputs[n])["default"]; got != want {
			t.Errorf("action.yml: input %s default = %v; want %q", n, got, want)
		}
	}
	var outs []string
	for n := range obj(meta["outputs"]) {
		outs = append(outs, n)
	}
	sort.Strings(outs)
	if want := []string{"closed", "comment-url", "conclusion", "opened", "report"}; !slices.Equal(outs, want) {
		t.Errorf("action.yml outputs = %v; want %v", outs, want)
	}

	// What the runner passes (INPUT_<NAME> with each default) reads back
	// without error: zero inputs work.
	env := map[string]string{}
	for n, v := range inputs {
		d, _ := obj(v)["default"].(string)
		if strings.Contains(d, "${{") {
			d = "ghs_example"
		}
		env["INPUT_"+strings.ToUpper(n)] = d
	}
	if _, err := ReadInputs(action(env)); err != nil {
		t.Errorf("ReadInputs(action.yml defaults) = %v", err)
	}
}
