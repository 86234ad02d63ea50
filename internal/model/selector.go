package model

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Op is a label selector operator.
type Op uint8

// The operators of a label selector requirement; matchLabels entries are In
// with one value.
const (
	In Op = iota
	NotIn
	Exists
	DoesNotExist
)

var opNames = [...]string{In: "In", NotIn: "NotIn", Exists: "Exists", DoesNotExist: "DoesNotExist"}

func (o Op) String() string { return opNames[o] }

// Requirement is one compiled selector term.
type Requirement struct {
	Key    string
	Op     Op
	Values []string // sorted, deduplicated; empty for Exists and DoesNotExist
}

// Selector is a compiled label selector. Its requirements are sorted and
// deduplicated, so two selectors that mean the same have the same Key. The
// zero value (no requirements) matches everything, like `{}`.
type Selector struct {
	Reqs []Requirement
}

// Everything is the selector `{}`.
var Everything = Selector{}

// Matches reports whether labels satisfy every requirement.
//
// "matchLabels is a map of {key,value} pairs. A single {key,value} in the
// matchLabels map is equivalent to an element of matchExpressions, whose key
// field is "key", the operator is "In", and the values array contains only
// "value". The requirements are ANDed." (LabelSelector API reference)
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s.Reqs {
		v, ok := labels[r.Key]
		switch r.Op {
		case In:
			if !ok || !contains(r.Values, v) {
				return false
			}
		case NotIn:
			if ok && contains(r.Values, v) {
				return false
			}
		case Exists:
			if !ok {
				return false
			}
		case DoesNotExist:
			if ok {
				return false
			}
		}
	}
	return true
}

func contains(sorted []string, v string) bool {
	i := sort.SearchStrings(sorted, v)
	return i < len(sorted) && sorted[i] == v
}

// IsEverything reports whether the selector is `{}`.
func (s Selector) IsEverything() bool { return len(s.Reqs) == 0 }

// Key is the selector's canonical text, used to intern selectors:
// "app=web,tier in (a,b),!legacy".
func (s Selector) Key() string {
	if len(s.Reqs) == 0 {
		return "{}"
	}
	var b strings.Builder
	for i, r := range s.Reqs {
		if i > 0 {
			b.WriteByte(',')
		}
		switch r.Op {
		case In:
			if len(r.Values) == 1 {
				b.WriteString(r.Key + "=" + r.Values[0])
			} else {
				b.WriteString(r.Key + " in (" + strings.Join(r.Values, ",") + ")")
			}
		case NotIn:
			b.WriteString(r.Key + " notin (" + strings.Join(r.Values, ",") + ")")
		case Exists:
			b.WriteString(r.Key)
		case DoesNotExist:
			b.WriteString("!" + r.Key)
		}
	}
	return b.String()
}

// String prints the selector for people, like Key.
func (s Selector) String() string { return s.Key() }

// CompileSelector validates and compiles a Kubernetes label selector.
// A nil selector compiles to Everything; callers that give nil another
// meaning check for it first.
func CompileSelector(ls *metav1.LabelSelector) (Selector, error) {
	if ls == nil {
		return Everything, nil
	}
	var reqs []Requirement
	for k, v := range ls.MatchLabels {
		if err := validLabelKey(k); err != nil {
			return Selector{}, err
		}
		if err := validLabelValue(v); err != nil {
			return Selector{}, fmt.Errorf("matchLabels %q: %w", k, err)
		}
		reqs = append(reqs, Requirement{Key: k, Op: In, Values: []string{v}})
	}
	for _, e := range ls.MatchExpressions {
		if err := validLabelKey(e.Key); err != nil {
			return Selector{}, err
		}
		r := Requirement{Key: e.Key}
		switch e.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
			r.Op = In
			if e.Operator == metav1.LabelSelectorOpNotIn {
				r.Op = NotIn
			}
			if len(e.Values) == 0 {
				return Selector{}, fmt.Errorf("matchExpressions %q: operator %s needs values", e.Key, e.Operator)
			}
			for _, v := range e.Values {
				if err := validLabelValue(v); err != nil {
					return Selector{}, fmt.Errorf("matchExpressions %q: %w", e.Key, err)
				}
			}
			r.Values = dedupSorted(e.Values)
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			r.Op = Exists
			if e.Operator == metav1.LabelSelectorOpDoesNotExist {
				r.Op = DoesNotExist
			}
			if len(e.Values) != 0 {
				return Selector{}, fmt.Errorf("matchExpressions %q: operator %s takes no values", e.Key, e.Operator)
			}
		default:
			return Selector{}, fmt.Errorf("matchExpressions %q: unknown operator %q", e.Key, e.Operator)
		}
		reqs = append(reqs, r)
	}
	return normalize(reqs), nil
}

// normalize sorts requirements and merges exact duplicates.
func normalize(reqs []Requirement) Selector {
	sort.Slice(reqs, func(i, j int) bool {
		a, b := reqs[i], reqs[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Op != b.Op {
			return a.Op < b.Op
		}
		return strings.Join(a.Values, "\x00") < strings.Join(b.Values, "\x00")
	})
	out := reqs[:0]
	for i, r := range reqs {
		if i > 0 {
			p := out[len(out)-1]
			if p.Key == r.Key && p.Op == r.Op && strings.Join(p.Values, "\x00") == strings.Join(r.Values, "\x00") {
				continue
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return Everything
	}
	return Selector{Reqs: out}
}

func dedupSorted(vs []string) []string {
	out := append([]string(nil), vs...)
	sort.Strings(out)
	w := 0
	for i, v := range out {
		if i == 0 || v != out[w-1] {
			out[w] = v
			w++
		}
	}
	return out[:w]
}

// validLabelKey checks the syntax of a label key: an optional DNS subdomain
// prefix and "/", then a name of at most 63 characters of alphanumerics,
// '-', '_' and '.', starting and ending with an alphanumeric.
func validLabelKey(k string) error {
	name := k
	if i := strings.LastIndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if prefix == "" || len(prefix) > 253 || !isDNSSubdomain(prefix) {
			return fmt.Errorf("invalid label key %q: bad prefix", k)
		}
	}
	if name == "" || len(name) > 63 || !isLabelName(name) {
		return fmt.Errorf("invalid label key %q", k)
	}
	return nil
}

func validLabelValue(v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 63 || !isLabelName(v) {
		return fmt.Errorf("invalid label value %q", v)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLabelName(s string) bool {
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isDNSSubdomain(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 63 {
			return false
		}
		if !isAlnum(part[0]) || !isAlnum(part[len(part)-1]) {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
