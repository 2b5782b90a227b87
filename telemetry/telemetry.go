// Package telemetry lets an operator see inside councilgraph: Prometheus
// metrics, OpenTelemetry traces and Go profiles.
//
// One Telemetry holds a metrics registry of its own (never the global one),
// the tracer spans are made with, and the W3C trace-context propagator. It
// gives the pieces the service is wired with: Middleware for the GraphQL
// endpoint, Extension for gqlgen, CommandMonitor for the MongoDB driver and
// DebugHandler for the debug listener (metrics and net/http/pprof), which
// is never the public one.
//
// Label values are bounded: operations are named from persisted documents or
// by their type and first root field (both from the schema), never from the
// caller's text; codes, limits, commands and collections come from fixed or
// capped sets.
package telemetry

import (
	"context"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configure New.
type Options struct {
	// TracerProvider makes the spans; nil makes none (see FromEnv for the
	// provider the OTEL_* variables describe).
	TracerProvider trace.TracerProvider
	// Persisted maps the SHA-256 (hex) of each persisted document to its
	// operation's name: requests running one are labelled with that name.
	Persisted map[string]string
}

// Telemetry is the service's metrics, tracer and propagator.
type Telemetry struct {
	reg        *prometheus.Registry
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	persisted  map[string]string
	m          metrics
}

// instrumentation is the name spans and the tracer carry.
const instrumentation = "councilgraph"

// New makes a Telemetry with a fresh registry holding the service's metrics
// and the Go runtime and process collectors.
func New(o Options) *Telemetry {
	tp := o.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	t := &Telemetry{
		reg:        prometheus.NewRegistry(),
		tracer:     tp.Tracer(instrumentation),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		persisted:  o.Persisted,
		m:          newMetrics(),
	}
	t.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	t.m.register(t.reg)
	return t
}

// Registry is where the metrics live; other parts of the service register
// their collectors on it.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// Tracer makes the service's spans.
func (t *Telemetry) Tracer() trace.Tracer { return t.tracer }

// DebugHandler serves the debug listener: /metrics in Prometheus' text
// format and the profiles of net/http/pprof under /debug/pprof/ (the
// command line with its secrets redacted: RedactArgs). Mount it only on a
// listener the public cannot reach.
func (t *Telemetry) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{Registry: t.reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", cmdline) // with its secrets redacted
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// SetDatabaseUp records whether the database answers (1) or not (0).
func (t *Telemetry) SetDatabaseUp(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	t.m.dbUp.Set(v)
}

// requestKey carries the request's state.
type requestKey struct{}

func stateFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// Refused counts a request refused by limit ("rate", "body_size",
// "queue_deadline", "depth", "cost", "persisted_only", ...). Outside a
// request Middleware saw, it does nothing.
func Refused(ctx context.Context, limit string) {
	if r := stateFrom(ctx); r != nil {
		r.t.m.refused.WithLabelValues(limit).Inc()
	}
}

// Queued counts the request as waiting for a slot to run in until the
// returned function is called.
func Queued(ctx context.Context) (done func()) {
	r := stateFrom(ctx)
	if r == nil {
		return func() {}
	}
	r.t.m.queued.Inc()
	return r.t.m.queued.Dec
}
