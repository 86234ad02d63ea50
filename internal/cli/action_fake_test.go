package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testToken is the token the tests hand to reachdiff; it must never appear
// in any output.
const testToken = "ghs_T0pS3cretActionT0ken0987654321"

// errorf is the part of testing.T the fake needs (a *testing.T, or the
// outer test of a testscript run).
type errorf interface {
	Errorf(format string, args ...any)
	Helper()
}

// fakeGitHub is an httptest GitHub holding one repository's pull request
// comments, statuses, reviews and pull requests. Every request is checked:
// method and path against the routes, the headers go-github must send,
// and the JSON body's exact fields. Unknown requests fail the test.
type fakeGitHub struct {
	t   errorf
	srv *httptest.Server

	mu       sync.Mutex
	comments []fakeComment
	nextID   int64
	statuses []map[string]any
	reviews  []map[string]any
	// minimized are the node ids of comments hidden through GraphQL.
	minimized []string
	log       []string // "METHOD path" of every request, in order
	logFile   string   // when set, log lines are appended to this file too

	// readOnly answers every write with GitHub's 403 "Resource not
	// accessible by integration".
	readOnly bool
	// failures holds, per "METHOD path-pattern", the statuses to answer
	// before handling the request normally (an answer of 0 means handle).
	failures map[string][]int
	// pulls are the pull requests GET /pulls/{n} knows.
	pulls map[int]fakePull
	// files is the answer of GET /pulls/{n}/files.
	files []map[string]any
}

type fakeComment struct {
	id      int64
	author  string
	body    string
	created time.Time
}

type fakePull struct {
	headSHA, headRepo string
}

func newFakeGitHub(t errorf) *fakeGitHub {
	f := &fakeGitHub{t: t, nextID: 1000, failures: map[string][]int{}, pulls: map[int]fakePull{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// logTo makes the fake append every request line to file.
func (f *fakeGitHub) logTo(file string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logFile = file
}

// URL is the API URL to put in GITHUB_API_URL.
func (f *fakeGitHub) URL() string { return f.srv.URL }

func (f *fakeGitHub) Close() { f.srv.Close() }

// addComment stores an existing comment.
func (f *fakeGitHub) addComment(author, body string, created time.Time) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.comments = append(f.comments, fakeComment{id: f.nextID, author: author, body: body, created: created})
	return f.nextID
}

// requests returns the log of requests and clears it.
func (f *fakeGitHub) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.log
	f.log = nil
	return out
}

func (f *fakeGitHub) commentBodies() map[int64]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]string{}
	for _, c := range f.comments {
		out[c.id] = c.body
	}
	return out
}

var (
	reListComments = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$`)
	reEditComment  = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$`)
	reStatus       = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/statuses/([0-9a-f]{40})$`)
	rePull         = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pulls/(\d+)$`)
	rePullFiles    = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pulls/(\d+)/files$`)
	reReviews      = regexp.MustCompile(`^/repos/([^/]+/[^/]+)/pulls/(\d+)/reviews$`)
)

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.t.Helper()
	line := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.log = append(f.log, line)
	if f.logFile != "" {
		if lf, err := os.OpenFile(f.logFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintln(lf, line)
			lf.Close()
		}
	}
	f.mu.Unlock()
	f.checkHeaders(r)
	if code := f.nextFailure(r); code != 0 {
		switch code {
		case http.StatusTooManyRequests:
			answer(w, code, `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`, "Retry-After", "3")
		default:
			answer(w, code, `{"message":"Server Error"}`)
		}
		return
	}
	write := r.Method != http.MethodGet
	if write && f.readOnly {
		answer(w, http.StatusForbidden, readFixture(f.t, "rest/errors-observed/403-resource-not-accessible-by-integration.create-issue-comment.json"),
			"X-Accepted-GitHub-Permissions", "issues=write; pull_requests=write")
		return
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodGet && reListComments.MatchString(p):
		f.listComments(w, r)
	case r.Method == http.MethodPost && reListComments.MatchString(p):
		body := f.body(r, "body")
		f.mu.Lock()
		f.nextID++
		c := fakeComment{id: f.nextID, author: "github-actions[bot]", body: body["body"].(string), created: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
		f.comments = append(f.comments, c)
		f.mu.Unlock()
		answer(w, http.StatusCreated, f.commentJSON(reListComments.FindStringSubmatch(p)[1], c))
	case r.Method == http.MethodPatch && reEditComment.MatchString(p):
		m := reEditComment.FindStringSubmatch(p)
		id, _ := strconv.ParseInt(m[2], 10, 64)
		body := f.body(r, "body")
		f.mu.Lock()
		var found *fakeComment
		for i := range f.comments {
			if f.comments[i].id == id {
				f.comments[i].body = body["body"].(string)
				found = &f.comments[i]
			}
		}
		var c fakeComment
		if found != nil {
			c = *found
		}
		f.mu.Unlock()
		if found == nil {
			f.t.Errorf("PATCH of unknown comment %d", id)
			answer(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		answer(w, http.StatusOK, f.commentJSON(m[1], c))
	case r.Method == http.MethodPost && reStatus.MatchString(p):
		body := f.body(r, "state", "description", "context", "?target_url")
		if body["context"] != "reachdiff" {
			f.t.Errorf("status context = %v; want reachdiff", body["context"])
		}
		body["sha"] = reStatus.FindStringSubmatch(p)[2]
		f.mu.Lock()
		f.statuses = append(f.statuses, body)
		f.mu.Unlock()
		answer(w, http.StatusCreated, readFixture(f.t, "rest/rest-api-description/status.json"))
	case r.Method == http.MethodPost && p == "/graphql":
		body := f.body(r, "query", "variables")
		q, _ := body["query"].(string)
		vars, _ := body["variables"].(map[string]any)
		id, _ := vars["id"].(string)
		if !strings.Contains(q, "minimizeComment(input: {subjectId: $id, classifier: OUTDATED})") || !strings.HasPrefix(id, "IC_") {
			f.t.Errorf("graphql: query %q with id %q; want minimizeComment of a comment node", q, id)
		}
		f.mu.Lock()
		f.minimized = append(f.minimized, id)
		f.mu.Unlock()
		answer(w, http.StatusOK, `{"data":{"minimizeComment":{"minimizedComment":{"isMinimized":true}}}}`)
	case r.Method == http.MethodGet && rePull.MatchString(p):
		n, _ := strconv.Atoi(rePull.FindStringSubmatch(p)[2])
		f.mu.Lock()
		pr, ok := f.pulls[n]
		f.mu.Unlock()
		if !ok {
			answer(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		answer(w, http.StatusOK, fmt.Sprintf(`{"number":%d,"state":"open","head":{"sha":%q,"repo":{"full_name":%q}},"base":{"repo":{"full_name":%q}}}`,
			n, pr.headSHA, pr.headRepo, rePull.FindStringSubmatch(p)[1]))
	case r.Method == http.MethodGet && rePullFiles.MatchString(p):
		data, _ := json.Marshal(f.files)
		answer(w, http.StatusOK, string(data))
	case r.Method == http.MethodPost && reReviews.MatchString(p):
		body := f.body(r, "commit_id", "event", "comments")
		f.mu.Lock()
		f.reviews = append(f.reviews, body)
		f.mu.Unlock()
		answer(w, http.StatusOK, readFixture(f.t, "rest/rest-api-description/pull-request-review.json"))
	default:
		f.t.Errorf("fake GitHub: unexpected request %s", line)
		answer(w, http.StatusNotFound, `{"message":"Not Found"}`)
	}
}

// checkHeaders checks what go-github sends with every request.
func (f *fakeGitHub) checkHeaders(r *http.Request) {
	f.t.Helper()
	accept := "application/vnd.github.v3+json"
	switch {
	case r.Method == http.MethodGet && reListComments.MatchString(r.URL.Path):
		accept = "application/vnd.github.squirrel-girl-preview"
	case r.Method == http.MethodPost && reReviews.MatchString(r.URL.Path):
		accept = "application/vnd.github.comfort-fade-preview+json"
	case r.URL.Path == "/graphql":
		accept = "application/vnd.github.v3+json"
	}
	for k, want := range map[string]string{
		"Authorization":        "Bearer " + testToken,
		"Accept":               accept,
		"X-GitHub-Api-Version": "2022-11-28",
		"User-Agent":           "reachdiff",
	} {
		if got := r.Header.Get(k); got != want {
			f.t.Errorf("%s %s: header %s = %q; want %q", r.Method, r.URL.Path, k, got, want)
		}
	}
}

func (f *fakeGitHub) nextFailure(r *http.Request) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for pattern, codes := range f.failures {
		method, re, _ := strings.Cut(pattern, " ")
		if method != r.Method || !regexp.MustCompile(re).MatchString(r.URL.Path) || len(codes) == 0 {
			continue
		}
		f.failures[pattern] = codes[1:]
		return codes[0]
	}
	return 0
}

// body decodes a JSON request body and checks its fields: exactly the
// given keys ("?key" for an optional one).
func (f *fakeGitHub) body(r *http.Request, keys ...string) map[string]any {
	f.t.Helper()
	data, _ := io.ReadAll(r.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		f.t.Errorf("%s %s: body %q is not a JSON object: %v", r.Method, r.URL.Path, data, err)
		return map[string]any{}
	}
	var want, got []string
	for _, k := range keys {
		opt := strings.HasPrefix(k, "?")
		k = strings.TrimPrefix(k, "?")
		if _, ok := m[k]; ok || !opt {
			want = append(want, k)
		}
	}
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Errorf("%s %s: body fields mismatch (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
	if b, ok := m["body"]; ok {
		if _, isString := b.(string); !isString {
			f.t.Errorf("%s %s: body.body = %v; want a string", r.Method, r.URL.Path, b)
			m["body"] = ""
		}
	}
	return m
}

// listComments answers 100 comments a page with a Link header, as GitHub.
func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	f.t.Helper()
	if got := r.URL.Query().Get("per_page"); got != "100" {
		f.t.Errorf("list comments: per_page = %q; want 100", got)
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		page, _ = strconv.Atoi(p)
	}
	repo := reListComments.FindStringSubmatch(r.URL.Path)[1]
	f.mu.Lock()
	all := append([]fakeComment(nil), f.comments...)
	f.mu.Unlock()
	from, to := (page-1)*100, page*100
	if from > len(all) {
		from = len(all)
	}
	if to > len(all) {
		to = len(all)
	}
	var items []json.RawMessage
	for _, c := range all[from:to] {
		items = append(items, json.RawMessage(f.commentJSON(repo, c)))
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	data, _ := json.Marshal(items)
	var headers []string
	if to < len(all) {
		headers = append(headers, "Link", fmt.Sprintf(`<%s%s?per_page=100&page=%d>; rel="next"`, f.srv.URL, r.URL.Path, page+1))
	}
	answer(w, http.StatusOK, string(data), headers...)
}

// commentJSON renders c on the shape of GitHub's own example comment.
func (f *fakeGitHub) commentJSON(repo string, c fakeComment) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(readFixture(f.t, "rest/rest-api-description/issue-comment.json")), &m); err != nil {
		f.t.Errorf("issue-comment.json: %v", err)
	}
	m["id"] = c.id
	m["node_id"] = fmt.Sprintf("IC_%d", c.id)
	m["body"] = c.body
	m["html_url"] = fmt.Sprintf("https://github.com/%s/pull/2#issuecomment-%d", repo, c.id)
	m["created_at"] = c.created.Format(time.RFC3339)
	m["user"].(map[string]any)["login"] = c.author
	data, _ := json.Marshal(m)
	return string(data)
}

func answer(w http.ResponseWriter, status int, body string, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// readFixture reads a file of the repository's GitHub fixtures.
func readFixture(t errorf, name string) string {
	data, err := os.ReadFile("../../testdata/github/" + name)
	if err != nil {
		t.Errorf("fixture: %v", err)
	}
	return string(data)
}
