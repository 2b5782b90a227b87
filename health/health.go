// Package health watches the database so the service can say at once
// whether it can answer: /readyz from the last check, and a gate that
// refuses GraphQL requests without waiting while the database is away,
// stopping the ones already running when it goes.
package health

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"councilgraph/store"
	"councilgraph/telemetry"
)

// Options configure a Checker.
type Options struct {
	// Interval is the time between checks while the database answers
	// (default 500 ms); while it does not, checks follow each other with
	// a quarter of it between them.
	Interval time.Duration
	// Timeout bounds each check (default 1 s); a check that takes longer
	// failed.
	Timeout time.Duration
	// OnChange, when set, is told each time the database comes or goes.
	OnChange func(up bool)
}

// Checker runs a real query against the database again and again and
// remembers whether it answers: a check that cannot reach the database
// says no at once, one that is merely slow or fails says so the second
// time in a row.
type Checker struct {
	check func(context.Context) error
	log   *slog.Logger
	o     Options

	mu      sync.Mutex
	err     error // nil while the database answers
	slow    int   // checks in a row that failed without the database being unreachable
	since   time.Time
	running map[*cancelEntry]struct{}
}

type cancelEntry struct{ cancel context.CancelCauseFunc }

// New makes a Checker that runs check (store.Check, say). Call Run.
func New(check func(context.Context) error, log *slog.Logger, o Options) *Checker {
	if o.Interval == 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	return &Checker{check: check, log: log, o: o, since: time.Now(), running: map[*cancelEntry]struct{}{}}
}

// Run checks once, then keeps checking until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	for {
		c.CheckNow(ctx)
		wait := c.o.Interval
		if c.Err() != nil {
			wait /= 4
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// CheckNow runs one check and records its outcome.
func (c *Checker) CheckNow(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	err := c.check(cctx)
	cancel()
	if ctx.Err() != nil {
		return // stopping, not a verdict on the database
	}
	if err != nil && !store.Unreachable(err) {
		// It answered, but not in time or not well: a busy database
		// can be slow once, so only the second such check in a row
		// counts; then, for the callers, it is as good as unreachable.
		c.mu.Lock()
		c.slow++
		slow := c.slow
		c.mu.Unlock()
		if slow < 2 {
			return
		}
		err = errors.Join(store.ErrUnreachable, err)
	}
	c.set(err)
}

func (c *Checker) set(err error) {
	c.mu.Lock()
	if err == nil {
		c.slow = 0
	}
	was := c.err == nil
	c.err = err
	now := err == nil
	var stop []*cancelEntry
	if was != now {
		c.since = time.Now()
		if !now {
			for e := range c.running {
				stop = append(stop, e)
			}
		}
	}
	c.mu.Unlock()
	for _, e := range stop {
		e.cancel(store.ErrUnreachable)
	}
	if was == now {
		return
	}
	if now {
		c.log.Info("database answers again")
	} else {
		c.log.Warn("database unreachable: refusing requests until it answers", "error", err)
	}
	if c.o.OnChange != nil {
		c.o.OnChange(now)
	}
}

// Err is nil when the last check answered, else why it did not.
func (c *Checker) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Ready is the readiness check: the last check's error.
func (c *Checker) Ready(context.Context) error { return c.Err() }

// unavailable is the body of a request refused while the database is away.
const unavailable = `{"errors":[{"message":"the database is unreachable; try again shortly","extensions":{"code":"SERVICE_UNAVAILABLE"}}]}`

// Gate refuses requests at once, with 503 and SERVICE_UNAVAILABLE, while the
// database is unreachable; a request it lets through is cancelled, with
// store.ErrUnreachable as the cause, if the database goes while it runs.
func (c *Checker) Gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		e := &cancelEntry{cancel: cancel}
		c.mu.Lock()
		down := c.err != nil
		if !down {
			c.running[e] = struct{}{}
		}
		c.mu.Unlock()
		if down {
			telemetry.Refused(r.Context(), "database_unreachable")
			Refuse(w)
			return
		}
		defer func() {
			c.mu.Lock()
			delete(c.running, e)
			c.mu.Unlock()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Refuse answers a request that cannot run because the database is
// unreachable.
func Refuse(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = io.WriteString(w, unavailable)
}
