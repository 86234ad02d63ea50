// Package connset represents sets of (protocol, port) pairs in one canonical form.
package connset

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Protocol is a transport protocol; the order SCTP < TCP < UDP is the printing order.
type Protocol uint8

// The protocols of a NetworkPolicy port, in printing order.
const (
	SCTP Protocol = iota
	TCP
	UDP
)

// numProtocols is the number of valid protocols.
const numProtocols = 3

// Protocols lists every protocol in printing order.
var Protocols = [numProtocols]Protocol{SCTP, TCP, UDP}

// MaxPort is the highest port; ports are 1..MaxPort (port 0 is not part of the universe).
const MaxPort = 65535

// ParseProtocol reads "TCP", "UDP" or "SCTP", in any letter case. The empty string is an error:
// callers that default to TCP must do so themselves.
func ParseProtocol(s string) (Protocol, error) {
	switch {
	case strings.EqualFold(s, "TCP"):
		return TCP, nil
	case strings.EqualFold(s, "UDP"):
		return UDP, nil
	case strings.EqualFold(s, "SCTP"):
		return SCTP, nil
	case s == "":
		return 0, errors.New("empty protocol")
	}
	return 0, fmt.Errorf("unknown protocol %q (want TCP, UDP or SCTP)", s)
}

// String returns "SCTP", "TCP" or "UDP" ("Protocol(N)" for an invalid value).
func (p Protocol) String() string {
	switch p {
	case SCTP:
		return "SCTP"
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "Protocol(" + strconv.Itoa(int(p)) + ")"
}

// valid reports whether p is one of SCTP, TCP, UDP.
func (p Protocol) valid() bool { return p < numProtocols }

// PortRange is a closed range of ports, 1 <= Lo <= Hi <= 65535.
type PortRange struct{ Lo, Hi uint16 }

// String prints "80" for a single port and "80-90" for a range.
func (r PortRange) String() string {
	return string(r.appendTo(nil))
}

func (r PortRange) appendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(r.Lo), 10)
	if r.Hi != r.Lo {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(r.Hi), 10)
	}
	return b
}

// Set is a set of (protocol, port) pairs. The zero value is the empty set.
//
// Invariant (canonical form): for each protocol the ranges are sorted, non-overlapping and
// non-adjacent (r[i].Hi+1 < r[i+1].Lo), and a protocol without ports has a nil slice, so two
// equal sets have identical representation and Equal is exact. A Set is immutable: operations
// return new sets and may share backing arrays with their operands, which are never written.
type Set struct {
	r [numProtocols][]PortRange
}

// fullRanges is the canonical range list of a protocol with every port; shared, never written.
var fullRanges = []PortRange{{1, MaxPort}}

// All returns the set of every port 1-65535 of every protocol.
func All() Set {
	return Set{r: [numProtocols][]PortRange{fullRanges, fullRanges, fullRanges}}
}

// None returns the empty set (the same as the zero value).
func None() Set { return Set{} }

// Ports returns the set of ports lo..hi of protocol p. It clamps nothing: callers validate their
// input. An invalid protocol or range (lo == 0 or lo > hi) yields the empty set.
func Ports(p Protocol, lo, hi uint16) Set {
	var s Set
	if !p.valid() || lo == 0 || lo > hi {
		return s
	}
	if lo == 1 && hi == MaxPort {
		s.r[p] = fullRanges
	} else {
		s.r[p] = []PortRange{{lo, hi}}
	}
	return s
}

// AllPorts returns the set of every port of protocol p (empty for an invalid protocol).
func AllPorts(p Protocol) Set { return Ports(p, 1, MaxPort) }

// Union returns s ∪ t.
func (s Set) Union(t Set) Set {
	var out Set
	for p := range numProtocols {
		out.r[p] = unionRanges(s.r[p], t.r[p])
	}
	return out
}

// Intersect returns s ∩ t.
func (s Set) Intersect(t Set) Set {
	var out Set
	for p := range numProtocols {
		out.r[p] = intersectRanges(s.r[p], t.r[p])
	}
	return out
}

// Subtract returns s \ t.
func (s Set) Subtract(t Set) Set {
	var out Set
	for p := range numProtocols {
		out.r[p] = subtractRanges(s.r[p], t.r[p])
	}
	return out
}

// Equal reports whether s and t hold the same pairs.
func (s Set) Equal(t Set) bool {
	for p := range numProtocols {
		if !sameRanges(s.r[p], t.r[p]) {
			return false
		}
	}
	return true
}

// sameRanges reports whether two canonical lists are equal.
func sameRanges(a, b []PortRange) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// IsEmpty reports whether s holds no pair.
func (s Set) IsEmpty() bool {
	return len(s.r[0]) == 0 && len(s.r[1]) == 0 && len(s.r[2]) == 0
}

// IsAll reports whether s holds every port of every protocol.
func (s Set) IsAll() bool {
	for p := range numProtocols {
		if !isFull(s.r[p]) {
			return false
		}
	}
	return true
}

func isFull(rs []PortRange) bool {
	return len(rs) == 1 && rs[0] == PortRange{1, MaxPort}
}

// Ranges returns a copy of the canonical ranges of protocol p (nil when p has no port).
func (s Set) Ranges(p Protocol) []PortRange {
	if !p.valid() || len(s.r[p]) == 0 {
		return nil
	}
	return append([]PortRange(nil), s.r[p]...)
}

// Contains reports whether s holds (p, port).
func (s Set) Contains(p Protocol, port uint16) bool {
	if !p.valid() {
		return false
	}
	rs := s.r[p]
	// Binary search for the first range whose Hi >= port.
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rs[m].Hi < port {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(rs) && rs[lo].Lo <= port
}

// String prints the notation of np-guard/netpol-analyzer: "All Connections", "No Connections",
// or comma-joined protocol groups in the order SCTP, TCP, UDP with ports as merged ranges:
// "SCTP 1-9002,9004-65535,TCP 80,UDP 53". A protocol with every port prints as "TCP 1-65535".
func (s Set) String() string {
	if s.IsEmpty() {
		return "No Connections"
	}
	if s.IsAll() {
		return "All Connections"
	}
	var buf [64]byte
	return string(s.appendTo(buf[:0]))
}

// AppendText appends the String form of s to b (encoding.TextAppender).
func (s Set) AppendText(b []byte) ([]byte, error) {
	switch {
	case s.IsEmpty():
		return append(b, "No Connections"...), nil
	case s.IsAll():
		return append(b, "All Connections"...), nil
	}
	return s.appendTo(b), nil
}

func (s Set) appendTo(b []byte) []byte {
	first := true
	for p := range numProtocols {
		for i, r := range s.r[p] {
			if !first {
				b = append(b, ',')
			}
			first = false
			if i == 0 {
				b = append(b, Protocol(p).String()...)
				b = append(b, ' ')
			}
			b = r.appendTo(b)
		}
	}
	return b
}

// MarshalText returns the String form of s.
func (s Set) MarshalText() ([]byte, error) {
	return s.AppendText(nil)
}

// UnmarshalText sets *s from the String form, as Parse does.
func (s *Set) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Parse reads the notation printed by String. Tokens are separated by commas; a token
// "PROTO ports" starts a protocol group and a token of ports alone continues the previous
// protocol's ports ("TCP 80,443,UDP 53"). Ports are "N" or "N-M" with 1 <= N <= M <= 65535.
// Groups may come in any order, overlap or repeat; the result is canonical. The empty string is
// an error ("No Connections" is the empty set). Errors name the bad token.
func Parse(s string) (Set, error) {
	switch strings.TrimSpace(s) {
	case "All Connections":
		return All(), nil
	case "No Connections":
		return Set{}, nil
	case "":
		return Set{}, errors.New("parse connections: empty string")
	}
	var raw [numProtocols][]PortRange
	proto := -1
	rest := s
	for rest != "" || proto == -1 {
		tok := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
			if rest == "" {
				return Set{}, fmt.Errorf("parse connections %q: trailing comma", s)
			}
		} else {
			rest = ""
		}
		t := strings.TrimSpace(tok)
		ports := t
		if i := strings.IndexByte(t, ' '); i >= 0 {
			p, err := ParseProtocol(t[:i])
			if err != nil {
				return Set{}, fmt.Errorf("parse connections %q: token %q: %w", s, tok, err)
			}
			proto = int(p)
			ports = strings.TrimSpace(t[i+1:])
		} else if proto == -1 {
			return Set{}, fmt.Errorf("parse connections %q: token %q: ports without a protocol", s, tok)
		}
		r, err := parsePortRange(ports)
		if err != nil {
			return Set{}, fmt.Errorf("parse connections %q: token %q: %w", s, tok, err)
		}
		raw[proto] = append(raw[proto], r)
	}
	var out Set
	for p := range numProtocols {
		out.r[p] = normalize(raw[p])
	}
	return out, nil
}

// parsePortRange reads "N" or "N-M".
func parsePortRange(s string) (PortRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parsePort(lo)
	if err != nil {
		return PortRange{}, err
	}
	b := a
	if isRange {
		if b, err = parsePort(hi); err != nil {
			return PortRange{}, err
		}
		if a > b {
			return PortRange{}, fmt.Errorf("empty port range %d-%d", a, b)
		}
	}
	return PortRange{a, b}, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" || len(s) > 5 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad port %q", s)
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > MaxPort {
		return 0, fmt.Errorf("port %q out of range 1-65535", s)
	}
	return uint16(n), nil
}

// normalize sorts and merges rs in place into canonical form (nil when empty).
func normalize(rs []PortRange) []PortRange {
	if len(rs) == 0 {
		return nil
	}
	// Insertion sort: inputs are short and usually sorted already.
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Lo < rs[j-1].Lo; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if uint32(r.Lo) <= uint32(last.Hi)+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	if isFull(out) {
		return fullRanges
	}
	return out
}

// unionRanges merges two canonical lists. It returns an operand unchanged when the other is empty.
func unionRanges(a, b []PortRange) []PortRange {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	if isFull(a) {
		return a
	}
	if isFull(b) {
		return b
	}
	if sameRanges(a, b) {
		return a
	}
	out := make([]PortRange, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var r PortRange
		if j >= len(b) || (i < len(a) && a[i].Lo <= b[j].Lo) {
			r = a[i]
			i++
		} else {
			r = b[j]
			j++
		}
		if n := len(out); n > 0 && uint32(r.Lo) <= uint32(out[n-1].Hi)+1 {
			out[n-1].Hi = max(out[n-1].Hi, r.Hi)
		} else {
			out = append(out, r)
		}
	}
	if isFull(out) {
		return fullRanges
	}
	return out
}

// intersectRanges intersects two canonical lists.
func intersectRanges(a, b []PortRange) []PortRange {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	if isFull(a) {
		return b
	}
	if isFull(b) || sameRanges(a, b) {
		return a
	}
	var out []PortRange
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		lo, hi := max(a[i].Lo, b[j].Lo), min(a[i].Hi, b[j].Hi)
		if lo <= hi {
			out = append(out, PortRange{lo, hi})
		}
		if a[i].Hi < b[j].Hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// subtractRanges returns a \ b for canonical lists.
func subtractRanges(a, b []PortRange) []PortRange {
	if len(a) == 0 || len(b) == 0 {
		return a
	}
	var out []PortRange
	j := 0
	for _, r := range a {
		lo := uint32(r.Lo)
		hi := uint32(r.Hi)
		for j < len(b) && uint32(b[j].Hi) < lo {
			j++
		}
		k := j
		for ; k < len(b) && uint32(b[k].Lo) <= hi; k++ {
			if uint32(b[k].Lo) > lo {
				out = append(out, PortRange{uint16(lo), b[k].Lo - 1})
			}
			lo = uint32(b[k].Hi) + 1
			if lo > hi {
				break
			}
		}
		if lo <= hi {
			out = append(out, PortRange{uint16(lo), uint16(hi)})
		}
	}
	if isFull(out) {
		return fullRanges
	}
	return out
}
