// Package pipeline runs the pure part of reachdiff on rendered documents:
// decode, model, evaluate base, derive head, compare, explain, report.
// Rendering and every other I/O happen before it, in the callers.
package pipeline

import (
	"fmt"
	"net/netip"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/gate"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/report"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

// Overlay is one overlay's rendered documents at base and head.
type Overlay struct {
	Path string
	// Unchanged overlays were not rendered: no file they read changed.
	Unchanged   bool
	Base, Head  []manifest.Document
	Diagnostics []diag.Diagnostic // from rendering
}

// Options tune a run.
type Options struct {
	DefaultNamespace string
	// Full evaluates head from scratch instead of incrementally.
	Full bool
	// ExtraBoundaries split the external address space further (the
	// sub-processor inventory's ranges).
	ExtraBoundaries []ipset.Range
	// Inventories split the address space at vendor boundaries.
	Inventories Inventories
	// Phase, when set, is called around each phase for --stats.
	Phase func(name string) func()
	// SourceFile, when set, reads a repository file at base or head, so
	// that causes can point at the line of the rule rather than of the
	// policy.
	SourceFile func(head bool, file string) ([]byte, bool)
	// CNI and PodCIDRs select the CNI profile (model.Options).
	CNI      model.CNI
	PodCIDRs []netip.Prefix
}

// OverlayResult is everything computed for one overlay, for reports and
// later consumers (inventory, gate).
type OverlayResult struct {
	Path       string
	Unchanged  bool
	Base, Head *model.Cluster
	BaseResult *reach.Result
	HeadResult *reach.Result
	// BaseTiered and HeadTiered are set when the overlay has policy tiers,
	// Cilium policies or exposures: the answer then comes from them.
	BaseTiered, HeadTiered *tiered.Result
	Changes                []diff.Change
	Diagnostics            []diag.Diagnostic
}

// InputError is returned when the manifests themselves are broken so that
// no answer can be given (exit code 2); Diagnostics say where.
type InputError struct {
	Overlay     string
	Side        string
	Diagnostics []diag.Diagnostic
}

func (e *InputError) Error() string {
	n := 0
	first := ""
	for _, d := range e.Diagnostics {
		if d.Severity == diag.Error {
			if n == 0 {
				first = d.String()
			}
			n++
		}
	}
	return fmt.Sprintf("%s at %s: %d input errors, first: %s", e.Overlay, e.Side, n, first)
}

func (o Options) phase(name string) func() {
	if o.Phase == nil {
		return func() {}
	}
	return o.Phase(name)
}

// Run computes the changes of every overlay.
func Run(overlays []Overlay, opts Options) ([]OverlayResult, error) {
	dec := manifest.NewDecoder()
	var out []OverlayResult
	for _, ov := range overlays {
		if ov.Unchanged {
			out = append(out, OverlayResult{Path: ov.Path, Unchanged: true})
			continue
		}
		r, err := runOverlay(dec, ov, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func runOverlay(dec *manifest.Decoder, ov Overlay, opts Options) (OverlayResult, error) {
	res := OverlayResult{Path: ov.Path}
	done := opts.phase("parse")
	baseObjs, baseDiags := dec.DecodeAll(ov.Base)
	headObjs, headDiags := dec.DecodeAll(ov.Head)
	mopts := model.Options{DefaultNamespace: opts.DefaultNamespace, CNI: opts.CNI, PodCIDRs: opts.PodCIDRs}
	res.Base = model.Build(baseObjs, mopts)
	// Unchanged documents decode to the same objects: head reuses what they
	// compiled to at base, which the incremental evaluator recognises.
	hopts := mopts
	hopts.Reuse = res.Base
	res.Head = model.Build(headObjs, hopts)
	done()
	baseDiags = append(baseDiags, res.Base.Diagnostics...)
	headDiags = append(headDiags, res.Head.Diagnostics...)
	if diag.HasErrors(baseDiags) {
		return res, &InputError{Overlay: ov.Path, Side: "base", Diagnostics: baseDiags}
	}
	if diag.HasErrors(headDiags) {
		return res, &InputError{Overlay: ov.Path, Side: "head", Diagnostics: headDiags}
	}

	done = opts.phase("eval-base")
	sp := reach.NewSpace([]*model.Cluster{res.Base, res.Head}, append(opts.ExtraBoundaries, opts.Inventories.boundaries()...))
	base, err := reach.Evaluate(sp, res.Base)
	done()
	if err != nil {
		return res, fmt.Errorf("evaluate %s at base: %w", ov.Path, err)
	}
	done = opts.phase("eval-head")
	var head *reach.Result
	if opts.Full {
		head, err = reach.Evaluate(sp, res.Head)
	} else {
		head, err = reach.Update(base, res.Head)
	}
	done()
	if err != nil {
		return res, fmt.Errorf("evaluate %s at head: %w", ov.Path, err)
	}
	res.BaseResult, res.HeadResult = base, head

	done = opts.phase("diff")
	tiers := tiered.Needed(res.Base) || tiered.Needed(res.Head)
	var deltas []reach.Delta
	if tiers {
		// Admin policy tiers, Cilium policies and ingress exposures: the
		// tiered evaluator, which the bitset engine does not cover.
		res.BaseTiered, res.HeadTiered = tieredResults(res.Base, res.Head, opts.Full)
		deltas = tieredDeltas(res.BaseTiered, res.HeadTiered, tiered.MentionsIPv6(res.Base) || tiered.MentionsIPv6(res.Head))
	} else if deltas, err = reach.Compare(base, head); err != nil {
		return res, err
	}
	res.Changes = diff.Changes(res.Base, res.Head, deltas)
	if tiers {
		changed := adminCauses(res.Base, res.Head)
		for i := range res.Changes {
			res.Changes[i].Causes = tieredCauses(res.BaseTiered, res.HeadTiered, res.Changes[i], changed)
		}
	}
	ruleLines(res.Changes, ov, opts.SourceFile)
	done()

	// Head diagnostics are what the reviewer can act on; base ones were
	// already there.
	res.Diagnostics = append(append(ov.Diagnostics, headDiags...), head.Diagnostics()...)
	if tiers {
		res.Diagnostics = append(res.Diagnostics, diag.Diagnostic{Severity: diag.Info,
			Message: "admin or baseline network policies, Cilium policies, Ingresses or Routes: evaluated through the policy tiers " +
				"(head derived from base for the workloads the change touches)"})
	}
	diag.Sort(res.Diagnostics)
	return res, nil
}

// Findings configure what a report checks beyond reachability: the
// sub-processor inventory and the gate.
type Findings struct {
	Inventories Inventories
	// Gate is nil when no gate is evaluated (diff without --gate).
	Gate *gate.Config
	// Labels are the pull request's labels (acknowledgements).
	Labels []string
}

// Report builds the JSON-shaped report of a run.
func Report(baseLabel, headLabel string, results []OverlayResult, f Findings) *report.Diff {
	d := &report.Diff{Version: report.Version, Base: baseLabel, Head: headLabel, Overlays: []report.Overlay{}}
	subs := make([]*report.Subprocessors, len(results))
	for i, r := range results {
		o := report.Overlay{Path: r.Path, Unchanged: r.Unchanged, Changes: []report.Change{}, Diagnostics: r.Diagnostics}
		if o.Diagnostics == nil {
			o.Diagnostics = []diag.Diagnostic{}
		}
		if !r.Unchanged {
			subs[i] = subprocessors(f.Inventories, &results[i])
			o.Subprocessors = subs[i]
		}
		results[i].Changes = splitByOwner(r.Changes, f.Inventories.Head)
		for _, c := range results[i].Changes {
			rc := report.NewChange(c)
			if c.Dst.IsDomain() {
				rc.Subprocessor = domainOwnersOf(f.Inventories.Head, c.Dst.Domain)
			} else if c.Dst.IsExternal() {
				rc.Subprocessor = ownersOf(f.Inventories.Head, c.Dst.External)
			} else if c.Src.IsExternal() {
				rc.Subprocessor = ownersOf(f.Inventories.Head, c.Src.External)
			}
			if rc.Subprocessor != "" {
				rc.Risk = report.DeclaredVendor(rc.Risk)
			}
			o.Changes = append(o.Changes, rc)
		}
		d.Overlays = append(d.Overlays, o)
	}
	if f.Inventories.Base != nil || f.Inventories.Head != nil {
		d.Inventory = inventory.Diff(f.Inventories.Base, f.Inventories.Head)
	}
	if f.Gate != nil {
		res := gate.Evaluate(f.Gate, gateInput(results, subs, f.Inventories, f.Labels))
		d.Gate = reportGate(res)
		hashes := map[string]string{}
		for _, v := range res.Violations {
			if v.Path != nil {
				hashes[v.Path.Src+"\x00"+v.Path.Dst] = v.Hash
			}
		}
		for oi := range d.Overlays {
			for ci, c := range d.Overlays[oi].Changes {
				d.Overlays[oi].Changes[ci].Hash = hashes[c.Src+"\x00"+c.Dst]
			}
		}
	}
	d.Count()
	return d
}
