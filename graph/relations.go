package graph

import (
	"context"
	"slices"

	"councilgraph/graph/model"
	"councilgraph/loaders"
	"councilgraph/store"
)

// observed reports whether o is for area (when given) and its period
// overlaps from..to (when given; an observation without period dates is
// kept only when neither bound is).
func observed(o *store.Observation, area, from, to *string) bool {
	if area != nil && o.AreaID != *area {
		return false
	}
	if from != nil && (o.PeriodEnd == nil || *o.PeriodEnd < *from) {
		return false
	}
	if to != nil && (o.PeriodStart == nil || *o.PeriodStart > *to) {
		return false
	}
	return true
}

// latest is the observation with the latest period: by period end where
// given, else by period as published; the first such on a tie.
func latest(all []*store.Observation) *store.Observation {
	var best *store.Observation
	for _, o := range all {
		if best == nil || periodKey(o) > periodKey(best) {
			best = o
		}
	}
	return best
}

func periodKey(o *store.Observation) string {
	if o.PeriodEnd != nil {
		return *o.PeriodEnd
	}
	return o.Period
}

// neighbour is the body's meeting step places after m in date order.
func neighbour(ctx context.Context, m *store.Meeting, step int) (*store.Meeting, error) {
	dates, err := loaders.For(ctx).MeetingDatesByBody.Load(ctx, m.BodyID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(dates, func(d *store.MeetingDate) bool { return d.ID == m.ID })
	if i < 0 || i+step < 0 || i+step >= len(dates) {
		return nil, nil
	}
	return loaders.One[store.Meeting](ctx, dates[i+step].ID)
}

// node fetches a record of any Node type by its prefixed ID.
func node(ctx context.Context, id string) (model.Node, error) {
	return nodeThunk(ctx, id)()
}

// nodes fetches several records by ID: every load is started before any is
// awaited, so each type's IDs go to the store in one batch.
func nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	thunks := make([]func() (model.Node, error), len(ids))
	for i, id := range ids {
		thunks[i] = nodeThunk(ctx, id)
	}
	out := make([]model.Node, len(ids))
	for i, t := range thunks {
		n, err := t()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// nodeThunk starts loading the record id names, of whichever kind its
// prefix names; a missing record is a nil Node, not a nil pointer inside one.
func nodeThunk(ctx context.Context, id string) func() (model.Node, error) {
	t := loaders.LoadNode(ctx, id)
	return func() (model.Node, error) {
		d, err := t()
		if err != nil || d == nil {
			return nil, err
		}
		return d.(model.Node), nil
	}
}

// entities resolves a federation gateway's representations of one type in a
// single batch, in the order given; unknown IDs are null.
func entities[T any, R any, PT interface {
	*T
	store.Doc
}](ctx context.Context, reps []R, id func(R) string) ([]PT, error) {
	ids := make([]string, len(reps))
	for i, r := range reps {
		ids[i] = id(r)
	}
	return loaders.LookupEach[T, PT](ctx, ids)
}

// search finds records of any searchable type by name, title or alias.
func (r *Resolver) search(ctx context.Context, query string, first *int, council *string) ([]model.SearchHit, error) {
	p, err := pageArgs(first, nil)
	if err != nil {
		return nil, err
	}
	if err := searchArg("query", query, 2); err != nil {
		return nil, err
	}
	found, err := r.Store.Search(ctx, query, p.First, council)
	if err != nil {
		return nil, err
	}
	out := make([]model.SearchHit, len(found))
	for i, f := range found {
		out[i] = f.(model.SearchHit)
	}
	return out, nil
}

// areaByCode resolves a representation of an area by its GSS code, the
// key a partner's subgraph holds: the codes of one _entities request go to
// the store in one find (the area loader by code). Nil when no area the
// caller may see has the code.
func areaByCode(ctx context.Context, code *string) (*store.Area, error) {
	if code == nil {
		return nil, nil
	}
	found, err := loaders.For(ctx).AreasByCode.Load(ctx, *code)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}
