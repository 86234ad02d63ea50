package reach

import "math/bits"

// bitset is a fixed-width set of small integers (workload ids, port atoms,
// external atoms). Operations assume equal widths.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)         { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) clear(i int)       { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b bitset) has(i int) bool    { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) clone() bitset     { return append(bitset(nil), b...) }
func (b bitset) copyFrom(o bitset) { copy(b, o) }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= o[i]
	}
}

func (b bitset) isEmpty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

func (b bitset) equal(o bitset) bool {
	if len(b) != len(o) {
		return false
	}
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// intersects reports whether b and o share an element.
func (b bitset) intersects(o bitset) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

// subsetOf reports whether every element of b is in o.
func (b bitset) subsetOf(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls f for every element in increasing order.
func (b bitset) each(f func(i int)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			f(wi<<6 | t)
			w &= w - 1
		}
	}
}

// fill sets elements 0..n-1.
func (b bitset) fill(n int) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := n & 63; r != 0 && len(b) > 0 {
		b[len(b)-1] = 1<<uint(r) - 1
	}
}

func and2(a, b bitset) bitset {
	out := make(bitset, len(a))
	for i := range a {
		out[i] = a[i] & b[i]
	}
	return out
}

func or2(a, b bitset) bitset {
	out := make(bitset, len(a))
	for i := range a {
		out[i] = a[i] | b[i]
	}
	return out
}

// list returns the elements in increasing order.
func (b bitset) list() []int {
	out := make([]int, 0, b.count())
	b.each(func(i int) { out = append(out, i) })
	return out
}

// slab hands out bitsets of one width cut from large blocks, for the many
// copies an incremental update makes. Blocks hold no pointers.
type slab struct {
	free []uint64
}

// clone returns a copy of b from the slab.
func (sl *slab) clone(b bitset) bitset {
	n := len(b)
	if n == 0 {
		return bitset{}
	}
	if len(sl.free) < n {
		sl.free = make([]uint64, max(n*64, 4096))
	}
	out := bitset(sl.free[:n:n])
	sl.free = sl.free[n:]
	copy(out, b)
	return out
}
