package githubapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

type countingTransport struct {
	n    int
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return c.base.RoundTrip(r)
}

func TestOptions(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 502, []byte(`{"message":"Bad Gateway"}`), "Retry-After", fixedNow.Add(-time.Hour).Format(http.TimeFormat))
	})
	f.handle("POST", "/custom/graphql", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []byte(`{"data":{"minimizeComment":{"minimizedComment":{"isMinimized":true}}}}`))
	})
	ct := &countingTransport{base: http.DefaultTransport}
	var sleeps []time.Duration
	c, err := New(context.Background(), token, f.srv.URL,
		WithHTTPClient(&http.Client{Transport: ct}),
		WithGraphQLURL(f.srv.URL+"/custom/graphql"),
		WithRetry(2, time.Minute),
		WithClock(func() time.Time { return fixedNow }),
		WithSleep(func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateComment(context.Background(), "o", "r", 7, "x")
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("CreateComment() = %v; want the 502", err)
	}
	// WithRetry(2): two attempts, one wait; a Retry-After date in the past means no wait.
	if ct.n != 2 || len(sleeps) != 1 || sleeps[0] != 0 {
		t.Errorf("attempts = %d, sleeps = %v; want 2 attempts through the custom transport and one zero wait", ct.n, sleeps)
	}
	if err := c.MinimizeComment(context.Background(), "IC_1"); err != nil {
		t.Errorf("MinimizeComment(custom GraphQL URL) = %v", err)
	}
	// Every error in the chain is token-free.
	var check func(error)
	check = func(e error) {
		if e == nil {
			return
		}
		if strings.Contains(e.Error(), token) {
			t.Errorf("error in chain %q contains the token", e)
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				check(x)
			}
		case interface{ Unwrap() error }:
			check(u.Unwrap())
		}
	}
	check(err)
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx(1ms) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx(cancelled, 1h) = %v; want context.Canceled", err)
	}
}

// A cancelled context during a retry wait ends the call with the context's error.
func TestRetryCancelled(t *testing.T) {
	f := newFake(t)
	f.handle("POST", "/repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 503, []byte(`{}`))
	})
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, token, f.srv.URL, WithSleep(func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateComment(ctx, "o", "r", 7, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateComment(cancelled during wait) = %v; want context.Canceled", err)
	}
	if n := f.count("POST", "/repos/o/r/issues/7/comments"); n != 1 {
		t.Errorf("attempts = %d; want 1", n)
	}
}
