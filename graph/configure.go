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

	"councilgraph/loaders"
)

// Configure gives a gqlgen server the graph's error handling (the error
// presenter, panic recovery, checks of federation representations) and the
// loaders' dispatcher, which sends each level's batches when the level is
// complete (loaders/dispatch.go). The dispatcher's field middleware comes
// first, so that it sees every field, including those refused after it.
func Configure(h *handler.Server, log *slog.Logger) {
	h.Use(&loaders.Dispatch{})
	h.SetErrorPresenter(loaders.Presenter(ErrorPresenter(log)))
	h.SetRecoverFunc(RecoverFunc(log))
	h.AroundFields(checkRepresentations)
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
