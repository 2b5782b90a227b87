package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/apierr"
)

// The change log.
//
// Every Writer call appends to the collection changes one entry per record
// it writes or deletes, and one per record whose effective visibility it
// moves (see levels.go), each with a sequence number from a counter raised
// once per call (findAndModify with $inc), so that entries are ordered as
// the store made the changes. An unchanged record appends nothing: the
// importer never hands one to a Writer.
//
// The entries of one step of a call (one kind, one sort of change) are
// stored together, up to blockEntries in a document (changeBlock): their
// numbers run from the document's _id to its last, and its arrays hold each
// entry's ID and levels. FerretDB's price is per document, so a log of one
// document per record cost an import of 100,000 records a third more time
// and a quarter more space; a block per step costs about a seventh more
// time and a twentieth more space on an import of all-new records, and an
// everyday import writes entries only for what changed (BENCHMARKS.md).
//
// FerretDB has no transactions, so a record and its entry cannot be written
// together. A Writer call therefore marks the block of numbers it reserved
// as pending (one document in changesPending), writes its entries, then
// the records, then removes the mark. A reader of the log stops before the
// first pending block, so it never passes a change whose record is not yet
// written. It reads the marks after the entries: an entry is logged after
// its mark, whose removal waits for the records, so an entry a reader has
// read is settled or still marked when it reads the marks (read the other
// way round, a Writer could mark and log between the two reads, and the
// reader pass a change whose record it then could not find). Numbers are
// reserved and marked under one lock of the process (reserving), so that
// no other Writer of it takes and settles later numbers in between.
// Writers in two processes at once are not ordered so: one may settle its
// numbers while another's earlier ones are reserved and not yet marked.
// A call that fails, or a process that is stopped, leaves pending blocks
// behind; RecoverChanges (which every import runs before it writes)
// settles each against what the database now holds: an upsert of a record
// that exists, or a deletion of one that is gone, is kept with the
// record's current level, the others dropped (their ID emptied in place,
// so that the numbers of the rest stay as they were).
// So rerunning an interrupted import completes both the records and their
// entries, and the log holds a change at least once, never one that did not
// happen.
//
// Each entry keeps the record's effective level before and after the change
// (From, To; "" where there was no record). A caller of level L is shown a
// change only where the record was visible to L on one side of it: an
// upsert that leaves it visible, or a change after which it is hidden (a
// deletion, or a move above L) as a DELETE. So a caller learns the ID of a
// record only if it could see that record at some time, and a record that
// becomes hidden to it reaches it as a deletion. (IDs embed names, so the
// ID of a record the caller never saw is itself withheld.)

// The kinds of change.
const (
	ChangeUpsert = "UPSERT"
	ChangeDelete = "DELETE"
)

// DefaultChangeRetention is how long PruneChanges keeps entries unless told
// otherwise.
const DefaultChangeRetention = 90 * 24 * time.Hour

// ErrChangesExpired is returned for a cursor older than the log's
// retention: entries after it have been pruned, and the client must
// resynchronise from the lists.
var ErrChangesExpired = apierr.Errorf(apierr.ChangesExpired, "the change log no longer holds the changes after this cursor")

// changeEntry is one entry of the change log, as read from its block.
type changeEntry struct {
	Seq  int64
	At   time.Time
	Kind string
	Type string
	ID   string
	// From and To are the record's effective level before and after the
	// change; "" where there was no record.
	From string
	To   string
}

// blockEntries is the most entries one document of the log holds: a block
// of IDs of up to 200 bytes stays far below MongoDB's 16 MiB a document.
const blockEntries = 1000

// changeBlock is one document of the change log: the entries First to
// Last, made at one time, of one kind of change to records of one type.
// IDs[i], From[i] and To[i] are entry First+i's; an ID of "" is an entry
// dropped by recovery.
type changeBlock struct {
	First int64     `bson:"_id"`
	Last  int64     `bson:"last"`
	At    time.Time `bson:"at"`
	Kind  string    `bson:"kind"`
	Type  string    `bson:"type"`
	IDs   []string  `bson:"ids"`
	From  []string  `bson:"from"`
	To    []string  `bson:"to"`
}

// entry is the block's ith entry.
func (b *changeBlock) entry(i int) changeEntry {
	return changeEntry{Seq: b.First + int64(i), At: b.At, Kind: b.Kind, Type: b.Type, ID: b.IDs[i], From: nth(b.From, i), To: nth(b.To, i)}
}

// appendAfter appends to out the block's entries numbered after since, in
// order, until out holds n.
func (b *changeBlock) appendAfter(out []changeEntry, since int64, n int) []changeEntry {
	for i, id := range b.IDs {
		if id != "" && b.First+int64(i) > since && len(out) < n {
			out = append(out, b.entry(i))
		}
	}
	return out
}

func nth(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// pendingBlock marks the entries First to Last as not yet settled: their
// records may not all be written.
type pendingBlock struct {
	First int64 `bson:"_id"`
	Last  int64 `bson:"last"`
}

// Change is one change as a caller of some level may see it.
type Change struct {
	Seq  int64
	At   time.Time
	Kind string
	Type string
	ID   string
	// Record is the record as the caller may see it now; nil for a DELETE.
	Record Doc
}

// changeCounter is the counter document: the last sequence number handed
// out, the last one pruned, and no later than the time of the log's oldest
// entry (zero where not known), by which PruneChanges knows without
// reading the log that nothing is due.
type changeCounter struct {
	ID     string    `bson:"_id"`
	Next   int64     `bson:"next"`
	Pruned int64     `bson:"pruned"`
	Oldest time.Time `bson:"oldest,omitempty"`
}

const counterID = "changes"

const changeLogCollection = "changeLog"

func (s *Store) changes() *mongo.Collection { return s.db.Collection(changeLogCollection) }

// singleChanges is the log as it was first stored, one entry a document;
// upgradeChanges moves what it holds into changes.
func (s *Store) singleChanges() *mongo.Collection { return s.db.Collection("changes") }
func (s *Store) counters() *mongo.Collection {
	return s.db.Collection("changeCounters")
}
func (s *Store) pendingBlocks() *mongo.Collection { return s.db.Collection("changesPending") }

// changeIndexes are the change log's indexes beyond _id.
// Readers select by last, pruning by at.
var changeIndexes = [][]string{{"last"}, {"at"}}

// ensureChangeIndexes moves entries kept one to a document (as the log
// first stored them) into the log's documents, and creates the log's
// indexes where missing.
func (s *Store) ensureChangeIndexes(ctx context.Context) error {
	if err := s.upgradeChanges(ctx); err != nil {
		return err
	}
	have, err := indexNames(ctx, s.changes())
	if err != nil {
		return err
	}
	var missing []mongo.IndexModel
	for _, f := range changeIndexes {
		if k := keys(f...); !have[indexName(k)] {
			missing = append(missing, mongo.IndexModel{Keys: k, Options: options.Index().SetName(indexName(k))})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := s.changes().Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create indexes on changes: %w", err)
	}
	return nil
}

// upgradeChanges moves entries stored one to a document (the log's first
// form, in the collection singleChanges) into the log's documents, a run
// of entries of one kind, type and time to a document, then drops the old
// collection. Entries already moved (by a run that was stopped before the
// drop) are not moved again.
func (s *Store) upgradeChanges(ctx context.Context) error {
	type single struct {
		Seq  int64     `bson:"_id"`
		At   time.Time `bson:"at"`
		Kind string    `bson:"kind"`
		Type string    `bson:"type"`
		ID   string    `bson:"rid"`
		From string    `bson:"from"`
		To   string    `bson:"to"`
	}
	old, err := findUnscoped[single](ctx, s.singleChanges(), bson.D{{Key: "rid", Value: bson.D{{Key: "$type", Value: "string"}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil || len(old) == 0 {
		return err
	}
	moved, err := findUnscoped[changeBlock](ctx, s.changes(), bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: old[len(old)-1].Seq}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return err
	}
	done := map[int64]bool{}
	for _, b := range moved {
		done[b.First] = true
	}
	var blocks []any
	var b *changeBlock
	for _, e := range old {
		if b == nil || e.Seq != b.Last+1 || e.Kind != b.Kind || e.Type != b.Type || !e.At.Equal(b.At) || len(b.IDs) == blockEntries {
			if b != nil && !done[b.First] {
				blocks = append(blocks, b)
			}
			b = &changeBlock{First: e.Seq, Last: e.Seq - 1, At: e.At, Kind: e.Kind, Type: e.Type}
		}
		b.Last++
		b.IDs, b.From, b.To = append(b.IDs, e.ID), append(b.From, e.From), append(b.To, e.To)
	}
	if !done[b.First] {
		blocks = append(blocks, b)
	}
	for start := 0; start < len(blocks); start += 100 {
		if _, err := s.changes().InsertMany(ctx, blocks[start:min(start+100, len(blocks))]); err != nil {
			return dbError("upgrade the change log", err)
		}
	}
	if err := s.singleChanges().Drop(ctx); err != nil {
		return dbError("upgrade the change log", err)
	}
	return nil
}

// reserving is held while a Writer of this process reserves numbers and
// marks them pending, so that no other Writer of it takes, writes and
// settles later numbers in between: a reader that read those would pass
// numbers not yet marked, whose entries it would never see. (Writers in
// other processes are not held by it; see the design notes.)
var reserving sync.Mutex

// reserve hands out n consecutive sequence numbers, marked pending,
// returning the first.
func (s *Store) reserve(ctx context.Context, n int) (int64, error) {
	reserving.Lock()
	defer reserving.Unlock()
	var c changeCounter
	at := time.Now().UTC().Truncate(time.Millisecond) // no later than the entries'
	err := s.counters().FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: counterID}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "next", Value: int64(n)}}}, {Key: "$min", Value: bson.D{{Key: "oldest", Value: at}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return 0, dbError("reserve change numbers", err)
	}
	first := c.Next - int64(n) + 1
	if _, err := s.pendingBlocks().InsertOne(ctx, pendingBlock{First: first, Last: c.Next}); err != nil {
		return 0, dbError("mark changes pending", err)
	}
	return first, nil
}

// testHook runs what a test set to run between a reader's read of the log
// and its read of the marks.
func (s *Store) testHook() {
	if s.betweenLogReads != nil {
		s.betweenLogReads()
	}
}

// firstPending is the first number of the log's first pending block; false
// where none is pending. Read it after the entries it bounds: a Writer
// marks its numbers before it logs them, so an entry read before the marks
// has its mark among them until its records are written.
func (s *Store) firstPending(ctx context.Context) (int64, bool, error) {
	var b pendingBlock
	err := s.pendingBlocks().FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Decode(&b)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, dbError("find pending changes", err)
	}
	return b.First, true, nil
}

// counter reads the counter document (zero when none).
func (s *Store) counter(ctx context.Context) (changeCounter, error) {
	var c changeCounter
	err := s.counters().FindOne(ctx, bson.D{{Key: "_id", Value: counterID}}).Decode(&c)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return c, nil
	}
	if err != nil {
		return c, dbError("read change counter", err)
	}
	return c, nil
}

// effectiveOf reads the stored effective level of each of ids, records of
// kind k; an ID with no record is absent from the map.
func (s *Store) effectiveOf(ctx context.Context, k *Kind, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := s.eachByID(ctx, s.coll(k), ids, bson.D{{Key: "visibility", Value: 1}}, func(raw bson.Raw) error {
		d, err := decodeStored(k, raw)
		if err == nil {
			out[d.Base().ID] = d.Base().Effective
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// logPending appends pending entries for ids, records of kind k, before
// they are written: kind is the change, from their levels before (nil: none
// existed) and to their levels after ("" for all when deleted). The block
// joins the Writer's pending list, cleared by done.
func (w *Writer) logPending(ctx context.Context, k *Kind, kind string, ids []string, from map[string]string, to func(i int) string) error {
	if len(ids) == 0 {
		return nil
	}
	first, err := w.s.reserve(ctx, len(ids))
	if err != nil {
		return err
	}
	w.pending = append(w.pending, first)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var docs []any
	for start := 0; start < len(ids); start += blockEntries {
		end := min(start+blockEntries, len(ids))
		b := changeBlock{First: first + int64(start), Last: first + int64(end) - 1, At: now, Kind: kind, Type: k.Name,
			IDs: ids[start:end], From: make([]string, end-start), To: make([]string, end-start)}
		for i, id := range b.IDs {
			b.From[i], b.To[i] = from[id], to(start+i)
		}
		docs = append(docs, b)
	}
	if _, err := w.s.changes().InsertMany(ctx, docs); err != nil {
		return dbError("append to changes", err)
	}
	return nil
}

// logDocs appends pending upserts for docs, records of kind k whose levels
// are settled; stored holds the effective level of each that is stored
// (nil: none is).
func (w *Writer) logDocs(ctx context.Context, k *Kind, docs []Doc, stored map[string]string) error {
	return w.logPending(ctx, k, ChangeUpsert, idsOf(docs), stored, func(i int) string { return docs[i].Base().Effective })
}

// logDeletes appends pending deletions of those of ids that are stored,
// records of kind k whose effective levels stored holds.
func (w *Writer) logDeletes(ctx context.Context, k *Kind, ids []string, stored map[string]string) error {
	var gone []string
	for _, id := range ids {
		if _, ok := stored[id]; ok {
			gone = append(gone, id)
		}
	}
	return w.logPending(ctx, k, ChangeDelete, gone, stored, func(int) string { return "" })
}

// logMoved appends pending upserts for records of kind k whose effective
// level propagate is about to move from before[id] to level.
func (w *Writer) logMoved(ctx context.Context, k *Kind, ids []string, before map[string]string, level string) error {
	w.wrote = w.wrote.add(k, ids...)
	for _, id := range ids {
		if g := generationOf(k, id); g != "" {
			w.touched[g] = true
		}
	}
	return w.logPending(ctx, k, ChangeUpsert, ids, before, func(int) string { return level })
}

// done ends a Writer call: on success its pending marks are removed, on
// failure its entries are settled against what was written (see
// RecoverChanges). It returns the call's error.
func (w *Writer) done(ctx context.Context, err error) error {
	blocks := w.pending
	w.pending = nil
	if len(blocks) == 0 {
		return err
	}
	sel := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: blocks}}}}
	if err != nil {
		// The context may be what failed: settle on a fresh one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(err, w.s.settleChanges(rctx, sel))
	}
	if _, err := w.s.pendingBlocks().DeleteMany(ctx, sel); err != nil {
		return dbError("commit changes", err)
	}
	return nil
}

// RecoverChanges settles the entries an interrupted Writer left pending:
// an upsert whose record exists, or a deletion whose record is gone, is
// kept (with the record's level now as its level after), the others are
// dropped. Run it when no other import is writing: an import runs it
// before it writes.
func (s *Store) RecoverChanges(ctx context.Context) error {
	return s.settleChanges(ctx, bson.D{})
}

// settleChanges settles the entries of the pending blocks filter selects,
// then removes the blocks' marks.
func (s *Store) settleChanges(ctx context.Context, filter bson.D) error {
	blocks, err := findUnscoped[pendingBlock](ctx, s.pendingBlocks(), filter)
	if err != nil {
		return fmt.Errorf("recover changes: %w", err)
	}
	for _, b := range blocks {
		if err := s.settleBlock(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// settleBlock settles the entries of one pending block.
func (s *Store) settleBlock(ctx context.Context, p *pendingBlock) error {
	blocks, err := findUnscoped[changeBlock](ctx, s.changes(), bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: p.First}, {Key: "$lte", Value: p.Last}}}})
	if err != nil {
		return fmt.Errorf("recover changes: %w", err)
	}
	for _, b := range blocks {
		if err := s.settle(ctx, b); err != nil {
			return err
		}
	}
	if _, err := s.pendingBlocks().DeleteOne(ctx, bson.D{{Key: "_id", Value: p.First}}); err != nil {
		return dbError("recover changes", err)
	}
	return nil
}

// settle settles the entries of one document of the log against the
// records' levels now: kept ones take the level now as their level after,
// dropped ones lose their ID, and a document with none left goes.
func (s *Store) settle(ctx context.Context, b *changeBlock) error {
	var now map[string]string
	if k := KindNamed(b.Type); k != nil {
		var err error
		if now, err = s.effectiveOf(ctx, k, b.IDs); err != nil {
			return fmt.Errorf("recover changes: %w", err)
		}
	}
	changed, kept := false, 0
	for i, id := range b.IDs {
		level, exists := now[id]
		switch {
		case id == "":
			continue
		case b.Kind == ChangeDelete && !exists:
		case b.Kind == ChangeUpsert && exists:
			if level != b.To[i] {
				b.To[i], changed = level, true
			}
		default:
			b.IDs[i], changed = "", true
			continue
		}
		kept++
	}
	sel := bson.D{{Key: "_id", Value: b.First}}
	var err error
	switch {
	case kept == 0:
		_, err = s.changes().DeleteOne(ctx, sel)
	case changed:
		_, err = s.changes().UpdateOne(ctx, sel, bson.D{{Key: "$set", Value: bson.D{{Key: "ids", Value: b.IDs}, {Key: "to", Value: b.To}}}})
	}
	if err != nil {
		return dbError("recover changes", err)
	}
	return nil
}

// PruneChanges deletes the entries made before now-keep (keep 0: the
// default retention). Cursors from before the last pruned entry then get
// ErrChangesExpired. The counter is raised before the entries go, so that a
// reader never silently skips what was pruned.
func (s *Store) PruneChanges(ctx context.Context, now time.Time, keep time.Duration) (int, error) {
	if keep <= 0 {
		keep = DefaultChangeRetention
	}
	// To the millisecond, as the log's times are stored.
	cutoff := now.Add(-keep).Truncate(time.Millisecond)
	c, err := s.counter(ctx)
	if err != nil {
		return 0, err
	}
	if !c.Oldest.IsZero() && !c.Oldest.Before(cutoff) {
		return 0, nil // nothing is old enough: no need to read the log
	}
	ends := bson.D{{Key: "_id", Value: 1}, {Key: "last", Value: 1}, {Key: "at", Value: 1}}
	blocks, err := findUnscoped[changeBlock](ctx, s.changes(), bson.D{}, options.Find().SetProjection(ends))
	if err != nil {
		return 0, err
	}
	// The entries go up to the newest block made before the cutoff: every
	// block after it is newer (and the counter's time of the oldest is
	// that of the first block kept).
	var last *changeBlock
	for _, b := range blocks {
		if b.At.Before(cutoff) && (last == nil || b.First > last.First) {
			last = b
		}
	}
	var oldest time.Time
	n := 0
	for _, b := range blocks {
		switch {
		case last != nil && b.First <= last.First:
			n += int(b.Last - b.First + 1)
		case oldest.IsZero() || b.At.Before(oldest):
			oldest = b.At
		}
	}
	if oldest.IsZero() {
		oldest = cutoff // no entry is left, and any to come is newer
	}
	if last != nil {
		if _, err := s.counters().UpdateOne(ctx, bson.D{{Key: "_id", Value: counterID}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "pruned", Value: last.Last}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
			return 0, dbError("prune changes", err)
		}
		if _, err := s.changes().DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: last.First}}}}); err != nil {
			return 0, dbError("prune changes", err)
		}
	}
	// A hint, not a bound: an entry a write makes meanwhile, dated a
	// moment before the time set here, is pruned a moment late.
	if _, err := s.counters().UpdateOne(ctx, bson.D{{Key: "_id", Value: counterID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "oldest", Value: oldest}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		return 0, dbError("prune changes", err)
	}
	return n, nil
}

// visibleAt reports whether a record of effective level v ("" for none) is
// visible to level l.
func visibleAt(l Level, v string) bool { return v != "" && rank(v) <= int(l) }

// Changes returns up to limit changes after sequence number since (0: from
// the start), of the types named (all when empty), as the caller's level
// may see them (see the rules above), oldest first; last is the number of
// the last entry read, which the next page starts after even where the
// caller was shown none of it, and more reports whether entries remain.
// A since older than the retention is ErrChangesExpired.
func (s *Store) Changes(ctx context.Context, since int64, types []string, council *string, limit int) (out []Change, last int64, more bool, err error) {
	dependsOnAll(ctx) // every write extends the log
	c, err := s.counter(ctx)
	if err != nil {
		return nil, since, false, err
	}
	if since > 0 && since < c.Pruned {
		return nil, since, false, ErrChangesExpired
	}
	last = since
	if err := spend(ctx, 1); err != nil {
		return nil, since, false, err
	}
	entries, err := s.entriesAfter(ctx, since, math.MaxInt64, types, limit+1)
	if err != nil {
		return nil, since, false, err
	}
	// Entries from the first pending block on wait until it is settled.
	s.testHook()
	if stop, ok, err := s.firstPending(ctx); err != nil {
		return nil, since, false, err
	} else if ok {
		entries = slices.DeleteFunc(entries, func(e changeEntry) bool { return e.Seq >= stop })
	}
	if len(entries) > limit {
		entries, more = entries[:limit], true
	}
	l := LevelOf(ctx)
	upserts := map[*Kind][]string{}
	if council != nil {
		// The end cursor still moves past the other councils' entries.
		if len(entries) > 0 {
			last = entries[len(entries)-1].Seq
		}
		entries = slices.DeleteFunc(entries, func(e changeEntry) bool { return CouncilOf(e.ID) != *council })
	}
	for _, e := range entries {
		last = e.Seq
		if k := KindNamed(e.Type); k != nil && e.Kind == ChangeUpsert && visibleAt(l, e.To) {
			upserts[k] = append(upserts[k], e.ID)
		}
	}
	// The records as the caller may see them now, one find per kind, from
	// the database: the log can be newer than the snapshot (FromDatabase).
	records := map[string]Doc{}
	for k, ids := range upserts {
		docs, err := s.FindByIDs(FromDatabase(ctx), k, ids)
		if err != nil {
			return nil, since, false, err
		}
		for _, d := range docs {
			records[d.Base().ID] = d
		}
	}
	for _, e := range entries {
		ch := Change{Seq: e.Seq, At: e.At, Kind: e.Kind, Type: e.Type, ID: e.ID}
		switch {
		case e.Kind == ChangeUpsert && visibleAt(l, e.To):
			// Hidden or deleted since: a later entry says so.
			if ch.Record = records[e.ID]; ch.Record == nil {
				continue
			}
		case visibleAt(l, e.From):
			ch.Kind = ChangeDelete
		default:
			continue
		}
		out = append(out, ch)
	}
	return out, last, more, nil
}

// entriesAfter reads up to n entries numbered after since, oldest first,
// from the documents of the log that hold one: those of the types named
// (all when empty) first numbered no later than upTo.
// Every document after the first holds at least one entry, so n+1
// documents are the most it reads; it stops as soon as it has n entries.
func (s *Store) entriesAfter(ctx context.Context, since, upTo int64, types []string, n int) ([]changeEntry, error) {
	if out, ok, err := s.storedEntriesAfter(ctx, since, upTo, types, n); ok || err != nil {
		return out, err
	}
	return s.foundEntriesAfter(ctx, since, upTo, types, n)
}

// foundEntriesAfter is entriesAfter through the server: a find.
func (s *Store) foundEntriesAfter(ctx context.Context, since, upTo int64, types []string, n int) ([]changeEntry, error) {
	filter := bson.D{{Key: "last", Value: bson.D{{Key: "$gt", Value: since}}}}
	if upTo < math.MaxInt64 {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lte", Value: upTo}}})
	}
	if len(types) > 0 {
		filter = append(filter, bson.E{Key: "type", Value: bson.D{{Key: "$in", Value: types}}})
	}
	// A reply of a few documents: each holds up to blockEntries entries.
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(n) + 1).SetBatchSize(4)
	cur, err := s.changes().Find(ctx, filter, opts)
	if err != nil {
		return nil, dbError("find changes", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var out []changeEntry
	for len(out) < n && cur.Next(ctx) {
		var b changeBlock
		if err := cur.Decode(&b); err != nil {
			return nil, dbError("find changes", err)
		}
		out = b.appendAfter(out, since, n)
	}
	if err := cur.Err(); err != nil {
		return nil, dbError("find changes", err)
	}
	return out, nil
}

// LastChange is the number of the newest entry readers may pass (before
// any pending one): a subscription starts after it.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	last, ok, err := s.storedLastChange(ctx)
	if err != nil {
		return 0, err
	}
	if !ok {
		if last, err = s.lastLogged(ctx); err != nil {
			return 0, err
		}
	}
	s.testHook()
	stop, ok, err := s.firstPending(ctx)
	if err != nil {
		return 0, err
	}
	if ok && stop-1 < last {
		last = stop - 1
	}
	return last, nil
}

// lastLogged is the last entry of the log's newest block, found by the
// server; with no block, the last pruned.
func (s *Store) lastLogged(ctx context.Context) (int64, error) {
	var last changeBlock
	opts := options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(bson.D{{Key: "last", Value: 1}})
	err := s.changes().FindOne(ctx, bson.D{}, opts).Decode(&last)
	if errors.Is(err, mongo.ErrNoDocuments) {
		c, err := s.counter(ctx)
		return c.Pruned, err
	}
	if err != nil {
		return 0, dbError("find last change", err)
	}
	return last.Last, nil
}
