package report

import (
	"encoding/json"
	"io"
	"net/netip"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/reach"
)

// Diff is the JSON document of `reachdiff diff --output json` (DESIGN
// section 7). Field names are a stable contract.
type Diff struct {
	Version  int       `json:"version"`
	Base     string    `json:"base"`
	Head     string    `json:"head"`
	Overlays []Overlay `json:"overlays"`
	Summary  Summary   `json:"summary"`
	Gate     *Gate     `json:"gate,omitempty"`
	// Inventory lists changes to the sub-processor inventory file itself.
	Inventory []inventory.FieldChange `json:"inventory,omitempty"`
	// PullRequest names the pull request the report was made for (set by
	// `reachdiff action`, checked by `reachdiff post`).
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
	// CNI is the CNI profile the reachability was computed under (absent
	// from reports made before profiles existed).
	CNI *CNI `json:"cni,omitempty"`
}

// PullRequest identifies the pull request and run a report belongs to.
type PullRequest struct {
	Number  int    `json:"number"`
	Repo    string `json:"repo"` // owner/name of the repository the pull request targets
	BaseSHA string `json:"baseSha"`
	HeadSHA string `json:"headSha"`
	// CommentTag names the sticky comment the report belongs in.
	CommentTag string `json:"commentTag,omitempty"`
	// FailOn is the action's fail-on input the conclusion was computed with.
	FailOn []string `json:"failOn,omitempty"`
}

// Subprocessors are an overlay's sub-processor findings.
type Subprocessors struct {
	Inventory    string `json:"inventory,omitempty"` // the inventory file
	HasInventory bool   `json:"hasInventory"`
	// Vendors are vendors newly (or no longer) reachable per workload.
	Vendors []inventory.VendorDelta `json:"vendors"`
	// Undeclared is newly allowed external reach that no vendor owns.
	Undeclared []inventory.UndeclaredDelta `json:"undeclared"`
	// UndeclaredAgents are well-known vendor components running in head
	// that the inventory does not declare.
	UndeclaredAgents []inventory.AgentMatch `json:"undeclaredAgents"`
	// Stale are inventory components no workload runs.
	Stale []inventory.StaleComponent `json:"stale"`
	// Unverifiable are FQDN endpoints no policy kind read can confirm.
	Unverifiable []inventory.Unverifiable `json:"unverifiable,omitempty"`
	head         inventory.Classification
}

// Head is the full classification of head's external reach (for the
// disclosure table).
func (s *Subprocessors) Head() inventory.Classification { return s.head }

// NewSubprocessors wraps findings with the head classification.
func NewSubprocessors(s Subprocessors, head inventory.Classification) *Subprocessors {
	s.head = head
	return &s
}

// Overlay is the changes of one rendered overlay (or input directory).
type Overlay struct {
	Path          string            `json:"path"`
	Unchanged     bool              `json:"unchanged,omitempty"` // not rendered: no file it reads changed
	Changes       []Change          `json:"changes"`
	Subprocessors any               `json:"subprocessors,omitempty"`
	Diagnostics   []diag.Diagnostic `json:"diagnostics"`
}

// Change is one pair whose connections changed.
type Change struct {
	Src          string       `json:"src"`
	Dst          string       `json:"dst"`
	Before       string       `json:"before"`
	After        string       `json:"after"`
	Opened       string       `json:"opened"`
	Closed       string       `json:"closed"`
	Causes       []diff.Cause `json:"causes"`
	Subprocessor string       `json:"subprocessor"`
	Risk         []string     `json:"risk"`
	// Hash identifies this change for acknowledgements.
	Hash string `json:"hash,omitempty"`
}

// Summary counts changes over all overlays.
type Summary struct {
	Opened   int `json:"opened"`
	Closed   int `json:"closed"`
	Overlays int `json:"overlays"`
}

// Gate is the verdict of the gate rules.
type Gate struct {
	Conclusion string      `json:"conclusion"`
	Violations []Violation `json:"violations"`
	DeltaHash  string      `json:"deltaHash,omitempty"`
	// Notes are findings that do not fail (namespaces that already lacked
	// a default deny before this change).
	Notes []diag.Diagnostic `json:"notes,omitempty"`
}

// Violation is one failed or warned rule.
type Violation struct {
	Rule         string `json:"rule"`
	Severity     string `json:"severity"`
	Message      string `json:"message"`
	Hash         string `json:"hash,omitempty"`
	Acknowledged bool   `json:"acknowledged,omitempty"`
	Fix          string `json:"fix,omitempty"`
	// File and Line locate the policy rule that opened the path, if any.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Risk tags.
const (
	RiskInternetEgress  = "internet-egress"  // opens a public address range to a workload's egress
	RiskExternalIngress = "external-ingress" // opens a workload to traffic from outside the cluster
	RiskCrossNamespace  = "cross-namespace"  // a path between two namespaces
	RiskAllPorts        = "all-ports"        // every port of every protocol
	RiskSubprocessor    = "subprocessor"     // reaches a declared sub-processor
	// RiskIngressExposed marks a path from {ingress-controller}: the
	// workload is exposed through an Ingress or a Route.
	RiskIngressExposed = "exposed-through-ingress"
)

// ingressController is the source of traffic through Ingresses and Routes
// (tiered.IngressController).
const ingressController = "{ingress-controller}"

// NewChange converts a diff.Change to its report form.
func NewChange(c diff.Change) Change {
	out := Change{
		Src: c.Src.String(), Dst: c.Dst.String(),
		Before: c.Before.String(), After: c.After.String(),
		Causes: c.Causes, Risk: Risks(c),
	}
	if out.Causes == nil {
		out.Causes = []diff.Cause{}
	}
	if !c.Opened.IsEmpty() {
		out.Opened = c.Opened.String()
	}
	if !c.Closed.IsEmpty() {
		out.Closed = c.Closed.String()
	}
	return out
}

// Risks tags an opened change with what makes it worth a reviewer's look.
func Risks(c diff.Change) []string {
	r := []string{}
	if c.Opened.IsEmpty() {
		return r
	}
	if c.Dst.IsDomain() || c.Dst.IsRange() && HasPublic(c.Dst.External) {
		r = append(r, RiskInternetEgress)
	}
	if c.Src.IsRange() && HasPublic(c.Src.External) {
		r = append(r, RiskExternalIngress)
	}
	if c.Src.Workload == ingressController {
		r = append(r, RiskIngressExposed)
	} else if !c.Src.IsExternal() && !c.Dst.IsExternal() && namespaceOf(c.Src) != namespaceOf(c.Dst) {
		r = append(r, RiskCrossNamespace)
	}
	if c.Opened.IsAll() {
		r = append(r, RiskAllPorts)
	}
	return r
}

// DeclaredVendor adjusts the risks of a change whose external end a
// declared sub-processor owns: it is not "the internet".
func DeclaredVendor(risks []string) []string {
	out := []string{}
	for _, r := range risks {
		if r != RiskInternetEgress && r != RiskExternalIngress {
			out = append(out, r)
		}
	}
	return append(out, RiskSubprocessor)
}

func namespaceOf(e reach.Endpoint) string {
	for i := 0; i < len(e.Workload); i++ {
		if e.Workload[i] == '/' {
			return e.Workload[:i]
		}
	}
	return ""
}

// private are the ranges that are not "the internet": RFC 1918, CGNAT,
// loopback, link-local, and IPv6 unique-local, link-local and loopback.
var private = func() ipset.Set {
	var s ipset.Set
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128"} {
		s = s.Add(ipset.RangeOf(netip.MustParsePrefix(p)))
	}
	return s
}()

// HasPublic reports whether r holds an address outside the private ranges.
func HasPublic(r ipset.Range) bool {
	return !ipset.Set{}.Add(r).Subtract(private).IsEmpty()
}

// WriteDiffJSON writes the JSON report.
func WriteDiffJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// Count fills the summary from the overlays. A path is a source and a
// destination workload, or a source and the external ranges it newly
// reaches alike (as displayed), not each address range apart.
func (d *Diff) Count() {
	d.Summary = Summary{Overlays: len(d.Overlays)}
	for _, o := range d.Overlays {
		opened, closed := split(o.Changes)
		d.Summary.Opened += len(grouped(opened))
		d.Summary.Closed += len(grouped(closed))
	}
}
