package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isStream(r) {
			// A subscription lives longer than a request: it gets a
			// lifetime of its own, and the connection's deadlines go.
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

// StreamLifetime is how long a subscription (a WebSocket or an event
// stream) may stay open; the client then reconnects.
const StreamLifetime = time.Hour

// isStream reports whether r opens a WebSocket or asks for an event stream.
func isStream(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
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
