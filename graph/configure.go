package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler"

	"councilgraph/loaders"
	"councilgraph/store"
)

// Configurable is what Configure sets up: a gqlgen server (handler.Server)
// or an executor without HTTP (executor.Executor).
type Configurable interface {
	Use(graphql.HandlerExtension)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetDisableSuggestion(bool)
	SetRecoverFunc(graphql.RecoverFunc)
	AroundFields(graphql.FieldMiddleware)
	AroundOperations(graphql.OperationMiddleware)
}

var (
	_ Configurable = (*handler.Server)(nil)
	_ Configurable = (*executor.Executor)(nil)
)

// Configure gives a gqlgen server or executor the graph's error handling
// (the error presenter, panic recovery, checks of federation
// representations), the loaders' dispatcher, which sends each level's
// batches when the level is complete (loaders/dispatch.go), and `_service`
// with its cost directives (Options.ServiceStats).
func Configure(h Configurable, log *slog.Logger, o Options) {
	d := &loaders.Dispatch{}
	h.Use(d)
	h.SetErrorPresenter(loaders.Presenter(ErrorPresenter(log, o)))
	h.SetDisableSuggestion(o.HideSuggestions)
	h.SetRecoverFunc(RecoverFunc(log))
	h.AroundFields(fieldGuard{dispatch: d, stats: o.ServiceStats}.field)
	h.AroundOperations(feedFromDatabase)
}

// feedFromDatabase has an operation that reads the change feed (the query
// or the subscription `changes`) read everything from the database, not
// the store's snapshot: a change another process logged is read before
// this process has seen its generation, and the relations of the records
// it names must be as new as they are (store.FromDatabase).
func feedFromDatabase(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc != nil && oc.Operation != nil {
		for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query", "Subscription"}) {
			if f.Name == "changes" {
				ctx = store.FromDatabase(ctx)
				break
			}
		}
	}
	return next(ctx)
}

// fieldGuard is the graph's one field middleware: each middleware is a
// call and a closure on every field resolved, so what every field needs
// is here. It resolves no field once the request's deadline has passed
// (or its caller has gone), so that the deadline stops the work in memory
// too, not only the store's; checks `_entities` representations
// (checkRepresentations); adds the cost directives to `_service`; and
// lets the loaders' dispatcher count the field, outermost, so that it sees
// fields refused here too, while it counts (on the database path only).
type fieldGuard struct {
	dispatch *loaders.Dispatch
	stats    func(context.Context) (*store.Stats, error)
}

func (g fieldGuard) field(ctx context.Context, next graphql.Resolver) (any, error) {
	if g.dispatch.Counting(ctx) {
		return g.dispatch.Field(ctx, func(ctx context.Context) (any, error) { return g.guard(ctx, next) })
	}
	return g.guard(ctx, next)
}

func (g fieldGuard) guard(ctx context.Context, next graphql.Resolver) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Query" {
		return next(ctx)
	}
	switch fc.Field.Name {
	case "_entities":
		if err := checkRepresentations(fc); err != nil {
			return nil, err
		}
	case "_service":
		if res, err := next(ctx); err != nil || g.stats == nil {
			return res, err
		} else {
			return withDirectives(ctx, res, g.stats)
		}
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
func checkRepresentations(fc *graphql.FieldContext) error {
	reps, _ := fc.Args["representations"].([]map[string]any)
	for i, rep := range reps {
		typ, _ := rep["__typename"].(string)
		id, _ := rep["id"].(string)
		code, _ := rep["code"].(string)
		switch {
		case !entityTypes()[typ]:
			return inputError("representations", fmt.Sprintf("representations[%d]: __typename %q is not an entity type of this subgraph", i, rep["__typename"]))
		case typ == "Area" && id == "" && code == "":
			// An area's second key is its GSS code.
			return inputError("representations", fmt.Sprintf("representations[%d]: an Area needs its id or its code, a non-empty string", i))
		case typ != "Area" && id == "":
			return inputError("representations", fmt.Sprintf("representations[%d]: id must be a non-empty string", i))
		}
	}
	return nil
}

// maxSearchLen is the longest text search and name filters take, in
// characters: longer than any name or title, short enough that matching it
// costs nothing.
const maxSearchLen = 200

// searchArg checks text to search for: free text (textArg), at most
// maxSearchLen characters, and at least least characters once case,
// accents and spacing are folded away (so that "\u0301\u0301" is not a
// query that matches everything).
func searchArg(arg, v string, least int) error {
	if n := utf8.RuneCountInString(v); n > maxSearchLen {
		return inputError(arg, fmt.Sprintf("%s must be at most %d characters, got %d", arg, maxSearchLen, n))
	}
	if err := textArg(arg, v); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(store.Fold(v)); n < least {
		return inputError(arg, fmt.Sprintf("%s must have at least %d characters besides accents and spaces", arg, least))
	}
	return nil
}

// textArg checks a free-text argument: no control characters.
func textArg(arg, v string) error {
	if strings.ContainsFunc(v, unicode.IsControl) {
		return inputError(arg, arg+" must not contain control characters")
	}
	return nil
}
