package reach

import "slices"

// maskTable interns port masks so that egress rows are built from small
// ids instead of mask words. Id 0 is the empty mask. A table belongs to
// one goroutine; the masks it hands out are never modified.
type maskTable struct {
	masks  []bitset            // by id
	byHash map[uint64][]uint32 // content hash -> ids
	pairs  map[uint64]uint32   // (a, b) -> id of a OR b
	cache  [1024]pairEntry     // direct-mapped front of pairs
	ruleID []int32             // by rule id, rules without named ports: id, or -1 when not interned yet
}

type pairEntry struct {
	key uint64
	id  uint32
}

func newMaskTable(atoms, rules int) *maskTable {
	t := &maskTable{masks: []bitset{newBitset(atoms)}, byHash: map[uint64][]uint32{}, pairs: map[uint64]uint32{},
		ruleID: make([]int32, rules)}
	for i := range t.ruleID {
		t.ruleID[i] = -1
	}
	return t
}

func hashMask(m bitset) uint64 {
	h := uint64(14695981039346656037)
	for _, w := range m {
		h = (h ^ w) * 1099511628211
		h ^= h >> 29
	}
	return h
}

// intern returns the id of m (copied when new); nil is empty.
func (t *maskTable) intern(m bitset) uint32 {
	if m == nil || m.isEmpty() {
		return 0
	}
	h := hashMask(m)
	for _, id := range t.byHash[h] {
		if t.masks[id].equal(m) {
			return id
		}
	}
	id := uint32(len(t.masks))
	t.masks = append(t.masks, m.clone())
	t.byHash[h] = append(t.byHash[h], id)
	return id
}

// or returns the id of the union of masks a and b.
func (t *maskTable) or(a, b uint32) uint32 {
	if a == b || b == 0 {
		return a
	}
	if a == 0 {
		return b
	}
	if a > b {
		a, b = b, a
	}
	key := uint64(a)<<32 | uint64(b)
	slot := &t.cache[(key*0x9E3779B97F4A7C15)>>54]
	if slot.key == key && slot.id != 0 {
		return slot.id
	}
	id, ok := t.pairs[key]
	if !ok {
		id = t.intern(or2(t.masks[a], t.masks[b]))
		t.pairs[key] = id
	}
	*slot = pairEntry{key, id}
	return id
}

// rule returns the id of r's mask towards destination d; buf is scratch.
func (t *maskTable) rule(k *compiled, r *crule, d int, buf bitset) uint32 {
	if len(r.named) > 0 && k.resolves(r, d) {
		return t.intern(k.maskInto(buf, r, d))
	}
	if id := t.ruleID[r.id]; id >= 0 {
		return uint32(id)
	}
	id := t.intern(r.ports)
	t.ruleID[r.id] = int32(id)
	return id
}

// egBuilder is an egress row under construction, over a mask table.
type egBuilder struct {
	t     *maskTable
	srcs  []int32
	idx   []uint32
	masks []bitset
	gen   uint32
	stamp []uint32 // by mask id: gen when the id got a row index
	local []uint32 // by mask id: its index in masks
	slab  []uint32 // rows' srcs and idx are cut from it
}

func (eb *egBuilder) reset() {
	eb.srcs, eb.idx, eb.masks = eb.srcs[:0], eb.idx[:0], eb.masks[:0]
	eb.gen++
}

// add appends source s (greater than the sources before it) with the
// non-empty mask id.
func (eb *egBuilder) add(s int32, id uint32) {
	if int(id) >= len(eb.stamp) {
		n := len(eb.t.masks) + 64
		eb.stamp = append(eb.stamp, make([]uint32, n-len(eb.stamp))...)
		eb.local = append(eb.local, make([]uint32, n-len(eb.local))...)
	}
	if eb.stamp[id] != eb.gen {
		eb.stamp[id] = eb.gen
		eb.local[id] = uint32(len(eb.masks))
		eb.masks = append(eb.masks, eb.t.masks[id])
	}
	eb.srcs = append(eb.srcs, s)
	eb.idx = append(eb.idx, eb.local[id])
}

// row copies the row out of the builder (nil when empty).
func (eb *egBuilder) row() *egRow {
	if len(eb.srcs) == 0 {
		return nil
	}
	n := len(eb.srcs)
	if len(eb.slab) < 2*n {
		eb.slab = make([]uint32, max(2*n, 1<<16))
	}
	srcs, idx := eb.slab[:n:n], eb.slab[n:2*n:2*n]
	eb.slab = eb.slab[2*n:]
	for i, s := range eb.srcs {
		srcs[i] = uint32(s)
	}
	copy(idx, eb.idx)
	return &egRow{srcs: srcs, idx: idx, masks: slices.Clone(eb.masks)}
}
