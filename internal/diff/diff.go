// Package diff turns two reachability results into the changes a reviewer
// reads: which paths a change opens and closes, and what caused each.
package diff

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// Change is one pair whose allowed connections differ.
type Change struct {
	Src, Dst      reach.Endpoint
	Before, After connset.Set
	Opened        connset.Set // After minus Before
	Closed        connset.Set // Before minus After
	Causes        []Cause
}

// Cause is one reason for a change, located in the manifests.
type Cause struct {
	// Kind is one of the Cause* constants.
	Kind   string `json:"kind"`
	Policy string `json:"policy,omitempty"` // "ns/name"
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Path is the rule's field in the policy ("spec.egress[0]"), when the
	// cause is one rule; Line is then the rule's line when the source
	// writes it as evaluated, else the policy's.
	Path string `json:"path,omitempty"`
	Text string `json:"text"`
}

// Kinds of causes.
const (
	CausePolicyRule          = "policy-rule"          // a head rule allows it
	CauseRuleRemoved         = "rule-removed"         // a base rule allowed it and no longer does
	CausePolicyDeleted       = "policy-deleted"       // a base policy is gone
	CausePolicyAdded         = "policy-added"         // a new policy isolates a workload
	CausePolicyChanged       = "policy-changed"       // a policy no longer (or newly) selects a workload
	CauseWorkloadAdded       = "workload-added"       // an endpoint is new
	CauseWorkloadRemoved     = "workload-removed"     // an endpoint is gone
	CauseWorkloadRelabelled  = "workload-relabelled"  // an endpoint's labels changed
	CauseNamespaceRelabelled = "namespace-relabelled" // an endpoint's namespace labels changed
	CausePortsChanged        = "ports-changed"        // the destination's named ports changed
	CauseDenyRule            = "deny-rule"            // a head rule (admin, baseline, Cilium deny) denies it
	CauseDenyRemoved         = "deny-removed"         // a base rule denied it and no longer does
	CauseExposure            = "exposure"             // an Ingress or Route newly (or no longer) exposes the workload
)

// IsEndpointCause reports whether a cause kind is about an endpoint (a
// workload or namespace that changed) rather than a policy rule.
func IsEndpointCause(kind string) bool {
	switch kind {
	case CauseWorkloadAdded, CauseWorkloadRemoved, CauseWorkloadRelabelled, CauseNamespaceRelabelled, CausePortsChanged:
		return true
	}
	return false
}

// Changes attributes causes to the deltas between base and head.
func Changes(base, head *model.Cluster, deltas []reach.Delta) []Change {
	out := make([]Change, 0, len(deltas))
	for _, d := range deltas {
		c := Change{Src: d.Src, Dst: d.Dst, Before: d.Before, After: d.After,
			Opened: d.After.Subtract(d.Before), Closed: d.Before.Subtract(d.After)}
		c.Causes = causes(base, head, c)
		out = append(out, c)
	}
	return out
}

func causes(base, head *model.Cluster, c Change) []Cause {
	var out []Cause
	add := func(x Cause) {
		for _, y := range out {
			if y == x {
				return
			}
		}
		out = append(out, x)
	}
	for _, ep := range []reach.Endpoint{c.Src, c.Dst} {
		if ep.IsExternal() {
			continue
		}
		for _, x := range endpointCauses(base, head, ep.Workload, ep == c.Dst) {
			add(x)
		}
	}
	if c.Dst.IsDomain() {
		// Only Cilium and ClusterNetworkPolicy rules name domains; the
		// caller adds the policies of those kinds that changed.
		return out
	}
	bex := reach.Explain(base, c.Src, c.Dst)
	hex := reach.Explain(head, c.Src, c.Dst)
	for _, pair := range [][2]*reach.Direction{{bex.Egress, hex.Egress}, {bex.Ingress, hex.Ingress}} {
		bd, hd := pair[0], pair[1]
		if bd == nil || hd == nil {
			// The workload exists on one side only: its own cause says so,
			// and the other side's rules explain the rest.
			if hd != nil && !c.Opened.IsEmpty() {
				for _, m := range hd.Matches {
					if !m.Conns.Intersect(c.Opened).IsEmpty() {
						add(ruleCause(CausePolicyRule, m, "allows"))
					}
				}
			}
			continue
		}
		if !c.Opened.IsEmpty() {
			if bd.Isolated && !hd.Isolated {
				for _, p := range bd.Selecting {
					add(unselectCause(head, p, bd.Workload, "no longer isolates"))
				}
			}
			for _, m := range hd.Matches {
				if !m.Conns.Intersect(c.Opened).IsEmpty() && !sameMatch(bd.Matches, m) {
					add(ruleCause(CausePolicyRule, m, "allows"))
				}
			}
		}
		if !c.Closed.IsEmpty() {
			if !bd.Isolated && hd.Isolated {
				for _, p := range hd.Selecting {
					kind := CausePolicyAdded
					if findPolicy(base, p.Key()) != nil {
						kind = CausePolicyChanged
					}
					add(Cause{Kind: kind, Policy: p.Key(), File: p.Source.File, Line: p.Source.Line,
						Text: fmt.Sprintf("%s now isolates %s", p.Key(), hd.Workload)})
				}
			}
			for _, m := range bd.Matches {
				if !m.Conns.Intersect(c.Closed).IsEmpty() && !sameMatch(hd.Matches, m) {
					if findPolicy(head, m.Policy.Key()) == nil {
						add(Cause{Kind: CausePolicyDeleted, Policy: m.Policy.Key(), File: m.Policy.Source.File,
							Line: m.Policy.Source.Line, Text: fmt.Sprintf("%s was deleted; %s allowed %s", m.Policy.Key(), m, m.Conns)})
						continue
					}
					add(ruleCause(CauseRuleRemoved, m, "no longer allows; it allowed"))
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return causeRank(out[i].Kind) < causeRank(out[j].Kind) })
	return out
}

func causeRank(kind string) int {
	switch kind {
	case CausePolicyRule, CauseRuleRemoved:
		return 0
	case CausePolicyDeleted, CausePolicyAdded, CausePolicyChanged:
		return 1
	default:
		return 2
	}
}

func ruleCause(kind string, m reach.RuleMatch, verb string) Cause {
	dir := "ingress"
	if m.Egress {
		dir = "egress"
	}
	return Cause{Kind: kind, Policy: m.Policy.Key(), File: m.Policy.Source.File, Line: m.Policy.Source.Line,
		Path: fmt.Sprintf("spec.%s[%d]", dir, m.Rule), Text: fmt.Sprintf("%s %s %s%s", m, verb, m.Conns, breadth(m))}
}

// breadth says when a rule has no peers at all, the change reviewers most
// often misread: removing `to` (or `from`) widens a rule to every peer.
func breadth(m reach.RuleMatch) string {
	rules := m.Policy.IngressRules
	if m.Egress {
		rules = m.Policy.EgressRules
	}
	for _, r := range rules {
		if r.Index != m.Rule || !r.AllPeers {
			continue
		}
		if m.Egress {
			return " to every destination, in the cluster and outside (the rule has no `to`)"
		}
		return " from every source, in the cluster and outside (the rule has no `from`)"
	}
	return ""
}

func unselectCause(head *model.Cluster, p *model.Policy, workload, verb string) Cause {
	if hp := findPolicy(head, p.Key()); hp != nil {
		return Cause{Kind: CausePolicyChanged, Policy: p.Key(), File: hp.Source.File, Line: hp.Source.Line,
			Text: fmt.Sprintf("%s %s %s", p.Key(), verb, workload)}
	}
	return Cause{Kind: CausePolicyDeleted, Policy: p.Key(), File: p.Source.File, Line: p.Source.Line,
		Text: fmt.Sprintf("%s was deleted; it isolated %s", p.Key(), workload)}
}

func sameMatch(ms []reach.RuleMatch, m reach.RuleMatch) bool {
	for _, x := range ms {
		if x.Policy.Key() == m.Policy.Key() && x.Egress == m.Egress && x.Rule == m.Rule && x.Conns.Equal(m.Conns) {
			return true
		}
	}
	return false
}

func findPolicy(c *model.Cluster, key string) *model.Policy {
	ns, name, _ := strings.Cut(key, "/")
	for _, p := range c.PoliciesIn(ns) {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// endpointCauses reports what happened to a workload itself between base
// and head: added, removed, relabelled, its namespace relabelled, its ports.
func endpointCauses(base, head *model.Cluster, key string, isDst bool) []Cause {
	bw, hw := base.Workload(key), head.Workload(key)
	switch {
	case bw == nil && hw != nil:
		return []Cause{{Kind: CauseWorkloadAdded, File: hw.Source.File, Line: hw.Source.Line, Text: key + " is new"}}
	case bw != nil && hw == nil:
		return []Cause{{Kind: CauseWorkloadRemoved, File: bw.Source.File, Line: bw.Source.Line, Text: key + " was removed"}}
	case bw == nil:
		return nil
	}
	var out []Cause
	if !maps.Equal(bw.Labels, hw.Labels) {
		out = append(out, Cause{Kind: CauseWorkloadRelabelled, File: hw.Source.File, Line: hw.Source.Line,
			Text: fmt.Sprintf("%s labels: %s -> %s", key, labelText(bw.Labels), labelText(hw.Labels))})
	}
	if bn, hn := base.Namespace(bw.Namespace), head.Namespace(hw.Namespace); bn != nil && hn != nil && !maps.Equal(bn.Labels, hn.Labels) {
		out = append(out, Cause{Kind: CauseNamespaceRelabelled, File: hn.Source.File, Line: hn.Source.Line,
			Text: fmt.Sprintf("namespace %s labels: %s -> %s", hn.Name, labelText(bn.Labels), labelText(hn.Labels))})
	}
	if isDst && !samePorts(bw.Ports, hw.Ports) {
		out = append(out, Cause{Kind: CausePortsChanged, File: hw.Source.File, Line: hw.Source.Line,
			Text: key + " container ports changed"})
	}
	return out
}

func samePorts(a, b []model.ContainerPort) bool {
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

func labelText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		if k == model.NamespaceNameLabel {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + l[k]
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{" + strings.Join(parts, ",") + "}"
}
