package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// prObject returns the pull_request object of a real fork event payload: the
// webhook's pull_request has the shape of GET /repos/{o}/{r}/pulls/{n}.
func prObject(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../testdata/github/events/ferretdb-github-actions/pull_request_fork.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		PullRequest json.RawMessage `json:"pull_request"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.PullRequest
}

func TestPullRequest(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/repos/FerretDB/FerretDB/pulls/305", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, prObject(t))
	})
	got, err := f.client("/").PullRequest(context.Background(), "FerretDB", "FerretDB", 305)
	if err != nil {
		t.Fatalf("PullRequest: %v", err)
	}
	want := PullRequest{Number: 305, State: "open", HeadSHA: "76bd109bca7ca50ccc1839846b788d3f709ae84e",
		HeadRepo: "AlekSi/FerretDB", BaseRepo: "FerretDB/FerretDB"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PullRequest(FerretDB/FerretDB#305) mismatch (-want +got):\n%s", diff)
	}
}

func TestPullRequestNotFound(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/repos/o/r/pulls/9", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, []byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/pulls/pulls#get-a-pull-request"}`))
	})
	_, err := f.client("/").PullRequest(context.Background(), "o", "r", 9)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 404 || e.Op != "get pull request o/r#9" {
		t.Errorf("PullRequest(o/r#9) error = %v; want a 404 *Error naming the pull request", err)
	}
	f.noToken(err)
}
