package actionenv

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/go-github/v62/github"
	"github.com/sethvargo/go-githubactions"
)

// Event is the event that triggered the run, reduced to what reachdiff needs.
type Event struct {
	Name        string       // GITHUB_EVENT_NAME
	PR          *PullRequest // nil if the event is not about a pull request
	WorkflowRun *WorkflowRun // set for workflow_run events
}

// PullRequest is the pull request of a pull_request (or pull_request_target) event.
type PullRequest struct {
	Number           int
	BaseSHA, HeadSHA string
	BaseRepo         string // owner/name the pull request targets
	HeadRepo         string // owner/name the head branch lives in
	// FromFork is true when the head branch lives in another repository than
	// the base: then GITHUB_TOKEN is read-only on pull_request runs. It
	// compares full names; head.repo.fork is NOT used, because it is also
	// true for a pull request inside a repository that is itself a fork.
	FromFork bool
}

// WorkflowRun is the run a workflow_run event reports on (used by the
// second workflow of the fork pattern).
type WorkflowRun struct {
	ID         int64
	Event      string // event that triggered that run, e.g. pull_request
	Conclusion string
	HeadSHA    string
	HeadBranch string
	HeadRepo   string // owner/name of the head repository
	Repo       string // owner/name of the repository the run belongs to
	// PullRequests are the numbers GitHub lists for the run. For a run
	// triggered from a fork the list is empty: the pull request must then be
	// taken from the run's artifact and checked against HeadSHA.
	PullRequests []int
	FromFork     bool // HeadRepo != Repo
}

// ReadEvent decodes the event file GITHUB_EVENT_PATH according to
// GITHUB_EVENT_NAME. Events other than pull_request, pull_request_target and
// workflow_run yield an Event with only Name set.
func ReadEvent(ctx *githubactions.GitHubContext) (Event, error) {
	ev := Event{Name: ctx.EventName}
	switch ctx.EventName {
	case "pull_request", "pull_request_target", "workflow_run":
	default:
		return ev, nil
	}
	if ctx.EventPath == "" {
		return Event{}, fmt.Errorf("%s event: GITHUB_EVENT_PATH is not set", ctx.EventName)
	}
	data, err := os.ReadFile(ctx.EventPath)
	if err != nil {
		return Event{}, fmt.Errorf("%s event: %w", ctx.EventName, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s event %s: %s", ctx.EventName, ctx.EventPath, fmt.Sprintf(format, args...))
	}
	if ctx.EventName == "workflow_run" {
		var e github.WorkflowRunEvent
		if err := json.Unmarshal(data, &e); err != nil {
			return Event{}, bad("%v", err)
		}
		r := e.WorkflowRun
		if r == nil {
			return Event{}, bad("no workflow_run object")
		}
		wr := &WorkflowRun{
			ID: r.GetID(), Event: r.GetEvent(), Conclusion: r.GetConclusion(),
			HeadSHA: r.GetHeadSHA(), HeadBranch: r.GetHeadBranch(),
			HeadRepo: r.GetHeadRepository().GetFullName(), Repo: r.GetRepository().GetFullName(),
		}
		if wr.Repo == "" {
			wr.Repo = e.GetRepo().GetFullName()
		}
		if wr.HeadSHA == "" {
			return Event{}, bad("workflow_run.head_sha is missing")
		}
		wr.FromFork = wr.HeadRepo != "" && wr.Repo != "" && wr.HeadRepo != wr.Repo
		for _, pr := range r.PullRequests {
			wr.PullRequests = append(wr.PullRequests, pr.GetNumber())
		}
		ev.WorkflowRun = wr
		return ev, nil
	}
	var e github.PullRequestEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return Event{}, bad("%v", err)
	}
	p := e.PullRequest
	if p == nil {
		return Event{}, bad("no pull_request object")
	}
	pr := &PullRequest{
		Number:   p.GetNumber(),
		BaseSHA:  p.GetBase().GetSHA(),
		HeadSHA:  p.GetHead().GetSHA(),
		BaseRepo: p.GetBase().GetRepo().GetFullName(),
		HeadRepo: p.GetHead().GetRepo().GetFullName(),
	}
	if pr.Number == 0 {
		pr.Number = e.GetNumber()
	}
	switch {
	case pr.Number <= 0:
		return Event{}, bad("pull_request.number is missing")
	case pr.BaseSHA == "" || pr.HeadSHA == "":
		return Event{}, bad("pull_request.base.sha or head.sha is missing")
	case pr.BaseRepo == "":
		return Event{}, bad("pull_request.base.repo.full_name is missing")
	}
	// A deleted head repository (head.repo null) can only be a fork.
	pr.FromFork = pr.HeadRepo != pr.BaseRepo
	ev.PR = pr
	return ev, nil
}
