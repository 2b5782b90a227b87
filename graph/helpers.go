package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"

	"councilgraph/store"
)

const (
	defaultFirst = 20
	maxFirst     = 100
)

// pageArgs checks a list's `first` and `after` arguments.
func pageArgs(first *int, after *string) (store.Page, error) {
	p := store.Page{First: defaultFirst}
	if first != nil {
		if *first < 1 || *first > maxFirst {
			return p, inputError("first", fmt.Sprintf("first must be between 1 and %d, got %d", maxFirst, *first))
		}
		p.First = *first
	}
	if after != nil {
		p.After = *after
	}
	return p, nil
}

// filter keeps the elements of all for which keep is true.
func filter[T any](all []*T, keep func(*T) bool) []*T {
	out := make([]*T, 0, len(all))
	for _, v := range all {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// wantsTotal reports whether the caller selected totalCount on the
// connection being resolved, so that no count runs that nobody asked for.
func wantsTotal(ctx context.Context) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" {
			return true
		}
	}
	return false
}

// total counts when the caller asked for totalCount; otherwise it is 0 and
// never shown.
func total(ctx context.Context, count func() (int, error)) (int, error) {
	if !wantsTotal(ctx) {
		return 0, nil
	}
	return count()
}
