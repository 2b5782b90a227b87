package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLimitInFlight: past the limit a request waits for a slot, and one
// whose deadline passes while it waits gets SERVICE_UNAVAILABLE.
func TestLimitInFlight(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var running sync.WaitGroup
	running.Add(1)
	h := newInFlight(1, 1).middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hold") != "" {
			running.Done()
			<-release
		}
		_, _ = w.Write([]byte("done"))
	}))

	held := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql?hold=1", nil))
		held <- rec
	}()
	running.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(ctx))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "SERVICE_UNAVAILABLE") {
		t.Errorf("queued past its deadline: %d %s, want 503 SERVICE_UNAVAILABLE", rec.Code, rec.Body.String())
	}

	queued := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil))
		queued <- rec
	}()
	close(release)
	if rec := <-held; rec.Body.String() != "done" {
		t.Errorf("held request: %q", rec.Body.String())
	}
	if rec := <-queued; rec.Body.String() != "done" {
		t.Errorf("queued request did not run once a slot freed: %q", rec.Body.String())
	}
}

// TestLimitInFlightDropsExpiredRequests: a request whose deadline has passed
// by the time a slot is free is answered SERVICE_UNAVAILABLE and never run,
// even when the slot is free at once.
func TestLimitInFlightDropsExpiredRequests(t *testing.T) {
	t.Parallel()
	ran := 0
	h := newInFlight(1, 1).middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ }))
	for range 50 { // select picks at random between a free slot and a done context
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(ctx))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("expired request: %d, want 503", rec.Code)
		}
	}
	if ran != 0 {
		t.Errorf("%d expired requests ran", ran)
	}
}
