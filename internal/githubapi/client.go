// Package githubapi is reachdiff's GitHub REST (and one GraphQL) client: the
// sticky comment's calls, the commit status, the pull request's files and
// review comments, with bounded retries.
package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"

	"github.com/reachdiff/reachdiff/internal/prcomment"
)

// UserAgent is sent with every request.
const UserAgent = "reachdiff"

// StatusContext is the context (name) of reachdiff's commit status.
const StatusContext = "reachdiff"

// maxStatusDescription is GitHub's limit on a commit status description
// (the API answers 422 "description is too long (maximum is 140 characters)").
const maxStatusDescription = 140

// Client talks to one GitHub (github.com or a GitHub Enterprise Server).
type Client struct {
	gh         *github.Client
	graphqlURL string
	token      string
}

type config struct {
	httpClient *http.Client
	graphqlURL string
	maxTries   int
	maxWait    time.Duration
	sleep      func(context.Context, time.Duration) error
	now        func() time.Time
	logf       func(string, ...any)
}

// Option configures New.
type Option func(*config)

// WithHTTPClient sets the HTTP client whose transport carries the requests
// (the retry and authentication layers wrap it). Default: http.DefaultClient's transport.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// WithGraphQLURL sets the GraphQL endpoint (GITHUB_GRAPHQL_URL). Default:
// derived from the API URL: https://api.github.com/graphql, or
// https://HOST/api/graphql for a GitHub Enterprise Server API URL ending in /api/v3/.
func WithGraphQLURL(u string) Option { return func(c *config) { c.graphqlURL = u } }

// WithRetry sets the number of attempts per request (first included) and the
// longest single wait. Defaults: DefaultMaxTries, DefaultMaxWait.
func WithRetry(maxTries int, maxWait time.Duration) Option {
	return func(c *config) { c.maxTries, c.maxWait = maxTries, maxWait }
}

// WithSleep replaces the wait between retries (tests pass one that records
// the durations and returns at once).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(c *config) { c.sleep = sleep }
}

// WithClock sets the clock used to turn x-ratelimit-reset into a wait.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogf receives one line per retry. The token never appears in it.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(c *config) { c.logf = logf }
}

// New returns a client for the API at apiURL (GITHUB_API_URL: empty means
// https://api.github.com; a GitHub Enterprise Server's is https://HOST/api/v3)
// authenticated with token. The token is sent as a Bearer token and never
// appears in errors or logs.
func New(ctx context.Context, token, apiURL string, opts ...Option) (*Client, error) {
	_ = ctx // reserved: New makes no request
	cfg := config{maxTries: DefaultMaxTries, maxWait: DefaultMaxWait, sleep: sleepCtx, now: time.Now, logf: func(string, ...any) {}}
	for _, o := range opts {
		o(&cfg)
	}
	if token == "" {
		return nil, errors.New("github client: empty token")
	}
	if strings.IndexFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, errors.New("github client: token contains white space or control characters")
	}
	if cfg.maxTries < 1 {
		cfg.maxTries = 1
	}
	if apiURL == "" {
		apiURL = "https://api.github.com/"
	}
	base, err := url.Parse(apiURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("github client: API URL %q: want http(s)://host[/path]", apiURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	graphqlURL := cfg.graphqlURL
	if graphqlURL == "" {
		g := *base
		if p, ok := strings.CutSuffix(base.Path, "/api/v3/"); ok {
			g.Path = p + "/api/graphql"
		} else {
			g.Path = base.Path + "graphql"
		}
		graphqlURL = g.String()
	}
	inner := http.DefaultTransport
	if cfg.httpClient != nil && cfg.httpClient.Transport != nil {
		inner = cfg.httpClient.Transport
	}
	hc := &http.Client{Transport: &retryTransport{
		base: inner, maxTries: cfg.maxTries, maxWait: cfg.maxWait,
		sleep: cfg.sleep, now: cfg.now, logf: cfg.logf,
	}}
	if cfg.httpClient != nil {
		hc.Timeout = cfg.httpClient.Timeout
	}
	gh := github.NewClient(hc).WithAuthToken(token)
	gh.BaseURL = base
	if u, err := base.Parse("uploads/"); err == nil {
		gh.UploadURL = u
	}
	gh.UserAgent = UserAgent
	c := &Client{gh: gh, graphqlURL: graphqlURL, token: token}
	return c, nil
}

// redact removes the token from s.
func (c *Client) redact(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "***")
}

func toComment(ic *github.IssueComment) prcomment.Comment {
	return prcomment.Comment{
		ID:        ic.GetID(),
		NodeID:    ic.GetNodeID(),
		Author:    ic.GetUser().GetLogin(),
		Body:      ic.GetBody(),
		URL:       ic.GetHTMLURL(),
		CreatedAt: ic.GetCreatedAt().Time,
	}
}

// ListComments returns every issue comment on pull request pr, following the
// pagination 100 comments a page.
func (c *Client) ListComments(ctx context.Context, owner, repo string, pr int) ([]prcomment.Comment, error) {
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	var out []prcomment.Comment
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, pr, opts)
		if err != nil {
			return nil, c.wrap(fmt.Sprintf("list comments of %s/%s#%d (page %d)", owner, repo, pr, max(opts.Page, 1)), err)
		}
		for _, ic := range page {
			out = append(out, toComment(ic))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateComment posts a new comment on pull request pr.
func (c *Client) CreateComment(ctx context.Context, owner, repo string, pr int, body string) (prcomment.Comment, error) {
	ic, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, pr, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return prcomment.Comment{}, c.wrap(fmt.Sprintf("create comment on %s/%s#%d", owner, repo, pr), err)
	}
	return toComment(ic), nil
}

// UpdateComment replaces the body of comment id.
func (c *Client) UpdateComment(ctx context.Context, owner, repo string, id int64, body string) (prcomment.Comment, error) {
	ic, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &github.IssueComment{Body: github.String(body)})
	if err != nil {
		return prcomment.Comment{}, c.wrap(fmt.Sprintf("update comment %d in %s/%s", id, owner, repo), err)
	}
	return toComment(ic), nil
}

const minimizeMutation = `mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED}) { minimizedComment { isMinimized } } }`

// MinimizeComment hides a comment as outdated. The REST API cannot do this,
// so it calls GraphQL's minimizeComment on the endpoint derived from the API
// URL (or given with WithGraphQLURL), with the same token and retries.
func (c *Client) MinimizeComment(ctx context.Context, nodeID string) error {
	op := fmt.Sprintf("minimize comment %s", nodeID)
	if nodeID == "" {
		return fmt.Errorf("%s: empty node id", op)
	}
	req, err := c.gh.NewRequest(http.MethodPost, c.graphqlURL, map[string]any{
		"query":     minimizeMutation,
		"variables": map[string]string{"id": nodeID},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	var out struct {
		Data struct {
			MinimizeComment struct {
				MinimizedComment struct {
					IsMinimized bool `json:"isMinimized"`
				} `json:"minimizedComment"`
			} `json:"minimizeComment"`
		} `json:"data"`
		Errors []struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := c.gh.Do(ctx, req, &out); err != nil {
		return c.wrap(op, err)
	}
	if len(out.Errors) > 0 {
		e := &Error{Op: op, StatusCode: http.StatusOK, Message: c.redact(out.Errors[0].Message)}
		if out.Errors[0].Type == "FORBIDDEN" {
			e.kind = ErrReadOnly
		}
		return e
	}
	if !out.Data.MinimizeComment.MinimizedComment.IsMinimized {
		return fmt.Errorf("%s: GitHub did not report the comment as minimized", op)
	}
	return nil
}

// CreateStatus sets reachdiff's commit status (context StatusContext) on sha.
// state is one of error, failure, pending, success; a description longer than
// GitHub's 140 characters is shortened.
func (c *Client) CreateStatus(ctx context.Context, owner, repo, sha, state, description, targetURL string) error {
	op := fmt.Sprintf("create status on %s/%s@%s", owner, repo, sha)
	switch state {
	case "error", "failure", "pending", "success":
	default:
		return fmt.Errorf("%s: state %q: want error, failure, pending or success", op, state)
	}
	if utf8.RuneCountInString(description) > maxStatusDescription {
		description = string([]rune(description)[:maxStatusDescription-1]) + "…"
	}
	st := &github.RepoStatus{State: github.String(state), Description: github.String(description), Context: github.String(StatusContext)}
	if targetURL != "" {
		st.TargetURL = github.String(targetURL)
	}
	if _, _, err := c.gh.Repositories.CreateStatus(ctx, owner, repo, sha, st); err != nil {
		return c.wrap(op, err)
	}
	return nil
}
