package health_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"councilgraph/health"
	"councilgraph/store"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestCheckerGatesRequests: a database that cannot be reached closes the
// gate at the first check: requests are refused at once, and one running
// then is cancelled with store.ErrUnreachable as its cause; requests pass
// again once the check answers.
func TestCheckerGatesRequests(t *testing.T) {
	var down atomic.Bool
	var changes []bool
	c := health.New(func(ctx context.Context) error {
		if down.Load() {
			return store.ErrUnreachable
		}
		return nil
	}, quiet(), health.Options{OnChange: func(up bool) { changes = append(changes, up) }})
	ctx := context.Background()
	c.CheckNow(ctx)
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("ready: %v", err)
	}

	ran := 0
	started, cause := make(chan struct{}), make(chan error, 1)
	h := c.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		if r.URL.Query().Has("hold") {
			close(started)
			<-r.Context().Done()
			cause <- context.Cause(r.Context())
		}
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql?hold", nil))
	}()
	<-started

	down.Store(true)
	c.CheckNow(ctx)
	if err := c.Ready(ctx); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("ready while unreachable: %v, want ErrUnreachable", err)
	}
	<-done
	if err := <-cause; !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("running request cancelled with %v, want ErrUnreachable", err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "SERVICE_UNAVAILABLE") ||
		!strings.Contains(rec.Body.String(), "database is unreachable") || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("while down: %d %s", rec.Code, rec.Body.String())
	}
	if ran != 1 {
		t.Errorf("%d requests ran, want only the one let through before", ran)
	}

	down.Store(false)
	c.CheckNow(ctx)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if rec.Code != http.StatusOK || ran != 2 {
		t.Errorf("after recovery: %d, %d ran", rec.Code, ran)
	}
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Errorf("changes %v, want [false true]", changes)
	}
}

// TestSlowDatabaseIsNotReadyButNotRefused: a database that does not answer
// the check in time is not ready from the second check in a row, but
// requests still run.
func TestSlowDatabaseIsNotReadyButNotRefused(t *testing.T) {
	c := health.New(func(ctx context.Context) error {
		<-ctx.Done() // a store that does not answer
		return ctx.Err()
	}, quiet(), health.Options{Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	c.CheckNow(ctx)
	if err := c.Ready(ctx); err != nil {
		t.Errorf("ready after one slow check: %v, want still ready", err)
	}
	c.CheckNow(ctx)
	if err := c.Ready(ctx); !errors.Is(err, store.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ready after two slow checks: %v, want not ready, saying why", err)
	}
	ran := false
	rec := httptest.NewRecorder()
	c.Gate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true })).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
	if !ran {
		t.Errorf("a slow database refused a request: %d %s", rec.Code, rec.Body.String())
	}
}

// TestUnreachableDatabaseIsDownAtOnce: a check that cannot reach the
// database at all says not ready the first time.
func TestUnreachableDatabaseIsDownAtOnce(t *testing.T) {
	c := health.New(func(context.Context) error { return store.ErrUnreachable }, quiet(), health.Options{})
	c.CheckNow(context.Background())
	if err := c.Ready(context.Background()); !errors.Is(err, store.ErrUnreachable) {
		t.Errorf("ready = %v, want ErrUnreachable after one check", err)
	}
}
