package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/reachdiff/reachdiff/internal/actionenv"
	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/gate"
	"github.com/reachdiff/reachdiff/internal/githubapi"
	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/prcomment"
	"github.com/reachdiff/reachdiff/internal/report"
)

func init() { extraCommands["post"] = runPost }

// maxReportBytes caps the report `post` reads: it comes from an untrusted
// run. A report at the comment's and the summary's limits is far smaller.
const maxReportBytes = 32 << 20

var (
	shaRE  = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
	repoRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
	// tagRE is actionenv's rule for the comment-tag input.
	tagRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)
)

// errRefused marks a report that does not belong to the run (exit 2).
var errRefused = errors.New("refusing to post")

// runPost is `reachdiff post --report FILE`: the second workflow of the
// fork pattern. It runs on workflow_run with a token that can write, reads
// the JSON report the pull request's run uploaded, checks that it belongs
// to that run's pull request and head commit, and posts the sticky comment
// and the commit status exactly as `action` would. The report is untrusted:
// its size is capped, it is decoded strictly, and the Markdown is rendered
// again from its data.
func runPost(ctx context.Context, args []string, env Env) error {
	fs := newFlags("post", env)
	reportPath := fs.String("report", "", "the JSON report `reachdiff action` wrote (the reachdiff-report artifact)")
	mode := fs.String("comment", "update", "update, new, hide-and-new or off")
	tagFlag := fs.String("comment-tag", "", "the sticky comment's tag (default: the report's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *reportPath == "" {
		return usagef("post needs --report FILE and no other arguments")
	}
	m, err := prcomment.ParseMode(*mode)
	if err != nil {
		return usagef("--comment: %v", err)
	}
	if *tagFlag != "" && !tagRE.MatchString(*tagFlag) {
		return usagef("--comment-tag %q: use up to 100 letters, digits, '.', '_', '/' or '-'", *tagFlag)
	}
	a := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(env.Stdout))
	ghctx, err := a.Context()
	if err != nil {
		return inputError{fmt.Errorf("GitHub Actions environment: %w", err)}
	}
	ev, err := actionenv.ReadEvent(ghctx)
	if err != nil {
		return inputError{err}
	}
	run := ev.WorkflowRun
	if run == nil {
		return inputError{fmt.Errorf("event %q is not workflow_run: reachdiff post runs in the second workflow of the fork pattern (examples/reachdiff-fork-comment.yml)", ev.Name)}
	}
	d, err := readReport(env.path(*reportPath))
	if err != nil {
		return inputError{err}
	}
	repo := env.Getenv("GITHUB_REPOSITORY")
	if repo == "" {
		repo = run.Repo
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return inputError{fmt.Errorf("GITHUB_REPOSITORY %q is not owner/name", repo)}
	}
	token := env.Getenv("GITHUB_TOKEN")
	if token == "" {
		token = a.GetInput("github-token")
	}
	if token == "" {
		return inputError{errors.New("post needs a token that can write: set GITHUB_TOKEN")}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(env.Stderr, "reachdiff: "+format+"\n", args...) }
	opts := append([]githubapi.Option{githubapi.WithLogf(logf)}, apiOptions...)
	client, err := githubapi.New(ctx, token, env.Getenv("GITHUB_API_URL"), opts...)
	if err != nil {
		return inputError{err}
	}
	if err := checkReport(ctx, client, d.PullRequest, run, repo); err != nil {
		return inputError{err}
	}
	tag := *tagFlag
	if tag == "" {
		tag = d.PullRequest.CommentTag
	}
	runAt := workflowRunStart(ghctx.Event)
	if runAt.IsZero() {
		runAt = actionClock().UTC()
	}
	runURL := runLink(env.Getenv("GITHUB_SERVER_URL"), repo, strconv.FormatInt(run.ID, 10))
	res := publish(ctx, token, env.Getenv("GITHUB_API_URL"), publication{
		owner: owner, repo: name, number: d.PullRequest.Number, headSHA: d.PullRequest.HeadSHA,
		mode: m, body: commentBody(d, tag, runAt, runURL), runURL: runURL,
		conclusion: d.Gate.Conclusion, statusDescription: statusDescription(d),
	}, logf)
	if res.readOnly {
		return fmt.Errorf("the token is read-only: the workflow running post needs pull-requests: write (and statuses: write)")
	}
	if len(res.warnings) > 0 {
		return errors.New(strings.Join(res.warnings, "; "))
	}
	if res.commentURL != "" {
		fmt.Fprintln(env.Stdout, res.commentURL)
	}
	if env.Getenv("GITHUB_OUTPUT") != "" {
		if err := actionenv.NewWriter(a, env.Stdout).SetOutputs(map[string]string{"comment-url": res.commentURL}); err != nil {
			logf("%v", err)
		}
	}
	return nil
}

// checkReport refuses a report that is not for the run's pull request and
// head commit. When the run lists its pull requests (same repository), the
// report's number must be one of them; when it lists none (a fork), the
// pull request the report names is read from the API and its head must be
// the run's head commit.
func checkReport(ctx context.Context, c *githubapi.Client, pr *report.PullRequest, run *actionenv.WorkflowRun, repo string) error {
	if pr.Repo != repo {
		return fmt.Errorf("%w: the report is for repository %s, this workflow runs in %s", errRefused, pr.Repo, repo)
	}
	if pr.HeadSHA != run.HeadSHA {
		return fmt.Errorf("%w: the report is for head %s of #%d, the workflow run is for head %s", errRefused, pr.HeadSHA, pr.Number, run.HeadSHA)
	}
	if len(run.PullRequests) > 0 {
		for _, n := range run.PullRequests {
			if n == pr.Number {
				return nil
			}
		}
		return fmt.Errorf("%w: the report is for #%d, the workflow run is for %v", errRefused, pr.Number, run.PullRequests)
	}
	owner, name, _ := strings.Cut(repo, "/")
	got, err := c.PullRequest(ctx, owner, name, pr.Number)
	if err != nil {
		return fmt.Errorf("%w: cannot check #%d: %v", errRefused, pr.Number, err)
	}
	if got.HeadSHA != run.HeadSHA {
		return fmt.Errorf("%w: pull request #%d's head is %s, the workflow run is for %s (a newer push, or a report for another pull request)", errRefused, pr.Number, got.HeadSHA, run.HeadSHA)
	}
	if run.HeadRepo != "" && got.HeadRepo != "" && got.HeadRepo != run.HeadRepo {
		return fmt.Errorf("%w: pull request #%d comes from %s, the workflow run from %s", errRefused, pr.Number, got.HeadRepo, run.HeadRepo)
	}
	return nil
}

// workflowRunStart is when the reported run started (the comment's run
// time), from the event: run_started_at, else created_at.
func workflowRunStart(ev map[string]any) time.Time {
	wr, _ := ev["workflow_run"].(map[string]any)
	for _, k := range []string{"run_started_at", "created_at"} {
		if s, ok := wr[k].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t.UTC()
			}
		}
	}
	return time.Time{}
}

// reportIn decodes a report strictly: an overlay's subprocessors field is
// an interface in report.Overlay, so it is read as raw JSON first and then
// decoded strictly into report.Subprocessors.
type reportIn struct {
	report.Diff
	Overlays []overlayIn `json:"overlays"`
}

type overlayIn struct {
	report.Overlay
	Subprocessors json.RawMessage `json:"subprocessors,omitempty"`
}

// subprocessorsIn is report.Subprocessors as the JSON report prints it:
// ranges and connection sets in their text notation.
type subprocessorsIn struct {
	Inventory    string `json:"inventory,omitempty"`
	HasInventory bool   `json:"hasInventory"`
	Vendors      []struct {
		Workload     string `json:"workload"`
		Subprocessor string `json:"subprocessor"`
		Change       string `json:"change"`
		Before       string `json:"before"`
		After        string `json:"after"`
	} `json:"vendors"`
	Undeclared []struct {
		Range    string   `json:"range"`
		Workload string   `json:"workload"`
		Any      string   `json:"any,omitempty"`
		Conns    string   `json:"conns"`
		Vendors  []string `json:"vendors,omitempty"`
	} `json:"undeclared"`
	UndeclaredAgents []inventory.AgentMatch     `json:"undeclaredAgents"`
	Stale            []inventory.StaleComponent `json:"stale"`
	Unverifiable     []inventory.Unverifiable   `json:"unverifiable,omitempty"`
}

// convert parses the notations back into report.Subprocessors.
func (in subprocessorsIn) convert() (*report.Subprocessors, error) {
	out := report.Subprocessors{Inventory: in.Inventory, HasInventory: in.HasInventory,
		UndeclaredAgents: in.UndeclaredAgents, Stale: in.Stale, Unverifiable: in.Unverifiable}
	for i, v := range in.Vendors {
		switch v.Change {
		case inventory.NewlyReachable, inventory.NoLongerReachable, inventory.PortsChanged:
		default:
			return nil, fmt.Errorf("vendors[%d].change %q is not a change", i, v.Change)
		}
		before, err := connset.Parse(v.Before)
		if err != nil {
			return nil, fmt.Errorf("vendors[%d].before: %w", i, err)
		}
		after, err := connset.Parse(v.After)
		if err != nil {
			return nil, fmt.Errorf("vendors[%d].after: %w", i, err)
		}
		out.Vendors = append(out.Vendors, inventory.VendorDelta{Workload: v.Workload, Subprocessor: v.Subprocessor,
			Change: v.Change, Before: before, After: after})
	}
	for i, u := range in.Undeclared {
		conns, err := connset.Parse(u.Conns)
		if err != nil {
			return nil, fmt.Errorf("undeclared[%d].conns: %w", i, err)
		}
		var r ipset.Range
		switch u.Any {
		case "IPv4", "IPv6":
			whole := "0.0.0.0/0"
			if u.Any == "IPv6" {
				whole = "::/0"
			}
			r, err = ipset.ParseRange(whole)
		case "":
			r, err = ipset.ParseRange(u.Range)
		default:
			err = fmt.Errorf("any %q: want IPv4 or IPv6", u.Any)
		}
		if err != nil {
			return nil, fmt.Errorf("undeclared[%d]: %w", i, err)
		}
		out.Undeclared = append(out.Undeclared, inventory.UndeclaredDelta{Workload: u.Workload, Any: u.Any, Range: r,
			Conns: conns, Vendors: u.Vendors})
	}
	return report.NewSubprocessors(out, inventory.Classification{}), nil
}

// readReport reads and validates an untrusted JSON report.
func readReport(path string) (*report.Diff, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if len(data) > maxReportBytes {
		return nil, fmt.Errorf("report %s: larger than %d MiB", path, maxReportBytes>>20)
	}
	var in reportIn
	if err := strictDecode(data, &in); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	d := in.Diff
	d.Overlays = make([]report.Overlay, len(in.Overlays))
	for i, o := range in.Overlays {
		d.Overlays[i] = o.Overlay
		if len(o.Subprocessors) == 0 || string(o.Subprocessors) == "null" {
			continue
		}
		var in subprocessorsIn
		if err := strictDecode(o.Subprocessors, &in); err != nil {
			return nil, fmt.Errorf("report %s: overlays[%d].subprocessors: %w", path, i, err)
		}
		subs, err := in.convert()
		if err != nil {
			return nil, fmt.Errorf("report %s: overlays[%d].subprocessors: %w", path, i, err)
		}
		d.Overlays[i].Subprocessors = subs
	}
	if err := validateReport(&d); err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	return &d, nil
}

// strictDecode decodes exactly one JSON value without unknown fields.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// validateReport checks the fields the comment shows without escaping
// (enumerations) and the pull request block post relies on.
func validateReport(d *report.Diff) error {
	if d.Version != 1 {
		return fmt.Errorf("version %d: want 1", d.Version)
	}
	pr := d.PullRequest
	switch {
	case pr == nil:
		return errors.New("no pullRequest block: the report was not written by reachdiff action")
	case pr.Number <= 0:
		return fmt.Errorf("pullRequest.number %d is not a pull request number", pr.Number)
	case !shaRE.MatchString(pr.HeadSHA) || !shaRE.MatchString(pr.BaseSHA):
		return errors.New("pullRequest.headSha and baseSha must be full commit SHAs")
	case !repoRE.MatchString(pr.Repo):
		return fmt.Errorf("pullRequest.repo %q is not owner/name", pr.Repo)
	case pr.CommentTag != "" && !tagRE.MatchString(pr.CommentTag):
		return fmt.Errorf("pullRequest.commentTag %q is not a valid tag", pr.CommentTag)
	}
	if _, err := parseFailOn(pr.FailOn); err != nil {
		return fmt.Errorf("pullRequest.failOn: %w", err)
	}
	for _, w := range pr.FailOn {
		if w != "never" && w != string(gate.Error) && w != string(gate.Warning) && !containsString(gate.Rules(), w) {
			return fmt.Errorf("pullRequest.failOn %q: not a severity or rule", w)
		}
	}
	g := d.Gate
	if g == nil {
		return errors.New("no gate verdict")
	}
	if g.Conclusion != gate.Success && g.Conclusion != gate.Failure {
		return fmt.Errorf("gate.conclusion %q: want success or failure", g.Conclusion)
	}
	for i, v := range g.Violations {
		if !containsString(gate.Rules(), v.Rule) {
			return fmt.Errorf("gate.violations[%d].rule %q is not a gate rule", i, v.Rule)
		}
		if v.Severity != string(gate.Error) && v.Severity != string(gate.Warning) {
			return fmt.Errorf("gate.violations[%d].severity %q: want error or warning", i, v.Severity)
		}
	}
	d.Count()
	return nil
}
