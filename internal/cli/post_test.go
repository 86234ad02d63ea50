package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/prcomment"
)

// The real workflow_run payloads (hub4j-github-api) are for
// gsmet/quarkus-bot-java-playground#46 at this head commit.
const (
	runRepo    = "gsmet/quarkus-bot-java-playground"
	runHead    = "6f0b5a9c2c4caea39f73a4f5f4dbee093265ab2a"
	runPR      = 46
	forkRepo   = "gsmet-bot-playground/quarkus-bot-java-playground"
	runComment = "/repos/" + runRepo + "/issues/46/comments"
)

// exampleReport runs the action on the bundled example and returns its
// JSON report as a map, with the pull request block rewritten by edit.
func exampleReport(t *testing.T, edit func(pr map[string]any)) map[string]any {
	t.Helper()
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_COMMENT"] = "off"
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	var rep map[string]any
	if err := json.Unmarshal(must(os.ReadFile(r.outputs["report"])), &rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	pr := rep["pullRequest"].(map[string]any)
	pr["repo"], pr["number"], pr["headSha"] = runRepo, runPR, runHead
	if edit != nil {
		edit(pr)
	}
	return rep
}

// postHarness prepares `reachdiff post` on a workflow_run payload.
func postHarness(t *testing.T, payload string, rep any) (*actionHarness, string) {
	t.Helper()
	h := newActionHarness(t, t.TempDir())
	for _, k := range []string{"INPUT_GITHUB-TOKEN", "INPUT_COMMENT", "INPUT_ANNOTATIONS", "INPUT_FAIL-ON", "GITHUB_WORKSPACE", "RUNNER_TEMP"} {
		delete(h.vars, k)
	}
	h.vars["GITHUB_TOKEN"] = testToken
	h.vars["GITHUB_REPOSITORY"] = runRepo
	h.vars["GITHUB_RUN_ID"] = "999"
	h.event("workflow_run", []byte(readFixture(t, "events/hub4j-github-api/"+payload)))
	path := filepath.Join(t.TempDir(), "reachdiff-report.json")
	var data []byte
	switch r := rep.(type) {
	case []byte:
		data = r
	default:
		data = must(json.Marshal(r))
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return h, path
}

// TestPostSameRepository posts the comment and the status for a run whose
// event lists the pull request.
func TestPostSameRepository(t *testing.T) {
	rep := exampleReport(t, nil)
	h, path := postHarness(t, "workflow_run_pull_request.json", rep)
	r := h.run(t0, "post", "--report", path)
	if r.code != ExitOK {
		t.Fatalf("post = exit %d; want 0\n%s", r.code, r.stderr)
	}
	want := []string{"GET " + runComment, "POST " + runComment, "POST /repos/" + runRepo + "/statuses/" + runHead}
	if diff := cmp.Diff(want, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
	var body string
	for _, b := range h.gh.commentBodies() {
		body = b
	}
	c, ok := prcomment.Parse("default", body)
	if !ok {
		t.Fatalf("posted comment lacks the report's tag:\n%.300s", body)
	}
	// The run time is the reported run's, from the event.
	if c.Meta.HeadSHA != runHead || !c.Meta.RunAt.Equal(time.Date(2021, 3, 23, 18, 46, 50, 0, time.UTC)) {
		t.Errorf("comment meta = %+v; want head %s, run 2021-03-23T18:46:50Z", c.Meta, runHead)
	}
	for _, s := range []string{
		fmt.Sprintf("### reachdiff: %v paths opened, 1 closed", rep["summary"].(map[string]any)["opened"]),
		"**Check: ❌ fails**",
		"- UNDECLARED AGENT: monitoring/datadog-agent[DaemonSet] runs gcr.io/datadoghq/agent:7.52.0", // sub-processors decoded
		"[job summary](https://github.com/" + runRepo + "/actions/runs/680634037)",
	} {
		if !strings.Contains(c.Text, s) {
			t.Errorf("posted comment lacks %q:\n%s", s, c.Text)
		}
	}
	if strings.TrimSpace(r.stdout) != "https://github.com/"+runRepo+"/pull/2#issuecomment-1001" {
		t.Errorf("post stdout = %q; want the comment URL", r.stdout)
	}

	// Posting the same report again edits nothing.
	r = h.run(t0, "post", "--report", path)
	if w := writes(h.gh.requests()); r.code != ExitOK || len(w) != 1 {
		t.Errorf("second post = exit %d, writes %v; want 0 and only the status", r.code, w)
	}
}

// TestPostFork verifies a fork run (no pull_requests in the event) through
// the API before posting.
func TestPostFork(t *testing.T) {
	h, path := postHarness(t, "workflow_run_other_repository.json", exampleReport(t, nil))
	h.gh.pulls[runPR] = fakePull{headSHA: runHead, headRepo: forkRepo}
	r := h.run(t0, "post", "--report", path)
	if r.code != ExitOK {
		t.Fatalf("post (fork) = exit %d; want 0\n%s", r.code, r.stderr)
	}
	want := []string{"GET /repos/" + runRepo + "/pulls/46", "GET " + runComment, "POST " + runComment, "POST /repos/" + runRepo + "/statuses/" + runHead}
	if diff := cmp.Diff(want, h.gh.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

// TestPostRefuses: reports that do not belong to the run, or that are not
// well-formed reports, are refused with exit 2 before anything is written.
func TestPostRefuses(t *testing.T) {
	other := "0123456789abcdef0123456789abcdef01234567"
	orig := exampleReport(t, nil)
	// edited returns a copy of the report with its pull request block and
	// then the whole report changed.
	edited := func(editPR func(map[string]any), edit func(map[string]any)) map[string]any {
		var rep map[string]any
		if err := json.Unmarshal(must(json.Marshal(orig)), &rep); err != nil {
			t.Fatal(err)
		}
		if editPR != nil {
			editPR(rep["pullRequest"].(map[string]any))
		}
		if edit != nil {
			edit(rep)
		}
		return rep
	}
	tests := []struct {
		name    string
		payload string
		report  any
		pulls   map[int]fakePull
		wantReq []string
		wantErr string
	}{
		{name: "head SHA differs from the run's", payload: "workflow_run_pull_request.json",
			report:  edited(func(pr map[string]any) { pr["headSha"] = other }, nil),
			wantErr: "refusing to post: the report is for head " + other + " of #46, the workflow run is for head " + runHead},
		{name: "pull request not the run's", payload: "workflow_run_pull_request.json",
			report:  edited(func(pr map[string]any) { pr["number"] = 47 }, nil),
			wantErr: "refusing to post: the report is for #47, the workflow run is for [46]"},
		{name: "other repository", payload: "workflow_run_pull_request.json",
			report:  edited(func(pr map[string]any) { pr["repo"] = "evil/repo" }, nil),
			wantErr: "refusing to post: the report is for repository evil/repo"},
		{name: "fork: the pull request's head moved on", payload: "workflow_run_other_repository.json",
			report: edited(nil, nil), pulls: map[int]fakePull{runPR: {headSHA: other, headRepo: forkRepo}},
			wantReq: []string{"GET /repos/" + runRepo + "/pulls/46"},
			wantErr: "refusing to post: pull request #46's head is " + other},
		{name: "fork: the pull request comes from elsewhere", payload: "workflow_run_other_repository.json",
			report: edited(nil, nil), pulls: map[int]fakePull{runPR: {headSHA: runHead, headRepo: "someone/else"}},
			wantReq: []string{"GET /repos/" + runRepo + "/pulls/46"},
			wantErr: "refusing to post: pull request #46 comes from someone/else"},
		{name: "fork: no such pull request", payload: "workflow_run_other_repository.json",
			report:  edited(nil, nil),
			wantReq: []string{"GET /repos/" + runRepo + "/pulls/46"},
			wantErr: "refusing to post: cannot check #46"},
		{name: "unknown field", payload: "workflow_run_pull_request.json",
			report:  edited(func(pr map[string]any) { pr["html"] = "<script>" }, nil),
			wantErr: `json: unknown field "html"`},
		{name: "HTML in a rule name", payload: "workflow_run_pull_request.json",
			report: edited(nil, func(rep map[string]any) {
				rep["gate"].(map[string]any)["violations"].([]any)[0].(map[string]any)["rule"] = "x` <img src=x onerror=alert(1)>"
			}),
			wantErr: "is not a gate rule"},
		{name: "bad conclusion", payload: "workflow_run_pull_request.json",
			report:  edited(nil, func(rep map[string]any) { rep["gate"].(map[string]any)["conclusion"] = "**success**" }),
			wantErr: `gate.conclusion "**success**": want success or failure`},
		{name: "bad comment tag", payload: "workflow_run_pull_request.json",
			report:  edited(func(pr map[string]any) { pr["commentTag"] = "x --><img>" }, nil),
			wantErr: "is not a valid tag"},
		{name: "no pull request block", payload: "workflow_run_pull_request.json",
			report:  edited(nil, func(rep map[string]any) { delete(rep, "pullRequest") }),
			wantErr: "no pullRequest block"},
		{name: "trailing data", payload: "workflow_run_pull_request.json",
			report:  append(must(json.Marshal(edited(nil, nil))), []byte(`{"version":1}`)...),
			wantErr: "trailing data"},
		{name: "too large", payload: "workflow_run_pull_request.json",
			report:  append([]byte(`{"version":1,"base":"`), []byte(strings.Repeat("a", maxReportBytes))...),
			wantErr: "larger than 32 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, path := postHarness(t, tt.payload, tt.report)
			for n, p := range tt.pulls {
				h.gh.pulls[n] = p
			}
			r := h.run(t0, "post", "--report", path)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("post (%s) = exit %d, stderr %q; want %d and %q", tt.name, r.code, r.stderr, ExitUsage, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantReq, h.gh.requests()); diff != "" {
				t.Errorf("post (%s): requests mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

// TestPostNeedsWorkflowRun refuses other events and missing tokens.
func TestPostNeedsWorkflowRun(t *testing.T) {
	h, path := postHarness(t, "workflow_run_pull_request.json", exampleReport(t, nil))
	delete(h.vars, "GITHUB_TOKEN")
	if r := h.run(t0, "post", "--report", path); r.code != ExitUsage || !strings.Contains(r.stderr, "set GITHUB_TOKEN") {
		t.Errorf("post without a token = exit %d, stderr %q; want 2 asking for GITHUB_TOKEN", r.code, r.stderr)
	}
	h.vars["GITHUB_TOKEN"] = testToken
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", runHead, runHead))
	if r := h.run(t0, "post", "--report", path); r.code != ExitUsage || !strings.Contains(r.stderr, `event "pull_request" is not workflow_run`) {
		t.Errorf("post on pull_request = exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	if r := h.run(t0, "post"); r.code != ExitUsage || !strings.Contains(r.stderr, "post needs --report FILE") {
		t.Errorf("post without --report = exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	if reqs := h.gh.requests(); len(reqs) != 0 {
		t.Errorf("requests %v; want none", reqs)
	}
}

// TestReportRoundTrip: the Markdown post renders from the JSON report is
// the Markdown action rendered from its in-memory report.
func TestReportRoundTrip(t *testing.T) {
	repo, shas := gitRepo(t, exampleFiles(t, "base"), exampleFiles(t, "head"))
	h := newActionHarness(t, repo)
	h.vars["INPUT_COMMENT"] = "off"
	h.event("pull_request", prEvent(t, "octokit-webhooks/pull_request.opened.payload.json", shas[0], shas[1]))
	r := h.run(t0, "action")
	d, err := readReport(r.outputs["report"])
	if err != nil {
		t.Fatalf("readReport(action's report) = %v", err)
	}
	if diff := cmp.Diff(r.summary, summaryMarkdown(d, failPolicyOf(d))); diff != "" {
		t.Errorf("Markdown from the JSON report differs from the job summary (-action +post):\n%s", diff)
	}
}
