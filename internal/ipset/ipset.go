// Package ipset represents IP address ranges and canonical sets of them (IPv4 and IPv6).
package ipset

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
)

// Range is a closed interval [First, Last] of addresses of one family: both netip.Addr are valid,
// have the same BitLen and no zone, and First <= Last. It is comparable and usable as a map key.
// The zero Range is invalid (see IsValid). An IPv4 address is always a 32-bit netip.Addr; an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv6 address like any other, since the IPv6
// space must be split anywhere (the atom before ::1:0:0:0 ends at ::ffff:255.255.255.255).
type Range struct{ First, Last netip.Addr }

var (
	min4 = netip.AddrFrom4([4]byte{})
	max4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	min6 = netip.IPv6Unspecified()
	max6 = netip.AddrFrom16([16]byte{
		255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})
)

// All4 returns the whole IPv4 address space, 0.0.0.0-255.255.255.255.
func All4() Range { return Range{min4, max4} }

// All6 returns the whole IPv6 address space, ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff.
func All6() Range { return Range{min6, max6} }

// validAddr reports whether a may bound a Range.
func validAddr(a netip.Addr) bool {
	return a.IsValid() && a.Zone() == ""
}

// IsValid reports whether r satisfies the Range invariant.
func (r Range) IsValid() bool {
	return validAddr(r.First) && validAddr(r.Last) &&
		r.First.BitLen() == r.Last.BitLen() && r.First.Compare(r.Last) <= 0
}

// RangeOf returns the range of the masked prefix p (the zero Range when p is invalid).
func RangeOf(p netip.Prefix) Range {
	if !p.IsValid() || !validAddr(p.Addr()) {
		return Range{}
	}
	p = p.Masked()
	n := p.Addr().BitLen()
	first := toU128(p.Addr())
	host := hostMask(n - p.Bits())
	return Range{p.Addr(), fromU128(first.or(host), n)}
}

// ParseRange reads "10.0.0.0/8", "10.0.0.1-10.0.0.9", "10.0.0.1", "::/0" or "2001:db8::/32",
// everything Range.String prints. A CIDR must not have host bits set (use ParseCIDR for
// NetworkPolicy input, which masks them). IPv4-mapped IPv6 addresses are read as IPv6.
func ParseRange(s string) (Range, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, fmt.Errorf("invalid range %q: %w", s, err)
		}
		if m := p.Masked(); m != p {
			return Range{}, fmt.Errorf("invalid range %q: host bits set (did you mean %s?)", s, m)
		}
		return RangeOf(p), nil
	}
	firstS, lastS, isRange := strings.Cut(s, "-")
	first, err := parseAddr(s, firstS)
	if err != nil {
		return Range{}, err
	}
	last := first
	if isRange {
		if last, err = parseAddr(s, lastS); err != nil {
			return Range{}, err
		}
		if first.BitLen() != last.BitLen() {
			return Range{}, fmt.Errorf("invalid range %q: mixes IPv4 and IPv6", s)
		}
		if first.Compare(last) > 0 {
			return Range{}, fmt.Errorf("invalid range %q: first address is after the last", s)
		}
	}
	return Range{first, last}, nil
}

func parseAddr(whole, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid range %q: %w", whole, err)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("invalid range %q: IPv6 zones are not supported", whole)
	}
	return a, nil
}

// ParseCIDR parses a NetworkPolicy ipBlock cidr or except. It accepts host bits set (Kubernetes
// does, and masks them) and returns the masked prefix with hostBits=true so the caller can warn.
// IPv4-mapped IPv6 prefixes are rejected.
func ParseCIDR(s string) (p netip.Prefix, hostBits bool, err error) {
	p, err = netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false, fmt.Errorf("invalid CIDR %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, false, fmt.Errorf("invalid CIDR %q: IPv4-mapped IPv6 addresses are not supported", s)
	}
	m := p.Masked()
	return m, m != p, nil
}

// Prefix returns the single prefix equal to r, and false when r is not exactly one prefix.
func (r Range) Prefix() (netip.Prefix, bool) {
	if !r.IsValid() {
		return netip.Prefix{}, false
	}
	first, last := toU128(r.First), toU128(r.Last)
	size := last.sub(first) // number of addresses minus one
	// r is a prefix iff size+1 is a power of two (size is all ones in its low bits) and First is
	// aligned on it. For the whole IPv6 space size+1 overflows to 0, which passes the test.
	if !size.and(size.add1()).isZero() || !first.and(size).isZero() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(r.First, r.First.BitLen()-size.onesCount()), true
}

// String prints a single CIDR when r is exactly one prefix ("10.0.0.0/8", "0.0.0.0/0", "::/0",
// "1.2.3.4/32"), otherwise "first-last" ("10.0.0.0-10.0.0.2"). An invalid range prints as
// "invalid range".
func (r Range) String() string {
	if !r.IsValid() {
		return "invalid range"
	}
	if p, ok := r.Prefix(); ok {
		return p.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// Is4 reports whether r is an IPv4 range.
func (r Range) Is4() bool { return r.First.Is4() }

// Contains reports whether a is in r. Families are distinct: 10.0.0.1 is not in ::/0, and
// ::ffff:10.0.0.1 is not in 10.0.0.0/8.
func (r Range) Contains(a netip.Addr) bool {
	return r.IsValid() && validAddr(a) && a.BitLen() == r.First.BitLen() &&
		r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

// ContainsRange reports whether every address of o is in r.
func (r Range) ContainsRange(o Range) bool {
	return r.IsValid() && o.IsValid() && r.First.Compare(o.First) <= 0 && o.Last.Compare(r.Last) <= 0
}

// Overlaps reports whether r and o share an address.
func (r Range) Overlaps(o Range) bool {
	return r.IsValid() && o.IsValid() && r.First.Compare(o.Last) <= 0 && o.First.Compare(r.Last) <= 0
}

// Set is a set of addresses. The zero value is the empty set.
//
// Invariant (canonical form): the ranges are valid, sorted (IPv4 before IPv6), disjoint and
// non-adjacent, so two equal sets have identical representation. A Set is immutable:
// operations return new sets and may share backing arrays with their operands, never written.
// Build a set with FromRanges (any order, overlaps allowed) or by chaining Add.
type Set struct {
	r []Range
}

// FromRanges returns the set of the union of rs. Invalid ranges are ignored.
func FromRanges(rs ...Range) Set {
	valid := make([]Range, 0, len(rs))
	for _, r := range rs {
		if r.IsValid() {
			valid = append(valid, r)
		}
	}
	slices.SortFunc(valid, func(a, b Range) int { return a.First.Compare(b.First) })
	return Set{r: mergeSorted(valid)}
}

// Add returns s ∪ {r}; an invalid r adds nothing.
func (s Set) Add(r Range) Set {
	if !r.IsValid() {
		return s
	}
	return s.Union(Set{r: []Range{r}})
}

// Union returns s ∪ t.
func (s Set) Union(t Set) Set {
	if len(t.r) == 0 {
		return s
	}
	if len(s.r) == 0 {
		return t
	}
	merged := make([]Range, 0, len(s.r)+len(t.r))
	i, j := 0, 0
	for i < len(s.r) || j < len(t.r) {
		if j >= len(t.r) || (i < len(s.r) && s.r[i].First.Compare(t.r[j].First) <= 0) {
			merged = append(merged, s.r[i])
			i++
		} else {
			merged = append(merged, t.r[j])
			j++
		}
	}
	return Set{r: mergeSorted(merged)}
}

// mergeSorted coalesces overlapping and adjacent ranges of rs (sorted by First) in place.
func mergeSorted(rs []Range) []Range {
	if len(rs) == 0 {
		return nil
	}
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.First.Compare(last.Last) <= 0 || last.Last.Next() == r.First {
			if r.Last.Compare(last.Last) > 0 {
				last.Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// Intersect returns s ∩ t.
func (s Set) Intersect(t Set) Set {
	var out []Range
	i, j := 0, 0
	for i < len(s.r) && j < len(t.r) {
		a, b := s.r[i], t.r[j]
		lo, hi := a.First, a.Last
		if b.First.Compare(lo) > 0 {
			lo = b.First
		}
		if b.Last.Compare(hi) < 0 {
			hi = b.Last
		}
		if lo.Compare(hi) <= 0 {
			out = append(out, Range{lo, hi})
		}
		if a.Last.Compare(b.Last) < 0 {
			i++
		} else {
			j++
		}
	}
	return Set{r: out}
}

// Subtract returns s \ t.
func (s Set) Subtract(t Set) Set {
	if len(s.r) == 0 || len(t.r) == 0 {
		return s
	}
	var out []Range
	j := 0
	for _, r := range s.r {
		lo, hi := r.First, r.Last
		for j < len(t.r) && t.r[j].Last.Compare(lo) < 0 {
			j++
		}
		done := false
		for k := j; k < len(t.r) && t.r[k].First.Compare(hi) <= 0; k++ {
			if t.r[k].First.Compare(lo) > 0 {
				out = append(out, Range{lo, t.r[k].First.Prev()})
			}
			next := t.r[k].Last.Next()
			if !next.IsValid() || next.BitLen() != lo.BitLen() || next.Compare(hi) > 0 {
				done = true
				break
			}
			lo = next
		}
		if !done {
			out = append(out, Range{lo, hi})
		}
	}
	return Set{r: out}
}

// Ranges returns a copy of the canonical ranges of s.
func (s Set) Ranges() []Range {
	if len(s.r) == 0 {
		return nil
	}
	return slices.Clone(s.r)
}

// Equal reports whether s and t hold the same addresses.
func (s Set) Equal(t Set) bool { return slices.Equal(s.r, t.r) }

// IsEmpty reports whether s holds no address.
func (s Set) IsEmpty() bool { return len(s.r) == 0 }

// Contains reports whether a is in s.
func (s Set) Contains(a netip.Addr) bool {
	i, found := slices.BinarySearchFunc(s.r, a, func(r Range, a netip.Addr) int {
		return r.Last.Compare(a)
	})
	if found {
		return s.r[i].Contains(a)
	}
	return i < len(s.r) && s.r[i].Contains(a)
}

// ContainsRange reports whether every address of r is in s (false for an invalid r).
func (s Set) ContainsRange(r Range) bool {
	if !r.IsValid() {
		return false
	}
	i, _ := slices.BinarySearchFunc(s.r, r.First, func(x Range, a netip.Addr) int {
		return x.Last.Compare(a)
	})
	return i < len(s.r) && s.r[i].ContainsRange(r)
}

// String prints the ranges of s comma-separated ("10.0.0.0/8,192.168.0.0-192.168.0.2"), or
// "empty" for the empty set.
func (s Set) String() string {
	if len(s.r) == 0 {
		return "empty"
	}
	parts := make([]string, len(s.r))
	for i, r := range s.r {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Atoms splits the whole address space (0.0.0.0-255.255.255.255 and ::-ffff:...:ffff) at the
// boundaries of every given range: the result is sorted (IPv4 first), disjoint, covers both
// families entirely, and each valid input range is exactly a union of consecutive atoms. With no
// input it returns the two whole families. Invalid ranges are ignored.
func Atoms(bounds []Range) []Range {
	starts := make([]netip.Addr, 0, 2*len(bounds)+2)
	starts = append(starts, min4, min6)
	for _, r := range bounds {
		if !r.IsValid() {
			continue
		}
		starts = append(starts, r.First)
		if n := r.Last.Next(); n.IsValid() {
			starts = append(starts, n)
		}
	}
	slices.SortFunc(starts, netip.Addr.Compare)
	starts = slices.Compact(starts)
	atoms := make([]Range, len(starts))
	for i, a := range starts {
		var last netip.Addr
		switch {
		case i+1 < len(starts) && starts[i+1].BitLen() == a.BitLen():
			last = starts[i+1].Prev()
		case a.Is4():
			last = max4
		default:
			last = max6
		}
		atoms[i] = Range{a, last}
	}
	return atoms
}

// AtomSpan finds the atoms that make up r: atoms[first..last] (inclusive) when r is exactly their
// union. atoms must be sorted, disjoint and gapless within each family, as Atoms returns; ok is
// false when r does not start and end on atom boundaries. It uses binary search.
func AtomSpan(atoms []Range, r Range) (first, last int, ok bool) {
	if !r.IsValid() {
		return 0, 0, false
	}
	first, found := slices.BinarySearchFunc(atoms, r.First, func(a Range, x netip.Addr) int {
		return a.First.Compare(x)
	})
	if !found {
		return 0, 0, false
	}
	last, found = slices.BinarySearchFunc(atoms, r.Last, func(a Range, x netip.Addr) int {
		return a.Last.Compare(x)
	})
	if !found || last < first {
		return 0, 0, false
	}
	return first, last, true
}

// u128 is an address as a 128-bit unsigned integer (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var v u128
	for i := range 8 {
		v.hi = v.hi<<8 | uint64(b[i])
		v.lo = v.lo<<8 | uint64(b[8+i])
	}
	return v
}

func fromU128(v u128, bitLen int) netip.Addr {
	if bitLen == 32 {
		return netip.AddrFrom4([4]byte{byte(v.lo >> 24), byte(v.lo >> 16), byte(v.lo >> 8), byte(v.lo)})
	}
	var b [16]byte
	for i := range 8 {
		b[7-i] = byte(v.hi >> (8 * i))
		b[15-i] = byte(v.lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

// hostMask returns a value with the low n bits set (0 <= n <= 128).
func hostMask(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n < 64:
		return u128{0, 1<<uint(n) - 1}
	case n < 128:
		return u128{1<<uint(n-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

func (v u128) or(w u128) u128  { return u128{v.hi | w.hi, v.lo | w.lo} }
func (v u128) and(w u128) u128 { return u128{v.hi & w.hi, v.lo & w.lo} }
func (v u128) isZero() bool    { return v.hi == 0 && v.lo == 0 }
func (v u128) onesCount() int  { return bits.OnesCount64(v.hi) + bits.OnesCount64(v.lo) }

func (v u128) add1() u128 {
	lo, carry := bits.Add64(v.lo, 1, 0)
	return u128{v.hi + carry, lo}
}

func (v u128) sub(w u128) u128 {
	lo, borrow := bits.Sub64(v.lo, w.lo, 0)
	hi, _ := bits.Sub64(v.hi, w.hi, borrow)
	return u128{hi, lo}
}
