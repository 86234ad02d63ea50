package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/prcomment"
)

const token = "ghs_s3cr3tT0kenValue1234567890"

var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fake is an httptest GitHub: every handler is registered with the method it
// expects, and every request's headers are checked (go-github's own pattern).
type fake struct {
	t      *testing.T
	mux    *http.ServeMux
	srv    *httptest.Server
	mu     sync.Mutex
	sleeps []time.Duration
	logs   []string
	calls  map[string]int
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, mux: http.NewServeMux(), calls: map[string]int{}}
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a Client for the fake at prefix ("/" for github.com's
// layout, "/api/v3" for a GitHub Enterprise Server).
func (f *fake) client(prefix string) *Client {
	f.t.Helper()
	c, err := New(context.Background(), token, f.srv.URL+prefix,
		WithSleep(func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sleeps = append(f.sleeps, d)
			return nil
		}),
		WithClock(func() time.Time { return fixedNow }),
		WithLogf(func(format string, args ...any) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.logs = append(f.logs, fmt.Sprintf(format, args...))
		}))
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

// previewAccept lists the endpoints for which go-github v62 sends a preview
// media type instead of application/vnd.github.v3+json.
var previewAccept = map[string]string{
	"GET /repos/o/r/issues/7/comments": "application/vnd.github.squirrel-girl-preview",     // reactions in comments
	"POST /repos/o/r/pulls/3/reviews":  "application/vnd.github.comfort-fade-preview+json", // line/side review comments
}

// handle registers h for method and path, checking method and headers and
// counting calls.
func (f *fake) handle(method, path string, h http.HandlerFunc) {
	f.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls[method+" "+path]++
		f.mu.Unlock()
		if r.Method != method {
			f.t.Errorf("%s %s: method = %s; want %s", r.Method, r.URL.Path, r.Method, method)
		}
		accept := "application/vnd.github.v3+json"
		if a, ok := previewAccept[method+" "+path]; ok {
			accept = a
		}
		for k, want := range map[string]string{
			"Authorization":        "Bearer " + token,
			"Accept":               accept,
			"X-GitHub-Api-Version": "2022-11-28",
			"User-Agent":           "reachdiff",
		} {
			if got := r.Header.Get(k); got != want {
				f.t.Errorf("%s %s: header %s = %q; want %q", r.Method, r.URL.Path, k, got, want)
			}
		}
		h(w, r)
	})
}

func (f *fake) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method+" "+path]
}

// checkBody compares the request's JSON body with want.
func checkBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	var got, w any
	data, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Errorf("%s %s: body %q is not JSON: %v", r.Method, r.URL.Path, data, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if diff := cmp.Diff(w, got); diff != "" {
		t.Errorf("%s %s: body mismatch (-want +got):\n%s", r.Method, r.URL.Path, diff)
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func reply(w http.ResponseWriter, status int, body []byte, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// noToken fails if the token appears in err or in the retry log.
func (f *fake) noToken(err error) {
	f.t.Helper()
	if err != nil && strings.Contains(err.Error(), token) {
		f.t.Errorf("error %q contains the token", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.logs {
		if strings.Contains(l, token) {
			f.t.Errorf("log line %q contains the token", l)
		}
	}
}

// TestListCommentsPaginates lists 103 comments over two pages of 100 and
// finds the sticky comment on page 2.
func TestListCommentsPaginates(t *testing.T) {
	f := newFake(t)
	var items []map[string]any
	if err := json.Unmarshal(fixture(t, "issue-comment-items.json"), &items); err != nil {
		t.Fatal(err)
	}
	page := func(from, n int, ours bool) []byte {
		var out []map[string]any
		for i := 0; i < n; i++ {
			c := map[string]any{}
			for k, v := range items[0] {
				c[k] = v
			}
			c["id"] = from + i
			c["node_id"] = fmt.Sprintf("IC_%d", from+i)
			if ours && i == n-1 {
				c["body"] = prcomment.Body{Tag: "prod", Meta: prcomment.Meta{HeadSHA: "old", RunAt: fixedNow.Add(-time.Hour)}, Text: "old report"}.Render()
			}
			out = append(out, c)
		}
		data, _ := json.Marshal(out)
		return data
	}
	f.handle("GET", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("per_page"); got != "100" {
			t.Errorf("per_page = %q; want 100", got)
		}
		switch r.URL.Query().Get("page") {
		case "", "1":
			next := fmt.Sprintf(`<%s/repos/o/r/issues/7/comments?per_page=100&page=2>; rel="next", <%s/repos/o/r/issues/7/comments?per_page=100&page=2>; rel="last"`, f.srv.URL, f.srv.URL)
			reply(w, 200, page(1, 100, false), "Link", next)
		case "2":
			reply(w, 200, page(101, 3, true))
		default:
			t.Errorf("unexpected page %q", r.URL.Query().Get("page"))
		}
	})
	got, err := f.client("/").ListComments(context.Background(), "o", "r", 7)
	if err != nil {
		t.Fatalf("ListComments: %v", err)
	}
	if len(got) != 103 {
		t.Fatalf("ListComments = %d comments; want 103", len(got))
	}
	if c := got[0]; c.ID != 1 || c.Author != "octocat" || c.Body != "Me too" || c.URL != "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1" || c.CreatedAt.IsZero() {
		t.Errorf("ListComments[0] = %+v; want the fixture's comment", c)
	}
	a := prcomment.Decide(got, prcomment.Body{Tag: "prod", Meta: prcomment.Meta{HeadSHA: "new", RunAt: fixedNow}, Text: "new report"}, prcomment.ModeUpdate)
	if a.Kind != prcomment.Update || a.Target.ID != 103 || a.Target.NodeID != "IC_103" {
		t.Errorf("Decide(ListComments) = %+v; want update of comment 103 from page 2", a)
	}
}

func TestCreateAndUpdateComment(t *testing.T) {
	f := newFake(t)
	body := "<!-- reachdiff:default -->\nhello"
	f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"body": "<!-- reachdiff:default -->\nhello"}`)
		reply(w, 201, fixture(t, "issue-comment.json"), "Location", "https://api.github.com/repos/octocat/Hello-World/issues/comments/1")
	})
	f.handle("PATCH", "/repos/o/r/issues/comments/1", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"body": "<!-- reachdiff:default -->\nhello"}`)
		reply(w, 200, fixture(t, "issue-comment.json"))
	})
	c := f.client("/")
	created, err := c.CreateComment(context.Background(), "o", "r", 7, body)
	if err != nil {
		t.Fatalf("CreateComment: %v", err)
	}
	want := prcomment.Comment{ID: 1, NodeID: "MDEyOklzc3VlQ29tbWVudDE=", Author: "octocat", Body: "Me too",
		URL: "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1", CreatedAt: time.Date(2011, 4, 14, 16, 0, 49, 0, time.UTC)}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateComment() mismatch (-want +got):\n%s", diff)
	}
	updated, err := c.UpdateComment(context.Background(), "o", "r", 1, body)
	if err != nil || updated.ID != 1 {
		t.Errorf("UpdateComment() = %+v, %v; want comment 1", updated, err)
	}
}

func TestRetries(t *testing.T) {
	secondary := fixture(t, "403-secondary-rate-limit.2021.json")
	tests := []struct {
		name       string
		answers    []func(w http.ResponseWriter) // one per attempt; the last repeats
		wantErr    error                         // nil: success
		wantSleeps []time.Duration
		wantCalls  int
	}{
		{
			name: "5xx then success",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 502, []byte(`{"message":"Server Error"}`)) },
				func(w http.ResponseWriter) { reply(w, 503, []byte(`{"message":"Service Unavailable"}`)) },
				func(w http.ResponseWriter) { reply(w, 201, fixture(t, "issue-comment.json")) },
			},
			wantSleeps: []time.Duration{time.Second, 2 * time.Second},
			wantCalls:  3,
		},
		{
			name: "5xx honours Retry-After",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 500, []byte(`{}`), "Retry-After", "9") },
				func(w http.ResponseWriter) { reply(w, 201, fixture(t, "issue-comment.json")) },
			},
			wantSleeps: []time.Duration{9 * time.Second},
			wantCalls:  2,
		},
		{
			name: "5xx bounded",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 500, []byte(`{"message":"Server Error"}`)) },
			},
			wantErr:    errors.New("500"),
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			wantCalls:  4,
		},
		{
			name: "429 retried then reported",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) {
					reply(w, 429, []byte(`{"message":"You have exceeded a secondary rate limit."}`), "Retry-After", "7")
				},
			},
			wantErr:    ErrRateLimited,
			wantSleeps: []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second},
			wantCalls:  4,
		},
		{
			name: "429 without Retry-After waits for x-ratelimit-reset",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) {
					reply(w, 429, []byte(`{"message":"API rate limit exceeded"}`), "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", fmt.Sprint(fixedNow.Add(30*time.Second).Unix()))
				},
				func(w http.ResponseWriter) { reply(w, 201, fixture(t, "issue-comment.json")) },
			},
			wantSleeps: []time.Duration{31 * time.Second},
			wantCalls:  2,
		},
		{
			name: "secondary rate limit 403 (real body) retried after a minute",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 403, secondary, "X-RateLimit-Remaining", "14") },
				func(w http.ResponseWriter) { reply(w, 201, fixture(t, "issue-comment.json")) },
			},
			wantSleeps: []time.Duration{time.Minute},
			wantCalls:  2,
		},
		{
			name: "secondary rate limit 403 honours Retry-After",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 403, secondary, "Retry-After", "5") },
				func(w http.ResponseWriter) { reply(w, 201, fixture(t, "issue-comment.json")) },
			},
			wantSleeps: []time.Duration{5 * time.Second},
			wantCalls:  2,
		},
		{
			name: "secondary rate limit that persists is reported",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 403, secondary, "Retry-After", "5") },
			},
			wantErr:    ErrRateLimited,
			wantSleeps: []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second},
			wantCalls:  4,
		},
		{
			name: "primary limit with a reset beyond the longest wait is not retried",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) {
					reply(w, 403, []byte(`{"message":"API rate limit exceeded for installation ID 1."}`), "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", fmt.Sprint(fixedNow.Add(time.Hour).Unix()))
				},
			},
			wantErr:   ErrRateLimited,
			wantCalls: 1,
		},
		{
			name: "403 read-only is not retried",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) {
					reply(w, 403, fixture(t, "403-resource-not-accessible-by-integration.create-issue-comment.json"),
						"X-Accepted-GitHub-Permissions", "issues=write; pull_requests=write", "X-RateLimit-Remaining", "7999")
				},
			},
			wantErr:   ErrReadOnly,
			wantCalls: 1,
		},
		{
			name: "422 body too long",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { reply(w, 422, fixture(t, "422-body-too-long.create-issue-comment.json")) },
			},
			wantErr:   ErrBodyTooLong,
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			n := 0
			f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
				checkBody(t, r, `{"body":"report"}`) // the body is replayed on every attempt
				a := tt.answers[min(n, len(tt.answers)-1)]
				n++
				a(w)
			})
			_, err := f.client("/").CreateComment(context.Background(), "o", "r", 7, "report")
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("CreateComment() = %v; want success", err)
			case tt.wantErr != nil && err == nil:
				t.Errorf("CreateComment() = nil; want %v", tt.wantErr)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr) && !strings.Contains(err.Error(), tt.wantErr.Error()):
				t.Errorf("CreateComment() = %v; want %v", err, tt.wantErr)
			}
			if got := f.count("POST", "/repos/o/r/issues/7/comments"); got != tt.wantCalls {
				t.Errorf("CreateComment() made %d requests; want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantSleeps, f.sleeps); diff != "" {
				t.Errorf("CreateComment() sleeps mismatch (-want +got):\n%s", diff)
			}
			f.noToken(err)
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		status   int
		file     string
		headers  []string
		want     error
		contains []string
	}{
		{403, "403-resource-not-accessible-by-integration.create-issue-comment.json", []string{"X-Accepted-GitHub-Permissions", "issues=write; pull_requests=write"},
			ErrReadOnly, []string{"create comment on o/r#7", "403 Resource not accessible by integration", "needs issues=write; pull_requests=write"}},
		{422, "422-body-too-long.create-issue-comment.json", nil, ErrBodyTooLong, []string{"422", "Body is too long (maximum is 65536 characters)"}},
		{422, "422-body-too-long.update-issue-comment.2020.json", nil, ErrBodyTooLong, []string{"body is too long (maximum is 65536 characters)"}},
	}
	for _, tt := range tests {
		f := newFake(t)
		f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
			reply(w, tt.status, fixture(t, tt.file), tt.headers...)
		})
		_, err := f.client("/").CreateComment(context.Background(), "o", "r", 7, "x")
		if !errors.Is(err, tt.want) {
			t.Errorf("CreateComment(%s) = %v; want %v", tt.file, err, tt.want)
			continue
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
			t.Errorf("CreateComment(%s) = %#v; want *Error with status %d", tt.file, err, tt.status)
		}
		for _, s := range tt.contains {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("CreateComment(%s) error %q; want it to contain %q", tt.file, err, s)
			}
		}
		f.noToken(err)
	}
}

// TestTokenNeverInErrors covers errors that echo request data: a transport
// error (its text holds the URL) and a server that echoes the Authorization
// header in its message.
func TestTokenNeverInErrors(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		msg, _ := json.Marshal(map[string]string{"message": "bad credentials: " + r.Header.Get("Authorization")})
		reply(w, 401, msg)
	})
	c := f.client("/")
	_, err := c.CreateComment(context.Background(), "o", "r", 7, "x")
	if err == nil || !strings.Contains(err.Error(), "Bearer ***") {
		t.Errorf("CreateComment() = %v; want a redacted 401", err)
	}
	f.noToken(err)
	f.srv.Close()
	_, err = c.CreateComment(context.Background(), "o", "r", 7, "x")
	if err == nil {
		t.Fatalf("CreateComment() on a closed server = nil; want an error")
	}
	f.noToken(err)
	if _, err := New(context.Background(), "ghs_bad token", "https://api.github.com"); err == nil || strings.Contains(err.Error(), "ghs_bad") {
		t.Errorf("New(token with a space) = %v; want an error that does not quote it", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "not a url", "https://"} {
		if _, err := New(context.Background(), token, u); err == nil {
			t.Errorf("New(%q) = nil error; want one", u)
		}
	}
	if _, err := New(context.Background(), "", ""); err == nil {
		t.Errorf("New(empty token) = nil error; want one")
	}
}

// TestEnterpriseServer uses GHES's layout: REST under /api/v3/, GraphQL at /api/graphql.
func TestEnterpriseServer(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/api/v3/repos/o/r/statuses/abc123", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"state":"success","description":"no new paths","context":"reachdiff","target_url":"https://ghe.example/run/1"}`)
		reply(w, 201, fixture(t, "status.json"))
	})
	f.handle("POST", "/api/graphql", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"query":`+mustJSON(minimizeMutation)+`,"variables":{"id":"IC_kwDO"}}`)
		reply(w, 200, []byte(`{"data":{"minimizeComment":{"minimizedComment":{"isMinimized":true}}}}`))
	})
	c := f.client("/api/v3") // GITHUB_API_URL has no trailing slash
	if err := c.CreateStatus(context.Background(), "o", "r", "abc123", "success", "no new paths", "https://ghe.example/run/1"); err != nil {
		t.Errorf("CreateStatus() = %v", err)
	}
	if err := c.MinimizeComment(context.Background(), "IC_kwDO"); err != nil {
		t.Errorf("MinimizeComment() = %v", err)
	}
	if f.count("POST", "/api/v3/repos/o/r/statuses/abc123") != 1 || f.count("POST", "/api/graphql") != 1 {
		t.Errorf("calls = %v; want one status and one GraphQL call", f.calls)
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestMinimizeComment(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/graphql", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []byte(`{"data":{"minimizeComment":null},"errors":[{"type":"FORBIDDEN","path":["minimizeComment"],"message":"Resource not accessible by integration"}]}`))
	})
	err := f.client("/").MinimizeComment(context.Background(), "IC_1")
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("MinimizeComment(forbidden) = %v; want ErrReadOnly", err)
	}
	if err := f.client("/").MinimizeComment(context.Background(), ""); err == nil {
		t.Errorf("MinimizeComment(\"\") = nil; want an error")
	}
}

func TestCreateStatus(t *testing.T) {
	f := newFake(t)
	long := strings.Repeat("é", 200)
	f.handle("POST", "/repos/o/r/statuses/abc", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"state":"failure","description":`+mustJSON(strings.Repeat("é", 139)+"…")+`,"context":"reachdiff"}`)
		reply(w, 201, fixture(t, "status.json"))
	})
	c := f.client("/")
	if err := c.CreateStatus(context.Background(), "o", "r", "abc", "failure", long, ""); err != nil {
		t.Errorf("CreateStatus() = %v", err)
	}
	if err := c.CreateStatus(context.Background(), "o", "r", "abc", "failed", "x", ""); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("CreateStatus(state failed) = %v; want an error naming it", err)
	}
	if n := f.count("POST", "/repos/o/r/statuses/abc"); n != 1 {
		t.Errorf("CreateStatus made %d requests; want 1 (the bad state is refused locally)", n)
	}
}
