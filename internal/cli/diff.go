package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/gate"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/pipeline"
	"github.com/reachdiff/reachdiff/internal/render"
	"github.com/reachdiff/reachdiff/internal/report"
	"github.com/reachdiff/reachdiff/internal/source"
)

func init() { extraCommands["diff"] = runDiff }

// diffFlags are the options shared by `diff` and `action`.
type diffFlags struct {
	output, namespace, base, head, repo string
	full, stats, loadNone, allowRemote  bool
	gate                                bool
	inventory, config                   string
	labels                              []string
	cni                                 cniFlags
}

func runDiff(ctx context.Context, args []string, env Env) error {
	fs := newFlags("diff", env)
	var f diffFlags
	fs.StringVar(&f.output, "output", "text", "output format: text, json or markdown")
	fs.StringVar(&f.namespace, "namespace", "", "namespace of objects that have none (default \"default\")")
	fs.StringVar(&f.base, "base", "", "base git revision (instead of OLD_DIR NEW_DIR)")
	fs.StringVar(&f.head, "head", "", "head git revision (default HEAD)")
	fs.StringVar(&f.repo, "repo", ".", "git repository for --base/--head")
	fs.BoolVar(&f.full, "full", false, "evaluate head from scratch instead of incrementally (a cross-check)")
	fs.BoolVar(&f.stats, "stats", false, "print a timing breakdown to stderr")
	fs.BoolVar(&f.loadNone, "load-restrictor-none", false, "let kustomizations read files outside their directory")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "let kustomizations fetch remote resources (off: PR content is untrusted)")
	fs.BoolVar(&f.gate, "gate", false, "evaluate the gate rules; exit 1 when an error-severity rule fails")
	fs.StringVar(&f.inventory, "inventory", "subprocessors.yaml", "sub-processor inventory file, relative to the repository")
	fs.StringVar(&f.config, "config", ".github/reachdiff.yaml", "gate rules file, relative to the repository (read at base)")
	f.cni.register(fs)
	fs.Func("label", "a pull request label (repeatable), e.g. reachdiff-ack:3f9a1c0e", func(v string) error {
		f.labels = append(f.labels, v)
		return nil
	})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(f.output, "text", "json", "markdown"); err != nil {
		return err
	}
	st := newStats(f.stats)
	d, err := computeDiff(ctx, env, f, pos, st)
	if err != nil {
		return err
	}
	done := st.phase("report")
	err = writeDiff(env.Stdout, f.output, d)
	done()
	st.print(env.Stderr)
	if err != nil {
		return err
	}
	if f.gate && d.Gate != nil && d.Gate.Conclusion == gate.Failure {
		return errGateFailed
	}
	return nil
}

func writeDiff(w io.Writer, format string, d *report.Diff) error {
	switch format {
	case "json":
		return report.WriteDiffJSON(w, d)
	case "markdown":
		_, err := io.WriteString(w, report.JoinMarkdown(report.DiffMarkdown(d)))
		return err
	default:
		return report.DiffText(w, d)
	}
}

// sides are the two snapshots a diff compares, and the files that differ.
type sides struct {
	base, head  *source.Tree
	changed     []string
	diagnostics []diag.Diagnostic
}

func readSides(ctx context.Context, env Env, f diffFlags, pos []string) (*sides, []string, error) {
	lim := source.Limits{}
	if f.base == "" {
		if len(pos) != 2 {
			return nil, nil, usagef("diff needs OLD_DIR NEW_DIR, or --base REV")
		}
		old, oldDiags, err := source.FromDir(env.path(pos[0]), lim)
		if err != nil {
			return nil, nil, inputError{err}
		}
		cur, curDiags, err := source.FromDir(env.path(pos[1]), lim)
		if err != nil {
			return nil, nil, inputError{err}
		}
		return &sides{base: old, head: cur, changed: source.DiffTrees(old, cur),
			diagnostics: append(oldDiags, curDiags...)}, nil, nil
	}
	head := f.head
	if head == "" {
		head = "HEAD"
	}
	repo := env.path(f.repo)
	base, baseDiags, err := source.FromGit(ctx, repo, f.base, lim)
	if err != nil {
		return nil, nil, inputError{err}
	}
	cur, curDiags, err := source.FromGit(ctx, repo, head, lim)
	if err != nil {
		return nil, nil, inputError{err}
	}
	changed, err := source.ChangedFiles(ctx, repo, f.base, head)
	if err != nil {
		return nil, nil, inputError{err}
	}
	return &sides{base: base, head: cur, changed: changed, diagnostics: append(baseDiags, curDiags...)}, pos, nil
}

func (env Env) path(p string) string {
	if env.Dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(env.Dir, p)
}

// computeDiff reads both sides, renders the affected overlays and runs the
// pipeline.
func computeDiff(ctx context.Context, env Env, f diffFlags, pos []string, st *stats) (*report.Diff, error) {
	done := st.phase("render")
	sd, patterns, err := readSides(ctx, env, f, pos)
	if err != nil {
		done()
		return nil, err
	}
	overlays, err := renderOverlays(ctx, env, sd, patterns, f)
	done()
	if err != nil {
		return nil, err
	}
	findings, err := readFindings(sd, f)
	if err != nil {
		return nil, err
	}
	results, err := pipeline.Run(overlays, pipeline.Options{
		DefaultNamespace: f.namespace,
		Full:             f.full,
		Inventories:      findings.Inventories,
		Phase:            st.phase,
		CNI:              f.cni.cni,
		PodCIDRs:         f.cni.podCIDRs,
		SourceFile: func(head bool, file string) ([]byte, bool) {
			if head {
				return sd.head.Read(file)
			}
			return sd.base.Read(file)
		},
	})
	if err != nil {
		var ie *pipeline.InputError
		if errors.As(err, &ie) {
			printDiagnostics(env, ie.Diagnostics)
			return nil, inputError{err}
		}
		return nil, err
	}
	// Sub-processor findings and the gate are part of the report phase.
	done = st.phase("report")
	defer done()
	d := pipeline.Report(sd.base.Label(), sd.head.Label(), results, findings)
	pods := f.cni.podCIDRs
	if len(pods) == 0 {
		pods = model.DefaultPodCIDRs()
	}
	d.CNI = report.NewCNI(f.cni.cni, pods)
	return d, nil
}

// readFindings reads the inventory at both sides and the gate rules. The
// rules come from base, so a pull request cannot weaken the gate that
// judges it; acknowledgements come from both sides (an acknowledgement
// added by the change is part of the reviewed diff) and from labels.
func readFindings(sd *sides, f diffFlags) (pipeline.Findings, error) {
	out := pipeline.Findings{Labels: f.labels}
	inv := pipeline.Inventories{File: f.inventory}
	for _, side := range []struct {
		t   *source.Tree
		dst **inventory.Inventory
	}{{sd.base, &inv.Base}, {sd.head, &inv.Head}} {
		data, ok := side.t.Read(f.inventory)
		if !ok {
			continue
		}
		parsed, diags := inventory.Parse(f.inventory, data)
		if parsed == nil {
			return out, inputError{fmt.Errorf("inventory at %s: %s", side.t.Label(), firstError(diags))}
		}
		*side.dst = parsed
	}
	out.Inventories = inv
	if !f.gate {
		return out, nil
	}
	cfg := gate.Default()
	if data, ok := sd.base.Read(f.config); ok {
		parsed, diags := gate.Parse(f.config, data)
		if parsed == nil {
			return out, inputError{fmt.Errorf("gate config at %s: %s", sd.base.Label(), firstError(diags))}
		}
		cfg = parsed
	}
	if data, ok := sd.head.Read(f.config); ok {
		if parsed, _ := gate.Parse(f.config, data); parsed != nil {
			cfg.Acknowledge = append(cfg.Acknowledge, parsed.Acknowledge...)
		}
	}
	cfg.InventoryFile = f.inventory
	out.Gate = cfg
	return out, nil
}

func firstError(ds []diag.Diagnostic) string {
	var msgs []string
	for _, d := range ds {
		if d.Severity == diag.Error {
			msgs = append(msgs, d.String())
		}
	}
	if len(msgs) == 0 {
		return "unusable"
	}
	return strings.Join(msgs, "; ")
}

// renderOverlays finds the roots at both sides, renders those whose files
// changed, and marks the others unchanged.
func renderOverlays(ctx context.Context, env Env, sd *sides, patterns []string, f diffFlags) ([]pipeline.Overlay, error) {
	roots, err := findRoots(sd, patterns)
	if err != nil {
		return nil, err
	}
	affected := map[string]bool{}
	for _, r := range render.Affected(sd.base, roots, sd.changed) {
		affected[r] = true
	}
	for _, r := range render.Affected(sd.head, roots, sd.changed) {
		affected[r] = true
	}
	opts := render.Options{AllowRemote: f.allowRemote}
	if f.loadNone {
		opts.LoadRestrictor = "none"
	}
	var todo []string
	for _, r := range roots {
		if affected[r] {
			todo = append(todo, r)
		}
	}
	if env.StderrIsTerminal && len(todo) > 0 {
		fmt.Fprintf(env.Stderr, "rendering %d of %d overlays (the others did not change) at base and head\n", len(todo), len(roots))
		side := "base"
		opts.Progress = func(done, total int) {
			fmt.Fprintf(env.Stderr, "\r  %s: %d/%d overlays rendered", side, done, total)
			if done == total {
				fmt.Fprintln(env.Stderr)
				side = "head"
			}
		}
	}
	baseRes, err := renderSide(ctx, sd.base, todo, opts)
	if err != nil {
		return nil, inputError{fmt.Errorf("render at base (%s): %w", sd.base.Label(), err)}
	}
	headRes, err := renderSide(ctx, sd.head, todo, opts)
	if err != nil {
		return nil, inputError{fmt.Errorf("render at head (%s): %w", sd.head.Label(), err)}
	}
	var out []pipeline.Overlay
	for _, r := range roots {
		if !affected[r] {
			out = append(out, pipeline.Overlay{Path: r, Unchanged: true})
			continue
		}
		b, h := baseRes[r], headRes[r]
		out = append(out, pipeline.Overlay{Path: r, Base: b.Documents, Head: h.Documents,
			Diagnostics: append(append([]diag.Diagnostic(nil), sd.diagnostics...), h.Diagnostics...)})
	}
	return out, nil
}

// renderSide renders the roots that exist in t; a root missing on one side
// (an overlay added or deleted by the change) renders as empty.
func renderSide(ctx context.Context, t *source.Tree, roots []string, opts render.Options) (map[string]render.Result, error) {
	var present []string
	for _, r := range roots {
		if r == "." || t.IsDir(r) {
			present = append(present, r)
		}
	}
	res, err := render.RenderAll(ctx, t, present, opts)
	if err != nil {
		return nil, err
	}
	out := map[string]render.Result{}
	for _, r := range res {
		out[r.Root] = r
	}
	return out, nil
}

// findRoots expands the user's overlay patterns, or discovers kustomization
// roots at both sides; a tree without kustomizations is one plain root.
func findRoots(sd *sides, patterns []string) ([]string, error) {
	set := map[string]bool{}
	if len(patterns) > 0 {
		for _, t := range []*source.Tree{sd.base, sd.head} {
			rs, err := render.Expand(t, patterns)
			if err != nil && t == sd.head {
				return nil, inputError{err}
			}
			for _, r := range rs {
				set[r] = true
			}
		}
	} else {
		for _, t := range []*source.Tree{sd.base, sd.head} {
			rs, diags := render.Discover(t)
			sd.diagnostics = append(sd.diagnostics, diags...)
			for _, r := range rs {
				set[r] = true
			}
		}
		if len(set) == 0 {
			set["."] = true
		}
	}
	roots := make([]string, 0, len(set))
	for r := range set {
		roots = append(roots, r)
	}
	sort.Strings(roots)
	return roots, nil
}
