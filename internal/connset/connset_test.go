package connset

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProtocol(t *testing.T) {
	tests := []struct {
		in      string
		want    Protocol
		wantErr bool
	}{
		{"TCP", TCP, false},
		{"tcp", TCP, false},
		{"UDP", UDP, false},
		{"Udp", UDP, false},
		{"SCTP", SCTP, false},
		{"", 0, true},
		{"ICMP", 0, true},
		{" TCP", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseProtocol(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseProtocol(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if got := Protocol(7).String(); got != "Protocol(7)" {
		t.Errorf("Protocol(7).String() = %q; want %q", got, "Protocol(7)")
	}
}

func TestStringParse(t *testing.T) {
	tests := []struct {
		name string
		set  Set
		want string
	}{
		{"zero", Set{}, "No Connections"},
		{"none", None(), "No Connections"},
		{"all", All(), "All Connections"},
		{"one port", Ports(TCP, 80, 80), "TCP 80"},
		{"full tcp", AllPorts(TCP), "TCP 1-65535"},
		{"order", Ports(UDP, 53, 53).Union(Ports(TCP, 80, 80)).Union(Ports(SCTP, 9003, 9003)), "SCTP 9003,TCP 80,UDP 53"},
		{"hole", All().Subtract(Ports(SCTP, 9003, 9003)), "SCTP 1-9002,9004-65535,TCP 1-65535,UDP 1-65535"},
		{"merge adjacent", Ports(TCP, 80, 80).Union(Ports(TCP, 81, 90)).Union(Ports(TCP, 443, 443)), "TCP 80-90,443"},
		{"edges", Ports(TCP, 1, 1).Union(Ports(TCP, 65535, 65535)), "TCP 1,65535"},
		{"all but one", All().Subtract(Ports(TCP, 80, 80)), "SCTP 1-65535,TCP 1-79,81-65535,UDP 1-65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.String(); got != tt.want {
				t.Fatalf("String() = %q; want %q", got, tt.want)
			}
			back, err := Parse(tt.want)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.want, err)
			}
			if !back.Equal(tt.set) {
				t.Errorf("Parse(%q) = %v; want %v", tt.want, back, tt.set)
			}
			b, err := json.Marshal(tt.set)
			if err != nil {
				t.Fatalf("json.Marshal(%v): %v", tt.set, err)
			}
			if want := `"` + tt.want + `"`; string(b) != want {
				t.Errorf("json.Marshal(%v) = %s; want %s", tt.set, b, want)
			}
			var j Set
			if err := json.Unmarshal(b, &j); err != nil || !j.Equal(tt.set) {
				t.Errorf("json.Unmarshal(%s) = %v, %v; want %v", b, j, err, tt.set)
			}
		})
	}
}

func TestParseNonCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TCP 80,443,UDP 53", "TCP 80,443,UDP 53"},
		{"UDP 53,TCP 443,80", "TCP 80,443,UDP 53"},
		{"TCP 80-90,85-100,101", "TCP 80-101"},
		{"tcp 1-65535,UDP 1-65535,SCTP 1-65535", "All Connections"},
		{"TCP 1-100,TCP 101-65535", "TCP 1-65535"},
		{" TCP 80 , 81", "TCP 80-81"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, token string }{
		{"", ""},
		{"80", `"80"`},
		{"TCP 0", `"TCP 0"`},
		{"TCP 65536", `"TCP 65536"`},
		{"TCP 90-80", `"TCP 90-80"`},
		{"TCP 80,", "trailing comma"},
		{"TCP 80,,81", `""`},
		{"ICMP 1", `"ICMP 1"`},
		{"TCP 8a", `"TCP 8a"`},
		{"TCP -5", `"TCP -5"`},
		{"TCP 1-2-3", `"TCP 1-2-3"`},
		{"TCP", `"TCP"`},
		{"TCP 80 81", `"TCP 80 81"`},
		{"All connections", `"All connections"`},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, nil; want error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.token) {
			t.Errorf("Parse(%q) error = %q; want it to name %s", tt.in, err, tt.token)
		}
	}
}

func TestPortsAndContains(t *testing.T) {
	if s := Ports(TCP, 0, 10); !s.IsEmpty() {
		t.Errorf("Ports(TCP, 0, 10) = %v; want empty", s)
	}
	if s := Ports(TCP, 10, 9); !s.IsEmpty() {
		t.Errorf("Ports(TCP, 10, 9) = %v; want empty", s)
	}
	if s := Ports(Protocol(9), 1, 9); !s.IsEmpty() {
		t.Errorf("Ports(Protocol(9), 1, 9) = %v; want empty", s)
	}
	s := Ports(TCP, 80, 90).Union(Ports(TCP, 443, 443)).Union(Ports(UDP, 65535, 65535))
	tests := []struct {
		p    Protocol
		port uint16
		want bool
	}{
		{TCP, 79, false}, {TCP, 80, true}, {TCP, 85, true}, {TCP, 90, true}, {TCP, 91, false},
		{TCP, 443, true}, {TCP, 444, false}, {UDP, 65535, true}, {UDP, 65534, false},
		{SCTP, 80, false}, {TCP, 0, false}, {Protocol(5), 80, false},
	}
	for _, tt := range tests {
		if got := s.Contains(tt.p, tt.port); got != tt.want {
			t.Errorf("(%v).Contains(%v, %d) = %v; want %v", s, tt.p, tt.port, got, tt.want)
		}
	}
	if diff := cmp.Diff([]PortRange{{80, 90}, {443, 443}}, s.Ranges(TCP)); diff != "" {
		t.Errorf("Ranges(TCP) mismatch (-want +got):\n%s", diff)
	}
	r := s.Ranges(TCP)
	r[0].Lo = 1
	if s.Contains(TCP, 1) {
		t.Errorf("Ranges returned a slice aliasing the set")
	}
	if !All().IsAll() || All().IsEmpty() || !None().IsEmpty() || None().IsAll() || AllPorts(TCP).IsAll() {
		t.Errorf("IsAll/IsEmpty wrong on All/None/AllPorts")
	}
}

// bitmap is the naive reference: one bit per (protocol, port).
type bitmap [numProtocols][MaxPort/64 + 1]uint64

func (b *bitmap) set(p Protocol, port uint16)      { b[p][port/64] |= 1 << (port % 64) }
func (b *bitmap) has(p Protocol, port uint16) bool { return b[p][port/64]&(1<<(port%64)) != 0 }

func toBitmap(s Set) *bitmap {
	b := new(bitmap)
	for _, p := range Protocols {
		for _, r := range s.Ranges(p) {
			for port := uint32(r.Lo); port <= uint32(r.Hi); {
				if port%64 == 0 && port+63 <= uint32(r.Hi) {
					b[p][port/64] = ^uint64(0) // a whole word at once
					port += 64
					continue
				}
				b.set(p, uint16(port))
				port++
			}
		}
	}
	return b
}

func combine(a, b *bitmap, f func(x, y uint64) uint64) *bitmap {
	out := new(bitmap)
	for p := range numProtocols {
		for i := range a[p] {
			out[p][i] = f(a[p][i], b[p][i])
		}
	}
	return out
}

// checkCanonical verifies the representation invariant of s.
func checkCanonical(t *testing.T, what string, s Set) {
	t.Helper()
	for p := range numProtocols {
		rs := s.r[p]
		if rs != nil && len(rs) == 0 {
			t.Errorf("%s: protocol %v has an empty non-nil slice", what, Protocol(p))
		}
		for i, r := range rs {
			if r.Lo < 1 || r.Lo > r.Hi {
				t.Errorf("%s: bad range %v in %v", what, r, rs)
			}
			if i > 0 && uint32(rs[i-1].Hi)+1 >= uint32(r.Lo) {
				t.Errorf("%s: ranges not sorted, disjoint and non-adjacent: %v", what, rs)
			}
		}
	}
}

// randomSet builds a set from ranges whose bounds come from a small universe so that overlaps,
// adjacency and the edges 1 and 65535 are frequent.
func randomSet(rng *rand.Rand) Set {
	points := []uint16{1, 2, 3, 4, 5, 8, 9, 10, 79, 80, 81, 100, 65533, 65534, 65535}
	var s Set
	for range rng.IntN(5) {
		a, b := points[rng.IntN(len(points))], points[rng.IntN(len(points))]
		if a > b {
			a, b = b, a
		}
		s = s.Union(Ports(Protocol(rng.IntN(numProtocols)), a, b))
	}
	if rng.IntN(10) == 0 {
		s = s.Union(All())
	}
	return s
}

func TestAlgebraAgainstBitmap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 400 {
		a, b := randomSet(rng), randomSet(rng)
		ba, bb := toBitmap(a), toBitmap(b)
		ops := []struct {
			name string
			got  Set
			want *bitmap
		}{
			{"Union", a.Union(b), combine(ba, bb, func(x, y uint64) uint64 { return x | y })},
			{"Intersect", a.Intersect(b), combine(ba, bb, func(x, y uint64) uint64 { return x & y })},
			{"Subtract", a.Subtract(b), combine(ba, bb, func(x, y uint64) uint64 { return x &^ y })},
		}
		for _, op := range ops {
			what := a.String() + " " + op.name + " " + b.String()
			checkCanonical(t, what, op.got)
			if *toBitmap(op.got) != *op.want {
				t.Fatalf("case %d: (%v).%s(%v) = %v; differs from the bitmap reference", i, a, op.name, b, op.got)
			}
			back, err := Parse(op.got.String())
			if err != nil || !back.Equal(op.got) {
				t.Fatalf("Parse(%q) = %v, %v; want %v", op.got.String(), back, err, op.got)
			}
		}
		// Laws.
		if !a.Union(b).Equal(b.Union(a)) || !a.Intersect(b).Equal(b.Intersect(a)) {
			t.Fatalf("Union/Intersect not commutative on %v, %v", a, b)
		}
		if !a.Subtract(b).Union(a.Intersect(b)).Equal(a) {
			t.Fatalf("(a-b) ∪ (a∩b) != a for a=%v b=%v", a, b)
		}
		if !a.Subtract(b).Intersect(b).IsEmpty() {
			t.Fatalf("(a-b) ∩ b not empty for a=%v b=%v", a, b)
		}
		if !All().Subtract(All().Subtract(a)).Equal(a) {
			t.Fatalf("complement of complement of %v differs", a)
		}
		if a.IsAll() != (*toBitmap(a) == *toBitmap(All())) || a.IsEmpty() != (*toBitmap(a) == bitmap{}) {
			t.Fatalf("IsAll/IsEmpty wrong for %v", a)
		}
		for _, p := range Protocols {
			for _, port := range []uint16{1, 2, 9, 10, 80, 81, 65534, 65535} {
				if got, want := a.Contains(p, port), ba.has(p, port); got != want {
					t.Fatalf("(%v).Contains(%v, %d) = %v; want %v", a, p, port, got, want)
				}
			}
		}
	}
}

func TestOperandsUnchanged(t *testing.T) {
	a := Ports(TCP, 1, 10).Union(Ports(TCP, 20, 30))
	b := Ports(TCP, 5, 25)
	before := a.String() + "|" + b.String()
	_ = a.Union(b)
	_ = a.Intersect(b)
	_ = a.Subtract(b)
	_ = b.Subtract(a)
	if after := a.String() + "|" + b.String(); after != before {
		t.Errorf("operations changed their operands: %s; want %s", after, before)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"All Connections", "No Connections", "TCP 80", "SCTP 1-9002,9004-65535,TCP 80,UDP 53",
		"TCP 80,443,UDP 53", "UDP 1-65535,TCP 1-65535,SCTP 1-65535", "TCP 0", "TCP 65535,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := Parse(s)
		if err != nil {
			return
		}
		checkCanonical(t, "Parse("+s+")", set)
		str := set.String()
		back, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(String(Parse(%q))) = %q: error %v", s, str, err)
		}
		if !back.Equal(set) || back.String() != str {
			t.Fatalf("Parse(%q) = %v; want %v", str, back, set)
		}
	})
}

func BenchmarkString(b *testing.B) {
	s := All().Subtract(Ports(SCTP, 9003, 9003)).Subtract(Ports(TCP, 80, 80))
	b.ReportAllocs()
	for b.Loop() {
		_ = s.String()
	}
}

func BenchmarkUnion(b *testing.B) {
	x := Ports(TCP, 80, 80).Union(Ports(TCP, 443, 443)).Union(Ports(UDP, 53, 53))
	y := Ports(TCP, 8080, 8090).Union(Ports(UDP, 53, 53))
	b.ReportAllocs()
	for b.Loop() {
		_ = x.Union(y)
	}
}
