package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Stamp is what the store knows of a stored record without reading it all:
// its content hash and the data set it came from.
type Stamp struct {
	ID      string `bson:"_id"`
	Hash    string `bson:"hash"`
	Dataset string `bson:"dataset"`
}

// FindStamps returns the stamp of every record in a collection, in one find.
func (s *Store) FindStamps(ctx context.Context, collection string) (map[string]Stamp, error) {
	c := s.Collection(collection)
	opts := options.Find().SetProjection(bson.D{{Key: "hash", Value: 1}, {Key: "dataset", Value: 1}})
	stamps, err := findUnscoped[Stamp](ctx, c, bson.D{}, opts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Stamp, len(stamps))
	for _, st := range stamps {
		out[st.ID] = *st
	}
	return out, nil
}

// ExistingIDs reports which of ids exist in a collection, in one find.
func (s *Store) ExistingIDs(ctx context.Context, collection string, ids []string) (map[string]bool, error) {
	c := s.Collection(collection)
	opts := options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})
	found, err := findUnscoped[Stamp](ctx, c, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, opts)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(found))
	for _, f := range found {
		out[f.ID] = true
	}
	return out, nil
}

// Prepare fills the fields the store derives from a record's content: nil
// lists become empty, Search gets the folded search text, and Hash the
// digest of everything but UpdatedAt, so that an unchanged record can be
// told from a changed one.
func Prepare(d Doc) error {
	emptyLists(reflect.ValueOf(d).Elem())
	base := d.Base()
	if base.Visibility == "" {
		base.Visibility = VisibilityPublic
	}
	if sr, ok := d.(Searchable); ok {
		base.Search = SearchText(sr)
	}
	updated := base.UpdatedAt
	base.UpdatedAt, base.Hash = time.Time{}, ""
	raw, err := bson.Marshal(d)
	base.UpdatedAt = updated
	if err != nil {
		return fmt.Errorf("encode %s: %w", base.ID, err)
	}
	sum := sha256.Sum256(raw)
	base.Hash = hex.EncodeToString(sum[:])
	return nil
}

// emptyLists replaces nil slices in a struct (and in its inline structs and
// the structs its slices hold) with empty ones, so that lists are stored as
// [] rather than null.
func emptyLists(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			if f.IsNil() {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
			for j := range f.Len() {
				if e := f.Index(j); e.Kind() == reflect.Struct {
					emptyLists(e)
				}
			}
		case reflect.Struct:
			emptyLists(f)
		}
	}
}

// InsertDocs inserts new records into a collection, in one unordered bulk
// insert. Inserting is far cheaper than upserting on FerretDB, which looks
// each upserted ID up first.
func (s *Store) InsertDocs(ctx context.Context, collection string, docs []Doc) error {
	if len(docs) == 0 {
		return nil
	}
	if _, err := s.Collection(collection).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		return dbError("insert "+collection, err)
	}
	return nil
}

// ReplaceDocs writes records over the stored ones with their IDs (inserting
// any that have gone), in unordered bulk writes of at most
// maxReplacesPerCommand records.
func (s *Store) ReplaceDocs(ctx context.Context, collection string, docs []Doc) error {
	for start := 0; start < len(docs); start += maxReplacesPerCommand {
		batch := docs[start:min(start+maxReplacesPerCommand, len(docs))]
		models := make([]mongo.WriteModel, len(batch))
		for i, d := range batch {
			models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.Base().ID}}).SetReplacement(d).SetUpsert(true)
		}
		if _, err := s.Collection(collection).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return dbError("replace "+collection, err)
		}
	}
	return nil
}

// maxReplacesPerCommand bounds the statements of one update command.
// FerretDB on SQLite keeps each statement's query open, holding one of its
// 100 SQLite connections, until the whole command ends: a command of 100
// statements that match stored records takes them all and then waits for
// ever for one more, and with it every other command on that database
// (an import over a served store wedged it so). 16 leaves room for several
// writers and every reader.
const maxReplacesPerCommand = 16

// DeleteByIDs deletes the records of a collection with the given IDs.
func (s *Store) DeleteByIDs(ctx context.Context, collection string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.Collection(collection).DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return dbError("delete "+collection, err)
	}
	return nil
}

// CollectionOf names the collection a record of d's type lives in.
func CollectionOf(d Doc) string {
	switch d.(type) {
	case *Organisation:
		return "organisations"
	case *Person:
		return "people"
	case *Body:
		return "bodies"
	case *Membership:
		return "memberships"
	case *Meeting:
		return "meetings"
	case *Attendance:
		return "attendance"
	case *AgendaItem:
		return "agendaItems"
	case *Report:
		return "reports"
	case *Declaration:
		return "declarations"
	case *Plan:
		return "plans"
	case *Priority:
		return "priorities"
	case *Action:
		return "actions"
	case *Indicator:
		return "indicators"
	case *Area:
		return "areas"
	case *Observation:
		return "observations"
	}
	panic(fmt.Sprintf("store: %T is not a record type", d))
}

// Put prepares and writes records of any types: new ones are inserted,
// stored ones replaced, in batches of at most 1000 per collection; records
// without an updatedAt are stamped with now. Tests and the benchmark
// generator write through it.
func (s *Store) Put(ctx context.Context, now time.Time, docs ...Doc) error {
	byColl := map[string][]Doc{}
	var order []string
	for _, d := range docs {
		if d.Base().UpdatedAt.IsZero() {
			d.Base().UpdatedAt = now.UTC().Truncate(time.Millisecond)
		}
		if err := Prepare(d); err != nil {
			return err
		}
		c := CollectionOf(d)
		if _, ok := byColl[c]; !ok {
			order = append(order, c)
		}
		byColl[c] = append(byColl[c], d)
	}
	for _, c := range order {
		stored, err := s.FindStamps(ctx, c)
		if err != nil {
			return err
		}
		var inserts, replaces []Doc
		for _, d := range byColl[c] {
			if _, ok := stored[d.Base().ID]; ok {
				replaces = append(replaces, d)
			} else {
				inserts = append(inserts, d)
			}
		}
		if err := s.WriteInBatches(ctx, c, inserts, replaces, 1000, nil); err != nil {
			return err
		}
	}
	return nil
}

// WriteInBatches inserts and replaces records of one collection in batches
// of size, calling progress (when set) with the number written after each.
func (s *Store) WriteInBatches(ctx context.Context, collection string, inserts, replaces []Doc, size int, progress func(written int)) error {
	written := 0
	for _, w := range []struct {
		docs  []Doc
		write func(context.Context, string, []Doc) error
	}{{inserts, s.InsertDocs}, {replaces, s.ReplaceDocs}} {
		for start := 0; start < len(w.docs); start += size {
			batch := w.docs[start:min(start+size, len(w.docs))]
			if err := w.write(ctx, collection, batch); err != nil {
				return err
			}
			written += len(batch)
			if progress != nil {
				progress(written)
			}
		}
	}
	return nil
}
