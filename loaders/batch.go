package loaders

import (
	"context"

	"councilgraph/store"
)

// one turns a find by IDs into a loader's fetch: the results come back in key
// order, nil where a key has no record. name names the loader to a
// BatchObserver.
func one[T any](name string, find func(context.Context, []string) ([]T, error), id func(T) string) func(context.Context, []string) ([]T, []error) {
	return func(ctx context.Context, keys []string) ([]T, []error) {
		ctx, done := observe(ctx, name, len(keys))
		found, err := find(ctx, keys)
		done(err)
		if err != nil {
			return nil, []error{err}
		}
		byID := make(map[string]T, len(found))
		for _, v := range found {
			byID[id(v)] = v
		}
		out := make([]T, len(keys))
		for i, k := range keys {
			out[i] = byID[k]
		}
		return out, nil
	}
}

// many turns a find by reference into a loader's fetch: for each key, the
// records whose reference (or one of whose references) is that key, in the
// order the store returned them. name names the loader to a BatchObserver.
func many[K comparable, T any](name string, find func(context.Context, []K) ([]T, error), refs func(T) []K) func(context.Context, []K) ([][]T, []error) {
	return func(ctx context.Context, keys []K) ([][]T, []error) {
		ctx, done := observe(ctx, name, len(keys))
		found, err := find(ctx, keys)
		done(err)
		if err != nil {
			return nil, []error{err}
		}
		groups := groupBy(found, refs)
		out := make([][]T, len(keys))
		for i, k := range keys {
			out[i] = groups[k]
		}
		return out, nil
	}
}

// groupBy groups records by each reference they hold, keeping their order.
func groupBy[K comparable, T any](all []T, refs func(T) []K) map[K][]T {
	groups := map[K][]T{}
	for _, v := range all {
		for _, r := range refs(v) {
			groups[r] = append(groups[r], v)
		}
	}
	return groups
}

// opt is the reference an optional field holds, if any.
func opt(s *string) []string {
	if s == nil {
		return nil
	}
	return []string{*s}
}

// typed converts the records a store find returned to their own type.
func typed[T any](docs []store.Doc, err error) ([]*T, error) {
	out := make([]*T, len(docs))
	for i, d := range docs {
		out[i] = any(d).(*T)
	}
	return out, err
}
