package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Council is the publisher of records: a council, or another public body
// that publishes its own minutes (a combined authority, a safeguarding
// board). The records it publishes carry its slug in their IDs:
// council:stockton-on-tees publishes body:stockton-on-tees/cabinet.
type Council struct {
	Record         `bson:",inline" yaml:",inline"`
	Name           string  `bson:"name" yaml:"name"`
	Code           *string `bson:"code,omitempty" yaml:"code,omitempty"`
	OrganisationID string  `bson:"organisationId" yaml:"organisationId"`
	AreaID         *string `bson:"areaId,omitempty" yaml:"areaId,omitempty"`
}

// CouncilFilter narrows a list of councils.
type CouncilFilter struct {
	UpdatedSince *time.Time
}

func (f CouncilFilter) where() where {
	return where{}.since(f.UpdatedSince)
}

// FindCouncils returns one page of councils, by name.
func (s *Store) FindCouncils(ctx context.Context, f CouncilFilter, p Page) (*Result[Council], error) {
	return page[Council](ctx, s, f.where(), byName, p)
}

// CountCouncils counts the councils that match f.
func (s *Store) CountCouncils(ctx context.Context, f CouncilFilter) (int, error) {
	return countOf[Council](ctx, s, f.where())
}

// CouncilOf returns the council whose namespace an ID is in: council:<slug>
// for <type>:<slug>/<key>, the council itself for a council's ID, and ""
// for a record of a shared registry (an area, an organisation, an
// indicator) or an ID that names no council.
func CouncilOf(id string) string {
	prefix, rest, ok := strings.Cut(id, ":")
	if !ok {
		return ""
	}
	k := KindNamed(prefix)
	switch {
	case k == nil || k.Shared:
		return ""
	case k.Name == "Council":
		return id
	}
	slug, _, ok := strings.Cut(rest, "/")
	if !ok || slug == "" {
		return ""
	}
	return "council:" + slug
}

// councilEq narrows a find to the records of one council.

// Moved IDs: an ID once published keeps resolving after its record is
// re-keyed. The moved collection maps each old ID to the record's ID now,
// and the set that moved it; it is written by imports (a set's moved.yaml)
// and read only when a lookup by ID finds nothing.
const movedCollection = "moved"

// Move is one entry of the moved IDs' table.
type Move struct {
	From    string `bson:"_id" yaml:"from"`
	To      string `bson:"to" yaml:"to"`
	Dataset string `bson:"dataset" yaml:"-"`
}

func (s *Store) moved() *mongo.Collection { return s.db.Collection(movedCollection) }

// Moved maps those of ids that were re-keyed to the IDs their records have
// now, in one find: the table holds every chain of moves collapsed to its
// end (PutMoves).
func (s *Store) Moved(ctx context.Context, ids []string) (map[string]string, error) {
	dependsOnAll(ctx) // any import may move an ID
	found, err := s.FindMovesFrom(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(found))
	for from, m := range found {
		out[from] = m.To
	}
	return out, nil
}

// FindMoves returns every entry of the moved IDs' table that dataset wrote.
func (s *Store) FindMoves(ctx context.Context, dataset string) ([]Move, error) {
	cur, err := s.moved().Find(ctx, bson.D{{Key: "dataset", Value: dataset}})
	if err != nil {
		return nil, dbError("find moved IDs", err)
	}
	var out []Move
	if err := cur.All(ctx, &out); err != nil {
		return nil, dbError("find moved IDs", err)
	}
	return out, nil
}

// FindMovesFrom returns the entries of the moved IDs' table for ids.
func (s *Store) FindMovesFrom(ctx context.Context, ids []string) (map[string]Move, error) {
	cur, err := s.moved().Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, dbError("find moved IDs", err)
	}
	var found []Move
	if err := cur.All(ctx, &found); err != nil {
		return nil, dbError("find moved IDs", err)
	}
	out := make(map[string]Move, len(found))
	for _, m := range found {
		out[m.From] = m
	}
	return out, nil
}

// PutMoves writes a set's entries of the moved IDs' table, and points
// every entry that moved to one of their old IDs at its new one, so that
// a lookup needs one find however often an ID has moved.
func (s *Store) PutMoves(ctx context.Context, moves []Move) error {
	if len(moves) == 0 {
		return nil
	}
	to := make(map[string]string, len(moves))
	from := make([]string, 0, len(moves))
	for _, m := range moves {
		to[m.From] = m.To
		from = append(from, m.From)
	}
	cur, err := s.moved().Find(ctx, bson.D{{Key: "to", Value: bson.D{{Key: "$in", Value: from}}}})
	if err != nil {
		return dbError("find moved IDs", err)
	}
	var earlier []Move
	if err := cur.All(ctx, &earlier); err != nil {
		return dbError("find moved IDs", err)
	}
	var models []mongo.WriteModel
	for _, m := range append(earlier, moves...) {
		for hops := 0; to[m.To] != "" && hops < len(to); hops++ {
			m.To = to[m.To]
		}
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: m.From}}).SetReplacement(m).SetUpsert(true))
	}
	// In commands of a few statements, as Writer.Replace writes: FerretDB
	// on SQLite holds a connection per matching statement until the
	// command ends.
	for start := 0; start < len(models); start += maxReplacesPerCommand {
		batch := models[start:min(start+maxReplacesPerCommand, len(models))]
		if _, err := s.moved().BulkWrite(ctx, batch, options.BulkWrite().SetOrdered(false)); err != nil {
			return dbError("write moved IDs", err)
		}
	}
	return nil
}

// Feeds: where a council's records come from. A feed is a data set or a
// synchronised publishing system; each write of one records how it went,
// per council, in the feeds collection.
const feedsCollection = "feeds"

// Feed is how one source of a council's records last went.
type Feed struct {
	// ID is "<kind>:<name>|<council ID>".
	ID      string `bson:"_id"`
	Council string `bson:"council"`
	Kind    string `bson:"kind"`
	Name    string `bson:"name"`
	Records int    `bson:"records"`
	Status  string `bson:"status"`
	// LastRead is when the feed was last read to the end.
	LastRead *time.Time `bson:"lastRead,omitempty"`
	// Visible is how many of its records a caller of each level may see
	// (Records is the officers' count).
	Visible [3]int `bson:"visible"`
}

func (s *Store) feeds() *mongo.Collection { return s.db.Collection(feedsCollection) }

// PutFeed records how a feed's read of one council went.
func (s *Store) PutFeed(ctx context.Context, f Feed) error {
	f.ID = f.Kind + ":" + f.Name + "|" + f.Council
	_, err := s.feeds().ReplaceOne(ctx, bson.D{{Key: "_id", Value: f.ID}}, f, options.Replace().SetUpsert(true))
	if err != nil {
		return dbError("write feed", err)
	}
	return nil
}

// MaxFeeds is the most feeds a council lists (the cost of Council.feeds
// reckons with it): a curated set and a synchronised system or two.
const MaxFeeds = 8

// FindFeeds returns the feeds of the given councils, by kind and name, at
// most MaxFeeds of each.
func (s *Store) FindFeeds(ctx context.Context, councils []string) ([]*Feed, error) {
	dependsOnAll(ctx) // a read of a feed writes it without records changing
	if err := spend(ctx, 1); err != nil {
		return nil, err
	}
	cur, err := s.feeds().Find(ctx, bson.D{{Key: "council", Value: bson.D{{Key: "$in", Value: councils}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, dbError("find feeds", err)
	}
	var all []*Feed
	if err := cur.All(ctx, &all); err != nil {
		return nil, dbError("find feeds", err)
	}
	per := map[string]int{}
	out := all[:0]
	for _, f := range all {
		if per[f.Council]++; per[f.Council] <= MaxFeeds {
			out = append(out, f)
		}
	}
	return out, spend(ctx, len(out))
}

// Referrer is a stored record that refers to another by one of its
// reference fields.
type Referrer struct {
	ID      string
	Dataset string
	// Field is the reference field; To the ID it names.
	Field, To string
}

// Referrers returns every stored record, at every level, that refers to
// one of ids (records of kind to) through a reference field: what a delete
// of them would leave dangling. They are read from the embedded store's
// file where it has one (SQLite compares the fields; FerretDB would
// decode every record of each referring kind), else found.
func (s *Store) Referrers(ctx context.Context, to *Kind, ids []string) ([]Referrer, error) {
	return s.referrers(ctx, to, ids, true)
}

// referrers is Referrers, from the file only where fromFile.
func (s *Store) referrers(ctx context.Context, to *Kind, ids []string, fromFile bool) ([]Referrer, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var out []Referrer
	for _, k := range kinds {
		for _, r := range k.Refs {
			if r.To != to.Name {
				continue
			}
			docs, err := s.referring(ctx, k, r.Field, ids, fromFile)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				for _, v := range RefValues(d, r.Field) {
					if want[v] {
						out = append(out, Referrer{ID: d.Base().ID, Dataset: d.Base().Dataset, Field: r.Field, To: v})
					}
				}
			}
		}
	}
	return out, nil
}

// referring is the stored records of kind k whose reference field names
// one of ids, whole and at every level: from the embedded store's file
// where fromFile and the store has one, else found.
func (s *Store) referring(ctx context.Context, k *Kind, field string, ids []string, fromFile bool) ([]Doc, error) {
	if fromFile {
		if docs, ok, err := s.storedReferring(ctx, k, field, ids); ok || err != nil {
			return docs, err
		}
	}
	return findKey(WithLevel(ctx, Officer), s.coll(k), k, where{oneOf(field, ids)}.bson(), false)
}

// FindOwn returns the stored records of kind k with the given IDs, whole
// and at every level, as the database holds them, in the order of their
// IDs: what an import compares and amends.
func (s *Store) FindOwn(ctx context.Context, k *Kind, ids []string) ([]Doc, error) {
	var out []Doc
	err := s.eachByID(ctx, s.coll(k), ids, nil, func(raw bson.Raw) error {
		d, err := decodeAs(k, raw)
		if err == nil {
			out = append(out, d)
		}
		return err
	})
	slices.SortFunc(out, func(a, b Doc) int { return strings.Compare(a.Base().ID, b.Base().ID) })
	return out, err
}

// CountHeld counts, per council and per level, the records a data set or
// feed holds in the store: from the snapshot where one is kept, once it
// holds this process's writes (an import's own, read again by ID in
// milliseconds) and every other the database has counted; otherwise from
// the embedded store's file, by the data set's index; otherwise one
// projected find per kind, of its records only, which on FerretDB scans
// every collection.
func (s *Store) CountHeld(ctx context.Context, dataset string) (map[string][3]int, error) {
	sn, err := s.caughtUpSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.countHeld(ctx, sn, dataset, true)
}

// countHeld is CountHeld from sn where it is not nil, else from the file
// where fromFile and the store has one, else by finds.
func (s *Store) countHeld(ctx context.Context, sn *snapshot, dataset string, fromFile bool) (map[string][3]int, error) {
	out := map[string][3]int{}
	add := func(council, visibility string) {
		if council == "" {
			return
		}
		n := out[council]
		for l := Public; l <= Officer; l++ {
			if admitsLevel(l, visibility) {
				n[l]++
			}
		}
		out[council] = n
	}
	opts := options.Find().SetProjection(bson.D{{Key: "councilId", Value: 1}, {Key: "visibility", Value: 1}}).SetBatchSize(oneReply)
	for _, k := range kinds {
		if k.Shared {
			continue
		}
		if sn != nil {
			c := sn.colls[k.Collection]
			for _, p := range c.index["dataset"][dataset] {
				b := c.recs[p].Base()
				add(b.CouncilID, b.Effective)
			}
			continue
		}
		if fromFile {
			ok, err := s.storedHeld(ctx, k.Collection, dataset, add)
			if err != nil {
				return nil, err
			}
			if ok {
				continue
			}
		}
		found, err := findUnscoped[struct {
			CouncilID  string `bson:"councilId"`
			Visibility string `bson:"visibility"`
		}](ctx, s.coll(k), bson.D{{Key: "dataset", Value: dataset}}, opts)
		if err != nil {
			return nil, err
		}
		for _, r := range found {
			add(r.CouncilID, r.Visibility)
		}
	}
	return out, nil
}
