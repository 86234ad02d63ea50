package gate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// Path is one newly opened path, as the diff reports it.
type Path struct {
	// Src and Dst are the printed endpoints: "ns/name[Kind]",
	// "10.0.0.0/24", "{ingress-controller}".
	Src string `json:"src"`
	Dst string `json:"dst"`
	// SrcNamespace is "" when the source is not a workload.
	SrcNamespace string `json:"srcNamespace,omitempty"`
	// DstNamespace is "" when the destination is external.
	DstNamespace string `json:"dstNamespace,omitempty"`
	// External is set when the destination is an external address range.
	External bool `json:"external,omitempty"`
	// Internet is set when the destination range is (part of) "any
	// external host": 0.0.0.0/0, ::/0 or an egress rule without `to`.
	Internet bool `json:"internet,omitempty"`
	// Undeclared is set, by the inventory matcher, when the destination is
	// external and no sub-processor owns it.
	Undeclared bool `json:"undeclared,omitempty"`
	// Subprocessor names the vendor owning the destination, if any.
	Subprocessor string `json:"subprocessor,omitempty"`
	// Opened is what the change opens, in CONNS notation ("TCP 443").
	Opened string `json:"opened"`
	// PolicyFile and PolicyLine locate the head rule that opened the path,
	// when known.
	PolicyFile string `json:"policyFile,omitempty"`
	PolicyLine int    `json:"policyLine,omitempty"`
}

// Namespace is what the gate needs to know about one namespace at one
// revision.
type Namespace struct {
	Name   string
	Labels map[string]string
	// DefaultDenyIngress and DefaultDenyEgress are set when a policy
	// selects every pod of the namespace for that direction and allows
	// nothing.
	DefaultDenyIngress, DefaultDenyEgress bool
	// HasWorkloads is set when the namespace holds at least one workload.
	HasWorkloads bool
}

// Input is what the gate evaluates.
type Input struct {
	// Opened lists the paths the change newly opens.
	Opened []Path
	// BaseNamespaces and HeadNamespaces describe the namespaces at the two
	// revisions.
	BaseNamespaces, HeadNamespaces []Namespace
	// Labels are the PR's labels; a label "reachdiff-ack:<hash>"
	// acknowledges like a config entry.
	Labels []string
}

// AckLabelPrefix starts a PR label that acknowledges a violation or delta
// hash.
const AckLabelPrefix = "reachdiff-ack:"

// Violation is one rule broken by the change.
type Violation struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Path is the opened path concerned; nil for namespace rules.
	Path *Path `json:"path,omitempty"`
	// Namespace is the namespace concerned, for sensitive-ingress and
	// missing-default-deny.
	Namespace string `json:"namespace,omitempty"`
	// Hash is the acknowledgement hash of this violation (HashLen hex
	// digits, stable across runs and versions).
	Hash         string `json:"hash"`
	Acknowledged bool   `json:"acknowledged"`
	AckReason    string `json:"ackReason,omitempty"`
	// Fix says, in one sentence, what would make the check pass.
	Fix string `json:"fix"`
}

// The conclusions of the check.
const (
	Success = "success"
	Failure = "failure"
)

// Result is the gate's verdict.
type Result struct {
	// Conclusion is Success or Failure.
	Conclusion string `json:"conclusion"`
	// Violations are sorted by severity (errors first), rule, namespace,
	// source, destination and opened connections.
	Violations []Violation `json:"violations"`
	// DeltaHash acknowledges every violation of this change at once.
	DeltaHash string `json:"deltaHash"`
	// Notes are info-level findings that are not violations: namespaces
	// that already lacked default-deny before the change.
	Notes []diag.Diagnostic `json:"notes,omitempty"`
}

// Evaluate applies the rules of cfg (Default() when nil) to a change.
//
// Only violations whose severity is in cfg.FailOn ([error] when empty) and
// that no acknowledgement covers make the conclusion Failure. An
// acknowledgement, from the config or from a PR label, names either a
// violation hash or the delta hash; an acknowledged violation stays listed,
// marked with the reason.
func Evaluate(cfg *Config, in Input) Result {
	if cfg == nil {
		cfg = Default()
	}
	e := evaluator{cfg: cfg, in: in}
	e.paths()
	e.defaultDeny()
	res := Result{Conclusion: Success, DeltaHash: DeltaHash(in.Opened), Notes: e.notes}
	acks := ackIndex(cfg.Acknowledge, in.Labels)
	fail := map[Severity]bool{}
	for _, s := range cfg.FailOn {
		fail[s] = true
	}
	if len(fail) == 0 {
		fail[Error] = true
	}
	sortViolations(e.violations)
	seen := map[string]bool{}
	for _, v := range e.violations {
		if seen[v.Hash] {
			continue // the same path listed twice in the input
		}
		seen[v.Hash] = true
		if r, ok := acks[v.Hash]; ok {
			v.Acknowledged, v.AckReason = true, r
		} else if r, ok := acks[res.DeltaHash]; ok {
			v.Acknowledged, v.AckReason = true, r
		}
		if !v.Acknowledged && fail[v.Severity] {
			res.Conclusion = Failure
		}
		res.Violations = append(res.Violations, v)
	}
	diag.Sort(res.Notes)
	return res
}

// ackIndex maps each acknowledged hash to its reason. Config entries win
// over labels, the first entry over later ones.
func ackIndex(acks []Ack, labels []string) map[string]string {
	idx := map[string]string{}
	for _, a := range acks {
		h, ok := normalizeHash(a.Hash)
		if !ok {
			continue
		}
		if _, dup := idx[h]; !dup {
			idx[h] = a.Reason
		}
	}
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if len(l) < len(AckLabelPrefix) || !strings.EqualFold(l[:len(AckLabelPrefix)], AckLabelPrefix) {
			continue
		}
		h, ok := normalizeHash(l[len(AckLabelPrefix):])
		if !ok {
			continue
		}
		if _, dup := idx[h]; !dup {
			idx[h] = "PR label " + AckLabelPrefix + h
		}
	}
	return idx
}

type evaluator struct {
	cfg        *Config
	in         Input
	violations []Violation
	notes      []diag.Diagnostic
}

// severity returns the configured severity of a rule.
func (e *evaluator) severity(rule string) Severity {
	if rc, ok := e.cfg.Rules[rule]; ok && rc.Severity != "" {
		return rc.Severity
	}
	return defaultSeverity[rule]
}

func (e *evaluator) add(rule string, p *Path, ns, msg, fix string, hash string) {
	e.violations = append(e.violations, Violation{
		Rule:      rule,
		Severity:  e.severity(rule),
		Message:   msg,
		Path:      p,
		Namespace: ns,
		Hash:      hash,
		Fix:       fix + ", or acknowledge with hash " + hash,
	})
}

func (e *evaluator) paths() {
	head := map[string]Namespace{}
	for _, ns := range e.in.HeadNamespaces {
		head[ns.Name] = ns
	}
	labelKey, labelValue, labelOK := splitLabel(e.cfg.SensitiveNamespaceLabel)
	allow := map[string]bool{}
	for _, ns := range e.cfg.Rules[RuleSensitiveIngress].AllowFrom {
		allow[ns] = true
	}
	on := func(rule string) bool { return e.severity(rule) != Off }

	for i := range e.in.Opened {
		p := e.in.Opened[i] // a copy: violations never alias the input
		pp := &p
		at := "the rule that opens it"
		if p.PolicyFile != "" {
			at = "the rule at " + p.PolicyFile
			if p.PolicyLine > 0 {
				at += fmt.Sprintf(":%d", p.PolicyLine)
			}
		}
		hash := func(rule string) string { return ViolationHash(rule, p.Src, p.Dst, p.Opened) }

		if on(RuleUndeclaredEgress) && p.External && p.Undeclared {
			e.add(RuleUndeclaredEgress, pp, "",
				fmt.Sprintf("%s can newly reach %s (%s), which no sub-processor in the inventory owns", p.Src, p.Dst, p.Opened),
				e.undeclaredFix(p, at),
				hash(RuleUndeclaredEgress))
		}
		if on(RuleInternetEgress) && p.Internet {
			e.add(RuleInternetEgress, pp, "",
				fmt.Sprintf("%s can newly reach any external host via %s (%s)", p.Src, p.Dst, p.Opened),
				fmt.Sprintf("restrict %s to the address ranges the workload needs", at),
				hash(RuleInternetEgress))
		}
		if on(RuleSensitiveIngress) && labelOK && p.DstNamespace != "" && p.SrcNamespace != p.DstNamespace && !allow[p.SrcNamespace] {
			// An external or non-workload source has SrcNamespace "" and is
			// never in allowFrom, so it always counts as outside.
			if ns, ok := head[p.DstNamespace]; ok {
				if v, ok := ns.Labels[labelKey]; ok && v == labelValue {
					fix := fmt.Sprintf("narrow %s to sources inside %s", at, p.DstNamespace)
					if p.SrcNamespace != "" {
						fix += fmt.Sprintf(", add %s to allowFrom of %s in the gate config", p.SrcNamespace, RuleSensitiveIngress)
					}
					e.add(RuleSensitiveIngress, pp, p.DstNamespace,
						fmt.Sprintf("%s can newly reach %s (%s) in namespace %s, labelled sensitive (%s)", p.Src, p.Dst, p.Opened, p.DstNamespace, e.cfg.SensitiveNamespaceLabel),
						fix, hash(RuleSensitiveIngress))
				}
			}
		}
		if on(RuleNewCrossNamespace) && p.SrcNamespace != "" && p.DstNamespace != "" && p.SrcNamespace != p.DstNamespace {
			e.add(RuleNewCrossNamespace, pp, "",
				fmt.Sprintf("%s can newly reach %s (%s) across namespaces %s -> %s", p.Src, p.Dst, p.Opened, p.SrcNamespace, p.DstNamespace),
				fmt.Sprintf("if the path is not intended, narrow %s", at),
				hash(RuleNewCrossNamespace))
		}
	}
}

// undeclaredFix suggests declaring the range, except for "any external
// host", which no vendor owns: that rule has to be narrowed.
func (e *evaluator) undeclaredFix(p Path, at string) string {
	if p.Internet {
		return fmt.Sprintf("narrow %s to ranges declared in %s", at, e.inventoryFile())
	}
	return fmt.Sprintf("declare %s in %s, narrow %s", p.Dst, e.inventoryFile(), at)
}

func (e *evaluator) inventoryFile() string {
	if e.cfg.InventoryFile != "" {
		return e.cfg.InventoryFile
	}
	return DefaultInventoryFile
}

// defaultDeny checks that every namespace with workloads has default-deny
// ingress and egress. A gate that failed every PR of a repository that never
// had default-deny would be switched off, so the rule only fires for
// namespaces this change is responsible for: namespaces new in head (or
// getting their first workloads), and namespaces that lost default-deny in
// this change. Namespaces that already lacked it before are reported as
// info notes, not violations.
func (e *evaluator) defaultDeny() {
	if e.severity(RuleMissingDefaultDeny) == Off {
		return
	}
	base := map[string]Namespace{}
	for _, ns := range e.in.BaseNamespaces {
		base[ns.Name] = ns
	}
	seen := map[string]bool{}
	for _, h := range e.in.HeadNamespaces {
		if !h.HasWorkloads || (h.DefaultDenyIngress && h.DefaultDenyEgress) || seen[h.Name] {
			continue
		}
		seen[h.Name] = true
		var missing []string
		if !h.DefaultDenyIngress {
			missing = append(missing, "ingress")
		}
		if !h.DefaultDenyEgress {
			missing = append(missing, "egress")
		}
		what := strings.Join(missing, " and ")
		b, existed := base[h.Name]
		var why string
		switch {
		case !existed:
			why = "is new in this change"
		case !b.HasWorkloads:
			why = "gets its first workloads in this change"
		case b.DefaultDenyIngress && !h.DefaultDenyIngress && b.DefaultDenyEgress && !h.DefaultDenyEgress:
			why = "lost default-deny ingress and egress in this change"
		case b.DefaultDenyIngress && !h.DefaultDenyIngress:
			why = "lost default-deny ingress in this change"
		case b.DefaultDenyEgress && !h.DefaultDenyEgress:
			why = "lost default-deny egress in this change"
		default:
			e.notes = append(e.notes, diag.Diagnostic{
				Severity: diag.Info,
				Object:   "Namespace " + h.Name,
				Message:  fmt.Sprintf("namespace %s has workloads but no default-deny %s policy (already missing before this change, so not a %s violation)", h.Name, what, RuleMissingDefaultDeny),
			})
			continue
		}
		hash := ViolationHash(RuleMissingDefaultDeny, "", h.Name, strings.Join(missing, ","))
		e.add(RuleMissingDefaultDeny, nil, h.Name,
			fmt.Sprintf("namespace %s has workloads but no default-deny %s policy; it %s", h.Name, what, why),
			fmt.Sprintf("add a NetworkPolicy in %s with podSelector: {}, policyTypes [%s] and no rules", h.Name, policyTypes(missing)),
			hash)
	}
}

func policyTypes(missing []string) string {
	out := make([]string, len(missing))
	for i, m := range missing {
		out[i] = strings.ToUpper(m[:1]) + m[1:]
	}
	return strings.Join(out, ", ")
}

// sortViolations orders violations by severity (errors first), rule,
// namespace, source, destination, opened connections and hash; the policy
// location breaks the tie between copies of one path.
func sortViolations(vs []Violation) {
	slices.SortFunc(vs, func(a, b Violation) int {
		pa, pb := pathOf(a), pathOf(b)
		return cmp.Or(
			cmp.Compare(a.Severity.rank(), b.Severity.rank()),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(pa.Src, pb.Src),
			cmp.Compare(pa.Dst, pb.Dst),
			cmp.Compare(pa.Opened, pb.Opened),
			cmp.Compare(a.Hash, b.Hash),
			cmp.Compare(pa.PolicyFile, pb.PolicyFile),
			cmp.Compare(pa.PolicyLine, pb.PolicyLine),
		)
	})
}

func pathOf(v Violation) *Path {
	if v.Path == nil {
		return &Path{}
	}
	return v.Path
}
