package webhooks_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/store"
	"councilgraph/store/storetest"
	"councilgraph/webhooks"
)

// TestDeliveries: an import's changes reach a loopback receiver in
// batches, signed, in order, exactly the feed's changes for the client;
// a batch answered 500, or not answered in time, goes again under the
// same webhook-id; distinct batches never share one; every attempt is
// recorded.
func TestDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) int {
		switch n {
		case 0, 1:
			return http.StatusInternalServerError
		case 2:
			time.Sleep(600 * time.Millisecond) // past the attempt's timeout
			return 599                         // (recorded only: the worker has given up)
		}
		return 0
	})
	partner := client(t, s, auth.ScopePartner)
	e := add(t, s, partner, rc.URL+"/hooks")
	if !strings.HasPrefix(e.Secret, "whsec_") {
		t.Fatalf("secret %q does not start with whsec_", e.Secret)
	}
	startWorker(t, s, fast())
	importDir(t, s, visibilitytest.Protected(), "protected")
	waitCaughtUp(t, s, e.ID)

	all := rc.deliveries()
	if len(all) < 4 {
		t.Fatalf("%d requests, want the two 500s, the timeout and more", len(all))
	}
	byID := map[string][]string{} // webhook-id: the change cursors each time it was sent
	var got []string
	for i, d := range all {
		if err := webhooks.Verify(e.Secret, d.Header, d.Body, time.Now()); err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
		if err := webhooks.Verify("whsec_"+strings.Repeat("A", 43)+"=", d.Header, d.Body, time.Now()); err == nil {
			t.Errorf("delivery %d verifies with another secret", i)
		}
		id := d.Header.Get("webhook-id")
		p := d.payload(t)
		if p.Type != webhooks.PayloadType {
			t.Errorf("payload type %q", p.Type)
		}
		var cursors []string
		for _, c := range p.Data.Changes {
			cursors = append(cursors, c.Cursor)
			if (c.Kind == "UPSERT") != (c.Record != nil) || c.Record != nil && c.Record["__typename"] != c.Type {
				t.Errorf("change %s %s %s carries %v", c.Kind, c.Type, c.ID, c.Record)
			}
		}
		if prev, ok := byID[id]; ok && !slices.Equal(prev, cursors) {
			t.Errorf("webhook-id %s sent with changes %v, then %v", id, prev, cursors)
		}
		byID[id] = cursors
		if d.Status/100 == 2 {
			for _, c := range p.Data.Changes {
				got = append(got, c.Kind+" "+c.ID)
			}
		}
	}
	// The first three requests were one batch: refused twice, timed out.
	if a, b, c := all[0].Header.Get("webhook-id"), all[1].Header.Get("webhook-id"), all[2].Header.Get("webhook-id"); a != b || b != c {
		t.Errorf("retries of the first batch carried webhook-ids %s, %s, %s", a, b, c)
	}
	// Accepted batches: distinct IDs, disjoint changes, in order.
	seen := map[string]string{}
	var last int64
	for _, d := range rc.accepted() {
		id := d.Header.Get("webhook-id")
		for _, c := range d.payload(t).Data.Changes {
			if other, ok := seen[c.Cursor]; ok && other != id {
				t.Errorf("change %s sent under %s and %s", c.Cursor, other, id)
			}
			seen[c.Cursor] = id
			if n := seqOf(t, c.Cursor); n <= last {
				t.Errorf("change %s (%d) after %d: out of order", c.Cursor, n, last)
			} else {
				last = n
			}
		}
	}
	if ids := len(byID); ids != len(rc.accepted()) {
		t.Errorf("%d webhook-ids for %d accepted batches", ids, len(rc.accepted()))
	}
	// The timed-out batch was received (and answered late): a receiver
	// deduplicates it by its webhook-id; what counts is that the
	// accepted ones hold the whole feed once.
	if want := feed(t, s, store.Partner, 0); !slices.Equal(got, want) {
		t.Errorf("delivered:\n %q\nthe feed for a partner:\n %q", got, want)
	}

	attempts, err := s.FindWebhookAttempts(ctx, e.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(attempts)
	if len(attempts) != len(all) {
		t.Fatalf("%d attempts recorded for %d requests", len(attempts), len(all))
	}
	if a := attempts[0]; a.Status != 500 || a.Error == "" || a.MessageID != all[0].Header.Get("webhook-id") {
		t.Errorf("first attempt recorded as %+v", a)
	}
	if a := attempts[2]; a.Status != 0 || !strings.Contains(a.Error, "no answer within") {
		t.Errorf("timed-out attempt recorded as %+v", a)
	}
	if a := attempts[3]; a.Status/100 != 2 || a.Error != "" || a.Duration <= 0 {
		t.Errorf("accepted attempt recorded as %+v", a)
	}
	final := waitCaughtUp(t, s, e.ID)
	if final.Failures != 0 || final.FailingSince != nil || final.LastSuccessAt == nil || final.PausedAt != nil {
		t.Errorf("state after catching up: %+v", final.WebhookState)
	}
}

// TestDeliveriesKeepToTheClientsScope: each client's deliveries (public,
// partner, officer) carry nothing above its scope, and a
// record moving from PUBLIC to PARTNER reaches the public client as a
// DELETE (and the partner as an UPSERT).
func TestDeliveriesKeepToTheClientsScope(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	receivers := map[string]*receiver{}
	endpoints := map[string]*store.WebhookEndpoint{}
	for _, scope := range []string{auth.ScopePublic, auth.ScopePartner, auth.ScopeOfficer} {
		receivers[scope] = newReceiver(t, nil)
		endpoints[scope] = add(t, s, client(t, s, scope), receivers[scope].URL)
	}
	// The worker runs between the imports, not during them, so that each
	// phase's deliveries show the records as that phase left them.
	cursors := map[string]int64{}
	phase := func(name, dir, dataset string) (from map[string]int) {
		from = map[string]int{}
		for scope, rc := range receivers {
			from[scope] = len(rc.accepted())
			e, err := s.FindWebhookEndpoint(context.Background(), endpoints[scope].ID)
			if err != nil {
				t.Fatal(err)
			}
			cursors[scope] = e.Cursor
		}
		importDir(t, s, dir, dataset)
		stop := startWorker(t, s, fast())
		defer stop()
		for scope, rc := range receivers {
			waitCaughtUp(t, s, endpoints[scope].ID)
			allowed := visibilitytest.Allowed(name, scope)
			var got []string
			for _, d := range rc.accepted()[from[scope]:] {
				for _, m := range visibilitytest.Marker.FindAllStringSubmatch(string(d.Body), -1) {
					if !slices.Contains(allowed, m[1]) {
						t.Errorf("%s: %s's delivery carries %s", name, scope, m[0])
					}
				}
				for _, c := range d.payload(t).Data.Changes {
					got = append(got, c.Kind+" "+c.ID)
				}
			}
			level := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}[scope]
			if want := feed(t, s, level, cursors[scope]); !slices.Equal(got, want) {
				t.Errorf("%s: %s was delivered other than its feed holds (-feed +delivered):\n%s", name, scope, cmp.Diff(want, got))
			}
		}
		return from
	}
	phase("before", visibilitytest.Protected(), "protected")
	from := phase("after", visibilitytest.Moved(), "protected")

	kinds := func(scope string) map[string]string {
		out := map[string]string{}
		for _, d := range receivers[scope].accepted()[from[scope]:] {
			for _, c := range d.payload(t).Data.Changes {
				out[c.ID] = c.Kind
			}
		}
		return out
	}
	pub, par := kinds(auth.ScopePublic), kinds(auth.ScopePartner)
	if pub["person:testshire/mo-moving"] != "DELETE" {
		t.Errorf("public client: person:testshire/mo-moving, moved to PARTNER, came as %q, want DELETE", pub["person:testshire/mo-moving"])
	}
	if par["person:testshire/mo-moving"] != "UPSERT" {
		t.Errorf("partner client: person:testshire/mo-moving came as %q, want UPSERT", par["person:testshire/mo-moving"])
	}
}

// TestPauseReplayResume: an endpoint that fails for PauseAfter is paused
// and says why; a resume starts it where it stopped, a replay sends the
// changes after its cursor again under new webhook-ids.
func TestPauseReplayResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	var mu sync.Mutex
	failing := true
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	e := add(t, s, client(t, s, auth.ScopeOfficer), rc.URL, "Body", "Meeting")
	cfg := fast()
	cfg.PauseAfter = 300 * time.Millisecond
	startWorker(t, s, cfg)
	importDir(t, s, visibilitytest.Protected(), "protected")
	paused := waitFor(t, s, e.ID, "paused", func(e *store.WebhookEndpoint) bool { return e.PausedAt != nil })
	// One attempt may itself outlast PauseAfter on a starved machine, so
	// the pause may come after the first failure.
	if !strings.Contains(paused.PauseReason, "503") || paused.Failures < 1 {
		t.Errorf("paused with %+v", paused.WebhookState)
	}
	n := len(rc.deliveries())
	time.Sleep(200 * time.Millisecond)
	if len(rc.deliveries()) != n {
		t.Errorf("a paused endpoint was sent %d more", len(rc.deliveries())-n)
	}

	mu.Lock()
	failing = false
	mu.Unlock()
	if err := webhooks.Resume(ctx, s, e.ID); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, s, e.ID)
	var first []string
	ids := map[string]bool{}
	for _, d := range rc.accepted() {
		ids[d.Header.Get("webhook-id")] = true
		for _, c := range d.payload(t).Data.Changes {
			if c.Type != "Body" && c.Type != "Meeting" {
				t.Errorf("a Body,Meeting endpoint was sent a %s", c.Type)
			}
			first = append(first, c.Kind+" "+c.ID)
		}
	}
	if len(first) == 0 {
		t.Fatal("nothing delivered after resume")
	}
	// The batch that failed until the pause goes on under its ID.
	if failed, resumed := rc.deliveries()[n-1].Header.Get("webhook-id"), rc.accepted()[0].Header.Get("webhook-id"); failed != resumed {
		t.Errorf("the batch in flight was %s before the pause and %s after resume", failed, resumed)
	}

	k := len(rc.accepted())
	if err := webhooks.Replay(ctx, s, e.ID, graph.ChangeCursor(e.Cursor)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, e.ID, "replayed", func(e *store.WebhookEndpoint) bool {
		return e.Epoch == paused.Epoch+2 && e.BatchEnd == 0 && e.LastSuccessAt != nil
	})
	waitCaughtUp(t, s, e.ID)
	var again []string
	for _, d := range rc.accepted()[k:] {
		if ids[d.Header.Get("webhook-id")] {
			t.Errorf("replay reused webhook-id %s", d.Header.Get("webhook-id"))
		}
		for _, c := range d.payload(t).Data.Changes {
			again = append(again, c.Kind+" "+c.ID)
		}
	}
	if !slices.Equal(first, again) {
		t.Errorf("replay sent\n %q\nfirst time\n %q", again, first)
	}
	if err := webhooks.Replay(ctx, s, e.ID, "nonsense"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("replay with a bad cursor: %v", err)
	}
	if err := webhooks.Resume(ctx, s, "webhook:000000000000"); err == nil || !strings.Contains(err.Error(), "no webhook endpoint") {
		t.Errorf("resume of an unknown endpoint: %v", err)
	}
}

// TestRevokedClientGetsNothingMore: once its key is revoked, a client's
// endpoint is paused and sent nothing.
func TestRevokedClientGetsNothingMore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	rc := newReceiver(t, nil)
	id := client(t, s, auth.ScopePartner)
	e := add(t, s, id, rc.URL)
	if _, err := s.RevokeClient(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	startWorker(t, s, fast())
	importDir(t, s, visibilitytest.Protected(), "protected")
	p := waitFor(t, s, e.ID, "paused", func(e *store.WebhookEndpoint) bool { return e.PausedAt != nil })
	if !strings.Contains(p.PauseReason, "revoked") {
		t.Errorf("paused because %q", p.PauseReason)
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("a revoked client's endpoint was sent %d deliveries", n)
	}
}

// TestRedirectsAreNotFollowed: a 3xx is a failed attempt, and its target
// is never called.
func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) int {
		w.Header().Set("Location", target.URL)
		return http.StatusTemporaryRedirect
	})
	e := add(t, s, client(t, s, auth.ScopePublic), rc.URL)
	startWorker(t, s, fast())
	importDir(t, s, visibilitytest.Protected(), "protected")
	waitFor(t, s, e.ID, "failing", func(e *store.WebhookEndpoint) bool { return e.Failures >= 2 })
	if n := len(target.deliveries()); n != 0 {
		t.Errorf("the redirect's target was called %d times", n)
	}
	attempts, err := s.FindWebhookAttempts(ctx, e.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || attempts[0].Status != http.StatusTemporaryRedirect || !strings.Contains(attempts[0].Error, "redirect") {
		t.Errorf("attempts: %+v", attempts)
	}
}

// TestSlowReceiverStallsNoOther: an endpoint that never answers in time
// holds up only itself; another endpoint's deliveries go on.
func TestSlowReceiverStallsNoOther(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	stopSlow := make(chan struct{})
	slow := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int {
		select {
		case <-stopSlow:
		case <-time.After(2 * time.Second):
		}
		return 0
	})
	defer close(stopSlow)
	quick := newReceiver(t, nil)
	id := client(t, s, auth.ScopePublic)
	es, eq := add(t, s, id, slow.URL), add(t, s, id, quick.URL)
	cfg := fast()
	cfg.Concurrency = 2
	startWorker(t, s, cfg)
	importDir(t, s, visibilitytest.Protected(), "protected")
	waitCaughtUp(t, s, eq.ID)
	e, err := s.FindWebhookEndpoint(context.Background(), es.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.LastSuccessAt != nil {
		t.Errorf("the slow endpoint was delivered to: %+v", e.WebhookState)
	}
	// And the slow one is retried, not given up on.
	waitFor(t, s, es.ID, "retrying", func(e *store.WebhookEndpoint) bool { return e.Failures >= 1 })
	if len(quick.accepted()) < 5 {
		t.Errorf("the quick endpoint got %d deliveries", len(quick.accepted()))
	}
}

// TestExpiredCursorPauses: an endpoint whose cursor is older than the
// change log's retention is paused, saying so, and sent nothing.
func TestExpiredCursorPauses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	rc := newReceiver(t, nil)
	importDir(t, s, visibilitytest.Protected(), "protected")
	e := add(t, s, client(t, s, auth.ScopePartner), rc.URL)
	if err := webhooks.Replay(ctx, s, e.ID, graph.ChangeCursor(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneChanges(ctx, time.Now().Add(time.Hour), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if err := webhooks.Replay(ctx, s, e.ID, graph.ChangeCursor(1)); err == nil || !strings.Contains(err.Error(), "no longer holds") {
		t.Errorf("replay from a pruned cursor: %v", err)
	}
	startWorker(t, s, fast())
	p := waitFor(t, s, e.ID, "paused", func(e *store.WebhookEndpoint) bool { return e.PausedAt != nil })
	if !strings.Contains(p.PauseReason, "no longer holds") {
		t.Errorf("paused because %q", p.PauseReason)
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Errorf("%d deliveries from an expired cursor", n)
	}
}

// TestSecretIsNeverLogged: a worker's logs, through failures and a
// pause, never hold an endpoint's secret.
func TestSecretIsNeverLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	rc := newReceiver(t, func(int, http.ResponseWriter, *http.Request) int { return http.StatusBadGateway })
	e := add(t, s, client(t, s, auth.ScopePartner), rc.URL)
	var logs lockedBuffer
	cfg := fast()
	cfg.PauseAfter = 200 * time.Millisecond
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = webhooks.New(s, cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))).Run(wctx)
	}()
	importDir(t, s, visibilitytest.Protected(), "protected")
	waitFor(t, s, e.ID, "paused", func(e *store.WebhookEndpoint) bool { return e.PausedAt != nil })
	cancel()
	<-done
	key := strings.TrimPrefix(e.Secret, "whsec_")
	if out := logs.String(); !strings.Contains(out, e.ID) || strings.Contains(out, key) || strings.Contains(out, "whsec_") {
		t.Errorf("the worker logged (the secret is %s):\n%s", e.Secret, out)
	}
}

// lockedBuffer is a buffer safe to write from the worker's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
