package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
	"councilgraph/webhooks"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// delivery is one request a receiver got.
type delivery struct {
	Header http.Header
	Body   []byte
	// Status is what the receiver answered; 0 while it has not yet.
	Status int
}

// change is one change of a delivery's payload.
type change struct {
	Cursor, Kind, Type, ID string
	Record                 map[string]any
}

func (d delivery) payload(t testing.TB) (p struct {
	Type string
	Data struct {
		Changes     []change
		EndCursor   string
		HasNextPage bool
	}
}) {
	t.Helper()
	if err := json.Unmarshal(d.Body, &p); err != nil {
		t.Fatalf("delivery body %s: %v", d.Body, err)
	}
	return p
}

// receiver is a loopback endpoint that answers each request with what
// answer says (200 when it returns 0) and remembers them all.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	arrived int
	got     []delivery
	answer  func(n int, w http.ResponseWriter, r *http.Request) int
}

func newReceiver(t testing.TB, answer func(n int, w http.ResponseWriter, r *http.Request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// Kept in the order they arrived, the moment they arrive (Status
		// 0 until answered): a request the worker gave up on is answered
		// after later ones.
		rc.mu.Lock()
		n := rc.arrived
		rc.arrived++
		rc.got = append(rc.got, delivery{Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		status := 0
		if rc.answer != nil {
			status = rc.answer(n, w, r)
		}
		if status == 0 {
			status = http.StatusNoContent
		}
		rc.mu.Lock()
		rc.got[n].Status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// accepted lists the deliveries answered 2xx.
func (rc *receiver) accepted() []delivery {
	var out []delivery
	for _, d := range rc.deliveries() {
		if d.Status/100 == 2 {
			out = append(out, d)
		}
	}
	return out
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fast is a worker configuration for tests: quick polls and retries.
func fast() webhooks.Config {
	return webhooks.Config{Poll: 20 * time.Millisecond, BatchSize: 3, Timeout: 300 * time.Millisecond,
		RetryBase: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, PauseAfter: time.Hour}
}

// startWorker runs a worker over s until the test ends or stop is called.
func startWorker(t testing.TB, s *store.Store, cfg webhooks.Config) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := webhooks.New(s, cfg, quiet).Run(ctx); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// client makes an API client of scope and returns its ID.
func client(t testing.TB, s *store.Store, scope string) string {
	t.Helper()
	_, c, err := auth.CreateKey(context.Background(), s, scope+" client", "", []string{scope}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func add(t testing.TB, s *store.Store, clientID, url string, types ...string) *store.WebhookEndpoint {
	t.Helper()
	e, err := webhooks.Add(context.Background(), s, clientID, url, types, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func importDir(t testing.TB, s *store.Store, dir, dataset string) {
	t.Helper()
	if _, err := importer.ImportFS(context.Background(), s, os.DirFS(dir), importer.Options{Dataset: dataset}); err != nil {
		t.Fatal(err)
	}
}

// waitCaughtUp waits until endpoint id has delivered the whole change log.
func waitCaughtUp(t testing.TB, s *store.Store, id string) *store.WebhookEndpoint {
	t.Helper()
	ctx := context.Background()
	last, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return waitFor(t, s, id, "caught up", func(e *store.WebhookEndpoint) bool { return e.Cursor >= last })
}

// waitFor waits until endpoint id is as ok wants, for at most 30 s.
func waitFor(t testing.TB, s *store.Store, id, what string, ok func(*store.WebhookEndpoint) bool) *store.WebhookEndpoint {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := s.FindWebhookEndpoint(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if e != nil && ok(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %s not %s within 30s: %+v", id, what, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// feed is the change feed after since as level l sees it, in order.
func feed(t testing.TB, s *store.Store, l store.Level, since int64) []string {
	t.Helper()
	var out []string
	ctx := store.WithLevel(context.Background(), l)
	for {
		found, last, more, err := s.Changes(ctx, since, nil, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range found {
			out = append(out, c.Kind+" "+c.ID)
		}
		since = last
		if !more {
			return out
		}
	}
}

func seqOf(t testing.TB, cursor string) int64 {
	t.Helper()
	n, err := graph.ParseChangeCursor(cursor)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
