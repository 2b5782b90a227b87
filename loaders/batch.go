package loaders

import (
	"context"
	"slices"

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

// oneMoved is one for records by ID, where an ID a record no longer has
// still finds it: the keys that find nothing are looked up in the table of
// moved IDs (only they: a lookup by a current ID costs nothing more), and
// those that moved are found by their new IDs in a second find.
func oneMoved(name string, find func(context.Context, []string) ([]store.Doc, error), moved func(context.Context, []string) (map[string]string, error)) func(context.Context, []string) ([]store.Doc, []error) {
	byID := one(name, find, func(d store.Doc) string { return d.Base().ID })
	return func(ctx context.Context, keys []string) ([]store.Doc, []error) {
		out, errs := byID(ctx, keys)
		if errs != nil {
			return out, errs
		}
		var missing []string
		for i, d := range out {
			if d == nil {
				missing = append(missing, keys[i])
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		to, err := moved(ctx, missing)
		if err != nil || len(to) == 0 {
			return out, errorsOf(err)
		}
		now := make([]string, 0, len(to))
		for _, id := range to {
			now = append(now, id)
		}
		found, errs := byID(ctx, now)
		if errs != nil {
			return out, errs
		}
		at := make(map[string]store.Doc, len(now))
		for i, id := range now {
			at[id] = found[i]
		}
		for i, k := range keys {
			if out[i] == nil {
				out[i] = at[to[k]]
			}
		}
		return out, nil
	}
}

// errorsOf is a loader's errors for err: none when it is nil.
func errorsOf(err error) []error {
	if err == nil {
		return nil
	}
	return []error{err}
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
		out := make([][]T, len(keys))
		if len(keys) == 1 {
			// Found by the one key: each record holds it (what is looked
			// up at once, from memory, is one key a fetch).
			out[0] = found
			return out, nil
		}
		groups := groupBy(found, refs)
		for i, k := range keys {
			out[i] = groups[k]
		}
		return out, nil
	}
}

// groupBy groups records by each reference they hold, keeping their order;
// a record that holds a reference twice (a report whose author is its lead
// member) is in its group once.
func groupBy[K comparable, T any](all []T, refs func(T) []K) map[K][]T {
	groups := map[K][]T{}
	for _, v := range all {
		rs := refs(v)
		for i, r := range rs {
			if !slices.Contains(rs[:i], r) {
				groups[r] = append(groups[r], v)
			}
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
