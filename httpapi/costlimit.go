package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// CostLimit refuses an operation whose cost (graph.Cost: an upper bound of
// the records and commands it can make the store read and send) is above
// the caller's ceiling, or which selects more than MaxFields fields once
// its fragments are expanded. It reckons both on the parsed document before
// gqlgen validates it, so that a document built to be expensive to
// validate or to expand is refused for the price of parsing it. An
// operation it admits runs with a store budget of its cost (at most
// MaxRecords), so that it cannot read more than was admitted even where
// the stats behind the cost are out of date.
type CostLimit struct {
	Schema     *ast.Schema
	Ceilings   map[string]int
	MaxFields  int
	MaxRecords int
	TokenLimit int
	Stats      *statsCache
	Cache      graphql.Cache[*ast.QueryDocument]
	// Expose adds extensions.costLimit to each admitted operation's
	// answer: {"reckoned": its cost, "ceiling": the caller's}, so that a
	// partner can hold its router's estimate against the graph's own.
	Expose bool
}

var (
	_ graphql.HandlerExtension          = CostLimit{}
	_ graphql.OperationParameterMutator = CostLimit{}
	_ graphql.OperationInterceptor      = CostLimit{}
)

// ExtensionName names the extension.
func (CostLimit) ExtensionName() string { return "CostLimit" }

// Validate accepts any schema.
func (CostLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters reckons the cost before anything else looks at
// the document.
func (c CostLimit) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	doc, ok := c.Cache.Get(ctx, p.Query)
	if !ok {
		var err error
		doc, err = parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, c.TokenLimit)
		if err != nil {
			return nil // gqlgen parses it again and says what is wrong
		}
	}
	_, err := c.reckon(ctx, doc, p.OperationName, p.Variables)
	return err
}

// reckon returns the operation's cost, or the error that refuses it.
func (c CostLimit) reckon(ctx context.Context, doc *ast.QueryDocument, op string, vars map[string]any) (int, *gqlerror.Error) {
	st, err := c.Stats.get(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return 0, codedError(apierr.ServiceUnavailable, "%s", tooLong.Message)
	}
	if err != nil {
		return 0, codedError(apierr.ServiceUnavailable, "could not reckon the operation's cost: the database did not answer")
	}
	cost, fields, _ := graph.Cost{Schema: c.Schema, Stats: st}.Of(doc, op, vars)
	if fields > c.MaxFields {
		telemetry.Refused(ctx, "fields")
		return 0, codedError(apierr.BadUserInput, "operation selects %d fields once its fragments are expanded, which exceeds the limit of %d", fields, c.MaxFields)
	}
	caller := auth.CallerFrom(ctx)
	if ceiling := c.Ceilings[caller.Scope]; cost > ceiling {
		telemetry.Refused(ctx, "cost")
		return 0, codedError(apierr.BadUserInput, "operation has cost %d, which exceeds the limit of %d for %s callers: ask for fewer records (smaller first), fewer levels or fewer aliases", cost, ceiling, caller.Scope)
	}
	return cost, nil
}

// InterceptOperation runs the admitted operation within a store budget of
// its cost.
func (c CostLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	rc := graphql.GetOperationContext(ctx)
	cost, err := c.reckon(ctx, rc.Doc, rc.OperationName, rc.Variables)
	if err != nil {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "%s", err.Message))
	}
	h := next(store.WithBudget(ctx, min(cost, c.MaxRecords)))
	if !c.Expose {
		return h
	}
	ceiling := c.Ceilings[auth.CallerFrom(ctx).Scope]
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp != nil {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["costLimit"] = map[string]int{"reckoned": cost, "ceiling": ceiling}
		}
		return resp
	}
}

// statsCache holds the store's stats, read again in the background once
// they are older than maxAge; a request waits only for the first read.
type statsCache struct {
	s      *store.Store
	log    *slog.Logger
	maxAge time.Duration

	mu      sync.Mutex
	st      *store.Stats
	at      time.Time
	reading bool
	ready   chan struct{}
}

func newStatsCache(s *store.Store, log *slog.Logger, maxAge time.Duration) *statsCache {
	return &statsCache{s: s, log: log, maxAge: maxAge, ready: make(chan struct{})}
}

// read reads the stats unless a read is under way or they are fresh: a
// read asked for while they were missing or old (by each /readyz, say) may
// start only once another has brought them, and must not read again.
func (c *statsCache) read() {
	c.mu.Lock()
	if c.reading || (c.st != nil && time.Since(c.at) <= c.maxAge) {
		c.mu.Unlock()
		return
	}
	c.reading = true
	c.mu.Unlock()
	// The bound is for a read that hangs, not a slow one: on the database
	// path the stats scan every record (minutes at a million on the
	// embedded store), and a bound below that would keep the service from
	// ever being ready.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	st, err := c.s.FindStats(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading = false
	if err != nil {
		c.log.Warn("could not read the store's stats for costs", "error", err)
		return
	}
	first := c.st == nil
	c.st, c.at = st, time.Now()
	if first {
		close(c.ready)
	}
}

// loaded says whether the first read has finished, starting one if none
// is under way (after a failed read, say): until it has, a request that
// needs a cost waits for it, so the service is not ready.
func (c *statsCache) loaded() bool {
	select {
	case <-c.ready:
		return true
	default:
		go c.read()
		return false
	}
}

// get returns the stats, starting a fresh read when they are old.
func (c *statsCache) get(ctx context.Context) (*store.Stats, error) {
	c.mu.Lock()
	st, at := c.st, c.at
	c.mu.Unlock()
	if st == nil {
		go c.read()
		select {
		case <-c.ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("stats: %w", ctx.Err())
		}
		c.mu.Lock()
		st = c.st
		c.mu.Unlock()
		return st, nil
	}
	if time.Since(at) > c.maxAge {
		go c.read()
	}
	return st, nil
}
