package oracle

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// CompareOptions tunes Compare and CompareDiff.
type CompareOptions struct {
	// IgnoreIPv6 drops pairs whose external endpoint is IPv6 (the oracle cannot express IPv6).
	IgnoreIPv6 bool
	// IgnoreIngressController drops pairs with the "{ingress-controller}" endpoint.
	IgnoreIngressController bool
}

// point is one endpoint after expansion: a name, or the atoms lo..hi (lo == hi after expansion;
// lo < hi only when mismatches of consecutive atoms are merged for printing).
type point struct {
	name   string
	lo, hi int // atom indexes; -1 for a name
}

type pair struct{ src, dst point }

// splitter expands endpoints onto the common atoms of both sides.
type splitter struct {
	atoms []ipset.Range
	opts  CompareOptions
}

func newSplitter(ranges []ipset.Range, opts CompareOptions) *splitter {
	return &splitter{atoms: ipset.Atoms(ranges), opts: opts}
}

// expand returns the points of e, or an error for an endpoint that cannot be expanded.
func (s *splitter) expand(e Endpoint) ([]point, error) {
	if !e.IsExternal() {
		if s.opts.IgnoreIngressController && e.Name == IngressController {
			return nil, nil
		}
		return []point{{name: e.Name, lo: -1, hi: -1}}, nil
	}
	first, last, ok := ipset.AtomSpan(s.atoms, e.External)
	if !ok {
		return nil, fmt.Errorf("invalid external range (first %s, last %s)", e.External.First, e.External.Last)
	}
	var out []point
	for i := first; i <= last; i++ {
		if s.opts.IgnoreIPv6 && !s.atoms[i].Is4() {
			continue
		}
		out = append(out, point{lo: i, hi: i})
	}
	return out, nil
}

func (s *splitter) format(p point) string {
	if p.lo < 0 {
		return p.name
	}
	return ipset.Range{First: s.atoms[p.lo].First, Last: s.atoms[p.hi].Last}.String()
}

// expandPairs calls add for every (src atom, dst atom) pair of a line.
func (s *splitter) expandPairs(src, dst Endpoint, add func(pair)) error {
	sp, err := s.expand(src)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	dp, err := s.expand(dst)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	for _, a := range sp {
		for _, b := range dp {
			add(pair{a, b})
		}
	}
	return nil
}

func externalRanges[T any](items []T, ends func(T) (Endpoint, Endpoint)) []ipset.Range {
	var out []ipset.Range
	for _, it := range items {
		a, b := ends(it)
		for _, e := range []Endpoint{a, b} {
			if e.IsExternal() {
				out = append(out, e.External)
			}
		}
	}
	return out
}

// Compare compares two lists semantically: it splits the external ranges of both sides into
// common atoms (ipset.Atoms over all ranges of both), expands each line to its atoms, and
// compares the (src, dst) -> Conns maps. A missing pair means No Connections, so pairs whose
// Conns are empty are dropped; two lines for the same pair are united. It returns
// human-readable mismatch lines, sorted ("src => dst: got X; want Y"), with consecutive atoms
// of the same mismatch merged into one range; empty means equal. Lines that cannot be expanded
// (an invalid external range) are reported first, as "got line N: ...".
func Compare(got, want []Line, opts CompareOptions) []string {
	ends := func(l Line) (Endpoint, Endpoint) { return l.Src, l.Dst }
	s := newSplitter(append(externalRanges(got, ends), externalRanges(want, ends)...), opts)
	var problems []string
	build := func(side string, ls []Line) map[pair]connset.Set {
		m := make(map[pair]connset.Set)
		for i, l := range ls {
			err := s.expandPairs(l.Src, l.Dst, func(p pair) { m[p] = m[p].Union(l.Conns) })
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s line %d: %v", side, i+1, err))
			}
		}
		return m
	}
	gm, wm := build("got", got), build("want", want)
	slices.Sort(problems)
	var mm []mismatch
	for p, g := range gm {
		if w := wm[p]; !g.Equal(w) {
			mm = append(mm, mismatch{p, g.String(), w.String()})
		}
	}
	for p, w := range wm {
		if _, ok := gm[p]; !ok && !w.IsEmpty() {
			mm = append(mm, mismatch{p, connset.None().String(), w.String()})
		}
	}
	return append(problems, s.report(mm)...)
}

// CompareDiff compares two diffs the way Compare compares lists, with (Before, After) per pair.
// Pairs whose Before and After are both empty are dropped. It also reports lines whose Kind
// contradicts their sets ("added" needs an empty Before, "removed" an empty After, "changed"
// neither empty nor equal).
func CompareDiff(got, want []DiffLine, opts CompareOptions) []string {
	ends := func(l DiffLine) (Endpoint, Endpoint) { return l.Src, l.Dst }
	s := newSplitter(append(externalRanges(got, ends), externalRanges(want, ends)...), opts)
	type change struct{ before, after connset.Set }
	var problems []string
	build := func(side string, ls []DiffLine) map[pair]change {
		m := make(map[pair]change)
		for i, l := range ls {
			if msg := kindProblem(l); msg != "" {
				problems = append(problems, fmt.Sprintf("%s line %d (%s => %s): %s", side, i+1, l.Src, l.Dst, msg))
			}
			err := s.expandPairs(l.Src, l.Dst, func(p pair) {
				c := m[p]
				m[p] = change{c.before.Union(l.Before), c.after.Union(l.After)}
			})
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s line %d: %v", side, i+1, err))
			}
		}
		for p, c := range m {
			if c.before.IsEmpty() && c.after.IsEmpty() {
				delete(m, p)
			}
		}
		return m
	}
	gm, wm := build("got", got), build("want", want)
	str := func(c change) string { return c.before.String() + " -> " + c.after.String() }
	var mm []mismatch
	for p, g := range gm {
		w := wm[p]
		if !g.before.Equal(w.before) || !g.after.Equal(w.after) {
			mm = append(mm, mismatch{p, str(g), str(w)})
		}
	}
	for p, w := range wm {
		if _, ok := gm[p]; !ok {
			mm = append(mm, mismatch{p, str(change{}), str(w)})
		}
	}
	slices.Sort(problems)
	return append(problems, s.report(mm)...)
}

// kindProblem checks a diff line's Kind against its sets; "" when consistent or unknown.
func kindProblem(l DiffLine) string {
	switch l.Kind {
	case "added":
		if !l.Before.IsEmpty() || l.After.IsEmpty() {
			return fmt.Sprintf("diff-type added with ref1 %v, ref2 %v", l.Before, l.After)
		}
	case "removed":
		if l.Before.IsEmpty() || !l.After.IsEmpty() {
			return fmt.Sprintf("diff-type removed with ref1 %v, ref2 %v", l.Before, l.After)
		}
	case "changed":
		if l.Before.IsEmpty() || l.After.IsEmpty() || l.Before.Equal(l.After) {
			return fmt.Sprintf("diff-type changed with ref1 %v, ref2 %v", l.Before, l.After)
		}
	}
	return ""
}

type mismatch struct {
	p         pair
	got, want string
}

func comparePoint(a, b point) int {
	return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.lo, b.lo))
}

// mergeable reports whether b's atoms directly follow a's within one address family.
func (s *splitter) mergeable(a, b point) bool {
	return a.lo >= 0 && b.lo == a.hi+1 && s.atoms[a.hi].Is4() == s.atoms[b.lo].Is4()
}

// report merges mismatches of consecutive atoms (first along the destination, then along the
// source) and formats them, sorted.
func (s *splitter) report(mm []mismatch) []string {
	if len(mm) == 0 {
		return nil
	}
	// Along the destination.
	slices.SortFunc(mm, func(a, b mismatch) int {
		return cmp.Or(comparePoint(a.p.src, b.p.src), comparePoint(a.p.dst, b.p.dst))
	})
	merged := mm[:1]
	for _, m := range mm[1:] {
		last := &merged[len(merged)-1]
		if last.p.src == m.p.src && last.got == m.got && last.want == m.want && s.mergeable(last.p.dst, m.p.dst) {
			last.p.dst.hi = m.p.dst.hi
			continue
		}
		merged = append(merged, m)
	}
	// Along the source.
	mm = merged
	slices.SortFunc(mm, func(a, b mismatch) int {
		return cmp.Or(comparePoint(a.p.dst, b.p.dst), comparePoint(a.p.src, b.p.src))
	})
	merged = mm[:1]
	for _, m := range mm[1:] {
		last := &merged[len(merged)-1]
		if last.p.dst == m.p.dst && last.got == m.got && last.want == m.want && s.mergeable(last.p.src, m.p.src) {
			last.p.src.hi = m.p.src.hi
			continue
		}
		merged = append(merged, m)
	}
	out := make([]string, len(merged))
	for i, m := range merged {
		out[i] = fmt.Sprintf("%s => %s: got %s; want %s", s.format(m.p.src), s.format(m.p.dst), m.got, m.want)
	}
	slices.Sort(out)
	return out
}
