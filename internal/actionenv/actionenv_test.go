package actionenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"
)

const events = "../../testdata/github/events/"

func action(env map[string]string) *githubactions.Action {
	return githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }))
}

func TestReadInputsDefaults(t *testing.T) {
	got, err := ReadInputs(action(nil))
	if err != nil {
		t.Fatalf("ReadInputs(no inputs) = %v", err)
	}
	want := Inputs{Inventory: "subprocessors.yaml", Config: ".github/reachdiff.yaml", Comment: "update", Annotations: true, FailOn: []string{"error"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadInputs(no inputs) mismatch (-want +got):\n%s", diff)
	}
}

func TestReadInputs(t *testing.T) {
	env := map[string]string{
		// Docker actions receive inputs as INPUT_<NAME> with hyphens kept.
		"INPUT_OVERLAYS":          "deploy/prod, deploy/staging\n\n  overlays/*/eu  \n",
		"INPUT_BASE-REF":          "main",
		"INPUT_HEAD-REF":          "abc123",
		"INPUT_DEFAULT-NAMESPACE": "shop",
		"INPUT_INVENTORY":         "compliance/subprocessors.yaml",
		"INPUT_CONFIG":            "ci/reachdiff.yaml",
		"INPUT_COMMENT":           "hide-and-new",
		"INPUT_COMMENT-TAG":       "prod-eu",
		"INPUT_ANNOTATIONS":       "False",
		"INPUT_FAIL-ON":           "error,internet-egress",
		"INPUT_ALLOW-REMOTE":      "TRUE",
		"INPUT_GITHUB-TOKEN":      "ghs_secret",
		"INPUT_REVIEW":            "true",
	}
	got, err := ReadInputs(action(env))
	if err != nil {
		t.Fatalf("ReadInputs = %v", err)
	}
	want := Inputs{
		Overlays: []string{"deploy/prod", "deploy/staging", "overlays/*/eu"}, BaseRef: "main", HeadRef: "abc123",
		DefaultNamespace: "shop", Inventory: "compliance/subprocessors.yaml", Config: "ci/reachdiff.yaml",
		Comment: "hide-and-new", CommentTag: "prod-eu", Annotations: false, FailOn: []string{"error", "internet-egress"},
		AllowRemote: true, Token: "ghs_secret", Review: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadInputs mismatch (-want +got):\n%s", diff)
	}
}

func TestReadInputsInvalid(t *testing.T) {
	tests := []struct{ env, value, wantInput string }{
		{"INPUT_COMMENT", "sticky", "input comment"},
		{"INPUT_ANNOTATIONS", "yes", "input annotations"},
		{"INPUT_ALLOW-REMOTE", "1", "input allow-remote"},
		{"INPUT_REVIEW", "on", "input review"},
		{"INPUT_FAIL-ON", "error,critical", "input fail-on"},
		{"INPUT_FAIL-ON", "never,error", "input fail-on"},
		{"INPUT_DEFAULT-NAMESPACE", "Shop_NS", "input default-namespace"},
		{"INPUT_COMMENT-TAG", "x -->", "input comment-tag"},
		{"INPUT_BASE-REF", "--upload-pack=evil", "input base-ref"},
		{"INPUT_HEAD-REF", "a b", "input head-ref"},
	}
	for _, tt := range tests {
		env := map[string]string{tt.env: tt.value, "INPUT_GITHUB-TOKEN": "ghs_secret"}
		_, err := ReadInputs(action(env))
		if err == nil || !strings.Contains(err.Error(), tt.wantInput) {
			t.Errorf("ReadInputs(%s=%q) = %v; want an error naming %q", tt.env, tt.value, err, tt.wantInput)
			continue
		}
		if strings.Contains(err.Error(), "ghs_secret") {
			t.Errorf("ReadInputs(%s=%q) error %q contains the token", tt.env, tt.value, err)
		}
	}
}

func context(t *testing.T, name, path string) *githubactions.GitHubContext {
	t.Helper()
	ctx, err := action(map[string]string{"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": path}).Context()
	if err != nil {
		t.Fatalf("Context(%s, %s): %v", name, path, err)
	}
	return ctx
}

func TestReadEvent(t *testing.T) {
	tests := []struct {
		name, file string
		want       Event
	}{
		{"pull_request", "octokit-webhooks/pull_request.opened.payload.json", Event{Name: "pull_request", PR: &PullRequest{
			Number: 2, BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
			BaseRepo: "Codertocat/Hello-World", HeadRepo: "Codertocat/Hello-World"}}},
		{"pull_request", "ferretdb-github-actions/pull_request_fork.json", Event{Name: "pull_request", PR: &PullRequest{
			Number: 305, BaseSHA: "6cfb1f49d0fb477dea2090b2e4a095807745f007", HeadSHA: "76bd109bca7ca50ccc1839846b788d3f709ae84e",
			BaseRepo: "FerretDB/FerretDB", HeadRepo: "AlekSi/FerretDB", FromFork: true}}},
		// head.repo.fork is true here (the repository is itself a fork), but the
		// pull request is inside one repository: not from a fork.
		{"pull_request", "ferretdb-github-actions/pull_request_self.json", Event{Name: "pull_request", PR: &PullRequest{
			Number: 10, BaseSHA: "6cfb1f49d0fb477dea2090b2e4a095807745f007", HeadSHA: "76bd109bca7ca50ccc1839846b788d3f709ae84e",
			BaseRepo: "AlekSi/FerretDB", HeadRepo: "AlekSi/FerretDB"}}},
		{"pull_request_target", "octokit-webhooks/pull_request.synchronize.payload.json", Event{Name: "pull_request_target", PR: &PullRequest{
			Number: 2, BaseSHA: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", HeadSHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
			BaseRepo: "Codertocat/Hello-World", HeadRepo: "Codertocat/Hello-World"}}},
		{"workflow_run", "hub4j-github-api/workflow_run_pull_request.json", Event{Name: "workflow_run", WorkflowRun: &WorkflowRun{
			ID: 680634037, Event: "pull_request", Conclusion: "success", HeadSHA: "6f0b5a9c2c4caea39f73a4f5f4dbee093265ab2a",
			HeadBranch: "test", HeadRepo: "gsmet/quarkus-bot-java-playground", Repo: "gsmet/quarkus-bot-java-playground", PullRequests: []int{46}}}},
		{"workflow_run", "hub4j-github-api/workflow_run_other_repository.json", Event{Name: "workflow_run", WorkflowRun: &WorkflowRun{
			ID: 680659312, Event: "pull_request", Conclusion: "success", HeadSHA: "6f0b5a9c2c4caea39f73a4f5f4dbee093265ab2a",
			HeadBranch: "test2", HeadRepo: "gsmet-bot-playground/quarkus-bot-java-playground", Repo: "gsmet/quarkus-bot-java-playground", FromFork: true}}},
		{"workflow_run", "octokit-webhooks/workflow_run.completed.payload.json", Event{Name: "workflow_run", WorkflowRun: &WorkflowRun{
			ID: 289782451, Event: "repository_dispatch", Conclusion: "success", HeadSHA: "3484a3fb816e0859fd6e1cea078d76385ff50625",
			HeadBranch: "master", HeadRepo: "octo-org/octo-repo", Repo: "octo-org/octo-repo"}}},
		{"workflow_run", "octokit-webhooks/workflow_run.completed.with-pull-requests.payload.json", Event{Name: "workflow_run", WorkflowRun: &WorkflowRun{
			ID: 289782451, Event: "repository_dispatch", Conclusion: "success", HeadSHA: "3484a3fb816e0859fd6e1cea078d76385ff50625",
			HeadBranch: "master", HeadRepo: "octo-org/octo-repo", Repo: "octo-org/octo-repo", PullRequests: []int{2}}}},
		// A first-time contributor's fork run waiting for approval (newer payload shape).
		{"workflow_run", "quarkus-github-bot/workflow-approval-needed.json", Event{Name: "workflow_run", WorkflowRun: &WorkflowRun{
			ID: 2860832197, Event: "pull_request", Conclusion: "action_required", HeadSHA: "f2b91b5e80e1880f03a91fdde381bb24debf102c",
			HeadBranch: "main", HeadRepo: "holly-test-holly/bot-playground", Repo: "holly-cummins/bot-playground", FromFork: true}}},
		{"push", "octokit-webhooks/pull_request.opened.payload.json", Event{Name: "push"}},
	}
	for _, tt := range tests {
		got, err := ReadEvent(context(t, tt.name, events+tt.file))
		if err != nil {
			t.Errorf("ReadEvent(%s, %s) = %v", tt.name, tt.file, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ReadEvent(%s, %s) mismatch (-want +got):\n%s", tt.name, tt.file, diff)
		}
	}
}

func TestReadEventErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct{ name, path, want string }{
		{"pull_request", write("nopr.json", `{"action":"opened"}`), "no pull_request object"},
		{"pull_request", write("nosha.json", `{"number":3,"pull_request":{"number":3,"base":{"repo":{"full_name":"o/r"}},"head":{}}}`), "sha is missing"},
		{"workflow_run", write("nowr.json", `{}`), "no workflow_run object"},
		{"workflow_run", write("badjson.json", `{"workflow_run": [`), "badjson.json"},
		{"pull_request", "", "GITHUB_EVENT_PATH is not set"},
	}
	for _, tt := range tests {
		ctx := &githubactions.GitHubContext{EventName: tt.name, EventPath: tt.path}
		if _, err := ReadEvent(ctx); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadEvent(%s, %s) = %v; want an error containing %q", tt.name, tt.path, err, tt.want)
		}
	}
	ctx := &githubactions.GitHubContext{EventName: "pull_request", EventPath: filepath.Join(dir, "missing.json")}
	if _, err := ReadEvent(ctx); err == nil {
		t.Errorf("ReadEvent(missing file) = nil; want an error")
	}
}

func writer(t *testing.T) (*Writer, *bytes.Buffer, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "output"), filepath.Join(dir, "summary")
	var stdout bytes.Buffer
	w := NewWriter(action(map[string]string{"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": summary}), &stdout)
	return w, &stdout, out, summary
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSetOutputs(t *testing.T) {
	w, _, out, _ := writer(t)
	err := w.SetOutputs(map[string]string{"opened": "3", "report": "line1\nreachdiff_EOF\nline3", "conclusion": "failure"})
	if err != nil {
		t.Fatalf("SetOutputs = %v", err)
	}
	want := "conclusion<<reachdiff_EOF\nfailure\nreachdiff_EOF\n" +
		"opened<<reachdiff_EOF\n3\nreachdiff_EOF\n" +
		"report<<reachdiff_EOF_1\nline1\nreachdiff_EOF\nline3\nreachdiff_EOF_1\n"
	if got := read(t, out); got != want {
		t.Errorf("SetOutputs wrote %q; want %q", got, want)
	}
	if err := w.SetOutputs(map[string]string{"bad name": "x"}); err == nil {
		t.Errorf("SetOutputs(bad name) = nil; want an error")
	}
	if err := NewWriter(action(nil), nil).SetOutputs(map[string]string{"a": "b"}); err == nil {
		t.Errorf("SetOutputs without GITHUB_OUTPUT = nil; want an error")
	}
}

func TestAnnotate(t *testing.T) {
	tests := []struct {
		level, file string
		line        int
		title, msg  string
		want        string
	}{
		{"warning", "deploy/base/netpol.yaml", 14, "reachdiff: opened", "shop/frontend[Deployment] => 0.0.0.0/0 : TCP 443",
			"::warning file=deploy/base/netpol.yaml,line=14,title=reachdiff%3A opened::shop/frontend[Deployment] => 0.0.0.0/0 : TCP 443\n"},
		{"error", "a,b:c.yaml", 0, "100% open, really", "two\nlines\r\nand 50%",
			"::error file=a%2Cb%3Ac.yaml,title=100%25 open%2C really::two%0Alines%0D%0Aand 50%25\n"},
		{"notice", "", 3, "", "no file", "::notice::no file\n"},
	}
	for _, tt := range tests {
		w, stdout, _, _ := writer(t)
		if err := w.Annotate(tt.level, tt.file, tt.line, tt.title, tt.msg); err != nil {
			t.Fatalf("Annotate = %v", err)
		}
		// Escaping must match the toolkit's (as go-githubactions implements it).
		props := githubactions.CommandProperties{}
		if tt.file != "" {
			props["file"] = tt.file
			if tt.line > 0 {
				props["line"] = "14"
			}
		}
		if tt.title != "" {
			props["title"] = tt.title
		}
		ref := (&githubactions.Command{Name: tt.level, Message: tt.msg, Properties: props}).String() + "\n"
		got := stdout.String()
		if got != tt.want {
			t.Errorf("Annotate(%q, %q, %d, %q, %q) printed %q; want %q", tt.level, tt.file, tt.line, tt.title, tt.msg, got, tt.want)
		}
		if got != ref {
			t.Errorf("Annotate printed %q; go-githubactions prints %q", got, ref)
		}
	}
	w, _, _, _ := writer(t)
	if err := w.Annotate("fatal", "", 0, "", "x"); err == nil {
		t.Errorf("Annotate(fatal) = nil; want an error")
	}
}

func TestAppendSummary(t *testing.T) {
	w, _, _, summary := writer(t)
	if cut, err := w.AppendSummary("## reachdiff\n\nshort\n"); err != nil || cut {
		t.Fatalf("AppendSummary(short) = %v, %v", cut, err)
	}
	if got := read(t, summary); got != "## reachdiff\n\nshort\n" {
		t.Errorf("summary = %q", got)
	}

	// Three 500 KiB sections: with what the file holds, the first two fit.
	var b strings.Builder
	for _, name := range []string{"prod", "staging", "dev"} {
		b.WriteString("### " + name + "\n\n")
		b.WriteString(strings.Repeat("| shop/app[Deployment] | 0.0.0.0/0 | TCP 443 |\n", (500<<10)/46))
	}
	big := b.String()
	cut, err := w.AppendSummary(big)
	if err != nil || !cut {
		t.Fatalf("AppendSummary(%d bytes) = %v, %v; want a cut", len(big), cut, err)
	}
	got := read(t, summary)
	if len(got) > SummaryLimit {
		t.Errorf("summary is %d bytes; want <= %d", len(got), SummaryLimit)
	}
	if !strings.Contains(got, "### staging") || strings.Contains(got, "### dev") {
		t.Errorf("summary cut at the wrong section boundary: has staging %v, dev %v", strings.Contains(got, "### staging"), strings.Contains(got, "### dev"))
	}
	if !strings.Contains(got, "1 MiB job summary limit") || !strings.Contains(got, "artifact") {
		t.Errorf("summary has no truncation note: ...%q", got[len(got)-300:])
	}
}

func TestFitSummary(t *testing.T) {
	oneSection := strings.Repeat("line of text\n", 200)
	got, cut := fitSummary(oneSection, 1000)
	if !cut || len(got) > 1000 || !strings.HasPrefix(got, "line of text\n") {
		t.Errorf("fitSummary(one section, 1000) = %d bytes, cut %v; want <= 1000 and cut at a line", len(got), cut)
	}
	if got, cut := fitSummary(oneSection, 50); got != "" || !cut {
		t.Errorf("fitSummary(room 50) = %q, %v; want nothing", got, cut)
	}
	w, _, _, _ := writer(t)
	w.SummaryLimit = 100
	if _, err := w.AppendSummary(strings.Repeat("x", 90)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.AppendSummary(oneSection); err == nil || !strings.Contains(err.Error(), "nothing more fits") {
		t.Errorf("AppendSummary(full file) = %v; want an error", err)
	}
}
