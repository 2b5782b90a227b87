package graph

import (
	"log/slog"
	"slices"

	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/store"
)

// What the webhooks (package webhooks) need of the change feed: its
// cursors, its record types, and an executor that answers operations as
// the HTTP endpoint would, without HTTP.

// ChangeCursor is the feed's opaque cursor for change log number seq.
func ChangeCursor(seq int64) string { return changeCursor(seq) }

// ParseChangeCursor reads a cursor of the feed back into its change log
// number; anything else is an error naming the argument since.
func ParseChangeCursor(s string) (int64, error) { return parseChangeCursor(s) }

// ChangeRecordTypes lists the members of ChangeRecord, the record types of
// the feed, sorted.
func ChangeRecordTypes() []string {
	return slices.Sorted(slices.Values(parsedSchema.Types["ChangeRecord"].Types))
}

// NewExecutor is an executor of the graph over s with the HTTP endpoint's
// error handling and loader dispatch. Contexts it runs operations in
// carry a request made by Requests, as the HTTP endpoint's do.
func NewExecutor(s *store.Store, log *slog.Logger) *executor.Executor {
	e := executor.New(NewExecutableSchema(Config{Resolvers: &Resolver{Store: s}}))
	e.SetQueryCache(lru.New[*ast.QueryDocument](16))
	Configure(e, log, Options{})
	return e
}
