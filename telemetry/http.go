package telemetry

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"councilgraph/loaders"
)

// request is what one request's telemetry gathers as it runs.
type request struct {
	t       *Telemetry
	batches atomic.Int64

	mu        sync.Mutex
	operation string
}

func (r *request) setOperation(op string) {
	r.mu.Lock()
	r.operation = op
	r.mu.Unlock()
}

func (r *request) op() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.operation == "" {
		return "none"
	}
	return r.operation
}

// Middleware wraps the GraphQL endpoint: it continues the caller's trace
// (W3C traceparent and tracestate) in a server span, sends the trace
// context back in the response's headers, and measures each request: its
// duration by operation, transport and status, requests in flight, and the
// loader batches it fetched.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		t.m.inFlight.Inc()
		defer t.m.inFlight.Dec()

		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method+" /graphql",
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("url.path", r.URL.Path),
				attribute.String("http.route", "/graphql"),
				attribute.String("client.address", host(r.RemoteAddr)),
			))
		defer span.End()
		t.propagator.Inject(ctx, propagation.HeaderCarrier(w.Header()))

		st := &request{t: t}
		ctx = context.WithValue(ctx, requestKey{}, st)
		ctx = loaders.WithBatchObserver(ctx, t.batchObserver(st))
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(ctx))

		span.SetAttributes(attribute.Int("http.response.status_code", rec.status))
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
		op := st.op()
		span.SetAttributes(attribute.String("graphql.operation.label", op))
		t.m.requests.WithLabelValues(op, transport(r.Method), strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
		t.m.batchesPerReq.Observe(float64(st.batches.Load()))
	})
}

// host is addr without its port.
func host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

func transport(method string) string {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodOptions:
		return method
	}
	return "other"
}

// batchObserver times each loader batch of a request as a span, counting
// its keys and the request's batches.
func (t *Telemetry) batchObserver(st *request) loaders.BatchObserver {
	return func(ctx context.Context, loader string, keys int) (context.Context, func(error)) {
		st.batches.Add(1)
		t.m.batchSize.WithLabelValues(loader).Observe(float64(keys))
		ctx, span := t.tracer.Start(ctx, "loader "+loader, trace.WithAttributes(
			attribute.String("loader.name", loader), attribute.Int("loader.keys", keys)))
		return ctx, func(err error) {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, "batch failed")
			}
			span.End()
		}
	}
}

// statusWriter records the status a handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, so that event streams reach the client as they
// are written.
func (w *statusWriter) Flush() {
	w.wrote = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack passes a hijack on, for WebSockets.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
