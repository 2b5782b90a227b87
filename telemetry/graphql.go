package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"councilgraph/apierr"
)

// Extension is the gqlgen extension that names each request's operation
// for the metrics, makes a span per operation and counts the errors of
// every response by code.
func (t *Telemetry) Extension() graphql.HandlerExtension { return extension{t} }

type extension struct{ t *Telemetry }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = extension{}

func (extension) ExtensionName() string                   { return "Telemetry" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation labels the request and runs the operation in a span.
func (e extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	label := e.t.operationLabel(oc)
	if st := stateFrom(ctx); st != nil {
		st.setOperation(label)
	}
	kind := "query"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
	}
	ctx, span := e.t.tracer.Start(ctx, "graphql "+label, trace.WithAttributes(
		attribute.String("graphql.operation.type", kind),
		attribute.String("graphql.operation.name", truncate(oc.OperationName, 128)),
		attribute.String("graphql.operation.label", label),
	))
	handler := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := handler(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, truncate(resp.Errors[0].Message, 256))
			span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
		}
		span.End()
		return resp
	}
}

// InterceptResponse counts the response's errors by code.
func (e extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil {
		return resp
	}
	for _, err := range resp.Errors {
		code, _ := err.Extensions["code"].(string)
		e.t.m.graphqlErrors.WithLabelValues(knownCode(code)).Inc()
	}
	return resp
}

// knownCode is c when it is one of the service's codes (package apierr) or
// gqlgen's parse and validation codes, NONE when empty, OTHER otherwise.
func knownCode(c string) string {
	switch {
	case c == "":
		return "NONE"
	case apierr.Known(c), c == "GRAPHQL_PARSE_FAILED", c == "GRAPHQL_VALIDATION_FAILED":
		return c
	}
	return "OTHER"
}

// operationLabel names an operation with values from a bounded set: the
// name a persisted document gives it, or else its type and first root
// field ("query meetings"), which the schema bounds.
func (t *Telemetry) operationLabel(oc *graphql.OperationContext) string {
	if name, ok := t.persisted[documentHash(oc.RawQuery)]; ok && name != "" {
		return name
	}
	op := oc.Operation
	if op == nil {
		return "invalid"
	}
	field := firstField(op.SelectionSet, oc.Doc, 0)
	if field == "" {
		return string(op.Operation)
	}
	return string(op.Operation) + " " + field
}

// firstField is the name of the first field a selection set selects,
// looking into fragments.
func firstField(set ast.SelectionSet, doc *ast.QueryDocument, depth int) string {
	if depth > 8 {
		return ""
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			return s.Name
		case *ast.InlineFragment:
			if f := firstField(s.SelectionSet, doc, depth+1); f != "" {
				return f
			}
		case *ast.FragmentSpread:
			if doc == nil {
				continue
			}
			if fd := doc.Fragments.ForName(s.Name); fd != nil {
				if f := firstField(fd.SelectionSet, doc, depth+1); f != "" {
					return f
				}
			}
		}
	}
	return ""
}

func documentHash(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
