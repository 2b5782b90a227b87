package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
)

// Configure gives a gqlgen server the graph's error handling: the error
// presenter, panic recovery, and checks of federation representations.
func Configure(h *handler.Server, log *slog.Logger) {
	h.SetErrorPresenter(ErrorPresenter(log))
	h.SetRecoverFunc(RecoverFunc(log))
	h.AroundFields(stopAtDeadline)
	h.AroundFields(checkRepresentations)
}

// stopAtDeadline resolves no field once the request's deadline has passed
// (or its caller has gone), so that the deadline stops the work in memory
// too, not only the store's.
func stopAtDeadline(ctx context.Context, next graphql.Resolver) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return next(ctx)
}

// entityTypes are the types a federation gateway may ask `_entities` for.
var entityTypes = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for name, def := range NewExecutableSchema(Config{}).Schema().Types {
		if def.Directives.ForName("key") != nil {
			out[name] = true
		}
	}
	return out
})

// checkRepresentations refuses `_entities` representations that are not
// {__typename, id} of an entity type, with an error naming the bad one,
// before the generated code turns them into internal errors.
func checkRepresentations(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Query" || fc.Field.Name != "_entities" {
		return next(ctx)
	}
	reps, _ := fc.Args["representations"].([]map[string]any)
	for i, rep := range reps {
		typ, _ := rep["__typename"].(string)
		id, _ := rep["id"].(string)
		switch {
		case !entityTypes()[typ]:
			return nil, inputError("representations", fmt.Sprintf("representations[%d]: __typename %q is not an entity type of this subgraph", i, rep["__typename"]))
		case id == "":
			return nil, inputError("representations", fmt.Sprintf("representations[%d]: id must be a non-empty string", i))
		}
	}
	return next(ctx)
}

// textArg checks a free-text argument: no control characters.
func textArg(arg, v string) error {
	if strings.ContainsFunc(v, unicode.IsControl) {
		return inputError(arg, arg+" must not contain control characters")
	}
	return nil
}
