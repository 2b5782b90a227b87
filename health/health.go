// Package health watches the database so the service can say at once
// whether it can answer: /readyz from the last check, and a gate that
// refuses GraphQL requests without waiting while the database is away,
// stopping the ones already running when it goes.
package health

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"councilgraph/apierr"
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

// Checker runs a real query against the database again and again.
//
// A check that cannot reach the database (connection refused or broken, no
// server to select) makes the service not ready and closes the gate at
// once. A check that reaches it but gets no answer within the timeout makes
// it not ready the second time in a row, and leaves the gate open: from
// outside, a database wedged and one swamped by a burst of work look the
// same, and refusing and stopping every request would turn the burst into
// an outage; the requests keep their own deadlines.
type Checker struct {
	check func(context.Context) error
	log   *slog.Logger
	o     Options

	mu      sync.Mutex
	hard    error // the last check could not reach the database
	slowErr error // the last check's error, when it reached the database but failed
	slow    int   // checks in a row that failed so
	ready   bool
	closed  bool
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
	return &Checker{check: check, log: log, o: o, ready: true, running: map[*cancelEntry]struct{}{}}
}

// Run checks once, then keeps checking until ctx ends.
func (c *Checker) Run(ctx context.Context) {
	for {
		c.CheckNow(ctx)
		wait := c.o.Interval
		if c.Ready(ctx) != nil {
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
	c.mu.Lock()
	switch {
	case err == nil:
		c.hard, c.slowErr, c.slow = nil, nil, 0
	case store.Unreachable(err):
		c.hard, c.slowErr, c.slow = err, nil, 0
	default:
		c.hard, c.slowErr = nil, err
		c.slow++
	}
	wasReady, wasClosed := c.ready, c.closed
	c.ready = c.hard == nil && c.slow < 2
	c.closed = c.hard != nil
	var stop []*cancelEntry
	if c.closed && !wasClosed {
		for e := range c.running {
			stop = append(stop, e)
		}
	}
	ready, closed := c.ready, c.closed
	c.mu.Unlock()

	for _, e := range stop {
		e.cancel(store.ErrUnreachable)
	}
	switch {
	case closed && !wasClosed:
		c.log.Warn("database unreachable: refusing requests until it answers", "error", err)
	case !ready && wasReady:
		c.log.Warn("database slow to answer: not ready", "error", err)
	case ready && !wasReady:
		c.log.Info("database answers again")
	}
	if ready != wasReady && c.o.OnChange != nil {
		c.o.OnChange(ready)
	}
}

// Err is nil while the service is ready, else why it is not.
func (c *Checker) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ready:
		return nil
	case c.hard != nil:
		return c.hard
	}
	return errors.Join(store.ErrUnreachable, c.slowErr)
}

// Ready is the readiness check: Err.
func (c *Checker) Ready(context.Context) error { return c.Err() }

// Gate refuses requests at once, with 503 and SERVICE_UNAVAILABLE, while the
// database is unreachable; a request it lets through is cancelled, with
// store.ErrUnreachable as the cause, if the database goes while it runs.
func (c *Checker) Gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancelCause(r.Context())
		defer cancel(nil)
		e := &cancelEntry{cancel: cancel}
		c.mu.Lock()
		down := c.closed
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
// unreachable: 503, SERVICE_UNAVAILABLE, and Retry-After: 1.
func Refuse(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	apierr.Writef(w, apierr.ServiceUnavailable, "the database is unreachable; try again shortly")
}
