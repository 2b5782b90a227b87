// Package loaders owns the per-request dataloaders: every relation the graph
// walks is fetched through one of them, so that all the keys asked for at one
// level of a query go to the store in one find.
//
// The loaders come from the store's table of kinds: one by ID for each kind
// (One, Opt, All) and one for each reference field of each kind (Related),
// made the first time a request asks for it. A few relations of their own
// shape have loaders of their own (ReportsByPerson and the observation ones).
package loaders

import (
	"context"
	"sync"
	"time"

	"councilgraph/store"
)

// Loaders holds the loaders of one request, made afresh for each: their
// caches hold what one caller may see and must not outlive the request.
type Loaders struct {
	s *store.Store
	d *dispatcher

	mu   sync.Mutex
	byID map[*store.Kind]*Loader[string, store.Doc]
	// lookup holds, per kind, the loader of the IDs callers give, which
	// also finds a record by an ID it no longer has (oneMoved).
	lookup  map[*store.Kind]*Loader[string, store.Doc]
	byField map[ref]*Loader[string, []store.Doc]

	// MeetingDatesByBody holds the ID and date of each body's meetings:
	// enough to find a meeting's neighbours.
	MeetingDatesByBody *Loader[string, []*store.MeetingDate]
	// ReportsByPerson holds the reports a person wrote or led.
	ReportsByPerson *Loader[string, []*store.Report]
	// ObservationsByIndicator holds every figure of each indicator, and
	// primes ObservationsByPeriod with them.
	ObservationsByIndicator *Loader[string, []*store.Observation]
	// ObservationsByPeriod holds every area's figure for one period of one
	// indicator: what comparators ask for.
	ObservationsByPeriod *Loader[store.IndicatorPeriod, []*store.Observation]
	// AreasByCode holds the areas with each GSS code (the key partners
	// hold for an area).
	AreasByCode *Loader[string, []*store.Area]
	// FeedsByCouncil holds where each council's records come from.
	FeedsByCouncil *Loader[string, []*store.Feed]
}

// ref names one reference field of one kind.
type ref struct {
	kind  *store.Kind
	field string
}

// DefaultWait is the ceiling on how long a batch waits for more keys after
// its first. Within a counted operation a batch is sent as soon as its level
// is complete (dispatch.go), in microseconds, and the ceiling is a safety
// net that a busy machine must not reach (it would split a level), hence
// well above a level's scheduling time under load; it is what sends the
// loads nothing counts.
const DefaultWait = 200 * time.Millisecond

// New makes a fresh set of loaders over s. A batch is sent when the
// operation's dispatcher finds its level complete, or at the latest wait
// (DefaultWait when zero) after its first key.
func New(s *store.Store, wait time.Duration) *Loaders {
	if wait == 0 {
		wait = DefaultWait
	}
	d := newDispatcher(wait)
	d.memory = s.InMemory
	l := &Loaders{
		s:       s,
		d:       d,
		byID:    map[*store.Kind]*Loader[string, store.Doc]{},
		lookup:  map[*store.Kind]*Loader[string, store.Doc]{},
		byField: map[ref]*Loader[string, []store.Doc]{},
	}
	l.MeetingDatesByBody = newLoader(d, many("MeetingDate by bodyId", s.FindMeetingDatesByBodyIDs, func(v *store.MeetingDate) []string { return []string{v.BodyID} }))
	l.ReportsByPerson = newLoader(d, many("Report by person", s.FindReportsByPersonIDs, func(v *store.Report) []string {
		return append(opt(v.AuthorID), opt(v.LeadMemberID)...)
	}))
	l.ObservationsByPeriod = newLoader(d, many("Observation by period", s.FindObservationsByIndicatorPeriods, periodOf))
	l.AreasByCode = newLoader(d, many("Area by code", s.FindAreasByCodes, func(v *store.Area) []string { return opt(v.Code) }))
	l.FeedsByCouncil = newLoader(d, many("Feed by council", s.FindFeeds, func(v *store.Feed) []string { return []string{v.Council} }))
	l.FeedsByCouncil.inMemory = false // feeds are read from the database
	// An indicator's observations hold every area's figure for each of its
	// periods, which is what comparators ask for: loading them primes the
	// period loader, so comparators cost no further round trip.
	byIndicator := many("Observation by indicatorId", func(ctx context.Context, ids []string) ([]*store.Observation, error) {
		return typed[store.Observation](s.FindByRef(ctx, store.KindFor[store.Observation](), "indicatorId", ids))
	}, func(v *store.Observation) []string { return []string{v.IndicatorID} })
	l.ObservationsByIndicator = newLoader(d, func(ctx context.Context, keys []string) ([][]*store.Observation, []error) {
		found, errs := byIndicator(ctx, keys)
		for _, all := range found {
			for key, group := range groupBy(all, periodOf) {
				l.ObservationsByPeriod.Prime(key, group)
			}
		}
		return found, errs
	})
	return l
}

// record is the by-ID loader of kind k.
func (l *Loaders) record(k *store.Kind) *Loader[string, store.Doc] {
	l.mu.Lock()
	defer l.mu.Unlock()
	ld, ok := l.byID[k]
	if !ok {
		ld = newLoader(l.d, one(k.Name, func(ctx context.Context, ids []string) ([]store.Doc, error) {
			return l.s.FindByIDs(ctx, k, ids)
		}, func(d store.Doc) string { return d.Base().ID }))
		l.byID[k] = ld
	}
	return ld
}

// lookedUp is the loader of kind k's records by the IDs callers give: as
// record, and an ID that names no record is looked up in the moved IDs'
// table. Only the IDs a caller gives need it: the references records hold
// are written current.
func (l *Loaders) lookedUp(k *store.Kind) *Loader[string, store.Doc] {
	l.mu.Lock()
	defer l.mu.Unlock()
	ld, ok := l.lookup[k]
	if !ok {
		fetch := oneMoved(k.Name, func(ctx context.Context, ids []string) ([]store.Doc, error) {
			return l.s.FindByIDs(ctx, k, ids)
		}, l.s.Moved)
		ld = newLoader(l.d, func(ctx context.Context, keys []string) ([]store.Doc, []error) {
			found, errs := fetch(ctx, keys)
			// What the records found refer to by these IDs is not read
			// again.
			record := l.record(k)
			for _, d := range found {
				if d != nil {
					record.Prime(d.Base().ID, d)
				}
			}
			return found, errs
		})
		l.lookup[k] = ld
	}
	return ld
}

// Lookup loads the record of type T with an ID a caller gave, or an ID it
// had before it was re-keyed: nil when there is none the caller may see.
func Lookup[T any, PT doc[T]](ctx context.Context, id string) (PT, error) {
	found, err := each[T, PT](ctx, For(ctx).lookedUp(store.KindFor[T]()), []string{id})
	if err != nil {
		return nil, err
	}
	return found[0], nil
}

// LookupEach is Lookup for several IDs in one batch, in order: nil for
// each that names no record the caller may see.
func LookupEach[T any, PT doc[T]](ctx context.Context, ids []string) ([]PT, error) {
	return each[T, PT](ctx, For(ctx).lookedUp(store.KindFor[T]()), ids)
}

// each loads ids through ld, in order, as records of type T: nil for
// each that names no record the caller may see.
func each[T any, PT doc[T]](ctx context.Context, ld *Loader[string, store.Doc], ids []string) ([]PT, error) {
	found, err := ld.LoadAll(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]PT, len(found))
	for i, d := range found {
		if d != nil {
			out[i] = d.(PT)
		}
	}
	return out, nil
}

// related is the loader of the records of kind k whose field refers to a key.
func (l *Loaders) related(k *store.Kind, field string) *Loader[string, []store.Doc] {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := ref{k, field}
	ld, ok := l.byField[key]
	if !ok {
		ld = newLoader(l.d, many(k.Name+" by "+field, func(ctx context.Context, ids []string) ([]store.Doc, error) {
			return l.s.FindByRef(ctx, k, field, ids)
		}, func(d store.Doc) []string { return store.RefValues(d, field) }))
		l.byField[key] = ld
	}
	return ld
}

// doc is a pointer to a record type.
type doc[T any] interface {
	*T
	store.Doc
}

// One loads the record of type T with the given ID: nil when there is none
// the caller may see.
func One[T any, PT doc[T]](ctx context.Context, id string) (PT, error) {
	return OneThunk[T, PT](ctx, id)()
}

// OneThunk starts loading a record of type T and returns a function that
// waits for it, so that several loads can share a batch.
func OneThunk[T any, PT doc[T]](ctx context.Context, id string) func() (PT, error) {
	t := For(ctx).record(store.KindFor[T]()).LoadThunk(ctx, id)
	return func() (PT, error) {
		d, err := t()
		if err != nil || d == nil {
			return nil, err
		}
		return d.(PT), nil
	}
}

// Opt loads the record an optional reference names: nil when the reference
// is empty or names no record the caller may see.
func Opt[T any, PT doc[T]](ctx context.Context, id *string) (PT, error) {
	if id == nil {
		return nil, nil
	}
	return One[T, PT](ctx, *id)
}

// Each loads the records of type T with the given IDs in one batch, in
// order: nil for each the caller may not see.
func Each[T any, PT doc[T]](ctx context.Context, ids []string) ([]PT, error) {
	return each[T, PT](ctx, For(ctx).record(store.KindFor[T]()), ids)
}

// All loads the records a list of references names, in order, leaving out
// those the caller may not see.
func All[T any, PT doc[T]](ctx context.Context, ids []string) ([]PT, error) {
	found, err := Each[T, PT](ctx, ids)
	out := found[:0]
	for _, d := range found {
		if d != nil {
			out = append(out, d)
		}
	}
	return out, err
}

// Related loads the records of type T whose reference field (one of its
// kind's Refs, e.g. "bodyId") names key, in the kind's order.
func Related[T any, PT doc[T]](ctx context.Context, field, key string) ([]PT, error) {
	found, err := For(ctx).related(store.KindFor[T](), field).Load(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]PT, len(found))
	for i, d := range found {
		out[i] = d.(PT)
	}
	return out, nil
}

// LoadNode starts loading a record of any kind by ID, for node(id:) and
// nodes(ids:): nil when the ID names no kind or no record the caller may see.
func LoadNode(ctx context.Context, id string) func() (store.Doc, error) {
	k := store.KindOfID(id)
	if k == nil || !k.Node {
		return func() (store.Doc, error) { return nil, nil }
	}
	return For(ctx).lookedUp(k).LoadThunk(ctx, id)
}

func periodOf(v *store.Observation) []store.IndicatorPeriod {
	return []store.IndicatorPeriod{{IndicatorID: v.IndicatorID, Period: v.Period}}
}

// For returns the request's loaders. It panics when the context carries
// no request with loaders (graph.Requests makes them), which is a wiring
// mistake, not a runtime condition.
func For(ctx context.Context) *Loaders {
	if l := loadersOf(ctx); l != nil {
		return l
	}
	panic("loaders: the context carries no request with loaders; make one with graph.Requests")
}

// loadersOf is the loaders of the context's request, nil without any.
func loadersOf(ctx context.Context) *Loaders {
	if r := store.RequestOf(ctx); r != nil {
		l, _ := r.Loaders.(*Loaders)
		return l
	}
	return nil
}
