package githubapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v62/github"
)

// Sentinel errors, matched with errors.Is on the errors this package returns.
var (
	// ErrReadOnly means the token may not write here: GitHub answered 403
	// "Resource not accessible by integration" (a GITHUB_TOKEN on a pull
	// request from a fork, or a workflow without the needed permissions).
	// The caller falls back to annotations, the job summary and the report
	// artifact.
	ErrReadOnly = errors.New("token is read-only here")
	// ErrBodyTooLong means GitHub refused a comment or review body as too long
	// (422 "Body is too long (maximum is 65536 characters)").
	ErrBodyTooLong = errors.New("body too long")
	// ErrRateLimited means a rate limit was still in force after the retries.
	ErrRateLimited = errors.New("rate limited")
)

// Error is a failed GitHub API call.
type Error struct {
	Op         string // what we tried, e.g. "create comment on o/r#5"
	StatusCode int    // HTTP status, 0 if no answer
	Message    string // GitHub's message, or the transport error
	// Permissions is GitHub's x-accepted-github-permissions header, naming
	// the permissions the call needs (e.g. "issues=write; pull_requests=write").
	Permissions string
	kind        error // one of the sentinels, or nil
	err         error // the underlying error, token-free
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	b.WriteString(e.Message)
	switch {
	case errors.Is(e.kind, ErrReadOnly):
		b.WriteString(" (the token is read-only: a pull request from a fork, or the workflow lacks permissions")
		if e.Permissions != "" {
			b.WriteString("; needs " + e.Permissions)
		}
		b.WriteString(")")
	case errors.Is(e.kind, ErrRateLimited):
		b.WriteString(" (still rate limited after retries)")
	}
	return b.String()
}

// Unwrap returns the sentinel kind and the underlying error.
func (e *Error) Unwrap() []error {
	var out []error
	if e.kind != nil {
		out = append(out, e.kind)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}

// wrap turns an error from go-github into an *Error, classifying it. The
// token never reaches the message: go-github's errors carry method, URL and
// GitHub's message, not request headers, and redact removes it anyway in
// case GitHub ever echoes it.
func (c *Client) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	e := &Error{Op: op, err: err}
	var (
		er    *github.ErrorResponse
		rate  *github.RateLimitError
		abuse *github.AbuseRateLimitError
	)
	switch {
	case errors.As(err, &rate):
		e.kind, e.Message = ErrRateLimited, rate.Message
		e.StatusCode = statusOf(rate.Response)
	case errors.As(err, &abuse):
		e.kind, e.Message = ErrRateLimited, abuse.Message
		e.StatusCode = statusOf(abuse.Response)
	case errors.As(err, &er):
		e.StatusCode = statusOf(er.Response)
		e.Message = er.Message
		for _, d := range er.Errors {
			if d.Message != "" {
				e.Message += ": " + d.Message
			}
		}
		if er.Response != nil {
			e.Permissions = er.Response.Header.Get("X-Accepted-GitHub-Permissions")
		}
		lower := strings.ToLower(e.Message)
		switch {
		case e.StatusCode == http.StatusForbidden && strings.HasPrefix(lower, "resource not accessible"):
			e.kind = ErrReadOnly
		case e.StatusCode == http.StatusUnprocessableEntity && strings.Contains(lower, "is too long"):
			e.kind = ErrBodyTooLong
		case e.StatusCode == http.StatusTooManyRequests:
			// go-github v62 maps 429 to a plain ErrorResponse.
			e.kind = ErrRateLimited
		}
	default:
		e.Message = err.Error()
	}
	e.Op = c.redact(e.Op)
	e.Message = c.redact(e.Message)
	e.err = redactedError{err, c.redact}
	return e
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// redactedError keeps the original error for errors.As while scrubbing the
// token from its text.
type redactedError struct {
	err    error
	redact func(string) string
}

func (r redactedError) Error() string { return r.redact(r.err.Error()) }
func (r redactedError) Unwrap() error { return r.err }
