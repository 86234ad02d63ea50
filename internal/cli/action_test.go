package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/githubapi"
	"github.com/reachdiff/reachdiff/internal/prcomment"
	"github.com/reachdiff/reachdiff/internal/report"
)

// t0 is the run time of the first run in these tests.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// gitRepo makes a throwaway repository with one commit per element of
// commits (files written over the previous commit's) and returns its
// directory and the commits' SHAs.
func gitRepo(t *testing.T, commits ...map[string]string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir,
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	var shas []string
	for i, files := range commits {
		for name, content := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		git("add", "-A")
		git("commit", "-q", "--allow-empty", "-m", "commit "+string(rune('a'+i)))
		shas = append(shas, git("rev-parse", "HEAD"))
	}
	return dir, shas
}

// exampleFiles reads testdata/example/<side>.
func exampleFiles(t *testing.T, side string) map[string]string {
	t.Helper()
	dir := filepath.Join("../../testdata/example", side)
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exampleHead2 is the example's head with one more change: the database
// no longer admits every namespace, so the delta differs from head's.
func exampleHead2(t *testing.T) map[string]string {
	t.Helper()
	head := exampleFiles(t, "head")
	old := "            matchLabels: {app: api}\n        - namespaceSelector: {}\n"
	p := strings.Replace(head["policies.yaml"], old, "            matchLabels: {app: api}\n", 1)
	if p == head["policies.yaml"] {
		t.Fatal("exampleHead2: the example's head changed; update the test")
	}
	return map[string]string{"policies.yaml": p}
}

// prEvent returns a real pull_request payload with its base and head SHAs
// (and labels) rewritten to the test repository's.
func prEvent(t *testing.T, file, baseSHA, headSHA string, labels ...string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(readFixture(t, "events/"+file)), &ev); err != nil {
		t.Fatal(err)
	}
	pr := ev["pull_request"].(map[string]any)
	pr["base"].(map[string]any)["sha"] = baseSHA
	pr["head"].(map[string]any)["sha"] = headSHA
	var ls []any
	for _, l := range labels {
		ls = append(ls, map[string]any{"name": l})
	}
	pr["labels"] = ls
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// actionHarness runs `reachdiff action` (or post) in-process against a
// fake GitHub with an injected clock and sleep.
type actionHarness struct {
	t      *testing.T
	gh     *fakeGitHub
	vars   map[string]string
	mu     sync.Mutex
	sleeps []time.Duration
}

func newActionHarness(t *testing.T, repoDir string) *actionHarness {
	t.Helper()
	h := &actionHarness{t: t, gh: newFakeGitHub(t)}
	t.Cleanup(h.gh.Close)
	h.vars = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_API_URL":      h.gh.URL(),
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "Codertocat/Hello-World",
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_WORKSPACE":    repoDir,
		"RUNNER_TEMP":         t.TempDir(),
		"INPUT_GITHUB-TOKEN":  testToken,
		"INPUT_COMMENT":       "update",
		"INPUT_ANNOTATIONS":   "true",
		"INPUT_FAIL-ON":       "error",
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0",
		"GIT_CONFIG_GLOBAL":   os.DevNull,
		"HOME":                t.TempDir(),
		"PATH":                os.Getenv("PATH"),
		"GITHUB_EVENT_NAME":   "pull_request",
	}
	old, oldOpts := actionClock, apiOptions
	apiOptions = []githubapi.Option{githubapi.WithSleep(func(_ context.Context, d time.Duration) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.sleeps = append(h.sleeps, d)
		return nil
	})}
	t.Cleanup(func() { actionClock, apiOptions = old, oldOpts })
	return h
}

// event writes the event payload and points GITHUB_EVENT_PATH at it.
func (h *actionHarness) event(name string, payload []byte) {
	h.t.Helper()
	p := filepath.Join(h.t.TempDir(), "event.json")
	if err := os.WriteFile(p, payload, 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.vars["GITHUB_EVENT_NAME"] = name
	h.vars["GITHUB_EVENT_PATH"] = p
}

// actionResult is what one run produced.
type actionResult struct {
	code            int
	stdout, stderr  string
	outputs         map[string]string
	summary         string
	outputsFileText string
}

// run runs reachdiff with args at time now, with fresh output and
// summary files.
func (h *actionHarness) run(now time.Time, args ...string) actionResult {
	h.t.Helper()
	dir := h.t.TempDir()
	h.vars["GITHUB_OUTPUT"] = filepath.Join(dir, "output")
	h.vars["GITHUB_STEP_SUMMARY"] = filepath.Join(dir, "summary")
	actionClock = func() time.Time { return now }
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return h.vars[k] }})
	res := actionResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if data, err := os.ReadFile(h.vars["GITHUB_OUTPUT"]); err == nil {
		res.outputsFileText = string(data)
		res.outputs = parseOutputs(h.t, string(data))
	}
	if data, err := os.ReadFile(h.vars["GITHUB_STEP_SUMMARY"]); err == nil {
		res.summary = string(data)
	}
	for what, s := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "summary": res.summary, "outputs": res.outputsFileText} {
		if strings.Contains(s, testToken) {
			h.t.Errorf("%v: the token appears in %s", args, what)
		}
	}
	return res
}

// parseOutputs reads $GITHUB_OUTPUT's "name<<DELIM" blocks.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if lines[i] != "" {
				t.Errorf("GITHUB_OUTPUT: unexpected line %q", lines[i])
			}
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// writes lists the requests that change something.
func writes(reqs []string) []string {
	var out []string
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

const (
	commentsPath = "/repos/Codertocat/Hello-World/issues/2/comments"
	prRepo       = "Codertocat/Hello-World"
)

// TestActionStickyComment runs the action as a pull request evolves: the
// first run creates one comment; a re-run with the same delta edits
// nothing; a push that changes the delta edits the same comment; an older
// run that finishes late does not overwrite the newer comment.
func TestActionStickyComment(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"), exampleHead2(t))
	base, head, head2 := shas[0], shas[1], shas[2]
	h := newActionHarness(t, repo)

	// 1. First run: one new comment, a failing status, annotations, outputs.
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", base, head))
	r := h.run(t0, "action")
	if r.code != ExitGateFailed {
		t.Fatalf("action (first run) = exit %d; want %d (the example opens internet egress)\nstderr:\n%s", r.code, ExitGateFailed, r.stderr)
	}
	var rep report.Diff
	data, err := os.ReadFile(r.outputs["report"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	// The counts come from the report: the comment, the summary, the
	// status and the outputs must agree with it.
	heading := fmt.Sprintf("### reachdiff: %d paths opened, 1 closed", rep.Summary.Opened)
	reqs := h.gh.requests()
	wantWrites := []string{"POST " + commentsPath, "POST /repos/Codertocat/Hello-World/statuses/" + head}
	if diff := cmp.Diff(wantWrites, writes(reqs)); diff != "" {
		t.Errorf("first run: writes mismatch (-want +got):\n%s", diff)
	}
	bodies := h.gh.commentBodies()
	if len(bodies) != 1 {
		t.Fatalf("first run: %d comments; want 1", len(bodies))
	}
	var firstID int64
	var first string
	for id, b := range bodies {
		firstID, first = id, b
	}
	parsed, ok := prcomment.Parse("default", first)
	if !ok {
		t.Fatalf("first comment does not start with the default marker:\n%.300s", first)
	}
	if parsed.Meta.HeadSHA != head || !parsed.Meta.RunAt.Equal(t0) || parsed.Meta.DeltaHash == "" {
		t.Errorf("first comment meta = %+v; want head %s, run %v and a delta hash", parsed.Meta, head, t0)
	}
	for _, want := range []string{
		heading,
		"**Check: ❌ fails**",
		"| restrict the rule at policies.yaml:105 to the address ranges the workload needs, or acknowledge with hash 1e7df09b |",
		"reachdiff-ack:" + parsed.Meta.DeltaHash,
		"[job summary](https://github.com/Codertocat/Hello-World/actions/runs/4242)",
	} {
		if !strings.Contains(parsed.Text, want) {
			t.Errorf("first comment lacks %q:\n%s", want, parsed.Text)
		}
	}
	h.gh.mu.Lock()
	st := h.gh.statuses
	h.gh.mu.Unlock()
	wantStatus := []map[string]any{{"state": "failure", "context": "reachdiff", "sha": head,
		"description": fmt.Sprintf("%d opened, 1 closed; gate fails", rep.Summary.Opened), "target_url": "https://github.com/Codertocat/Hello-World/actions/runs/4242"}}
	if diff := cmp.Diff(wantStatus, st); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	commentURL := "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-" + itoa(firstID)
	if r.outputs["report"] == "" || !strings.HasPrefix(r.outputs["report"], h.vars["RUNNER_TEMP"]) {
		t.Errorf("outputs report = %q; want a file under RUNNER_TEMP %s", r.outputs["report"], h.vars["RUNNER_TEMP"])
	}
	wantOut := map[string]string{"opened": strconv.Itoa(rep.Summary.Opened), "closed": "1", "conclusion": "failure", "comment-url": commentURL, "report": r.outputs["report"]}
	if diff := cmp.Diff(wantOut, r.outputs); diff != "" {
		t.Errorf("outputs mismatch (-want +got):\n%s", diff)
	}
	for _, want := range []string{heading, "**Check: ❌ fails**", "<details><summary>Closed (1)"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("job summary lacks %q:\n%s", want, r.summary)
		}
	}
	for _, want := range []string{
		"::warning file=policies.yaml,line=81,title=reachdiff%3A opened paths::opens monitoring/datadog-agent[DaemonSet] => shop/db[StatefulSet] : TCP 5432\n",
		"::warning file=policies.yaml,line=105,title=reachdiff%3A opened paths::opens 5 paths:%0A",
		"::error file=policies.yaml,line=105,title=reachdiff gate%3A internet-egress::",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks annotation %q:\n%s", want, r.stdout)
		}
	}
	wantPR := &report.PullRequest{Number: 2, Repo: prRepo, BaseSHA: base, HeadSHA: head, CommentTag: "default", FailOn: []string{"error"}}
	if diff := cmp.Diff(wantPR, rep.PullRequest); diff != "" {
		t.Errorf("report pullRequest mismatch (-want +got):\n%s", diff)
	}

	// 2. Re-run, same delta, later: nothing is edited.
	r = h.run(t0.Add(time.Minute), "action")
	if r.code != ExitGateFailed {
		t.Errorf("action (re-run) = exit %d; want %d", r.code, ExitGateFailed)
	}
	if w := writes(h.gh.requests()); len(w) != 1 || !strings.Contains(w[0], "/statuses/") {
		t.Errorf("re-run writes = %v; want only the status", w)
	}
	if got := h.gh.commentBodies(); got[firstID] != first || len(got) != 1 {
		t.Errorf("re-run changed the comments: %d comments", len(got))
	}
	if r.outputs["comment-url"] != commentURL {
		t.Errorf("re-run comment-url = %q; want %q", r.outputs["comment-url"], commentURL)
	}

	// 3. A push changes the delta: the same comment is edited.
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", base, head2))
	r = h.run(t0.Add(2*time.Minute), "action")
	if r.code != ExitGateFailed {
		t.Errorf("action (new push) = exit %d; want %d\n%s", r.code, ExitGateFailed, r.stderr)
	}
	wantWrites = []string{"PATCH /repos/Codertocat/Hello-World/issues/comments/" + itoa(firstID), "POST /repos/Codertocat/Hello-World/statuses/" + head2}
	if diff := cmp.Diff(wantWrites, writes(h.gh.requests())); diff != "" {
		t.Errorf("new push: writes mismatch (-want +got):\n%s", diff)
	}
	var rep2 report.Diff
	if err := json.Unmarshal(must(os.ReadFile(r.outputs["report"])), &rep2); err != nil {
		t.Fatalf("report: %v", err)
	}
	heading2 := fmt.Sprintf("### reachdiff: %d paths opened", rep2.Summary.Opened)
	edited, _ := prcomment.Parse("default", h.gh.commentBodies()[firstID])
	if rep2.Summary.Opened >= rep.Summary.Opened || edited.Meta.HeadSHA != head2 || !strings.Contains(edited.Text, heading2) {
		t.Errorf("edited comment = head %s, text:\n%s\nwant head %s and %q (fewer than %d)", edited.Meta.HeadSHA, edited.Text, head2, heading2, rep.Summary.Opened)
	}

	// 4. The older run (head, earlier clock) finishes late: no overwrite.
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", base, head))
	r = h.run(t0.Add(90*time.Second), "action")
	if w := writes(h.gh.requests()); len(w) != 1 || !strings.Contains(w[0], "/statuses/") {
		t.Errorf("older run writes = %v; want only the status of its own commit", w)
	}
	if after, _ := prcomment.Parse("default", h.gh.commentBodies()[firstID]); after.Meta.HeadSHA != head2 {
		t.Errorf("older run overwrote the comment: head %s; want %s", after.Meta.HeadSHA, head2)
	}
	if r.code != ExitGateFailed {
		t.Errorf("older run = exit %d; want %d", r.code, ExitGateFailed)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestActionGatePasses acknowledges the delta with a pull request label:
// exit 0, a success status, and the comment says the check passes.
func TestActionGatePasses(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_COMMENT"] = "off"
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	var rep report.Diff
	if err := json.Unmarshal([]byte(must(os.ReadFile(r.outputs["report"]))), &rep); err != nil || rep.Gate == nil {
		t.Fatalf("report: %v", err)
	}
	h.gh.requests()
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1], "reachdiff-ack:"+rep.Gate.DeltaHash))
	h.vars["INPUT_COMMENT"] = "update"
	r = h.run(t0, "action")
	if r.code != ExitOK || r.outputs["conclusion"] != "success" {
		t.Fatalf("action with the ack label = exit %d, conclusion %q; want 0, success\n%s", r.code, r.outputs["conclusion"], r.stderr)
	}
	if strings.Contains(r.stdout, "::error") {
		t.Errorf("acknowledged violations still annotated as errors:\n%s", r.stdout)
	}
	if !strings.Contains(r.summary, "**Check: ✅ passes.**") {
		t.Errorf("summary does not say the check passes:\n%s", r.summary)
	}
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	if n := len(h.gh.statuses); n == 0 || h.gh.statuses[n-1]["state"] != "success" {
		t.Errorf("statuses = %v; want a last success", h.gh.statuses)
	}
}

// TestActionFailOn checks the fail-on input: never, and a rule name.
func TestActionFailOn(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	tests := []struct {
		failOn   string
		wantCode int
		wantConc string
	}{
		{"never", ExitOK, "success"},
		{"new-cross-namespace", ExitGateFailed, "failure"}, // a warning rule named explicitly
		{"warning", ExitGateFailed, "failure"},
		{"sensitive-ingress", ExitOK, "success"}, // the example has no sensitive namespace
		{"bogus", ExitUsage, ""},
	}
	for _, tt := range tests {
		h := newActionHarness(t, repo)
		h.vars["INPUT_COMMENT"] = "off"
		h.vars["INPUT_FAIL-ON"] = tt.failOn
		h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
		r := h.run(t0, "action")
		if r.code != tt.wantCode || r.outputs["conclusion"] != tt.wantConc {
			t.Errorf("action fail-on %q = exit %d, conclusion %q; want %d, %q\n%s", tt.failOn, r.code, r.outputs["conclusion"], tt.wantCode, tt.wantConc, r.stderr)
		}
	}
}

// TestActionReadOnly runs on a real fork pull request payload with a
// read-only token: no failure beyond the gate's, a notice, and the summary
// says why there is no comment.
func TestActionReadOnly(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.gh.readOnly = true
	h.vars["GITHUB_REPOSITORY"] = "FerretDB/FerretDB"
	h.vars["INPUT_REVIEW"] = "true"
	h.event("pull_request", prEvent(t, "ferretdb-github-actions/pull_request_fork.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	if r.code != ExitGateFailed {
		t.Fatalf("action (fork, read-only) = exit %d; want %d (the gate's verdict)\n%s", r.code, ExitGateFailed, r.stderr)
	}
	wantReqs := []string{
		"GET /repos/FerretDB/FerretDB/issues/305/comments",
		"POST /repos/FerretDB/FerretDB/issues/305/comments",
		"POST /repos/FerretDB/FerretDB/statuses/" + shas[1],
	}
	if diff := cmp.Diff(wantReqs, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`(?m)^::notice title=reachdiff::reachdiff could not post the pull request comment: the token is read-only`).MatchString(r.stdout) {
		t.Errorf("stdout lacks the read-only notice:\n%s", r.stdout)
	}
	if !strings.Contains(r.summary, "> reachdiff could not post the pull request comment: the token is read-only") {
		t.Errorf("summary does not explain the missing comment:\n%s", r.summary)
	}
	if r.outputs["comment-url"] != "" || r.outputs["report"] == "" {
		t.Errorf("outputs = %v; want no comment-url and a report", r.outputs)
	}
	if strings.Contains(r.stdout, "::warning title=reachdiff%3A GitHub API") {
		t.Errorf("a read-only token was reported as an API failure:\n%s", r.stdout)
	}
}

// TestActionRetries: 5xx answers are retried with backoff and the comment
// gets posted; a 429 that persists on the status is retried, then reported
// as a warning without changing the exit code.
func TestActionRetries(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.gh.failures["POST ^/repos/[^/]+/[^/]+/issues/2/comments$"] = []int{502, 503}
	h.gh.failures["POST /statuses/"] = []int{429, 429, 429, 429}
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	if r.code != ExitGateFailed {
		t.Fatalf("action = exit %d; want %d\n%s", r.code, ExitGateFailed, r.stderr)
	}
	want := []string{
		"GET " + commentsPath,
		"POST " + commentsPath, "POST " + commentsPath, "POST " + commentsPath,
		"POST /repos/Codertocat/Hello-World/statuses/" + shas[1], "POST /repos/Codertocat/Hello-World/statuses/" + shas[1],
		"POST /repos/Codertocat/Hello-World/statuses/" + shas[1], "POST /repos/Codertocat/Hello-World/statuses/" + shas[1],
	}
	if diff := cmp.Diff(want, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	h.mu.Lock()
	sleeps := h.sleeps
	h.mu.Unlock()
	wantSleeps := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	if diff := cmp.Diff(wantSleeps, sleeps); diff != "" {
		t.Errorf("sleeps mismatch (-want +got):\n%s", diff)
	}
	if len(h.gh.commentBodies()) != 1 || r.outputs["comment-url"] == "" {
		t.Errorf("comment not posted after 5xx retries: outputs %v", r.outputs)
	}
	if !strings.Contains(r.stdout, "::warning title=reachdiff%3A GitHub API::commit status: create status on Codertocat/Hello-World@"+shas[1]+": 429") {
		t.Errorf("stdout lacks the 429 warning:\n%s", r.stdout)
	}
}

// TestActionPagination finds our comment on the second page of 150.
func TestActionPagination(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	var ours int64
	for i := 0; i < 150; i++ {
		body := "LGTM " + itoa(int64(i))
		if i == 120 {
			body = prcomment.Body{Tag: "default", Meta: prcomment.Meta{HeadSHA: "0123", RunAt: t0.Add(-time.Hour)}, Text: "old report"}.Render()
		}
		id := h.gh.addComment("someone", body, t0.Add(-2*time.Hour))
		if i == 120 {
			ours = id
		}
	}
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	h.run(t0, "action")
	reqs := h.gh.requests()
	want := []string{"GET " + commentsPath, "GET " + commentsPath, "PATCH /repos/Codertocat/Hello-World/issues/comments/" + itoa(ours),
		"POST /repos/Codertocat/Hello-World/statuses/" + shas[1]}
	if diff := cmp.Diff(want, reqs); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	if got := len(h.gh.commentBodies()); got != 150 {
		t.Errorf("%d comments after the run; want 150 (edited in place)", got)
	}
}

// bigRepo is a namespace of n workloads under a default deny (base) that
// head opens entirely: n*(n-1) new paths, a report far over the comment
// limit.
func bigRepo(t *testing.T, n int) (string, []string) {
	var w strings.Builder
	w.WriteString("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: big\n")
	for i := 0; i < n; i++ {
		name := "service-with-a-rather-long-name-" + itoa(int64(i))
		w.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n  namespace: big\nspec:\n  selector:\n    matchLabels: {app: " + name + "}\n  template:\n    metadata:\n      labels: {app: " + name + "}\n    spec:\n      containers:\n        - name: c\n          image: example/app:1\n")
	}
	deny := "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: big\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"
	allow := deny + "  ingress:\n    - from:\n        - podSelector: {}\n      ports:\n        - {port: 8080, protocol: TCP}\n"
	return gitRepo(t, map[string]string{"workloads.yaml": w.String(), "policies.yaml": deny}, map[string]string{"policies.yaml": allow})
}

// TestActionLargeReport: a report over 70,000 characters is shortened to
// fit the comment limit, links to the job summary, and the summary keeps
// everything.
func TestActionLargeReport(t *testing.T) {
	repo, shas := bigRepo(t, 24)
	h := newActionHarness(t, repo)
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	if r.code != ExitOK {
		t.Fatalf("action = exit %d; want 0 (only warnings)\n%s", r.code, r.stderr)
	}
	if n := prcomment.Len(r.summary); n < 70000 {
		t.Fatalf("job summary is %d characters; the test wants a report over 70,000", n)
	}
	if !strings.Contains(r.summary, "service-with-a-rather-long-name-23[Deployment]` | `big/service-with-a-rather-long-name-22[Deployment]`") {
		t.Errorf("job summary lacks the last path")
	}
	var body string
	for _, b := range h.gh.commentBodies() {
		body = b
	}
	if n := prcomment.Len(body); n == 0 || n > prcomment.MaxBody {
		t.Fatalf("comment is %d characters; want 1..%d", n, prcomment.MaxBody)
	}
	for _, want := range []string{"### reachdiff: 552 paths opened", "(top 20)", "[job summary](https://github.com/Codertocat/Hello-World/actions/runs/4242)", "**Check: ✅ passes.**"} {
		if !strings.Contains(body, want) {
			t.Errorf("shortened comment lacks %q", want)
		}
	}
	if !strings.Contains(r.stdout, "::warning file=policies.yaml,line=") || !strings.Contains(r.stdout, "opens 552 paths:%0A") || !strings.Contains(r.stdout, "…and 542 more") {
		t.Errorf("stdout lacks the one annotation of the allow rule:\n%.2000s", r.stdout)
	}
}

// TestActionReview posts one inline comment per opening policy line inside
// the pull request's diff; lines outside stay annotations.
func TestActionReview(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_REVIEW"] = "true"
	h.vars["INPUT_COMMENT"] = "off"
	// The diff shows lines 95-110 of policies.yaml: the payments egress
	// rule (105) is inside, the db ingress rule (81) is not.
	h.gh.files = []map[string]any{{"filename": "policies.yaml", "status": "modified",
		"patch": "@@ -95,12 +95,16 @@ spec:\n" + strings.Repeat(" context\n", 16)}}
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	h.run(t0, "action")
	want := []string{"POST /repos/Codertocat/Hello-World/statuses/" + shas[1], "GET /repos/Codertocat/Hello-World/pulls/2/files", "POST /repos/Codertocat/Hello-World/pulls/2/reviews"}
	if diff := cmp.Diff(want, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	if len(h.gh.reviews) != 1 {
		t.Fatalf("%d reviews; want 1", len(h.gh.reviews))
	}
	rv := h.gh.reviews[0]
	comments, _ := rv["comments"].([]any)
	if rv["commit_id"] != shas[1] || rv["event"] != "COMMENT" || len(comments) != 1 {
		t.Fatalf("review = %v; want one COMMENT on %s", rv, shas[1])
	}
	c := comments[0].(map[string]any)
	if c["path"] != "policies.yaml" || c["line"] != float64(105) || !strings.Contains(c["body"].(string), "this rule opens 5 paths:\n\n- payments/payments[Deployment] =&gt; 0.0.0.0-9.255.255.255 : TCP 443\n") {
		t.Errorf("review comment = %v; want policies.yaml:105 opening 5 paths", c)
	}
}

// TestActionInputErrors: events without a pull request and bad inputs exit 2.
func TestActionInputErrors(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	tests := []struct {
		name        string
		setup       func(h *actionHarness)
		wantErr     string
		wantSummary string // "" when no summary is written
	}{
		{"push event", func(h *actionHarness) {
			h.event("push", []byte(`{"ref":"refs/heads/main"}`))
		}, `event "push" is not about a pull request`, ""},
		{"bad boolean", func(h *actionHarness) { h.vars["INPUT_ANNOTATIONS"] = "yes" }, `input annotations: "yes": want true or false`, ""},
		{"unknown base", func(h *actionHarness) { h.vars["INPUT_BASE-REF"] = "0000000000000000000000000000000000000000" }, "0000000000000000000000000000000000000000",
			"### reachdiff could not compare the revisions\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newActionHarness(t, repo)
			h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
			tt.setup(h)
			r := h.run(t0, "action")
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("action (%s) = exit %d, stderr %q; want %d and %q", tt.name, r.code, r.stderr, ExitUsage, tt.wantErr)
			}
			if reqs := h.gh.requests(); len(reqs) != 0 {
				t.Errorf("action (%s) made requests %v; want none", tt.name, reqs)
			}
			if !strings.HasPrefix(r.summary, tt.wantSummary) || (tt.wantSummary == "") != (r.summary == "") {
				t.Errorf("action (%s): job summary = %q; want it to start with %q", tt.name, r.summary, tt.wantSummary)
			}
		})
	}
}

// TestActionReportInWorkspace: in the Docker action RUNNER_TEMP names a
// directory of the host that the container does not have; the report then
// goes to a new, non-hidden directory of the workspace, named relatively.
func TestActionReportInWorkspace(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_COMMENT"] = "off"
	h.vars["RUNNER_TEMP"] = filepath.Join(t.TempDir(), "not-in-this-container")
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	rel := r.outputs["report"]
	if !regexp.MustCompile(`^reachdiff-report-\d+/reachdiff-report\.json$`).MatchString(rel) {
		t.Fatalf("outputs report = %q; want reachdiff-report-N/reachdiff-report.json", rel)
	}
	if _, err := readReport(filepath.Join(repo, rel)); err != nil {
		t.Errorf("readReport(workspace/%s) = %v; want the report", rel, err)
	}
}

// TestActionHideAndNew minimises our earlier comment through GraphQL, then
// posts a new one; someone else's comment quoting the marker is left alone.
func TestActionHideAndNew(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_COMMENT"] = "hide-and-new"
	old := h.gh.addComment("github-actions[bot]", prcomment.Body{Tag: "default", Meta: prcomment.Meta{HeadSHA: "0123", RunAt: t0.Add(-time.Hour)}, Text: "old"}.Render(), t0.Add(-time.Hour))
	h.gh.addComment("someone", "> "+prcomment.Marker("default")+"\nwhy?", t0.Add(-time.Minute))
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	h.run(t0, "action")
	want := []string{"GET " + commentsPath, "POST /graphql", "POST " + commentsPath, "POST /repos/Codertocat/Hello-World/statuses/" + shas[1]}
	if diff := cmp.Diff(want, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	if diff := cmp.Diff([]string{"IC_" + itoa(old)}, h.gh.minimized); diff != "" {
		t.Errorf("minimized mismatch (-want +got):\n%s", diff)
	}
}

// TestCommentSectionsFit builds a report with thousands of opened paths
// and hundreds of failing violations: the comment stays under the limit,
// keeps the verdict, the first rows of the gate table and the link.
func TestCommentSectionsFit(t *testing.T) {
	d := &report.Diff{Version: 1, Base: "b", Head: "h",
		PullRequest: &report.PullRequest{Number: 1, HeadSHA: strings.Repeat("a", 40), FailOn: []string{"error"}},
		Gate:        &report.Gate{Conclusion: "failure", DeltaHash: "0badc0de"}}
	ov := report.Overlay{Path: "deploy/prod"}
	for i := 0; i < 3000; i++ {
		src := fmt.Sprintf("ns%d/app-%d[Deployment]", i%7, i)
		ov.Changes = append(ov.Changes, report.Change{Src: src, Dst: "0.0.0.0/0", Before: "No Connections", After: "TCP 443", Opened: "TCP 443", Risk: []string{}})
		if i < 1000 {
			d.Gate.Violations = append(d.Gate.Violations, report.Violation{Rule: "internet-egress", Severity: "error",
				Message: src + " can newly reach any external host", Fix: "restrict the rule", Hash: fmt.Sprintf("%08x", i)})
		}
	}
	d.Overlays = []report.Overlay{ov}
	d.Count()
	runURL := "https://github.com/o/r/actions/runs/1"
	full := report.JoinMarkdown(report.DiffMarkdown(d))
	text := prcomment.Fit(commentSections(d, runURL), prcomment.SafeLimit)
	if n := prcomment.Len(full); n < 3*prcomment.MaxBody {
		t.Fatalf("full report is %d characters; the test wants one far over the limit", n)
	}
	if n := prcomment.Len(text); n > prcomment.SafeLimit {
		t.Errorf("Fit(commentSections) = %d characters; want at most %d", n, prcomment.SafeLimit)
	}
	for _, want := range []string{
		"**Check: ❌ fails**: 1000 violation(s) fail it",
		"`reachdiff-ack:0badc0de`",
		"| `internet-egress` | error | ns0/app-0[Deployment] can newly reach any external host | restrict the rule |",
		"…and 990 more (see the job summary).",
		"Full report: the [job summary](" + runURL + ")",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Fit(commentSections) lacks %q:\n%.3000s", want, text)
		}
	}
}
