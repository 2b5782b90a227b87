package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/apierr"
	"councilgraph/graph/scalar"
	"councilgraph/store"
)

// inputError is a BAD_USER_INPUT error about argument arg.
func inputError(arg, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    msg,
		Extensions: map[string]any{"code": string(apierr.BadUserInput), "argument": arg},
	}
}

// ErrorPresenter gives every error a code. Errors the caller can act on keep
// their message; anything else is logged with the request ID and shown as
// "internal error", so that driver messages and stack traces never leave.
func ErrorPresenter(log *slog.Logger, o Options) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			// Raised by gqlgen (parsing, validation, limits, argument
			// coercion) or by us: the caller's document or arguments are at
			// fault unless the error says otherwise.
			c, _ := gqlErr.Extensions["code"].(string)
			if !apierr.Known(c) {
				gqlErr.Extensions = withCode(gqlErr.Extensions, apierr.BadUserInput)
			}
			if o.HideSuggestions {
				gqlErr.Message = suggestion.ReplaceAllString(gqlErr.Message, "")
			}
			gqlErr.Message = numberMessage(gqlErr)
			return gqlErr
		}
		path := graphql.GetPath(ctx)
		// The one mapping from errors to codes (apierr.CodeOf); a request
		// the health gate stopped because the database went away is
		// unavailable, whatever error its read then met.
		code := apierr.CodeOf(err)
		unreachable := store.Unreachable(err) || errors.Is(context.Cause(ctx), store.ErrUnreachable)
		if unreachable {
			code = apierr.ServiceUnavailable
		}
		var scalarErr *scalar.InputError
		switch {
		case errors.As(err, &scalarErr):
			// An argument of the wrong form; gqlgen's message names it.
			msg := err.Error()
			if gqlErr != nil {
				msg, path = gqlErr.Message, gqlErr.Path
			}
			return &gqlerror.Error{Message: msg, Path: path, Extensions: map[string]any{"code": string(apierr.BadUserInput)}}
		case errors.Is(err, store.ErrBadCursor):
			return &gqlerror.Error{Message: "after is not a cursor from this list", Path: path,
				Extensions: map[string]any{"code": string(apierr.BadUserInput), "argument": "after"}}
		case unreachable:
			return &gqlerror.Error{Message: "the database is unreachable; try again shortly", Path: path,
				Extensions: map[string]any{"code": string(code)}}
		case code == apierr.ServiceUnavailable:
			return &gqlerror.Error{Message: "the request took too long and was stopped", Path: path,
				Extensions: map[string]any{"code": string(code)}}
		case code == apierr.Internal && gqlErr != nil && !errors.Is(err, store.ErrDatabase) && !errors.Is(err, errPanic):
			// Wrapped by gqlgen and not a failure of ours: it could not
			// coerce an argument (a federation representation that is not
			// an object, say), and its message says which.
			return &gqlerror.Error{Message: gqlErr.Message, Path: gqlErr.Path, Extensions: map[string]any{"code": string(apierr.BadUserInput)}}
		case code != apierr.Internal:
			// An error that says its code says what the caller can act on.
			return &gqlerror.Error{Message: err.Error(), Path: path, Extensions: map[string]any{"code": string(code)}}
		}
		id := RequestID(ctx)
		log.ErrorContext(ctx, "internal error", "request_id", id, "path", path.String(), "error", err)
		return &gqlerror.Error{Message: "internal error (request " + id + ")", Path: path,
			Extensions: map[string]any{"code": string(apierr.Internal), "requestId": id}}
	}
}

// Options shape what errors say and what `_service` serves.
type Options struct {
	// HideSuggestions drops validation's "Did you mean …?", which names
	// fields and values of the schema, for services that do not let every
	// caller introspect it.
	HideSuggestions bool
	// ServiceStats, when set, are the stats the cost limit reckons with:
	// `_service { sdl }` then carries the demand-control directives
	// reckoned with them (ServiceSDL), so that what a router composes from
	// is what the graph enforces.
	ServiceStats func(context.Context) (*store.Stats, error)
}

var suggestion = regexp.MustCompile(` Did you mean [^?]*\?`)

// numberMessage rewrites the variable coercion's message for a number that
// is not an Int ("cannot use value 0 as Int", for 1.5) to say what is wrong.
func numberMessage(e *gqlerror.Error) string {
	if len(e.Path) == 2 && e.Path[0] == ast.PathName("variable") {
		for _, t := range []string{"Int", "Float"} {
			if strings.HasPrefix(e.Message, "cannot use value ") && strings.HasSuffix(e.Message, " as "+t) {
				what := map[string]string{"Int": "a whole number", "Float": "a number"}[t]
				return fmt.Sprintf("variable $%v must be %s (an %s)", e.Path[1], what, t)
			}
		}
	}
	return e.Message
}

// errPanic is the error a recovered panic becomes.
var errPanic = errors.New("panic in resolver")

// RecoverFunc turns a panic in a resolver into an INTERNAL error.
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic", "request_id", RequestID(ctx), "panic", p, "stack", string(debug.Stack()))
		return errPanic
	}
}

func withCode(ext map[string]any, code apierr.Code) map[string]any {
	if ext == nil {
		ext = map[string]any{}
	}
	ext["code"] = string(code)
	return ext
}
