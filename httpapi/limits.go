package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/graph"
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
// Introspection counts like any selection, except that a chain of ofType
// (a type reference's wrappers, which the served schema nests only a few
// deep and which cost nothing past them) counts as one level, so that
// tools' full introspection queries (seven or more ofType deep) load the
// schema within the default limit.
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
func (d DepthLimit) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	op := rc.Doc.Operations.ForName(rc.OperationName)
	if op == nil {
		return nil
	}
	if depth := selectionDepth(op.SelectionSet, rc.Doc.Fragments, 0, false); depth > d.Max {
		telemetry.Refused(ctx, "depth")
		return codedError(apierr.BadUserInput, "operation has depth %d, which exceeds the limit of %d", depth, d.Max)
	}
	return nil
}

// selectionDepth is how deep set nests; inOfType says set is an ofType's,
// under which a further ofType adds no level.
func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int, inOfType bool) int {
	if seen > 64 { // fragment cycles are refused by validation; this is a backstop
		return seen
	}
	deepest := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			level := 1
			if s.Name == "ofType" && inOfType {
				level = 0
			}
			deepest = max(deepest, level+selectionDepth(s.SelectionSet, frags, seen+1, s.Name == "ofType"))
		case *ast.InlineFragment:
			deepest = max(deepest, selectionDepth(s.SelectionSet, frags, seen+1, inOfType))
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				deepest = max(deepest, selectionDepth(f.SelectionSet, frags, seen+1, inOfType))
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
// A WebSocket, or a subscription over an event stream, lives longer than
// a request: it gets StreamLifetime, and the connection's deadlines go;
// each operation on a socket then gets d of its own (socketLimits).
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kindOf(r) != plainRequest {
			ctx, cancel := context.WithTimeout(r.Context(), StreamLifetime)
			defer cancel()
			rc := http.NewResponseController(w)
			_, _ = rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		dw := &deadlineWriter{ResponseWriter: w, ctx: ctx, status: http.StatusOK}
		next.ServeHTTP(dw, r.WithContext(ctx))
		if !dw.started {
			w.WriteHeader(dw.status)
		}
	})
}

// StreamLifetime is how long a subscription (on a WebSocket or an event
// stream) and a WebSocket may stay open; the client then reconnects.
const StreamLifetime = time.Hour

// transportKind is what a request to /graphql opens.
type transportKind int

const (
	// plainRequest is one operation answered once: the request deadline
	// and an operation slot.
	plainRequest transportKind = iota
	// socketUpgrade opens a WebSocket: a socket of the caller's, whose
	// operations are each held to the rules of a request.
	socketUpgrade
	// eventStream is a subscription over server-sent events: a
	// subscription of the caller's.
	eventStream
)

type kindKey struct{}

// withKind notes what r opens in its context, once, for the middleware
// after it. It reads the body, so it comes after limitBody.
func withKind(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), kindKey{}, classify(r))))
	})
}

// kindOf is what r opens, as withKind noted it (worked out anew when it
// did not).
func kindOf(r *http.Request) transportKind {
	if k, ok := r.Context().Value(kindKey{}).(transportKind); ok {
		return k
	}
	return classify(r)
}

// classify says what r opens. A WebSocket is any upgrade (what gqlgen's
// transport takes). An event stream is only a subscription sent where
// gqlgen's SSE transport takes it: a POST of JSON that accepts
// text/event-stream and whose operation is a subscription; anything else
// (a query that accepts an event stream, a GET with that Accept header)
// is answered once and is held to the request's deadline and a slot.
func classify(r *http.Request) transportKind {
	if r.Header.Get("Upgrade") != "" {
		return socketUpgrade
	}
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return plainRequest
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return plainRequest
	}
	if r.Body == nil || r.Body == http.NoBody {
		return plainRequest
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return plainRequest
	}
	var params struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &params) != nil || params.Query == "" {
		return plainRequest
	}
	doc, gerr := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, parserTokenLimit)
	if gerr != nil {
		return plainRequest
	}
	if op := doc.Operations.ForName(params.OperationName); op != nil && op.Operation == ast.Subscription {
		return eventStream
	}
	return plainRequest
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

// Flush sends the status held back, then passes the flush on: an answer
// streamed within the deadline (a query sent as an event stream) reaches
// the client as it is written.
func (w *deadlineWriter) Flush() {
	if !w.started {
		w.started = true
		w.ResponseWriter.WriteHeader(w.status)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
