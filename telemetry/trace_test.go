package telemetry_test

import (
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"councilgraph/httpapi"
	"councilgraph/telemetry"
)

// TestTracesRunFromTheCallerToMongoDB sends a request carrying a W3C
// traceparent and checks the spans it made: the request's server span
// continues the caller's trace, the operation is its child, each loader
// batch a child of the operation, each MongoDB command within the request
// and the loaders' finds children of their batches; the response carries
// the trace on.
func TestTracesRunFromTheCallerToMongoDB(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer func() { _ = tp.Shutdown(t.Context()) }()
	tel := telemetry.New(telemetry.Options{TracerProvider: tp})
	h := service(t, tel, httpapi.Config{})
	setup := len(rec.Ended()) // opening the store sent commands outside any request

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	resp := post(t, h, query(`{ organisation(id: "organisation:stockton-on-tees-borough-council") { bodies { name meetings(first: 2) { totalCount } } } }`),
		http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}})
	if resp.Code != http.StatusOK || strings.Contains(resp.Body.String(), `"errors"`) {
		t.Fatalf("query: %d %s", resp.Code, resp.Body.String())
	}
	if tp := resp.Header().Get("Traceparent"); !strings.HasPrefix(tp, "00-"+traceID+"-") || strings.Contains(tp, parentID) {
		t.Errorf("response traceparent %q, want the caller's trace with this service's span", tp)
	}

	// The request's spans are those of the caller's trace; the store's
	// background reads (the sizes the cost limit uses) have traces of
	// their own.
	var spans []sdktrace.ReadOnlySpan
	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended()[setup:] {
		if s.SpanContext().TraceID().String() == traceID {
			spans = append(spans, s)
			byID[s.SpanContext().SpanID()] = s
		}
	}
	parent := func(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan { return byID[s.Parent().SpanID()] }
	var server, op sdktrace.ReadOnlySpan
	var batches, commands int
	for _, s := range spans {
		switch {
		case s.SpanKind() == trace.SpanKindServer:
			server = s
		case strings.HasPrefix(s.Name(), "graphql "):
			op = s
		}
	}
	if server == nil || op == nil {
		t.Fatalf("no server or operation span among %d: %v", len(spans), names(spans))
	}
	if server.Parent().SpanID().String() != parentID || !server.Parent().IsRemote() {
		t.Errorf("server span's parent %s, want the caller's %s", server.Parent().SpanID(), parentID)
	}
	if p := parent(op); p == nil || p.SpanContext().SpanID() != server.SpanContext().SpanID() {
		t.Errorf("operation span %q is not the server span's child", op.Name())
	}
	for _, s := range spans {
		switch {
		case strings.HasPrefix(s.Name(), "loader "):
			batches++
			if p := parent(s); p == nil || p.SpanContext().SpanID() != op.SpanContext().SpanID() {
				t.Errorf("loader span %q is not the operation's child", s.Name())
			}
		case s.SpanKind() == trace.SpanKindClient:
			commands++
			// Under the request: the loaders' under their batches, and
			// the cost limit's reads of the store's sizes, made before the
			// operation runs, under the server span itself.
			p := parent(s)
			for p != nil && p.SpanContext().SpanID() != server.SpanContext().SpanID() {
				p = parent(p)
			}
			if p == nil {
				t.Errorf("MongoDB span %q is not under the request's span", s.Name())
			}
		}
	}
	if batches < 2 || commands < 3 {
		t.Errorf("%d loader and %d MongoDB spans, want a batch for bodies and for meetings and a command each: %v", batches, commands, names(spans))
	}
	var underLoader bool
	for _, s := range spans {
		if p := parent(s); s.SpanKind() == trace.SpanKindClient && p != nil && strings.HasPrefix(p.Name(), "loader ") && strings.HasPrefix(s.Name(), "find ") {
			underLoader = true
		}
	}
	if !underLoader {
		t.Errorf("no MongoDB find is the child of a loader batch: %v", names(spans))
	}
}

// TestNoTraceparentStartsATrace checks that a request without trace
// context gets a trace of its own and is told of it.
func TestNoTraceparentStartsATrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tel := telemetry.New(telemetry.Options{TracerProvider: tp})
	h := service(t, tel, httpapi.Config{})
	resp := post(t, h, query(`{ areas { id } }`), nil)
	if !strings.HasPrefix(resp.Header().Get("Traceparent"), "00-") {
		t.Errorf("no traceparent on the response: %v", resp.Header())
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
