package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/health"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// DefaultCostCeilings are the most a single operation may cost, per scope,
// unless Config.CostCeilings says otherwise. Cost is counted by
// graph.Complexity: a page costs `first` times its records.
func DefaultCostCeilings() map[string]int {
	return map[string]int{
		auth.ScopePublic:  10_000,
		auth.ScopePartner: 50_000,
		auth.ScopeOfficer: 200_000,
		auth.ScopeAdmin:   500_000,
	}
}

// DepthLimit refuses operations that nest selections deeper than Max.
// Introspection fields (__schema, __type) do not count, so tools can load the
// schema.
type DepthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DepthLimit{}

// ExtensionName names the extension.
func (DepthLimit) ExtensionName() string { return "DepthLimit" }

// Validate accepts any schema.
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation's depth.
func (d DepthLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	if depth := selectionDepth(op.SelectionSet, rc.Doc.Fragments, 0); depth > d.Max {
		return codedError(apierr.BadUserInput, "operation has depth %d, which exceeds the limit of %d", depth, d.Max)
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int) int {
	if seen > 64 { // fragment cycles are refused by validation; this is a backstop
		return seen
	}
	deepest := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue
			}
			deepest = max(deepest, 1+selectionDepth(s.SelectionSet, frags, seen+1))
		case *ast.InlineFragment:
			deepest = max(deepest, selectionDepth(s.SelectionSet, frags, seen+1))
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				deepest = max(deepest, selectionDepth(f.SelectionSet, frags, seen+1))
			}
		}
	}
	return deepest
}

// Introspection decides who may introspect the schema: everyone ("on"),
// only callers with a key ("authenticated"), or nobody ("off").
type Introspection struct{ Mode string }

// ExtensionName names the extension.
func (Introspection) ExtensionName() string { return "Introspection" }

// Validate checks the mode.
func (i Introspection) Validate(graphql.ExecutableSchema) error {
	switch i.Mode {
	case "on", "authenticated", "off":
		return nil
	}
	return fmt.Errorf("introspection must be on, authenticated or off, not %q", i.Mode)
}

// MutateOperationContext switches introspection for this caller.
func (i Introspection) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	rc.DisableIntrospection = i.Mode == "off" || i.Mode == "authenticated" && auth.CallerFrom(ctx).Client == nil
	return nil
}

// OperationLog logs every operation run with an API key: the client, the
// operation's name and a hash of its document.
type OperationLog struct{ Log *slog.Logger }

// ExtensionName names the extension.
func (OperationLog) ExtensionName() string { return "OperationLog" }

// Validate accepts any schema.
func (OperationLog) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation logs the operation before it runs.
func (o OperationLog) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if c := auth.CallerFrom(ctx); c.Client != nil {
		rc := graphql.GetOperationContext(ctx)
		o.Log.InfoContext(ctx, "operation", "client_id", c.Client.ID, "scope", c.Scope,
			"operation", rc.OperationName, "document_sha256", documentHash(rc.RawQuery),
			"request_id", graph.RequestID(ctx))
	}
	return next(ctx)
}

func documentHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

func codedError(code apierr.Code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": string(code)}}
}

// withDeadline bounds every request by d; the deadline reaches MongoDB
// through the context. An operation the deadline stopped before it could
// answer gets a SERVICE_UNAVAILABLE error rather than gqlgen's bare null.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		dw := &deadlineWriter{ResponseWriter: w, ctx: ctx, status: http.StatusOK}
		next.ServeHTTP(dw, r.WithContext(ctx))
		if !dw.started {
			w.WriteHeader(dw.status)
		}
	})
}

// tooLong is the error sent when the deadline stopped an operation.
var tooLong = apierr.New(apierr.ServiceUnavailable, "the request took too long and was stopped")

// deadlineWriter holds the status back until the body starts, so that a
// null response written after the deadline can be replaced whole.
type deadlineWriter struct {
	http.ResponseWriter
	ctx     context.Context
	status  int
	started bool
}

func (w *deadlineWriter) WriteHeader(code int) { w.status = code }

func (w *deadlineWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		if w.ctx.Err() != nil && string(bytes.TrimSpace(p)) == "null" {
			apierr.Write(w.ResponseWriter, 0, tooLong)
			return len(p), nil
		}
		w.ResponseWriter.WriteHeader(w.status)
	}
	return w.ResponseWriter.Write(p)
}

func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rateLimiter gives each caller a token bucket: API clients by client ID,
// anonymous callers by remote address.
type rateLimiter struct {
	anonymous, keyed rate.Limit
	burstFactor      int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxBuckets bounds the limiter's memory; idle buckets are swept past it.
const maxBuckets = 10_000

func newRateLimiter(anonymous, keyed float64) *rateLimiter {
	return &rateLimiter{anonymous: rate.Limit(anonymous), keyed: rate.Limit(keyed), burstFactor: 2, buckets: map[string]*bucket{}}
}

func (l *rateLimiter) bucket(key string, limit rate.Limit, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{lim: rate.NewLimiter(limit, max(1, int(float64(limit)*float64(l.burstFactor))))}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim
}

// sweep forgets buckets idle for a minute (full again by then), or, if that
// frees nothing, all of them.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > time.Minute {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// middleware answers 429 with Retry-After and a RATE_LIMITED error to a
// caller who has spent their bucket; other callers are unaffected.
func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller := auth.CallerFrom(r.Context())
		key, limit := caller.ClientID(), l.keyed
		if key == "" {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				host = r.RemoteAddr
			}
			key, limit = "ip:"+host, l.anonymous
		}
		if limit <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		now := time.Now()
		res := l.bucket(key, limit, now).ReserveN(now, 1)
		if delay := res.DelayFrom(now); delay > 0 {
			res.CancelAt(now)
			telemetry.Refused(r.Context(), "rate")
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(delay.Seconds()))))
			apierr.Writef(w, apierr.RateLimited, "rate limit exceeded: at most %g requests a second; retry after %s",
				float64(limit), delay.Round(time.Millisecond))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitInFlight lets at most n operations run at once; the rest wait for a
// slot within their own deadline, then get the deadline's error. On the
// embedded store, whose scans run one after another, this bounds memory
// (each scan decodes a whole collection) without lowering throughput.
func limitInFlight(n int, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dequeued := telemetry.Queued(r.Context())
		select {
		case slots <- struct{}{}:
			dequeued()
			defer func() { <-slots }()
			// A slot and the deadline may come together: a request past
			// its deadline is dropped before it runs.
			if r.Context().Err() == nil {
				next.ServeHTTP(w, r)
				return
			}
		case <-r.Context().Done():
			dequeued()
		}
		if errors.Is(context.Cause(r.Context()), store.ErrUnreachable) {
			health.Refuse(w) // stopped by the health gate, not by its deadline
			return
		}
		telemetry.Refused(r.Context(), "queue_deadline")
		apierr.Write(w, 0, tooLong)
	})
}
