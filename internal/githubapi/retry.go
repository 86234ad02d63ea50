package githubapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry limits. GitHub's guidance for secondary rate limits ("Rate limits for
// the REST API", GitHub Docs): "If the retry-after response header is
// present, you should not retry your request until after that many seconds
// has elapsed. If the x-ratelimit-remaining header is 0, you should not retry
// your request until after the time, in UTC epoch seconds, specified by the
// x-ratelimit-reset header. Otherwise, wait for at least one minute before
// retrying. [...] wait for an exponentially increasing amount of time between
// retries, and throw an error after a specific number of retries."
const (
	// DefaultMaxTries bounds the attempts of one request, the first included.
	DefaultMaxTries = 4
	// DefaultMaxWait is the longest single wait; a server that asks for more
	// gets its error returned instead of a retry.
	DefaultMaxWait = 3 * time.Minute
	// serverErrorBackoff is the first wait after a 5xx; it doubles each try.
	serverErrorBackoff = time.Second
	// secondaryRateLimitBackoff is the first wait after a secondary rate
	// limit without Retry-After or x-ratelimit-reset ("at least one minute").
	secondaryRateLimitBackoff = time.Minute
)

// retryTransport retries 5xx answers, 429s and rate-limit 403s below
// go-github, so that go-github's client-side rate-limit bookkeeping (which
// reads the real clock) never blocks a retry in tests that do not sleep.
type retryTransport struct {
	base     http.RoundTripper
	maxTries int
	maxWait  time.Duration
	sleep    func(context.Context, time.Duration) error
	now      func() time.Time
	logf     func(format string, args ...any)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for try := 1; ; try++ {
		r := req
		if try > 1 && req.Body != nil {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%s %s: cannot retry a request whose body cannot be replayed", req.Method, req.URL.Path)
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		wait, why, retry := t.classify(resp, try)
		if !retry || try >= t.maxTries {
			return resp, nil
		}
		if wait > t.maxWait {
			t.logf("github: %s %s: %s; asked to wait %s (more than %s), not retrying", req.Method, req.URL.Path, why, wait, t.maxWait)
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		t.logf("github: %s %s: %s; retry %d of %d in %s", req.Method, req.URL.Path, why, try, t.maxTries-1, wait)
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// classify reports whether resp deserves a retry, after how long, and why.
// It may read resp.Body; it always leaves a readable body behind.
func (t *retryTransport) classify(resp *http.Response, try int) (time.Duration, string, bool) {
	backoff := func(first time.Duration) time.Duration { return first << (try - 1) }
	switch {
	case resp.StatusCode >= 500 && resp.StatusCode <= 599:
		if d, ok := t.retryAfter(resp); ok {
			return d, fmt.Sprintf("server error %d", resp.StatusCode), true
		}
		return backoff(serverErrorBackoff), fmt.Sprintf("server error %d", resp.StatusCode), true
	case resp.StatusCode == http.StatusTooManyRequests:
		return t.rateLimitWait(resp, try), "rate limited (429)", true
	case resp.StatusCode == http.StatusForbidden:
		if resp.Header.Get("X-RateLimit-Remaining") == "0" {
			return t.rateLimitWait(resp, try), "primary rate limit exhausted (403)", true
		}
		if isSecondaryRateLimit(peekBody(resp)) {
			return t.rateLimitWait(resp, try), "secondary rate limit (403)", true
		}
	}
	return 0, "", false
}

// rateLimitWait applies GitHub's order: Retry-After, then x-ratelimit-reset
// when nothing remains, else an exponential wait from one minute.
func (t *retryTransport) rateLimitWait(resp *http.Response, try int) time.Duration {
	if d, ok := t.retryAfter(resp); ok {
		return d
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			d := time.Unix(reset, 0).Sub(t.now()) + time.Second
			if d < time.Second {
				d = time.Second
			}
			return d
		}
	}
	return secondaryRateLimitBackoff << (try - 1)
}

func (t *retryTransport) retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(t.now())
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// peekBody reads up to 64 KiB of the body and puts it back.
func peekBody(resp *http.Response) []byte {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), resp.Body), resp.Body}
	return data
}

// isSecondaryRateLimit recognises GitHub's secondary rate limit answer, the
// same way go-github v62 does (documentation_url ending in
// "#abuse-rate-limits" or "secondary-rate-limits"), plus the message text.
func isSecondaryRateLimit(body []byte) bool {
	var e struct {
		Message          string `json:"message"`
		DocumentationURL string `json:"documentation_url"`
	}
	if json.Unmarshal(body, &e) != nil {
		return false
	}
	return strings.HasSuffix(e.DocumentationURL, "#abuse-rate-limits") ||
		strings.HasSuffix(e.DocumentationURL, "secondary-rate-limits") ||
		strings.Contains(strings.ToLower(e.Message), "secondary rate limit")
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
