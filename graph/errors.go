package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/graph/scalar"
	"councilgraph/store"
)

// The codes errors carry in extensions.code.
const (
	CodeBadUserInput       = "BAD_USER_INPUT"
	CodeNotFound           = "NOT_FOUND"
	CodeUnauthenticated    = "UNAUTHENTICATED"
	CodeForbidden          = "FORBIDDEN"
	CodeRateLimited        = "RATE_LIMITED"
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	CodeInternal           = "INTERNAL"
)

// inputError is a BAD_USER_INPUT error about argument arg.
func inputError(arg, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    msg,
		Extensions: map[string]any{"code": CodeBadUserInput, "argument": arg},
	}
}

type requestIDKey struct{}

// WithRequestID returns a context carrying the request's ID, for logs and
// internal error messages.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the ID WithRequestID stored, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ErrorPresenter gives every error a code. Errors the caller can act on keep
// their message; anything else is logged with the request ID and shown as
// "internal error", so that driver messages and stack traces never leave.
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			// Raised by gqlgen (parsing, validation, argument coercion) or by us.
			if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
				gqlErr.Extensions = withCode(gqlErr.Extensions, CodeBadUserInput)
			} else if c, _ := gqlErr.Extensions["code"].(string); c == "GRAPHQL_VALIDATION_FAILED" || c == "GRAPHQL_PARSE_FAILED" {
				gqlErr.Extensions["code"] = CodeBadUserInput
			}
			return gqlErr
		}
		path := graphql.GetPath(ctx)
		var scalarErr *scalar.InputError
		switch {
		case errors.As(err, &scalarErr):
			// An argument of the wrong form; gqlgen's message names it.
			msg := err.Error()
			if gqlErr != nil {
				msg, path = gqlErr.Message, gqlErr.Path
			}
			return &gqlerror.Error{Message: msg, Path: path, Extensions: map[string]any{"code": CodeBadUserInput}}
		case errors.Is(err, store.ErrBadCursor):
			return &gqlerror.Error{Message: "after is not a cursor from this list", Path: path,
				Extensions: map[string]any{"code": CodeBadUserInput, "argument": "after"}}
		case errors.Is(err, context.DeadlineExceeded):
			return &gqlerror.Error{Message: "the request took too long and was stopped", Path: path,
				Extensions: map[string]any{"code": CodeServiceUnavailable}}
		}
		id := RequestID(ctx)
		log.ErrorContext(ctx, "internal error", "request_id", id, "path", path.String(), "error", err)
		return &gqlerror.Error{Message: "internal error (request " + id + ")", Path: path,
			Extensions: map[string]any{"code": CodeInternal, "requestId": id}}
	}
}

// RecoverFunc turns a panic in a resolver into an INTERNAL error.
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic", "request_id", RequestID(ctx), "panic", p)
		return errors.New("panic in resolver")
	}
}

func withCode(ext map[string]any, code string) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["code"] = code
	return ext
}
