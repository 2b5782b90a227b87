package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Filter narrows an export: a list's own filter (PersonFilter,
// MeetingFilter, ...) or, for a collection the graph does not list,
// ExportFilter.
type Filter interface{ bson() bson.D }

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

func (f ExportFilter) bson() bson.D {
	return since(councilEq(eq(eq(bson.D{}, "indicatorId", f.IndicatorID), "areaId", f.AreaID), f.Council), f.UpdatedSince)
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
	k, c, err := s.kindNamed(collection)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	hider, err := s.newRefHider(ctx, k)
	if err != nil {
		return fmt.Errorf("export %s: %w", collection, err)
	}
	return stream(ctx, c, f.bson(), func(cur *mongo.Cursor) error {
		d := k.New()
		if err := cur.Decode(d); err != nil {
			return dbError("export "+collection, err)
		}
		redact(LevelOf(ctx), d)
		hider.hide(d)
		return each(d)
	})
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
		obs, err := find[Observation](ctx, collOf[Observation](s), bson.D{{Key: "indicatorId", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find().SetBatchSize(exportBatch))
		if err != nil {
			return err
		}
		byIndicator := map[string][]*Observation{}
		for _, o := range obs {
			byIndicator[o.IndicatorID] = append(byIndicator[o.IndicatorID], o)
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
	filter := eq(bson.D{}, "_id", indicatorID)
	err := stream(ctx, collOf[Indicator](s), filter, func(cur *mongo.Cursor) error {
		ind := new(Indicator)
		if err := cur.Decode(ind); err != nil {
			return dbError("export indicators", err)
		}
		batch = append(batch, ind)
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

// stream runs one find for the records the caller may see and calls each
// with the cursor on every record in turn, in the order the database holds
// them: it asks for no sort, which FerretDB would do in memory.
func stream(ctx context.Context, c *mongo.Collection, filter bson.D, each func(*mongo.Cursor) error) error {
	cur, err := c.Find(ctx, scoped(ctx, filter), options.Find().SetBatchSize(exportBatch))
	if err != nil {
		return dbError("export "+c.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if err := each(cur); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return dbError("export "+c.Name(), err)
	}
	return nil
}
