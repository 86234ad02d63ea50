package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/reachdiff/reachdiff/internal/actionenv"
	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/gate"
	"github.com/reachdiff/reachdiff/internal/githubapi"
	"github.com/reachdiff/reachdiff/internal/prcomment"
	"github.com/reachdiff/reachdiff/internal/report"
)

func init() { extraCommands["action"] = runAction }

// actionClock gives the run time written into the comment's metadata (an
// older run never overwrites a newer run's comment); tests replace it.
var actionClock = time.Now

// apiOptions are extra options for the GitHub client of `action` and
// `post`; tests inject a sleep that returns at once.
var apiOptions []githubapi.Option

// reportFile is the name of the JSON report `action` writes for `post`.
const reportFile = "reachdiff-report.json"

// runAction is `reachdiff action`: the GitHub Action's entry point. It
// reads the inputs and the pull_request event GitHub provides, runs the
// diff with the gate, writes the JSON report, the job summary, annotations
// and outputs, and posts the sticky comment, the commit status and
// (optionally) a review. The exit code is the required check: 1 when the
// gate fails per fail-on.
func runAction(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		return usagef("action takes no arguments: it reads the inputs and the event GitHub sets")
	}
	runAt := actionClock().UTC()
	a := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	in, err := actionenv.ReadInputs(a)
	if err != nil {
		return inputError{err}
	}
	policy, err := parseFailOn(in.FailOn)
	if err != nil {
		return inputError{err}
	}
	ghctx, err := a.Context()
	if err != nil {
		return inputError{fmt.Errorf("GitHub Actions environment: %w", err)}
	}
	ev, err := actionenv.ReadEvent(ghctx)
	if err != nil {
		return inputError{err}
	}
	pr := ev.PR
	if pr == nil {
		return inputError{fmt.Errorf("event %q is not about a pull request: run reachdiff action on pull_request events (see docs/github-action.md)", ev.Name)}
	}
	owner, name, ok := strings.Cut(pr.BaseRepo, "/")
	if !ok || owner == "" || name == "" {
		return inputError{fmt.Errorf("event: pull request repository %q is not owner/name", pr.BaseRepo)}
	}
	repoDir := env.Getenv("GITHUB_WORKSPACE")
	if repoDir == "" {
		repoDir = "."
	}
	f := diffFlags{
		output: "json", namespace: in.DefaultNamespace,
		base: orDefault(in.BaseRef, pr.BaseSHA), head: orDefault(in.HeadRef, pr.HeadSHA), repo: repoDir,
		allowRemote: in.AllowRemote, gate: true, inventory: in.Inventory, config: in.Config,
		labels: eventLabels(ghctx.Event),
		cni:    cniFlags{cni: in.CNI, podCIDRs: in.PodCIDRs},
	}
	d, err := computeDiff(ctx, env, f, in.Overlays, newStats(false))
	if err != nil {
		// Say it where reviewers look, not only in the log.
		w := actionenv.NewWriter(a, env.Stdout)
		_ = w.Annotate("error", "", 0, "reachdiff", err.Error())
		_, _ = w.AppendSummary("### reachdiff could not compare the revisions\n\n" + report.Escape(err.Error()) + "\n")
		return err
	}
	if d.Gate == nil {
		d.Gate = &report.Gate{Violations: []report.Violation{}}
	}
	d.Gate.Conclusion = policy.conclusion(d.Gate)
	tag := in.CommentTag
	if tag == "" {
		tag = overlayTag(in.Overlays)
	}
	d.PullRequest = &report.PullRequest{Number: pr.Number, Repo: pr.BaseRepo, BaseSHA: pr.BaseSHA, HeadSHA: pr.HeadSHA,
		CommentTag: tag, FailOn: in.FailOn}

	w := actionenv.NewWriter(a, env.Stdout)
	logf := func(format string, args ...any) { fmt.Fprintf(env.Stderr, "reachdiff: "+format+"\n", args...) }
	reportPath, err := writeReportFile(env, d)
	if err != nil {
		return err
	}
	if in.Annotations {
		if err := annotate(w, d, policy); err != nil {
			logf("%v", err)
		}
	}

	runURL := runLink(env.Getenv("GITHUB_SERVER_URL"), env.Getenv("GITHUB_REPOSITORY"), env.Getenv("GITHUB_RUN_ID"))
	pub := publication{
		owner: owner, repo: name, number: pr.Number, headSHA: pr.HeadSHA,
		mode: prcomment.Mode(in.Comment), body: commentBody(d, tag, runAt, runURL), runURL: runURL,
		conclusion: d.Gate.Conclusion, statusDescription: statusDescription(d),
	}
	if in.Review {
		pub.review = reviewComments(d)
		pub.wantReview = true
	}
	var res publishResult
	if in.Token == "" {
		res.notes = append(res.notes, "No github-token: no comment, commit status or review was posted.")
	} else {
		res = publish(ctx, in.Token, env.Getenv("GITHUB_API_URL"), pub, logf)
	}
	if res.readOnly {
		msg := "reachdiff could not post the pull request comment: the token is read-only here (a pull request from a fork, or the workflow lacks pull-requests: write). The report is in this job summary and in the JSON report (upload it as the reachdiff-report artifact for the fork workflow)."
		res.notes = append(res.notes, msg)
		if err := w.Annotate("notice", "", 0, "reachdiff", msg); err != nil {
			logf("%v", err)
		}
	}
	for _, warn := range res.warnings {
		logf("%s", warn)
		if err := w.Annotate("warning", "", 0, "reachdiff: GitHub API", warn); err != nil {
			logf("%v", err)
		}
	}

	summary := summaryMarkdown(d, policy)
	for _, n := range res.notes {
		summary += "\n> [!NOTE]\n> " + report.Escape(n) + "\n"
	}
	if _, err := w.AppendSummary(summary); err != nil {
		logf("%v", err)
	}
	if err := w.SetOutputs(map[string]string{
		"opened":      fmt.Sprint(d.Summary.Opened),
		"closed":      fmt.Sprint(d.Summary.Closed),
		"conclusion":  d.Gate.Conclusion,
		"report":      reportPath,
		"comment-url": res.commentURL,
	}); err != nil {
		logf("%v", err)
	}
	if d.Gate.Conclusion == gate.Failure {
		logf("the gate failed (fail-on: %s): %d violation(s) fail the check", strings.Join(in.FailOn, ","), policy.failing(d.Gate))
		return errGateFailed
	}
	return nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// eventLabels returns the names of the pull request's labels in the event
// payload (acknowledgements "reachdiff-ack:<hash>" are labels).
func eventLabels(ev map[string]any) []string {
	pr, _ := ev["pull_request"].(map[string]any)
	list, _ := pr["labels"].([]any)
	var out []string
	for _, l := range list {
		m, _ := l.(map[string]any)
		if n, ok := m["name"].(string); ok && n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// overlayTag derives the comment tag from the overlay inputs, so that jobs
// on different overlay sets keep different sticky comments: "default" for
// auto-discovery, else "overlays-" and a hash of the sorted patterns.
func overlayTag(overlays []string) string {
	if len(overlays) == 0 {
		return "default"
	}
	s := append([]string(nil), overlays...)
	sort.Strings(s)
	sum := sha256.Sum256([]byte(strings.Join(s, "\n")))
	return "overlays-" + hex.EncodeToString(sum[:])[:8]
}

// failPolicy is the fail-on input: which violations fail the check.
type failPolicy struct {
	never      bool
	severities map[string]bool
	rules      map[string]bool
}

// parseFailOn reads the fail-on words actionenv.ReadInputs validated:
// severities (through gate.ParseFailOn), rule names, or "never".
func parseFailOn(words []string) (failPolicy, error) {
	p := failPolicy{severities: map[string]bool{}, rules: map[string]bool{}}
	var sevs []string
	for _, w := range words {
		switch w {
		case "never":
			p.never = true
		case string(gate.Error), string(gate.Warning):
			sevs = append(sevs, w)
		default:
			p.rules[w] = true
		}
	}
	if len(sevs) > 0 || len(p.rules) == 0 {
		parsed, err := gate.ParseFailOn(sevs)
		if err != nil {
			return p, fmt.Errorf("input %w", err)
		}
		for _, s := range parsed {
			p.severities[string(s)] = true
		}
	}
	return p, nil
}

// fails reports whether v fails the check.
func (p failPolicy) fails(v report.Violation) bool {
	return !p.never && !v.Acknowledged && (p.severities[v.Severity] || p.rules[v.Rule])
}

func (p failPolicy) failing(g *report.Gate) int {
	n := 0
	for _, v := range g.Violations {
		if p.fails(v) {
			n++
		}
	}
	return n
}

func (p failPolicy) conclusion(g *report.Gate) string {
	if p.failing(g) > 0 {
		return gate.Failure
	}
	return gate.Success
}

// writeReportFile writes the JSON report where a later step can upload it:
// $RUNNER_TEMP when that directory exists (a JavaScript or composite step),
// else a new directory in the workspace (a Docker action sees RUNNER_TEMP's
// name but not the directory; the workspace is shared with the host, and a
// relative path works for actions/upload-artifact; the directory is not
// hidden, because upload-artifact skips hidden files), else a temporary
// directory. The file is created, never opened through an existing name.
func writeReportFile(env Env, d *report.Diff) (string, error) {
	var dir, shown string
	if t := env.Getenv("RUNNER_TEMP"); t != "" {
		if fi, err := os.Stat(t); err == nil && fi.IsDir() {
			var err error
			if dir, err = os.MkdirTemp(t, "reachdiff-"); err != nil {
				return "", fmt.Errorf("report: %w", err)
			}
			shown = filepath.Join(dir, reportFile)
		}
	}
	if dir == "" {
		if ws := env.Getenv("GITHUB_WORKSPACE"); ws != "" {
			var err error
			if dir, err = os.MkdirTemp(ws, "reachdiff-report-"); err != nil {
				return "", fmt.Errorf("report: %w", err)
			}
			shown = filepath.Join(filepath.Base(dir), reportFile)
		}
	}
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "reachdiff-"); err != nil {
			return "", fmt.Errorf("report: %w", err)
		}
		shown = filepath.Join(dir, reportFile)
	}
	path := filepath.Join(dir, reportFile)
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	if err := report.WriteDiffJSON(out, d); err != nil {
		out.Close()
		return "", fmt.Errorf("report %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("report %s: %w", path, err)
	}
	return shown, nil
}

// openingLine is a policy line that opened paths.
type openingLine struct {
	file  string
	line  int
	paths []string
}

// openingLines lists, per head policy line (file:line), the paths it
// opened, sorted by file and line.
func openingLines(d *report.Diff) []openingLine {
	type key struct {
		file string
		line int
	}
	idx := map[key]int{}
	var out []openingLine
	for _, o := range d.Overlays {
		for _, c := range o.Changes {
			if c.Opened == "" {
				continue
			}
			path := fmt.Sprintf("%s => %s : %s", c.Src, c.Dst, c.Opened)
			for _, cause := range c.Causes {
				if cause.File == "" || cause.Line < 1 || (cause.Kind != diff.CausePolicyRule && cause.Kind != diff.CausePolicyChanged) {
					continue
				}
				k := key{cause.File, cause.Line}
				i, ok := idx[k]
				if !ok {
					i = len(out)
					idx[k] = i
					out = append(out, openingLine{file: cause.File, line: cause.Line})
				}
				if !containsString(out[i].paths, path) {
					out[i].paths = append(out[i].paths, path)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].file != out[j].file {
			return out[i].file < out[j].file
		}
		return out[i].line < out[j].line
	})
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// maxPathsPerNote bounds the paths listed in one annotation or review
// comment; the rest are counted.
const maxPathsPerNote = 10

func (l openingLine) message() string {
	if len(l.paths) == 1 {
		return "opens " + l.paths[0]
	}
	shown := l.paths
	if len(shown) > maxPathsPerNote {
		shown = shown[:maxPathsPerNote]
	}
	msg := fmt.Sprintf("opens %d paths:\n%s", len(l.paths), strings.Join(shown, "\n"))
	if n := len(l.paths) - len(shown); n > 0 {
		msg += fmt.Sprintf("\n…and %d more (see the job summary)", n)
	}
	return msg
}

// annotate prints a warning on every policy line that opened paths and an
// error for every violation that fails the check and has a location.
func annotate(w *actionenv.Writer, d *report.Diff, p failPolicy) error {
	for _, l := range openingLines(d) {
		if err := w.Annotate("warning", l.file, l.line, "reachdiff: opened paths", l.message()); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for _, v := range d.Gate.Violations {
		if !p.fails(v) || v.File == "" {
			continue
		}
		msg := v.Message
		if v.Fix != "" {
			msg += "\nTo pass: " + v.Fix
		}
		k := fmt.Sprintf("%s\x00%d\x00%s\x00%s", v.File, v.Line, v.Rule, msg)
		if seen[k] {
			continue
		}
		seen[k] = true
		if err := w.Annotate("error", v.File, v.Line, "reachdiff gate: "+v.Rule, msg); err != nil {
			return err
		}
	}
	return nil
}

// reviewComments are the inline comments of the optional review: one per
// policy line that opened paths.
func reviewComments(d *report.Diff) []githubapi.ReviewComment {
	var out []githubapi.ReviewComment
	for _, l := range openingLines(d) {
		body := "**reachdiff**: this rule " + report.Escape(l.message())
		if len(l.paths) > 1 {
			var b strings.Builder
			fmt.Fprintf(&b, "**reachdiff**: this rule opens %d paths:\n\n", len(l.paths))
			for i, p := range l.paths {
				if i == maxPathsPerNote {
					fmt.Fprintf(&b, "- …and %d more (see the job summary)\n", len(l.paths)-i)
					break
				}
				fmt.Fprintf(&b, "- %s\n", report.Escape(p))
			}
			body = b.String()
		}
		out = append(out, githubapi.ReviewComment{Path: l.file, Line: l.line, Body: body})
	}
	return out
}

// runLink is the URL of the run, whose page shows the job summary.
func runLink(server, repo, runID string) string {
	if server == "" {
		server = "https://github.com"
	}
	if repo == "" || runID == "" {
		return ""
	}
	return strings.TrimRight(server, "/") + "/" + repo + "/actions/runs/" + runID
}

// moreLink points at the full report.
func moreLink(runURL string) string {
	if runURL == "" {
		return "the job summary and the `reachdiff-report` artifact"
	}
	return "the [job summary](" + runURL + ") and the `reachdiff-report` artifact"
}

// commentBody renders the sticky comment for d.
func commentBody(d *report.Diff, tag string, runAt time.Time, runURL string) prcomment.Body {
	return prcomment.Body{
		Tag:  tag,
		Meta: prcomment.Meta{HeadSHA: d.PullRequest.HeadSHA, RunAt: runAt, DeltaHash: deltaHash(d)},
		Text: prcomment.Fit(commentSections(d, runURL), prcomment.SafeLimit),
	}
}

// deltaHash identifies the reachability delta the comment shows: the
// gate's delta hash, or a hash of the report's changes.
func deltaHash(d *report.Diff) string {
	if d.Gate != nil && d.Gate.DeltaHash != "" {
		return d.Gate.DeltaHash
	}
	data, _ := json.Marshal(d.Overlays)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:gate.HashLen]
}

// commentSections turns the Markdown report into sections for
// prcomment.Fit: full tables, then the top paths, then counts only. The
// heading, the verdict, the gate's table (what would make the check pass,
// at worst its first rows) and the link to the full report are kept.
func commentSections(d *report.Diff, runURL string) []prcomment.Section {
	more := moreLink(runURL)
	policy := failPolicyOf(d)
	var out []prcomment.Section
	for _, s := range report.DiffMarkdown(d) {
		levels := []string{strings.TrimSpace(s.Text)}
		if s.Short != "" {
			levels = append(levels, strings.TrimSpace(s.Short))
		}
		switch {
		case strings.HasPrefix(s.Name, "opened:"):
			title, _, _ := strings.Cut(s.Text, "**Opened**")
			levels = append(levels, strings.TrimSpace(title+"**Opened**: the paths are listed in "+more+"."))
		case s.Name == "gate":
			if short := firstRows(s.Text, maxGateRows); short != s.Text {
				levels = append(levels, strings.TrimSpace(short))
			}
		}
		keep := s.Name == "summary" || s.Name == "gate"
		out = append(out, prcomment.Section{Levels: levels, More: more, Keep: keep})
		if s.Name == "summary" {
			out = append(out, prcomment.Section{Keep: true, Levels: []string{strings.TrimSpace(verdictMarkdown(d, policy))}})
		}
	}
	out = append(out, prcomment.Section{Keep: true, Levels: []string{"Full report: " + more + "."}})
	return out
}

// maxGateRows bounds the gate table of a shortened comment.
const maxGateRows = 10

// firstRows keeps the header and the first n rows of a Markdown table.
func firstRows(table string, n int) string {
	lines := strings.Split(strings.TrimSpace(table), "\n")
	const header = 2
	if len(lines) <= header+n {
		return table
	}
	kept := append(lines[:header+n:header+n], fmt.Sprintf("\n…and %d more (see the job summary).", len(lines)-header-n))
	return strings.Join(kept, "\n") + "\n"
}

// summaryMarkdown is the job summary: the whole report with the verdict
// after its heading.
func summaryMarkdown(d *report.Diff, p failPolicy) string {
	var b strings.Builder
	for _, s := range report.DiffMarkdown(d) {
		b.WriteString(s.Text)
		if s.Name == "summary" {
			b.WriteString(verdictMarkdown(d, p))
		}
	}
	return b.String()
}

// failPolicyOf rebuilds the fail-on policy a report was concluded with.
func failPolicyOf(d *report.Diff) failPolicy {
	var words []string
	if d.PullRequest != nil {
		words = d.PullRequest.FailOn
	}
	p, err := parseFailOn(words)
	if err != nil {
		p, _ = parseFailOn(nil)
	}
	return p
}

// verdictMarkdown says whether the check passes and, when it fails, what
// would make it pass: the fixes in the gate's table, or an acknowledgement
// of the whole delta.
func verdictMarkdown(d *report.Diff, p failPolicy) string {
	g := d.Gate
	if g == nil {
		return ""
	}
	failing := p.failing(g)
	if g.Conclusion != gate.Failure || failing == 0 {
		msg := "\n**Check: ✅ passes.**"
		if n := len(g.Violations); n > 0 {
			msg += fmt.Sprintf(" %d finding(s) below do not fail it (warnings, or acknowledged).", n)
		}
		return msg + "\n"
	}
	msg := fmt.Sprintf("\n**Check: ❌ fails**: %d violation(s) fail it. To pass, do what the table's *To pass* column says", failing)
	if g.DeltaHash != "" {
		h := report.Escape(g.DeltaHash)
		msg += fmt.Sprintf(", or have a reviewer acknowledge the whole change: label the pull request `%s%s`, or add `hash: %s` under `acknowledge` in the gate config", gate.AckLabelPrefix, h, h)
	}
	return msg + ".\n"
}

// statusDescription is the commit status's one line.
func statusDescription(d *report.Diff) string {
	verdict := "gate passes"
	if d.Gate != nil && d.Gate.Conclusion == gate.Failure {
		verdict = "gate fails"
	}
	return fmt.Sprintf("%d opened, %d closed; %s", d.Summary.Opened, d.Summary.Closed, verdict)
}

// publication is what `action` and `post` put on the pull request.
type publication struct {
	owner, repo       string
	number            int
	headSHA           string
	mode              prcomment.Mode
	body              prcomment.Body
	runURL            string
	conclusion        string
	statusDescription string
	wantReview        bool
	review            []githubapi.ReviewComment
}

// publishResult is what happened.
type publishResult struct {
	commentURL string
	// readOnly is set when GitHub refused a write as read-only.
	readOnly bool
	// notes are for the job summary; warnings are API failures.
	notes, warnings []string
}

// publish posts or updates the sticky comment, sets the commit status and
// posts the optional review. A read-only token stops the writes without
// an error; other API failures are returned as warnings.
func publish(ctx context.Context, token, apiURL string, p publication, logf func(string, ...any)) publishResult {
	var res publishResult
	opts := append([]githubapi.Option{githubapi.WithLogf(logf)}, apiOptions...)
	c, err := githubapi.New(ctx, token, apiURL, opts...)
	if err != nil {
		res.warnings = append(res.warnings, err.Error())
		return res
	}
	failed := func(what string, err error) {
		if errors.Is(err, githubapi.ErrReadOnly) {
			res.readOnly = true
			logf("%s: %v", what, err)
			return
		}
		res.warnings = append(res.warnings, fmt.Sprintf("%s: %v", what, err))
	}
	posted := true
	if p.mode != prcomment.ModeOff {
		url, changed, err := postComment(ctx, c, p, logf)
		res.commentURL, posted = url, changed
		if err != nil {
			failed("comment", err)
		}
	}
	// The status is tried even after a read-only comment: a workflow may
	// grant statuses: write without pull-requests: write.
	if err := c.CreateStatus(ctx, p.owner, p.repo, p.headSHA, p.conclusion, p.statusDescription, p.runURL); err != nil {
		if errors.Is(err, githubapi.ErrReadOnly) {
			logf("commit status skipped: %v", err)
		} else {
			res.warnings = append(res.warnings, fmt.Sprintf("commit status: %v", err))
		}
	}
	// A review is posted when the comment changed (or there is none), so
	// that re-runs on the same report do not repeat it.
	if p.wantReview && posted && !res.readOnly && len(p.review) > 0 {
		dropped, err := c.CreateReview(ctx, p.owner, p.repo, p.number, p.headSHA, "", p.review)
		if err != nil {
			failed("review", err)
		} else if len(dropped) > 0 {
			logf("review: %d line(s) are outside the pull request's diff; they stay annotations", len(dropped))
		}
	}
	return res
}

// postComment applies the comment policy: list, decide, then create,
// update or skip. It returns the comment's URL and whether it wrote one.
func postComment(ctx context.Context, c *githubapi.Client, p publication, logf func(string, ...any)) (string, bool, error) {
	existing, err := c.ListComments(ctx, p.owner, p.repo, p.number)
	if err != nil {
		return "", false, err
	}
	act := prcomment.Decide(existing, p.body, p.mode)
	for _, x := range act.Extra {
		logf("comment %s also carries the marker of tag %q; it is left alone", x.URL, p.body.Tag)
	}
	logf("comment: %s (%s)", act.Kind, act.Reason)
	rendered := p.body.Render()
	switch act.Kind {
	case prcomment.Update:
		got, err := c.UpdateComment(ctx, p.owner, p.repo, act.Target.ID, rendered)
		if err != nil {
			return act.Target.URL, false, err
		}
		return got.URL, true, nil
	case prcomment.Create:
		for _, h := range act.Hide {
			if err := c.MinimizeComment(ctx, h.NodeID); err != nil {
				if errors.Is(err, githubapi.ErrReadOnly) {
					return "", false, err
				}
				logf("could not hide comment %s: %v", h.URL, err)
			}
		}
		got, err := c.CreateComment(ctx, p.owner, p.repo, p.number, rendered)
		if err != nil {
			return "", false, err
		}
		return got.URL, true, nil
	default:
		if act.Target != nil {
			return act.Target.URL, false, nil
		}
		return "", false, nil
	}
}
