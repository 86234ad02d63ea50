package tiered

import (
	"fmt"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Step is one decision on the way to a direction's verdict: a rule that
// matched and what it decided, in evaluation order. Conns is the part of
// the traffic the step decided (what earlier steps left undecided).
type Step struct {
	// Tier is "admin", "NetworkPolicy", "baseline" or "default".
	Tier   string
	Policy string // "AdminNetworkPolicy name", "NetworkPolicy ns/name", ...
	Rule   string // "egress[0]", with the rule's name when it has one
	// Path is the rule's field in the policy: "spec.egress[0]",
	// "specs[1].egressDeny[0]".
	Path   string
	Action string // Allow, Deny or Pass
	Conns  connset.Set
	File   string
	Line   int
	// Text explains steps that no single rule makes.
	Text string
}

// Direction is the verdict of one end's policies, with its steps.
type Direction struct {
	Workload string
	Egress   bool
	Allowed  connset.Set
	Steps    []Step
}

// Explanation answers "why can src reach dst?" through the tiers.
type Explanation struct {
	Src, Dst string
	Allowed  connset.Set
	// Egress is the source's verdict (nil for an external source);
	// Ingress the destination's (nil for an external destination).
	Egress, Ingress *Direction
}

// Explain traces the verdicts of src's egress and dst's ingress.
func Explain(c *model.Cluster, src, dst Endpoint) Explanation { return newIndex(c).explain(src, dst) }

func (x *index) explain(src, dst Endpoint) Explanation {
	ex := Explanation{Src: src.String(), Dst: dst.String(), Allowed: x.conns(src, dst)}
	if src.Workload != nil && src.Workload == dst.Workload {
		return ex
	}
	if src.Workload != nil {
		d := &Direction{Workload: src.String(), Egress: true}
		d.Allowed = x.traced(src.Workload, true, x.peerOf(dst), &d.Steps)
		ex.Egress = d
	}
	if dst.Workload != nil {
		d := &Direction{Workload: dst.String()}
		d.Allowed = x.traced(dst.Workload, false, x.peerOf(src), &d.Steps)
		ex.Ingress = d
	}
	return ex
}

// ExplainExposure traces what the ingress controller reaches on w: the
// Ingresses and Routes exposing it, then w's ingress decisions for an
// arbitrary in-cluster workload.
func ExplainExposure(c *model.Cluster, w *model.Workload) Explanation {
	x := newIndex(c)
	d := &Direction{Workload: w.Key()}
	d.Allowed = x.tracedIngress(w, &d.Steps)
	return Explanation{Src: IngressController, Dst: w.Key(), Allowed: d.Allowed, Ingress: d}
}

func adminStep(ap *model.AdminPolicy, r model.AdminRule, egress bool, set connset.Set) Step {
	tier := "admin"
	if ap.Tier == model.TierBaseline {
		tier = "baseline"
	}
	dir := "ingress"
	if egress {
		dir = "egress"
	}
	rule := fmt.Sprintf("%s[%d]", dir, r.Index)
	if r.Name != "" {
		rule += fmt.Sprintf(" %q", r.Name)
	}
	action := r.Action.String()
	if ap.Kind == "ClusterNetworkPolicy" && r.Action == model.ActionAllow {
		action = "Accept"
	}
	return Step{Tier: tier, Policy: ap.Key(), Rule: rule, Path: fmt.Sprintf("spec.%s[%d]", dir, r.Index), Action: action, Conns: set,
		File: ap.Source.File, Line: ap.Source.Line}
}

func ciliumStep(s ciliumSpec, field string, r model.CiliumRule, action string, set connset.Set) Step {
	rule := fmt.Sprintf("%s[%d]", field, r.Index)
	path := "spec." + rule
	if s.spec.Index >= 0 {
		rule = fmt.Sprintf("specs[%d].%s", s.spec.Index, rule)
		path = rule
	}
	return Step{Tier: "NetworkPolicy", Policy: s.policy.Key(), Rule: rule, Path: path, Action: action, Conns: set,
		File: s.policy.Source.File, Line: s.policy.Source.Line}
}
