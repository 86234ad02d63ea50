package ipset

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustRange(t testing.TB, s string) Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatalf("ParseRange(%q): %v", s, err)
	}
	return r
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestParseRangeString(t *testing.T) {
	tests := []struct {
		in, first, last, str string
	}{
		{"10.0.0.0/8", "10.0.0.0", "10.255.255.255", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
		{"0.0.0.0-255.255.255.255", "0.0.0.0", "255.255.255.255", "0.0.0.0/0"},
		{"255.255.255.255/32", "255.255.255.255", "255.255.255.255", "255.255.255.255/32"},
		{"1.2.3.4", "1.2.3.4", "1.2.3.4", "1.2.3.4/32"},
		{"10.0.0.1-10.0.0.9", "10.0.0.1", "10.0.0.9", "10.0.0.1-10.0.0.9"},
		{"10.0.0.0-10.0.0.2", "10.0.0.0", "10.0.0.2", "10.0.0.0-10.0.0.2"},
		{"10.0.0.0-10.0.0.3", "10.0.0.0", "10.0.0.3", "10.0.0.0/30"},
		{"10.0.0.2-10.0.0.5", "10.0.0.2", "10.0.0.5", "10.0.0.2-10.0.0.5"},
		{"0.0.0.0-9.255.255.255", "0.0.0.0", "9.255.255.255", "0.0.0.0-9.255.255.255"},
		{"128.0.0.0-255.255.255.255", "128.0.0.0", "255.255.255.255", "128.0.0.0/1"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"},
		{"::1", "::1", "::1", "::1/128"},
		{"::-::1", "::", "::1", "::/127"},
		{"::1-::2", "::1", "::2", "::1-::2"},
		{"8000::/1", "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1"},
		{"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
			"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
		{"0:0:0:1::/64", "0:0:0:1::", "::1:ffff:ffff:ffff:ffff", "0:0:0:1::/64"},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4", "::ffff:1.2.3.4", "::ffff:1.2.3.4/128"},
		{"::ffff:0.0.0.0/96", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::ffff:0.0.0.0/96"},
		{"::-::ffff:255.255.255.255", "::", "::ffff:255.255.255.255", "::/80"},
	}
	for _, tt := range tests {
		r := mustRange(t, tt.in)
		want := Range{addr(tt.first), addr(tt.last)}
		if r != want {
			t.Errorf("ParseRange(%q) = %v; want %v", tt.in, r, want)
		}
		if !r.IsValid() {
			t.Errorf("ParseRange(%q).IsValid() = false", tt.in)
		}
		if got := r.String(); got != tt.str {
			t.Errorf("ParseRange(%q).String() = %q; want %q", tt.in, got, tt.str)
		}
		if back := mustRange(t, r.String()); back != r {
			t.Errorf("ParseRange(%q) = %v; want %v", r.String(), back, r)
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "invalid range"},
		{"10.0.0.0/33", "invalid range \"10.0.0.0/33\""},
		{"10.0.0.1/8", "host bits set (did you mean 10.0.0.0/8?)"},
		{"10.0.0.9-10.0.0.1", "after the last"},
		{"10.0.0.1-::1", "mixes IPv4 and IPv6"},
		{"fe80::1%eth0", "zones"},
		{"10.0.0.1-", "invalid range"},
		{"1.2.3", "invalid range"},
		{"10.0.0.0/8-10.1.0.0", "invalid range"},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.in)
		if err == nil {
			t.Errorf("ParseRange(%q) = %v, nil; want error", tt.in, r)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRange(%q) error = %q; want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		hostBits bool
		err      string
	}{
		{"10.0.0.0/8", "10.0.0.0/8", false, ""},
		{"10.1.2.3/8", "10.0.0.0/8", true, ""},
		{"0.0.0.0/0", "0.0.0.0/0", false, ""},
		{"1.2.3.4/32", "1.2.3.4/32", false, ""},
		{"2001:db8::1/32", "2001:db8::/32", true, ""},
		{"::/0", "::/0", false, ""},
		{"10.0.0.0/33", "", false, `invalid CIDR "10.0.0.0/33": `},
		{"10.0.0.0", "", false, `invalid CIDR "10.0.0.0": `},
		{"::ffff:10.0.0.0/104", "", false, "IPv4-mapped"},
		{"fe80::%eth0/64", "", false, `invalid CIDR "fe80::%eth0/64"`},
		{"", "", false, `invalid CIDR ""`},
	}
	for _, tt := range tests {
		p, hb, err := ParseCIDR(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseCIDR(%q) = %v, %v, %v; want error containing %q", tt.in, p, hb, err, tt.err)
			}
			continue
		}
		if err != nil || p.String() != tt.want || hb != tt.hostBits {
			t.Errorf("ParseCIDR(%q) = %v, %v, %v; want %v, %v, nil", tt.in, p, hb, err, tt.want, tt.hostBits)
		}
	}
}

func TestRangeOf(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"10.1.2.3/8", "10.0.0.0-10.255.255.255"},
		{"0.0.0.0/0", "0.0.0.0-255.255.255.255"},
		{"255.255.255.255/32", "255.255.255.255-255.255.255.255"},
		{"::/0", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8::/64", "2001:db8::-2001:db8::ffff:ffff:ffff:ffff"},
		{"2001:db8::/63", "2001:db8::-2001:db8:0:1:ffff:ffff:ffff:ffff"},
		{"2001:db8::/65", "2001:db8::-2001:db8::7fff:ffff:ffff:ffff"},
		{"::1/128", "::1-::1"},
	}
	for _, tt := range tests {
		got := RangeOf(netip.MustParsePrefix(tt.prefix))
		if want := mustRange(t, tt.want); got != want {
			t.Errorf("RangeOf(%s) = %v-%v; want %v-%v", tt.prefix, got.First, got.Last, want.First, want.Last)
		}
	}
	if got := RangeOf(netip.Prefix{}); got.IsValid() {
		t.Errorf("RangeOf(invalid) = %v; want invalid", got)
	}
	if got, want := RangeOf(netip.MustParsePrefix("::ffff:10.0.0.0/104")), mustRange(t, "::ffff:10.0.0.0-::ffff:10.255.255.255"); got != want || got.Is4() {
		t.Errorf("RangeOf(::ffff:10.0.0.0/104) = %v; want %v (IPv6)", got, want)
	}
}

func TestRangePredicates(t *testing.T) {
	r := mustRange(t, "10.0.0.0/8")
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"Is4 v4", r.Is4(), true},
		{"Is4 v6", mustRange(t, "::/0").Is4(), false},
		{"Contains first", r.Contains(addr("10.0.0.0")), true},
		{"Contains last", r.Contains(addr("10.255.255.255")), true},
		{"Contains after", r.Contains(addr("11.0.0.0")), false},
		{"Contains before", r.Contains(addr("9.255.255.255")), false},
		{"Contains mapped", r.Contains(addr("::ffff:10.0.0.1")), false},
		{"Contains v6", mustRange(t, "::/0").Contains(addr("10.0.0.1")), false},
		{"ContainsRange sub", r.ContainsRange(mustRange(t, "10.1.0.0/16")), true},
		{"ContainsRange self", r.ContainsRange(r), true},
		{"ContainsRange wider", r.ContainsRange(mustRange(t, "10.0.0.0/7")), false},
		{"ContainsRange other family", mustRange(t, "0.0.0.0/0").ContainsRange(mustRange(t, "::/0")), false},
		{"ContainsRange v6 in v4 all", mustRange(t, "::/0").ContainsRange(mustRange(t, "0.0.0.0/0")), false},
		{"Overlaps partial", r.Overlaps(mustRange(t, "10.255.255.255-11.0.0.5")), true},
		{"Overlaps adjacent", r.Overlaps(mustRange(t, "11.0.0.0/8")), false},
		{"Overlaps families", mustRange(t, "0.0.0.0/0").Overlaps(mustRange(t, "::/0")), false},
		{"Overlaps invalid", r.Overlaps(Range{}), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v; want %v", tt.name, tt.got, tt.want)
		}
	}
}

func setOf(t testing.TB, ss ...string) Set {
	var s Set
	for _, x := range ss {
		s = s.Add(mustRange(t, x))
	}
	return s
}

func rangesString(s Set) string { return s.String() }

func TestSetOps(t *testing.T) {
	tests := []struct {
		name string
		got  Set
		want string
	}{
		{"adjacent merge", setOf(t, "10.0.0.0/9", "10.128.0.0/9"), "10.0.0.0/8"},
		{"adjacent merge reverse", setOf(t, "10.128.0.0/9", "10.0.0.0/9"), "10.0.0.0/8"},
		{"overlap merge", setOf(t, "10.0.0.0/8", "10.1.0.0/16", "9.0.0.0-10.0.0.5"), "9.0.0.0-10.255.255.255"},
		{"families separate", setOf(t, "::/0", "0.0.0.0/0"), "0.0.0.0/0,::/0"},
		{"max not merged across families", setOf(t, "255.255.255.255", "::"), "255.255.255.255/32,::/128"},
		{"empty", Set{}, "empty"},
		{"subtract middle", setOf(t, "0.0.0.0/0").Subtract(setOf(t, "10.0.0.0/8")),
			"0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255"},
		{"subtract top", setOf(t, "0.0.0.0/0").Subtract(setOf(t, "255.255.255.255")), "0.0.0.0-255.255.255.254"},
		{"subtract bottom", setOf(t, "0.0.0.0/0").Subtract(setOf(t, "0.0.0.0")), "0.0.0.1-255.255.255.255"},
		{"subtract all v6", setOf(t, "::/0", "10.0.0.0/8").Subtract(setOf(t, "::/0")), "10.0.0.0/8"},
		{"subtract v6 max", setOf(t, "::/0").Subtract(setOf(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
			"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"},
		{"subtract two holes", setOf(t, "10.0.0.0/8").Subtract(setOf(t, "10.1.0.0/16", "10.3.0.0/16")),
			"10.0.0.0/16,10.2.0.0/16,10.4.0.0-10.255.255.255"},
		{"intersect", setOf(t, "10.0.0.0/8", "::/0").Intersect(setOf(t, "10.1.0.0/16", "2001:db8::/32", "11.0.0.0/8")),
			"10.1.0.0/16,2001:db8::/32"},
		{"intersect disjoint families", setOf(t, "0.0.0.0/0").Intersect(setOf(t, "::/0")), "empty"},
		{"invalid add ignored", Set{}.Add(Range{}), "empty"},
		{"FromRanges", FromRanges(mustRange(t, "::/0"), mustRange(t, "10.0.0.0/9"), Range{}, mustRange(t, "10.128.0.0/9")),
			"10.0.0.0/8,::/0"},
	}
	for _, tt := range tests {
		if got := rangesString(tt.got); got != tt.want {
			t.Errorf("%s = %s; want %s", tt.name, got, tt.want)
		}
		checkCanonical(t, tt.name, tt.got)
	}
	s := setOf(t, "10.0.0.0/8", "192.168.0.0/16", "::1")
	for _, c := range []struct {
		a    string
		want bool
	}{{"10.0.0.0", true}, {"10.255.255.255", true}, {"11.0.0.0", false}, {"192.168.3.4", true},
		{"::1", true}, {"::2", false}, {"0.0.0.0", false}, {"255.255.255.255", false}} {
		if got := s.Contains(addr(c.a)); got != c.want {
			t.Errorf("(%v).Contains(%s) = %v; want %v", s, c.a, got, c.want)
		}
	}
	rs := s.Ranges()
	rs[0] = Range{}
	if !s.Contains(addr("10.0.0.1")) {
		t.Errorf("Ranges returned a slice aliasing the set")
	}
	if !s.Equal(setOf(t, "192.168.0.0/16", "::1", "10.0.0.0/8")) || s.Equal(Set{}) || s.IsEmpty() || !(Set{}).IsEmpty() {
		t.Errorf("Equal/IsEmpty wrong on %v", s)
	}
}

func TestAtoms(t *testing.T) {
	tests := []struct {
		name   string
		bounds []string
		want   []string
	}{
		{"none", nil, []string{"0.0.0.0/0", "::/0"}},
		{"all", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0", "::/0"}},
		{"10/8", []string{"10.0.0.0/8"}, []string{"0.0.0.0-9.255.255.255", "10.0.0.0/8", "11.0.0.0-255.255.255.255", "::/0"}},
		{"nested", []string{"10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"},
			[]string{"0.0.0.0-9.255.255.255", "10.0.0.0/16", "10.1.0.0/16", "10.2.0.0-10.255.255.255", "11.0.0.0-255.255.255.255", "::/0"}},
		{"edges", []string{"255.255.255.255", "0.0.0.0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
			[]string{"0.0.0.0/32", "0.0.0.1-255.255.255.254", "255.255.255.255/32",
				"::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"}},
		{"mapped boundary", []string{"::1:0:0:0"}, []string{"0.0.0.0/0", "::/80", "::1:0:0:0/128",
			"::1:0:0:1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
		{"v6", []string{"2001:db8::/32"}, []string{"0.0.0.0/0", "::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
			"2001:db8::/32", "2001:db9::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
	}
	for _, tt := range tests {
		var bounds []Range
		for _, b := range tt.bounds {
			bounds = append(bounds, mustRange(t, b))
		}
		bounds = append(bounds, Range{}) // invalid ranges are ignored
		atoms := Atoms(bounds)
		var got []string
		for _, a := range atoms {
			got = append(got, a.String())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Atoms(%v) mismatch (-want +got):\n%s", tt.bounds, diff)
		}
		checkAtoms(t, atoms, bounds)
	}
}

// checkAtoms verifies the Atoms contract for atoms computed from bounds.
func checkAtoms(t *testing.T, atoms, bounds []Range) {
	t.Helper()
	if len(atoms) < 2 || atoms[0].First != min4 || atoms[len(atoms)-1].Last != max6 {
		t.Fatalf("Atoms(%v) = %v; does not cover both families", bounds, atoms)
	}
	for i, a := range atoms {
		if !a.IsValid() {
			t.Fatalf("Atoms(%v)[%d] = %v invalid", bounds, i, a)
		}
		if i > 0 {
			prev := atoms[i-1]
			if prev.Last.Next() != a.First && !(prev.Last == max4 && a.First == min6) {
				t.Fatalf("Atoms(%v): %v and %v are not consecutive", bounds, prev, a)
			}
		}
	}
	for _, b := range bounds {
		if !b.IsValid() {
			continue
		}
		first, last, ok := AtomSpan(atoms, b)
		if !ok || atoms[first].First != b.First || atoms[last].Last != b.Last {
			t.Fatalf("AtomSpan(atoms, %v) = %d, %d, %v; want the atoms covering it", b, first, last, ok)
		}
	}
}

func TestAtomSpan(t *testing.T) {
	atoms := Atoms([]Range{mustRange(t, "10.0.0.0/8"), mustRange(t, "10.1.0.0/16"), mustRange(t, "2001:db8::/32")})
	tests := []struct {
		r           string
		first, last int
		ok          bool
	}{
		{"0.0.0.0/0", 0, 4, true},
		{"10.0.0.0/8", 1, 3, true},
		{"10.1.0.0/16", 2, 2, true},
		{"10.1.0.0-255.255.255.255", 2, 4, true},
		{"::/0", 5, 7, true},
		{"2001:db8::/32", 6, 6, true},
		{"10.0.0.0/9", 0, 0, false},
		{"10.1.0.1-10.1.255.255", 0, 0, false},
		{"9.0.0.0/8", 0, 0, false},
	}
	for _, tt := range tests {
		first, last, ok := AtomSpan(atoms, mustRange(t, tt.r))
		if first != tt.first || last != tt.last || ok != tt.ok {
			t.Errorf("AtomSpan(atoms, %s) = %d, %d, %v; want %d, %d, %v", tt.r, first, last, ok, tt.first, tt.last, tt.ok)
		}
	}
	if _, _, ok := AtomSpan(atoms, Range{}); ok {
		t.Errorf("AtomSpan(atoms, Range{}) ok = true; want false")
	}
	if _, _, ok := AtomSpan(nil, mustRange(t, "::/0")); ok {
		t.Errorf("AtomSpan(nil, ::/0) ok = true; want false")
	}
}

// checkCanonical verifies the Set invariant.
func checkCanonical(t *testing.T, what string, s Set) {
	t.Helper()
	if s.r != nil && len(s.r) == 0 {
		t.Errorf("%s: empty non-nil slice", what)
	}
	for i, r := range s.r {
		if !r.IsValid() {
			t.Errorf("%s: invalid range %v", what, r)
		}
		if i > 0 {
			p := s.r[i-1]
			if p.Last.Compare(r.First) >= 0 || p.Last.Next() == r.First {
				t.Errorf("%s: ranges %v and %v not sorted, disjoint and non-adjacent", what, p, r)
			}
		}
	}
}

// Reference model: a set is a list of raw ranges (possibly overlapping), and membership of an
// address is "some raw range contains it". Set algebra is checked pointwise at every critical
// address (each bound, its neighbours, and the family edges), which is exhaustive because both
// sides are unions of intervals whose ends are among those bounds.

var refPoints4 = []string{"0.0.0.0", "0.0.0.1", "0.0.0.2", "9.255.255.255", "10.0.0.0", "10.0.0.1", "10.0.0.255",
	"10.0.1.0", "10.255.255.255", "11.0.0.0", "255.255.255.254", "255.255.255.255"}
var refPoints6 = []string{"::", "::1", "::2", "::ffff:255.255.255.255", "::1:0:0:0", "2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}

func randomRaw(rng *rand.Rand) []Range {
	var raw []Range
	for range rng.IntN(5) {
		pts := refPoints4
		if rng.IntN(3) == 0 {
			pts = refPoints6
		}
		a, b := addr(pts[rng.IntN(len(pts))]), addr(pts[rng.IntN(len(pts))])
		if a.Compare(b) > 0 {
			a, b = b, a
		}
		raw = append(raw, Range{a, b})
	}
	return raw
}

func rawHas(raw []Range, a netip.Addr) bool {
	for _, r := range raw {
		if r.First.BitLen() == a.BitLen() && r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0 {
			return true
		}
	}
	return false
}

func probes(raws ...[]Range) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	for _, s := range append(refPoints4, refPoints6...) {
		a := addr(s)
		add(a)
		add(a.Prev())
		add(a.Next())
	}
	for _, raw := range raws {
		for _, r := range raw {
			add(r.First)
			add(r.First.Prev())
			add(r.Last)
			add(r.Last.Next())
		}
	}
	return out
}

func TestAlgebraAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 500 {
		ra, rb := randomRaw(rng), randomRaw(rng)
		var a Set
		for _, r := range ra {
			a = a.Add(r)
		}
		b := FromRanges(rb...)
		ops := []struct {
			name string
			got  Set
			want func(x netip.Addr) bool
		}{
			{"Union", a.Union(b), func(x netip.Addr) bool { return rawHas(ra, x) || rawHas(rb, x) }},
			{"Intersect", a.Intersect(b), func(x netip.Addr) bool { return rawHas(ra, x) && rawHas(rb, x) }},
			{"Subtract", a.Subtract(b), func(x netip.Addr) bool { return rawHas(ra, x) && !rawHas(rb, x) }},
			{"b.Subtract", b.Subtract(a), func(x netip.Addr) bool { return rawHas(rb, x) && !rawHas(ra, x) }},
		}
		for _, op := range ops {
			checkCanonical(t, op.name, op.got)
			for _, x := range probes(ra, rb) {
				if got, want := op.got.Contains(x), op.want(x); got != want {
					t.Fatalf("case %d: %s(%v, %v) = %v; Contains(%v) = %v; want %v", i, op.name, a, b, op.got, x, got, want)
				}
			}
		}
		// ContainsRange against the pointwise model: membership only changes at probe points.
		u := a.Union(b)
		ps := probes(ra, rb)
		for range 20 {
			x, y := ps[rng.IntN(len(ps))], ps[rng.IntN(len(ps))]
			if x.BitLen() != y.BitLen() {
				continue
			}
			if x.Compare(y) > 0 {
				x, y = y, x
			}
			want := true
			for _, p := range ps {
				if p.BitLen() == x.BitLen() && x.Compare(p) <= 0 && p.Compare(y) <= 0 && !rawHas(ra, p) && !rawHas(rb, p) {
					want = false
				}
			}
			if got := u.ContainsRange(Range{x, y}); got != want {
				t.Fatalf("(%v).ContainsRange(%v-%v) = %v; want %v", u, x, y, got, want)
			}
		}
		if !a.Union(b).Equal(b.Union(a)) || !a.Intersect(b).Equal(b.Intersect(a)) {
			t.Fatalf("Union/Intersect not commutative on %v, %v", a, b)
		}
		if !a.Subtract(b).Union(a.Intersect(b)).Equal(a) {
			t.Fatalf("(a-b) ∪ (a∩b) != a for a=%v b=%v", a, b)
		}
		all := setOf(t, "0.0.0.0/0", "::/0")
		if !all.Subtract(all.Subtract(a)).Equal(a) {
			t.Fatalf("complement of complement of %v differs", a)
		}
		checkAtoms(t, Atoms(append(ra, rb...)), append(ra, rb...))
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.0.0.1-10.0.0.9", "10.0.0.1", "::/0", "2001:db8::/32",
		"0.0.0.0-255.255.255.255", "::ffff:1.2.3.4", "10.0.0.1/8", "1.2.3.4-::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		if !r.IsValid() {
			t.Fatalf("ParseRange(%q) = %#v; invalid", s, r)
		}
		str := r.String()
		back, err := ParseRange(str)
		if err != nil || back != r {
			t.Fatalf("ParseRange(%q) = %v, %v; want %v (from %q)", str, back, err, r, s)
		}
		if p, ok := r.Prefix(); ok && RangeOf(p) != r {
			t.Fatalf("RangeOf(%v) = %v; want %v", p, RangeOf(p), r)
		}
		atoms := Atoms([]Range{r})
		checkAtoms(t, atoms, []Range{r})
	})
}

func FuzzParseCIDR(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.1.2.3/8", "0.0.0.0/0", "::/0", "2001:db8::1/32", "10.0.0.0/33",
		"::ffff:10.0.0.0/104", "255.255.255.255/32"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, hostBits, err := ParseCIDR(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParseCIDR(%q) = %v; want a valid masked unmapped prefix", s, p)
		}
		back, hb, err := ParseCIDR(p.String())
		if err != nil || back != p || hb {
			t.Fatalf("ParseCIDR(%q) = %v, %v, %v; want %v, false, nil", p.String(), back, hb, err, p)
		}
		exact, err := netip.ParsePrefix(s)
		if err != nil || hostBits != (exact != exact.Masked()) || exact.Masked() != p {
			t.Fatalf("ParseCIDR(%q) = %v, hostBits %v; netip.ParsePrefix gives %v, %v", s, p, hostBits, exact, err)
		}
		r := RangeOf(p)
		if got, ok := r.Prefix(); !ok || got != p {
			t.Fatalf("RangeOf(%v).Prefix() = %v, %v; want %v, true", p, got, ok, p)
		}
		if rs, err := ParseRange(r.String()); err != nil || rs != r {
			t.Fatalf("ParseRange(%q) = %v, %v; want %v", r.String(), rs, err, r)
		}
	})
}

func BenchmarkAtoms(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var bounds []Range
	for range 1000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(rng.IntN(256)), byte(rng.IntN(256)), 0, 0}), 8+rng.IntN(9))
		bounds = append(bounds, RangeOf(p))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = Atoms(bounds)
	}
}
