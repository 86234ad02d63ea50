package gate

import (
	"regexp"
	"testing"
)

// The golden hashes below were computed independently of this package with
//
//	printf 'reachdiff-gate-v1\000violation\000undeclared-egress\000shop/frontend[Deployment]\000203.0.113.0/24\000TCP 443' | sha256sum | cut -c1-8
//
// (and likewise for the others). Users' repositories and PR labels hold
// these hashes: if this test fails, a refactor changed the hash format and
// every recorded acknowledgement would silently stop matching.
func TestHashGolden(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"violation", ViolationHash("undeclared-egress", "shop/frontend[Deployment]", "203.0.113.0/24", "TCP 443"), "f49e85f0"},
		{"namespace violation", ViolationHash("missing-default-deny", "", "batch", "ingress,egress"), "49b71bfe"},
		{"delta", DeltaHash([]Path{undeclared, intoShop}), "3a16b194"},
		{"empty delta", DeltaHash(nil), "dc6f46d8"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s hash = %s; want %s", tt.name, tt.got, tt.want)
		}
	}
	// The violation hash Evaluate assigns is the same function of its path.
	r := Evaluate(nil, Input{Opened: []Path{undeclared}})
	if len(r.Violations) != 1 || r.Violations[0].Hash != "f49e85f0" {
		t.Errorf("Evaluate(undeclared).Violations = %+v; want one with hash f49e85f0", r.Violations)
	}
}

func TestDeltaHash(t *testing.T) {
	a, b, c := undeclared, intoShop, internet
	// Fields that are not (src, dst, opened) do not matter.
	relocated := undeclared
	relocated.PolicyFile, relocated.PolicyLine = "other.yaml", 99
	moreOpen := undeclared
	moreOpen.Opened = "TCP 443,8443"

	same := [][2][]Path{
		{{a, b}, {b, a}},
		{{a, b}, {a, b, a}},
		{{a}, {relocated}},
	}
	for _, s := range same {
		if x, y := DeltaHash(s[0]), DeltaHash(s[1]); x != y {
			t.Errorf("DeltaHash(%v) = %s, DeltaHash(%v) = %s; want equal", s[0], x, s[1], y)
		}
	}
	differ := [][2][]Path{
		{{a, b}, {a, b, c}},
		{{a}, {moreOpen}},
		{{a}, nil},
		// Field boundaries are kept: moving text between src and dst changes the hash.
		{{{Src: "ab", Dst: "c"}}, {{Src: "a", Dst: "bc"}}},
	}
	for _, d := range differ {
		if x, y := DeltaHash(d[0]), DeltaHash(d[1]); x == y {
			t.Errorf("DeltaHash(%v) = DeltaHash(%v) = %s; want different", d[0], d[1], x)
		}
	}
	hex8 := regexp.MustCompile(`^[0-9a-f]{8}$`)
	for _, h := range []string{DeltaHash([]Path{a}), ViolationHash("r", "s", "d", "o")} {
		if !hex8.MatchString(h) {
			t.Errorf("hash %q; want 8 lower-case hex digits", h)
		}
	}
	if ViolationHash("r", "ab", "c", "o") == ViolationHash("r", "a", "bc", "o") {
		t.Errorf("ViolationHash ignores field boundaries")
	}
}
