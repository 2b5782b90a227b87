package loaders

import (
	"context"
	"slices"
	"strings"

	"councilgraph/store"
)

// one turns a find by IDs into a loader's fetch: the results come back in key
// order, nil where a key has no record.
func one[T any](find func(context.Context, []string) ([]*T, error), id func(*T) string) func(context.Context, []string) ([]*T, []error) {
	return func(ctx context.Context, keys []string) ([]*T, []error) {
		ctx, done := observe[T](ctx, false, len(keys))
		found, err := find(ctx, keys)
		done(err)
		if err != nil {
			return nil, []error{err}
		}
		byID := make(map[string]*T, len(found))
		for _, v := range found {
			byID[id(v)] = v
		}
		out := make([]*T, len(keys))
		for i, k := range keys {
			out[i] = byID[k]
		}
		return out, nil
	}
}

// many turns a find by reference into a loader's fetch: for each key, the
// records whose reference (or one of whose references) is that key, in the
// order the store returned them.
func many[T any](find func(context.Context, []string) ([]*T, error), refs func(*T) []string) func(context.Context, []string) ([][]*T, []error) {
	return manyBy(find, refs)
}

// manyBy is many for any comparable key.
func manyBy[K comparable, T any](find func(context.Context, []K) ([]*T, error), refs func(*T) []K) func(context.Context, []K) ([][]*T, []error) {
	return func(ctx context.Context, keys []K) ([][]*T, []error) {
		ctx, done := observe[T](ctx, true, len(keys))
		found, err := find(ctx, keys)
		done(err)
		if err != nil {
			return nil, []error{err}
		}
		groups := groupBy(found, refs)
		out := make([][]*T, len(keys))
		for i, k := range keys {
			out[i] = groups[k]
		}
		return out, nil
	}
}

// groupBy groups records by each reference they hold, keeping their order.
func groupBy[K comparable, T any](all []*T, refs func(*T) []K) map[K][]*T {
	groups := map[K][]*T{}
	for _, v := range all {
		for _, r := range refs(v) {
			groups[r] = append(groups[r], v)
		}
	}
	return groups
}

// sorted sorts each group a fetch returns with cmp.
func sorted[T any](fetch func(context.Context, []string) ([][]*T, []error), cmp func(a, b *T) int) func(context.Context, []string) ([][]*T, []error) {
	return func(ctx context.Context, keys []string) ([][]*T, []error) {
		out, errs := fetch(ctx, keys)
		for _, g := range out {
			slices.SortStableFunc(g, cmp)
		}
		return out, errs
	}
}

// opt is the reference an optional field holds, if any.
func opt(s *string) []string {
	if s == nil {
		return nil
	}
	return []string{*s}
}

// agendaOrder puts agenda items in the order printed: by number, else by
// minute reference, comparing runs of digits as numbers.
func agendaOrder(a, b *store.AgendaItem) int {
	return Natural(agendaKey(a), agendaKey(b))
}

func agendaKey(a *store.AgendaItem) string {
	switch {
	case a.Number != nil:
		return *a.Number
	case a.MinuteRef != nil:
		return *a.MinuteRef
	}
	return a.ID
}

// priorityOrder puts priorities in their printed number order.
func priorityOrder(a, b *store.Priority) int {
	ka, kb := a.ID, b.ID
	if a.Number != nil && b.Number != nil {
		ka, kb = *a.Number, *b.Number
	}
	return Natural(ka, kb)
}

// Natural compares two strings with runs of digits compared as numbers, so
// that "2" sorts before "10" and "CAB 9/22" before "CAB 10/22".
func Natural(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
