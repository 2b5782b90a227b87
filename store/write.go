package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
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
	Facts   string `bson:"facts"`
	Dataset string `bson:"dataset"`
	// StatedBy is what other sets state of a shared record, which its
	// owner's writes keep.
	StatedBy []Statement `bson:"statedBy"`
}

// stampsModel is the model whose records of collection are as the
// database holds them now (read from the database now): the current one,
// or, during a session of this process (an import writing kind after
// kind), the one in hand when every write since is this process's and
// none wrote that collection.
func (s *Store) stampsModel(ctx context.Context, collection string) (*snapshot, error) {
	sn, err := s.snapshotAsOfNow(ctx)
	if sn != nil || err != nil || fromDatabase(ctx) {
		return sn, err
	}
	if sn = s.heldSnapshot(); sn == nil {
		return nil, nil
	}
	w, ok := s.snap.writesAfter(sn.gen, s.SeenRecordsGeneration())
	if !ok || len(w[KindNamed(collection)]) > 0 {
		return nil, nil
	}
	return sn, nil
}

// FindStamps returns the stamps of a collection's records with the given
// IDs and of every record dataset holds ("" for none): what an import
// checks and compares. They come from the snapshot when it holds every
// write the database has counted (read from the database now), by its maps,
// decoding only those records; otherwise from the embedded store's file
// (sqliteread.go), or from one find, which on FerretDB scans the
// collection on the server beside the readers.
func (s *Store) FindStamps(ctx context.Context, collection string, ids []string, dataset string) (map[string]Stamp, error) {
	c, err := s.collNamed(collection)
	if err != nil {
		return nil, err
	}
	out := map[string]Stamp{}
	if len(ids) == 0 && dataset == "" {
		return out, nil
	}
	sn, err := s.stampsModel(ctx, collection)
	if err != nil {
		return nil, err
	}
	if sn != nil {
		sc := sn.colls[collection]
		var pos []int32
		for _, id := range ids {
			pos = append(pos, sc.index["_id"][id]...)
		}
		if dataset != "" {
			pos = append(pos, sc.index["dataset"][dataset]...)
		}
		for _, p := range pos {
			b := sc.recs[p].Base()
			out[b.ID] = Stamp{ID: b.ID, Hash: b.Hash, Facts: b.Facts, Dataset: b.Dataset, StatedBy: b.StatedBy}
		}
		return out, nil
	}
	if out, ok, err := s.storedStamps(ctx, collection, ids, dataset); ok || err != nil {
		return out, err
	}
	return foundStamps(ctx, c, ids, dataset)
}

// foundStamps is FindStamps read by one find.
func foundStamps(ctx context.Context, c *mongo.Collection, ids []string, dataset string) (map[string]Stamp, error) {
	out := map[string]Stamp{}
	// A long list of IDs would make a long command: past maxStampIDs the
	// whole collection is read, as FerretDB scans it either way.
	filter := bson.D{}
	if len(ids) <= maxStampIDs {
		var or bson.A
		if len(ids) > 0 {
			or = append(or, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
		}
		if dataset != "" {
			or = append(or, bson.D{{Key: "dataset", Value: dataset}})
		}
		filter = bson.D{{Key: "$or", Value: or}}
	}
	opts := options.Find().SetProjection(bson.D{{Key: "hash", Value: 1}, {Key: "facts", Value: 1}, {Key: "dataset", Value: 1}, {Key: "statedBy", Value: 1}})
	stamps, err := findUnscoped[Stamp](ctx, c, filter, opts)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for _, st := range stamps {
		if want[st.ID] || (dataset != "" && st.Dataset == dataset) {
			out[st.ID] = *st
		}
	}
	return out, nil
}

// maxStampIDs is the most IDs FindStamps sends in a filter.
const maxStampIDs = 10000

// ExistingIDs reports which of ids exist in a collection, in one find.
func (s *Store) ExistingIDs(ctx context.Context, collection string, ids []string) (map[string]bool, error) {
	c, err := s.collNamed(collection)
	if err != nil {
		return nil, err
	}
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
// digest of its content, so that an unchanged record can be told from a
// changed one.
func Prepare(d Doc) error {
	emptyLists(reflect.ValueOf(d).Elem())
	base := d.Base()
	if base.Visibility == "" {
		base.Visibility = VisibilityPublic
	}
	if sr, ok := d.(Searchable); ok {
		base.Search = SearchText(sr)
	}
	base.CouncilID = CouncilOf(base.ID)
	// The hash covers the record's content, not what the store derives
	// from other records (Effective), from the clock (UpdatedAt) or from
	// other sets (StatedBy); the facts leave out the sources, notes and owner too.
	updated, effective, stated := base.UpdatedAt, base.Effective, base.StatedBy
	base.UpdatedAt, base.Hash, base.Facts, base.Effective, base.StatedBy = time.Time{}, "", "", "", nil
	defer func() { base.UpdatedAt, base.Effective, base.StatedBy = updated, effective, stated }()
	hash, err := digest(d)
	if err != nil {
		return fmt.Errorf("encode %s: %w", base.ID, err)
	}
	sources, notes, dataset := base.Sources, base.Notes, base.Dataset
	base.Sources, base.Notes, base.Dataset = nil, nil, ""
	facts, err := digest(d)
	base.Sources, base.Notes, base.Dataset = sources, notes, dataset
	if err != nil {
		return fmt.Errorf("encode %s: %w", base.ID, err)
	}
	base.Hash, base.Facts = hash, facts
	return nil
}

// digest is the SHA-256 of a record's BSON, in hex.
func digest(d Doc) (string, error) {
	raw, err := bson.Marshal(d)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
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

// Writer writes records for one import or Put: every write of a record
// goes through one, so that the levels of what depends on it follow (see
// levels.go). A Writer remembers the levels it has seen; make one per
// import, not one for the life of the process.
type Writer struct {
	s  *Store
	lv *levels
	// pending lists the change log blocks of the call under way (changes.go).
	pending []int64
	// touched holds the generations the call under way raises (reads.go).
	touched map[string]bool
	// wrote holds the IDs the call under way writes, deletes or moves.
	wrote written
	// session names the Writer's writes to the model (session.go).
	session uint64
}

// raise raises the data generation, and those of the councils the call
// touched, after a write call (see generation.go and reads.go).
func (w *Writer) raise(ctx context.Context, errp *error) {
	councils, wrote := w.touched, w.wrote
	w.touched, w.wrote = map[string]bool{}, nil
	w.s.raiseGeneration(ctx, errp, councils, wrote, w.session)
}

// Writer starts a set of writes, one session: readers of this process see
// them together once Close ends it (session.go).
func (s *Store) Writer() *Writer {
	w := &Writer{s: s, lv: &levels{s: s, passed: map[string]string{}, loaded: map[*Kind]bool{}}, touched: map[string]bool{}}
	w.lv.moved = w.logMoved
	w.session = s.snap.open()
	return w
}

// Insert inserts new records into a collection, in one unordered bulk
// insert. Inserting is far cheaper than upserting on FerretDB, which looks
// each upserted ID up first.
func (w *Writer) Insert(ctx context.Context, collection string, docs []Doc) (err error) {
	if len(docs) == 0 {
		return nil
	}
	w.s.snap.begin(w.session)
	defer w.raise(ctx, &err)
	k, c, err := w.s.kindNamed(collection)
	if err != nil {
		return err
	}
	touches(k, docs, w.touched)
	w.wrote = w.wrote.add(k, idsOf(docs)...)
	if err := w.lv.settle(ctx, k, docs); err != nil {
		return err
	}
	if err := w.logDocs(ctx, k, docs, nil); err != nil {
		return w.done(ctx, err)
	}
	if _, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		return w.done(ctx, dbError("insert "+collection, err))
	}
	w.lv.wrote(docs, nil)
	return w.done(ctx, nil)
}

// Replace writes records over the stored ones with their IDs (inserting
// any that have gone), in unordered bulk writes of at most
// maxReplacesPerCommand records, and moves the levels of the records that
// depend on those whose level changed.
func (w *Writer) Replace(ctx context.Context, collection string, docs []Doc) (err error) {
	if len(docs) == 0 {
		return nil
	}
	w.s.snap.begin(w.session)
	defer w.raise(ctx, &err)
	k, c, err := w.s.kindNamed(collection)
	if err != nil {
		return err
	}
	ids := idsOf(docs)
	touches(k, docs, w.touched)
	w.wrote = w.wrote.add(k, ids...)
	stored, err := w.touchesStored(ctx, k, ids)
	if err != nil {
		return err
	}
	old, err := w.lv.of(ctx, k, ids)
	if err != nil {
		return err
	}
	if err := w.lv.settle(ctx, k, docs); err != nil {
		return err
	}
	if err := w.logDocs(ctx, k, docs, stored); err != nil {
		return w.done(ctx, err)
	}
	for start := 0; start < len(docs); start += maxReplacesPerCommand {
		batch := docs[start:min(start+maxReplacesPerCommand, len(docs))]
		models := make([]mongo.WriteModel, len(batch))
		for i, d := range batch {
			models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: d.Base().ID}}).SetReplacement(d).SetUpsert(true)
		}
		if _, err := c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return w.done(ctx, dbError("replace "+collection, err))
		}
	}
	return w.done(ctx, w.lv.propagate(ctx, k, w.lv.wrote(docs, old)))
}

// maxReplacesPerCommand bounds the statements of one update command.
// FerretDB on SQLite keeps each statement's query open, holding one of its
// 100 SQLite connections, until the whole command ends: a command of 100
// statements that match stored records takes them all and then waits for
// ever for one more, and with it every other command on that database
// (an import over a served store wedged it so). 16 leaves room for several
// writers and every reader.
const maxReplacesPerCommand = 16

// byEachID sets the fields of update (bson.D of a $set) on the records of
// c with the given IDs, or deletes them where update is nil: by $in on
// MongoDB, and elsewhere by one statement an ID, maxReplacesPerCommand a
// command, since FerretDB hands its backend no filter but one _id and
// scans the collection for any other.
func (s *Store) byEachID(ctx context.Context, c *mongo.Collection, ids []string, update bson.D) error {
	if s.shape == ShapeIn {
		filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
		var err error
		if update == nil {
			_, err = c.DeleteMany(ctx, filter)
		} else {
			_, err = c.UpdateMany(ctx, filter, update)
		}
		return err
	}
	for start := 0; start < len(ids); start += maxReplacesPerCommand {
		batch := ids[start:min(start+maxReplacesPerCommand, len(ids))]
		models := make([]mongo.WriteModel, len(batch))
		for i, id := range batch {
			filter := bson.D{{Key: "_id", Value: id}}
			if update == nil {
				models[i] = mongo.NewDeleteOneModel().SetFilter(filter)
			} else {
				models[i] = mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(update)
			}
		}
		if _, err := c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
	}
	return nil
}

// Delete deletes the records of a collection with the given IDs; what
// carried a reference to them is then shown to officers only.
func (w *Writer) Delete(ctx context.Context, collection string, ids []string) (err error) {
	if len(ids) == 0 {
		return nil
	}
	w.s.snap.begin(w.session)
	defer w.raise(ctx, &err)
	k, c, err := w.s.kindNamed(collection)
	if err != nil {
		return err
	}
	w.wrote = w.wrote.add(k, ids...)
	stored, err := w.touchesStored(ctx, k, ids)
	if err != nil {
		return err
	}
	old, err := w.lv.of(ctx, k, ids)
	if err != nil {
		return err
	}
	if err := w.logDeletes(ctx, k, ids, stored); err != nil {
		return w.done(ctx, err)
	}
	if err := w.s.byEachID(ctx, c, ids, nil); err != nil {
		return w.done(ctx, dbError("delete "+collection, err))
	}
	var changed []string
	for _, id := range ids {
		if old[id] != VisibilityOfficer {
			changed = append(changed, id)
		}
		w.lv.passed[id] = VisibilityOfficer
	}
	return w.done(ctx, w.lv.propagate(ctx, k, changed))
}

// WriteInBatches inserts and replaces records of one collection in batches
// of size, calling progress (when set) with the number written after each.
func (w *Writer) WriteInBatches(ctx context.Context, collection string, inserts, replaces []Doc, size int, progress func(written int)) error {
	written := 0
	for _, op := range []struct {
		docs  []Doc
		write func(context.Context, string, []Doc) error
	}{{inserts, w.Insert}, {replaces, w.Replace}} {
		for start := 0; start < len(op.docs); start += size {
			batch := op.docs[start:min(start+size, len(op.docs))]
			if err := op.write(ctx, collection, batch); err != nil {
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

// InsertDocs inserts new records into a collection: Writer().Insert.
func (s *Store) InsertDocs(ctx context.Context, collection string, docs []Doc) error {
	w := s.Writer()
	defer w.Close()
	return w.Insert(ctx, collection, docs)
}

// ReplaceDocs writes records over the stored ones: Writer().Replace.
func (s *Store) ReplaceDocs(ctx context.Context, collection string, docs []Doc) error {
	w := s.Writer()
	defer w.Close()
	return w.Replace(ctx, collection, docs)
}

// DeleteByIDs deletes records by ID: Writer().Delete.
func (s *Store) DeleteByIDs(ctx context.Context, collection string, ids []string) error {
	w := s.Writer()
	defer w.Close()
	return w.Delete(ctx, collection, ids)
}

// CollectionOf names the collection a record of d's type lives in.
func CollectionOf(d Doc) string { return KindOf(d).Collection }

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
	// In the table's order, so that what a record refers to is written
	// first and its level is known.
	slices.SortFunc(order, func(a, b string) int { return kindIndex(a) - kindIndex(b) })
	w := s.Writer()
	defer w.Close()
	for _, c := range order {
		stored, err := s.FindStamps(ctx, c, idsOf(byColl[c]), "")
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
		if err := w.WriteInBatches(ctx, c, inserts, replaces, 1000, nil); err != nil {
			return err
		}
	}
	return nil
}
