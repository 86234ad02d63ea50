package report

import (
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// grouped merges, for display, the changes from one source to
// external ranges that changed alike (same connections, owner and causes)
// into one row whose destination names the whole set: "0.0.0.0/0 except
// 10.0.0.0/8, 192.0.2.0/24". The JSON report keeps one change per range.
func grouped(cs []Change) []Change {
	var out []Change
	var ranges [][]ipset.Range // by index in out; nil for workload rows
	for _, c := range cs {
		r, err := ipset.ParseRange(c.Dst)
		if err == nil {
			found := false
			for i := range out {
				if ranges[i] != nil && sameDisplay(out[i], c) {
					ranges[i] = append(ranges[i], r)
					found = true
					break
				}
			}
			if found {
				continue
			}
			out, ranges = append(out, c), append(ranges, []ipset.Range{r})
			continue
		}
		out, ranges = append(out, c), append(ranges, nil)
	}
	for i, rs := range ranges {
		if len(rs) > 1 {
			out[i].Dst = RangeSetString(rs)
		}
	}
	return out
}

func sameDisplay(a, b Change) bool {
	return a.Src == b.Src && a.Before == b.Before && a.After == b.After && a.Opened == b.Opened &&
		a.Closed == b.Closed && a.Subprocessor == b.Subprocessor && slices.Equal(a.Risk, b.Risk) &&
		slices.EqualFunc(a.Causes, b.Causes, func(x, y diff.Cause) bool { return x.Text == y.Text && x.File == y.File && x.Line == y.Line })
}

// RangeSetString prints a set of address ranges compactly: as a list, or as
// a family's whole space "except" the gaps when that is shorter.
func RangeSetString(rs []ipset.Range) string {
	set := ipset.FromRanges(rs...)
	var parts []string
	for _, fam := range []ipset.Range{ipset.All4(), ipset.All6()} {
		in := set.Intersect(ipset.FromRanges(fam)).Ranges()
		if len(in) == 0 {
			continue
		}
		gaps := ipset.FromRanges(fam).Subtract(set).Ranges()
		if len(gaps) < len(in) {
			s := fam.String()
			if len(gaps) > 0 {
				s += " except " + joinRanges(gaps)
			}
			parts = append(parts, s)
			continue
		}
		parts = append(parts, joinRanges(in))
	}
	return strings.Join(parts, ", ")
}

func joinRanges(rs []ipset.Range) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}
