package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Filter narrows an export: a list's own filter (PersonFilter,
// MeetingFilter, ...) or, for a collection the graph does not list,
// ExportFilter.
type Filter interface{ where() where }

// ExportFilter narrows an export of a collection that has no list filter of
// its own: by updatedAt, and observations by indicator and area.
type ExportFilter struct {
	UpdatedSince *time.Time
	// IndicatorID and AreaID keep one indicator's or one area's
	// observations; other collections ignore them.
	IndicatorID, AreaID *string
	// Council keeps one council's records.
	Council *string
}

func (f ExportFilter) where() where {
	return where{}.eq("indicatorId", f.IndicatorID).eq("areaId", f.AreaID).council(f.Council).since(f.UpdatedSince)
}

// exportBatch is how many records an export holds in memory at once, so
// that a download's memory does not grow with the collection.
const exportBatch = 256

// Export streams the records of collection that the caller may see and f
// keeps, in the order the database holds them, each redacted to the caller's level, to each one at a
// time; it stops at the first error each returns. A reference to a record
// the caller may not see is blanked (refHider), as the graph shows it null.
// Memory stays flat however large the collection: the cursor holds one
// batch at a time.
func (s *Store) Export(ctx context.Context, collection string, f Filter, each func(Doc) error) error {
	k, _, err := s.kindNamed(collection)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	hider, err := s.newRefHider(ctx, k)
	if err != nil {
		return fmt.Errorf("export %s: %w", collection, err)
	}
	return s.stream(ctx, k, f.where(), func(d Doc) error { return each(hider.shown(d)) })
}

// ExportObservationsByIndicator streams the indicators the caller may see
// (only indicatorID's when it is set), each with all of its observations the
// caller may see, sorted by ID, so that each figure can be read against its
// comparators. It reads the indicators perFind at a time: one find for
// each batch's observations. Memory holds one batch's figures, however large
// the set, because nothing asks the database to sort the whole collection
// (FerretDB sorts in memory, and embedded it is this process's memory); on
// FerretDB over SQLite each find scans the collection, so larger batches
// mean fewer scans.
func (s *Store) ExportObservationsByIndicator(ctx context.Context, indicatorID *string, perFind int, each func(*Indicator, []*Observation) error) error {
	perFind = max(perFind, 1)
	var batch []*Indicator
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]string, len(batch))
		for i, ind := range batch {
			ids[i] = ind.ID
		}
		byIndicator := map[string][]*Observation{}
		err := s.stream(ctx, kindFor[Observation](), where{oneOf("indicatorId", ids)}, func(d Doc) error {
			o := d.(*Observation)
			byIndicator[o.IndicatorID] = append(byIndicator[o.IndicatorID], o)
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(batch, func(a, b *Indicator) int { return strings.Compare(a.ID, b.ID) })
		for _, ind := range batch {
			group := byIndicator[ind.ID]
			slices.SortFunc(group, func(a, b *Observation) int { return strings.Compare(a.ID, b.ID) })
			if err := each(ind, group); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := s.stream(ctx, kindFor[Indicator](), where{}.eq("_id", indicatorID), func(d Doc) error {
		batch = append(batch, d.(*Indicator))
		if len(batch) == perFind {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// stream calls each with every record of kind k that passes w and the
// caller may see, redacted to the caller's level, one at a time: from the
// model, in the kind's order, where it answers; otherwise from one find in
// the order the database holds them (it asks for no sort, which FerretDB
// would do in memory), a batch at a time. Nothing is charged against a
// budget: a download's size is bounded by the data set, not by a query.
func (s *Store) stream(ctx context.Context, k *Kind, w where, each func(Doc) error) error {
	l := LevelOf(ctx)
	if m := s.modelFor(ctx, k, w); m != nil {
		for _, p := range m.ordered {
			if err := ctx.Err(); err != nil {
				return dbError("export "+k.Collection, err)
			}
			if d := m.recs[p]; admits(l, d) && w.test(k, d) {
				if err := each(redacted(l, d)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	c := s.coll(k)
	cur, err := c.Find(ctx, scoped(ctx, w.bson()), options.Find().SetBatchSize(exportBatch))
	if err != nil {
		return dbError("export "+c.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		d := k.New()
		if err := cur.Decode(d); err != nil {
			return dbError("export "+c.Name(), err)
		}
		redact(l, d)
		if err := each(d); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return dbError("export "+c.Name(), err)
	}
	return nil
}
