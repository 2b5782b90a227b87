package store

import (
	"context"
	"fmt"
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
}

func (f ExportFilter) bson() bson.D {
	return since(eq(eq(bson.D{}, "indicatorId", f.IndicatorID), "areaId", f.AreaID), f.UpdatedSince)
}

func (f PlanFilter) bson() bson.D { return since(bson.D{}, f.UpdatedSince) }

// exportBatch is how many records an export holds in memory at once, so
// that a download's memory does not grow with the collection.
const exportBatch = 256

// NewDoc returns an empty record of the type collection holds, or nil when
// there is no such collection.
func NewDoc(collection string) Doc {
	switch collection {
	case "organisations":
		return &Organisation{}
	case "people":
		return &Person{}
	case "bodies":
		return &Body{}
	case "memberships":
		return &Membership{}
	case "meetings":
		return &Meeting{}
	case "attendance":
		return &Attendance{}
	case "agendaItems":
		return &AgendaItem{}
	case "reports":
		return &Report{}
	case "declarations":
		return &Declaration{}
	case "plans":
		return &Plan{}
	case "priorities":
		return &Priority{}
	case "actions":
		return &Action{}
	case "indicators":
		return &Indicator{}
	case "areas":
		return &Area{}
	case "observations":
		return &Observation{}
	}
	return nil
}

// Export streams the records of collection that the caller may see and f
// keeps, in ID order, each redacted to the caller's level, to each one at a
// time; it stops at the first error each returns. Memory stays flat
// however large the collection: the cursor holds one batch at a time.
func (s *Store) Export(ctx context.Context, collection string, f Filter, each func(Doc) error) error {
	c := s.Collection(collection)
	if c == nil || NewDoc(collection) == nil {
		return fmt.Errorf("export: no collection %q", collection)
	}
	return stream(ctx, c, f.bson(), byID, func(cur *mongo.Cursor) error {
		d := NewDoc(collection)
		if err := cur.Decode(d); err != nil {
			return dbError("export "+collection, err)
		}
		if r, ok := d.(redactor); ok && LevelOf(ctx) < Officer {
			r.redact(LevelOf(ctx))
		}
		return each(d)
	})
}

// ExportObservationsByIndicator streams the observations the caller may see
// and f keeps, one indicator at a time (in ID order, observations in ID
// order), with the indicator they measure, so that each figure can be read
// against its comparators. Memory holds one indicator's figures at most.
func (s *Store) ExportObservationsByIndicator(ctx context.Context, f ExportFilter, each func(*Indicator, []*Observation) error) error {
	var group []*Observation
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		ind, err := s.FindIndicatorsByIDs(ctx, []string{group[0].IndicatorID})
		if err != nil {
			return err
		}
		g := group
		group = nil
		if len(ind) == 0 {
			return nil // an indicator the caller may not see: nor its figures
		}
		return each(ind[0], g)
	}
	err := stream(ctx, s.Observations, f.bson(), Order{"indicatorId", "_id"}, func(cur *mongo.Cursor) error {
		o := new(Observation)
		if err := cur.Decode(o); err != nil {
			return dbError("export observations", err)
		}
		redact(LevelOf(ctx), o)
		if len(group) > 0 && group[0].IndicatorID != o.IndicatorID {
			if err := flush(); err != nil {
				return err
			}
		}
		group = append(group, o)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// stream runs one find for the records the caller may see, in order o, and
// calls each with the cursor on every record in turn.
func stream(ctx context.Context, c *mongo.Collection, filter bson.D, o Order, each func(*mongo.Cursor) error) error {
	cur, err := c.Find(ctx, scoped(ctx, filter), options.Find().SetSort(o.sort()).SetBatchSize(exportBatch))
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
