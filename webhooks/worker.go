package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/executor"

	"councilgraph/graph"
	"councilgraph/store"
)

// Config tunes the delivery worker; zero fields take the defaults.
type Config struct {
	// Poll is how often endpoints are looked at for changes and retries
	// (default 1s).
	Poll time.Duration
	// BatchSize is the most changes one delivery carries, 1 to 100
	// (default 100).
	BatchSize int
	// Timeout bounds one attempt, connection and answer (default 10s).
	Timeout time.Duration
	// RetryBase and RetryMax shape the backoff: the nth retry of a batch
	// waits a random time up to min(RetryMax, RetryBase·2ⁿ⁻¹) (full
	// jitter; defaults 5s and 1h).
	RetryBase, RetryMax time.Duration
	// PauseAfter is how long an endpoint may fail without a success
	// before it is paused (default 24h).
	PauseAfter time.Duration
	// Concurrency is how many endpoints are delivered to at once
	// (default 8): a slow receiver holds one slot for at most Timeout.
	Concurrency int
	// AllowPrivate lets deliveries reach private networks (10/8,
	// 172.16/12, 192.168/16, fc00::/7); loopback only ever by a URL that
	// names it.
	AllowPrivate bool
	// KeepAttempts is how long attempts are kept for `webhooks list`
	// (default 7 days).
	KeepAttempts time.Duration
}

func (c Config) withDefaults() Config {
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.BatchSize <= 0 || c.BatchSize > 100 {
		c.BatchSize = 100
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 5 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = time.Hour
	}
	if c.PauseAfter <= 0 {
		c.PauseAfter = 24 * time.Hour
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.KeepAttempts <= 0 {
		c.KeepAttempts = 7 * 24 * time.Hour
	}
	return c
}

// Worker delivers every endpoint's changes.
type Worker struct {
	s      *store.Store
	cfg    Config
	log    *slog.Logger
	exec   *executor.Executor
	op     string
	client *http.Client
}

// New makes a worker over s.
func New(s *store.Store, cfg Config, log *slog.Logger) *Worker {
	exec := graph.NewExecutor(s, log)
	return &Worker{
		s: s, cfg: cfg.withDefaults(), log: log.With("component", "webhooks"), exec: exec,
		op: feedOperation(graph.NewExecutableSchema(graph.Config{}).Schema()), client: newHTTPClient(cfg.AllowPrivate),
	}
}

// maxTurn is the most batches one endpoint is sent in a row before the
// others have their turn.
const maxTurn = 10

// Run delivers until ctx ends, then waits for the attempts under way.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.s.EnsureWebhookIndexes(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it began: not a failure
		}
		return fmt.Errorf("webhooks: %w", err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		busy   = map[string]bool{}
		slots  = make(chan struct{}, w.cfg.Concurrency)
		tick   = time.NewTicker(w.cfg.Poll)
		pruned time.Time
		// start rotates where each tick begins the list, so that with
		// more endpoints due than slots none waits behind the others
		// for ever.
		start int
	)
	defer tick.Stop()
	defer wg.Wait()
	for {
		if time.Since(pruned) > time.Hour {
			if _, err := w.s.PruneWebhookAttempts(ctx, time.Now().Add(-w.cfg.KeepAttempts)); err != nil && ctx.Err() == nil {
				w.log.WarnContext(ctx, "prune webhook attempts", "error", err)
			}
			pruned = time.Now()
		}
		due, err := w.due(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "find webhook endpoints", "error", err)
		}
		start++
		for i := range due {
			e := due[(start+i)%len(due)]
			mu.Lock()
			if busy[e.ID] {
				mu.Unlock()
				continue
			}
			select {
			case slots <- struct{}{}:
			default:
				mu.Unlock()
				continue // every slot is taken: next tick
			}
			busy[e.ID] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.turn(ctx, e)
				mu.Lock()
				delete(busy, e.ID)
				mu.Unlock()
				<-slots
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// due lists the endpoints with something to do now: not paused, not
// waiting to retry, and behind the change log or with a batch in flight.
func (w *Worker) due(ctx context.Context) ([]*store.WebhookEndpoint, error) {
	all, err := w.s.FindWebhookEndpoints(ctx)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	last, err := w.s.LastChange(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []*store.WebhookEndpoint
	for _, e := range all {
		if e.PausedAt == nil && !now.Before(e.NextAttemptAt) && (e.Cursor < last || e.BatchEnd > e.Cursor) {
			out = append(out, e)
		}
	}
	return out, nil
}

// turn delivers endpoint e's batches in order, until it has caught up,
// a delivery fails, or it has had maxTurn.
func (w *Worker) turn(ctx context.Context, e *store.WebhookEndpoint) {
	for range maxTurn {
		// Read afresh: the list the turn was chosen from may be older
		// than the last turn's writes.
		e, err := w.s.FindWebhookEndpoint(ctx, e.ID)
		if err != nil || e == nil || e.PausedAt != nil {
			return
		}
		more, err := w.deliver(ctx, e)
		if err != nil {
			if ctx.Err() == nil {
				w.log.WarnContext(ctx, "webhook delivery", "endpoint", e.ID, "error", err)
			}
			return
		}
		if !more || ctx.Err() != nil {
			return
		}
	}
}

// deliver sends e's next batch once and records the outcome; more says
// whether e has more to send now.
func (w *Worker) deliver(ctx context.Context, e *store.WebhookEndpoint) (more bool, err error) {
	c, err := w.s.FindClient(ctx, e.ClientID)
	if err != nil {
		return false, err
	}
	now := time.Now()
	if c == nil || c.RevokedAt != nil {
		return false, w.pause(ctx, e, now, "the client's key was revoked or removed: nothing more is delivered")
	}
	// The log's end before the batch is read: when the batch reaches the
	// end of what it may read, every entry up to this one has been seen,
	// and the cursor may pass entries of types the endpoint does not take.
	last, err := w.s.LastChange(ctx)
	if err != nil {
		return false, err
	}
	b, err := w.build(ctx, e, c, now)
	if errors.Is(err, errExpired) {
		return false, w.pause(ctx, e, now, "the change log no longer holds the changes after its cursor: resynchronise from the lists, then replay from a fresh cursor")
	}
	if err != nil {
		return false, err
	}
	st := e.WebhookState
	if b.Changes == 0 {
		// Nothing in the range is the client's to see: pass over it.
		st.Cursor, st.BatchEnd = b.End, 0
		if !b.More {
			st.Cursor = max(b.End, last)
		}
		ok, err := w.s.SetWebhookState(ctx, e, st)
		return ok && b.More, err
	}
	if st.BatchEnd != b.End {
		// Fix the range before the first attempt, so that a retry after
		// a restart covers the same changes under the same ID.
		st.BatchEnd = b.End
		if ok, err := w.s.SetWebhookState(ctx, e, st); !ok || err != nil {
			return false, err
		}
	}
	at := time.Now()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "councilgraph-webhooks")
	h.Set("webhook-id", b.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	sig, err := Sign(e.Secret, b.ID, at, b.Body)
	if err != nil {
		return false, err
	}
	h.Set("webhook-signature", sig)
	status, perr := post(ctx, w.client, e.URL, h, b.Body, w.cfg.Timeout)
	if perr != nil && ctx.Err() != nil {
		return false, nil // shutting down: the batch goes again at the next start
	}
	a := &store.WebhookAttempt{EndpointID: e.ID, MessageID: b.ID, At: at.UTC().Truncate(time.Millisecond),
		Changes: b.Changes, Status: status, Duration: time.Since(at)}
	if perr != nil {
		a.Error = perr.Error()
	}
	if err := w.s.InsertWebhookAttempt(ctx, a); err != nil {
		return false, err
	}
	done := time.Now().UTC().Truncate(time.Millisecond)
	if perr == nil {
		st = store.WebhookState{Cursor: b.End, LastSuccessAt: &done}
		if !b.More {
			st.Cursor = max(b.End, last)
		}
		ok, err := w.s.SetWebhookState(ctx, e, st)
		return ok && b.More, err
	}
	st.Failures++
	if st.FailingSince == nil {
		st.FailingSince = &a.At
	}
	if done.Sub(*st.FailingSince) >= w.cfg.PauseAfter {
		st.PausedAt = &done
		st.PauseReason = fmt.Sprintf("failing since %s (%d attempts; the last: %s); resume or replay to start again",
			st.FailingSince.Format(time.RFC3339), st.Failures, a.Error)
		w.log.WarnContext(ctx, "webhook endpoint paused", "endpoint", e.ID, "failures", st.Failures)
	} else {
		st.NextAttemptAt = done.Add(w.backoff(st.Failures))
	}
	_, err = w.s.SetWebhookState(ctx, e, st)
	return false, err
}

// backoff is how long to wait before the retry after n failures: full
// jitter over an exponential ceiling.
func (w *Worker) backoff(n int) time.Duration {
	ceil := w.cfg.RetryBase
	for i := 1; i < n && ceil < w.cfg.RetryMax; i++ {
		ceil *= 2
	}
	ceil = min(ceil, w.cfg.RetryMax)
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// pause stops e's deliveries, saying why.
func (w *Worker) pause(ctx context.Context, e *store.WebhookEndpoint, now time.Time, reason string) error {
	st := e.WebhookState
	t := now.UTC().Truncate(time.Millisecond)
	st.PausedAt, st.PauseReason = &t, reason
	w.log.WarnContext(ctx, "webhook endpoint paused", "endpoint", e.ID, "reason", reason)
	_, err := w.s.SetWebhookState(ctx, e, st)
	return err
}
