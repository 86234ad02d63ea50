package gate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFailOn(t *testing.T) {
	tests := []struct {
		in      []string
		want    []Severity
		wantErr bool
	}{
		{nil, []Severity{Error}, false},
		{[]string{""}, []Severity{Error}, false},
		{[]string{"error"}, []Severity{Error}, false},
		{[]string{" Warning ", "error", "warning"}, []Severity{Error, Warning}, false},
		{[]string{"warning"}, []Severity{Warning}, false},
		{[]string{"off"}, nil, true},
		{[]string{"fatal"}, nil, true},
	}
	for _, tt := range tests {
		got, err := ParseFailOn(tt.in)
		if (err != nil) != tt.wantErr || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseFailOn(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRules(t *testing.T) {
	want := []string{"internet-egress", "missing-default-deny", "new-cross-namespace", "sensitive-ingress", "undeclared-egress"}
	if got := Rules(); !cmp.Equal(got, want) {
		t.Errorf("Rules() = %v; want %v", got, want)
	}
}

func TestInternetUndeclaredFix(t *testing.T) {
	r := Evaluate(nil, Input{Opened: []Path{internet}})
	want := map[string]string{
		RuleInternetEgress:   "restrict the rule at base/egress.yaml:3 to the address ranges the workload needs, or acknowledge with hash ",
		RuleUndeclaredEgress: "narrow the rule at base/egress.yaml:3 to ranges declared in subprocessors.yaml, or acknowledge with hash ",
	}
	if len(r.Violations) != 2 {
		t.Fatalf("Evaluate(internet) = %+v; want 2 violations", r.Violations)
	}
	for _, v := range r.Violations {
		if w := want[v.Rule] + v.Hash; v.Fix != w {
			t.Errorf("Evaluate(internet) %s fix = %q; want %q", v.Rule, v.Fix, w)
		}
	}
}
