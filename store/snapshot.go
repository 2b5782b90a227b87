package store

// The snapshot.
//
// A council's record is small and changes only when it is imported, while
// FerretDB answers most finds by decoding every document of a collection
// (shape.go): on its SQLite backend a committee page is a few hundred
// milliseconds of scanning, and over PostgreSQL each equality is a table
// scan that grows with the data. So a server keeps, per data generation, a
// copy of every kind's documents in memory, as the BSON the server sent,
// with a map from each reference field's (and _id's) values to the
// documents holding them, and answers the record reads of requests from it
// instead of asking: the fastest query is the one not sent.
//
// What is kept is everything, every level's records; what a read returns
// is exactly what the server would: the read's own filter, the caller's
// visibility condition included, is evaluated on the documents as MongoDB
// evaluates it (match.go), then sorted, limited and projected, and decoded
// into fresh values per read, so redaction never touches the copy. (A find
// with no sort has no order on the server either: the snapshot's may differ
// from the server's storage order once a build has kept some councils'
// documents and read others again.) A read
// whose filter or options fall outside what match.go evaluates is sent to
// the server as before. TestSnapshotAnswersAsTheServer holds the two to the
// same answers at every level.
//
// A snapshot is used only for the records' generation it was read under
// (generation.go: raised by every write of records, not by key changes),
// and only
// where the store learns of every write (WatchGeneration runs): a write
// through this Store raises the generation at once, and another process's
// within the poll, so a read never sees an older generation than its cache
// would. It is built in the background, one build at a time, when a read
// finds none for the current generation; until it is ready, reads go to the
// server. A data set whose documents exceed the size given to KeepSnapshot
// is not kept (reads go to the server as before), and the build stops as
// soon as it passes that size.

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// DefaultSnapshotSize is the snapshot's bound unless configured: room for
// ten councils' records with space to spare, since a benchmark council's
// 9,954 records are 4.7 MiB of documents and ten councils' 47 MiB, while a
// data set too large to hold goes to the database rather than exhaust a
// small machine's memory.
const DefaultSnapshotSize = 256 << 20

// source is what a read asks: a kind's collection on the server, or its
// copy in the current snapshot.
type source interface {
	Name() string
	Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongo.Cursor, error)
	CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error)
}

// snapshot is one generation's documents.
type snapshot struct {
	gen int64
	// gens are the generations it was read under: the next build reads
	// again only the councils whose generation moved since.
	gens  Generations
	bytes int64
	colls map[string]*snapColl
	built time.Duration
	// reread counts the collections the build read from the database (a
	// build that could keep every council's records read them all).
	reread int
}

// snapColl is one collection's documents and the maps into them.
type snapColl struct {
	db   *mongo.Collection
	docs []bson.Raw
	// bytes is the documents' size.
	bytes int64
	// index maps a field's string values (each element of a list) to the
	// positions in docs of the documents holding them, ascending.
	index map[string]map[string][]int32
	// fallbacks counts the reads sent to the server instead.
	fallbacks *atomic.Int64
}

// snapshotKeeper is a Store's snapshot and its builds.
type snapshotKeeper struct {
	// max is the most document bytes kept; 0 keeps none.
	max     atomic.Int64
	cur     atomic.Pointer[snapshot]
	mu      sync.Mutex
	running bool
	// tooBig is the generation found too large to keep (-1: none).
	tooBig int64
	// retryAt is when a build that failed may be tried again.
	retryAt   time.Time
	fallbacks atomic.Int64
	// writes are this process's writes not yet in a snapshot, by the
	// records' generation each raised (snapwrites.go); a raise holds
	// raising for reading from its write to the database until its note.
	wmu     sync.Mutex
	writes  map[int64]written
	raising sync.RWMutex
	// stale is what was last found written since the snapshot in hand.
	stale atomic.Pointer[staleness]
	log   *slog.Logger
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

// KeepSnapshot has the store answer record reads from a snapshot in
// memory (see above) while the data set's documents come to at most
// maxBytes; 0 or less turns it off (the copy in hand is kept, for the
// generation it holds, should it be turned on again). It applies only once
// WatchGeneration runs, and then starts the first build at once. log, when
// not nil, hears of builds.
func (s *Store) KeepSnapshot(maxBytes int64, log *slog.Logger) {
	x := &s.snap
	x.mu.Lock()
	if x.ctx == nil {
		x.ctx, x.stop = context.WithCancel(context.Background())
	}
	if log != nil {
		x.log = log
	}
	// A new bound may hold what the old did not.
	x.tooBig = -1
	x.max.Store(max(maxBytes, 0))
	x.mu.Unlock()
	if maxBytes > 0 && s.gen.watching.Load() {
		s.startSnapshot()
	}
}

// KeepCurrent starts what keeps a serving store's reads current and in
// memory: the generation watcher (WatchGeneration, polling every poll
// where the server has no change stream), which the response cache, the
// search index and the metrics follow too, and the snapshot (KeepSnapshot
// of up to snapshotBytes; 0 or less keeps none). Close stops both. The
// service's main starts it once the store is open and seeded; handlers
// start nothing.
func (s *Store) KeepCurrent(poll time.Duration, snapshotBytes int64, log *slog.Logger) {
	s.WatchGeneration(poll)
	s.KeepSnapshot(snapshotBytes, log)
}

// SnapshotStats says what the current snapshot holds.
type SnapshotStats struct {
	// Generation is the records' generation it was read under; Bytes its
	// documents' size; Records how many; BuildTime how long it took to
	// read. All zero while no snapshot is in use.
	Generation, Bytes, Records int64
	BuildTime                  time.Duration
	// Fallbacks counts reads sent to the server because their filter was
	// one the snapshot does not evaluate.
	Fallbacks int64
	// Reread is how many collections its build read from the database:
	// every one for a first build, only those with records of the
	// councils written since for a later one.
	Reread int
}

// SnapshotStats reports the snapshot in use, if any.
func (s *Store) SnapshotStats() SnapshotStats {
	st := SnapshotStats{Fallbacks: s.snap.fallbacks.Load()}
	if sn := s.currentSnapshot(); sn != nil {
		st.Generation, st.Bytes, st.BuildTime, st.Reread = sn.gen, sn.bytes, sn.built, sn.reread
		for _, c := range sn.colls {
			st.Records += int64(len(c.docs))
		}
	}
	return st
}

// currentSnapshot is the snapshot of the generation the store has seen, or
// nil.
func (s *Store) currentSnapshot() *snapshot {
	if sn := s.heldSnapshot(); sn != nil && sn.gen == s.SeenRecordsGeneration() {
		return sn
	}
	return nil
}

// snapshotAsOfNow is the snapshot in hand when it holds every write of
// records the database has counted, as read from the database now rather
// than as last seen by the watcher, or nil. A write under way whose
// generation is not yet raised is in neither this nor a find begun now.
func (s *Store) snapshotAsOfNow(ctx context.Context) (*snapshot, error) {
	if fromDatabase(ctx) || s.heldSnapshot() == nil {
		return nil, nil
	}
	if _, err := s.Generation(ctx); err != nil {
		return nil, err
	}
	return s.currentSnapshot(), nil
}

// caughtUpSnapshot waits, where a snapshot is kept, until it is of the
// generation this store has seen (its own writes included), and returns
// it when it holds every write the database has counted, or nil.
func (s *Store) caughtUpSnapshot(ctx context.Context) (*snapshot, error) {
	if fromDatabase(ctx) || s.heldSnapshot() == nil {
		return nil, nil
	}
	if !s.WaitSnapshot(ctx) {
		return nil, ctx.Err()
	}
	return s.snapshotAsOfNow(ctx)
}

// heldSnapshot is the snapshot in hand, of whatever generation, while one
// is kept and within its bound, or nil.
func (s *Store) heldSnapshot() *snapshot {
	if s.snap.max.Load() == 0 || !s.gen.watching.Load() {
		return nil
	}
	if sn := s.snap.cur.Load(); sn != nil && sn.bytes <= s.snap.max.Load() {
		return sn
	}
	return nil
}

// read is the source of kind k's record reads for a caller: the current
// snapshot's copy, or the server's collection (starting a build of the
// current generation's snapshot where one is wanted); the collection
// always for a context from FromDatabase.
func (s *Store) read(ctx context.Context, k *Kind) source {
	src := s.source(ctx, k)
	if readsOf(ctx) != nil {
		return tracked{src, k}
	}
	return src
}

func (s *Store) source(ctx context.Context, k *Kind) source {
	if fromDatabase(ctx) {
		return s.coll(k)
	}
	if sn := s.currentSnapshot(); sn != nil {
		return sn.colls[k.Collection]
	}
	if s.snap.max.Load() > 0 && s.gen.watching.Load() {
		s.startSnapshot()
	}
	if sn, changed := s.partSnapshot(); sn != nil {
		return partColl{sn.colls[k.Collection], k, changed}
	}
	return s.coll(k)
}

// A write to one council leaves the snapshot in hand current for every
// other until the next build is done: a read whose filter depends only on
// councils (or registries) not written since is answered from it, and any
// other read from the database. So one council's import, however long,
// sends no other council's reads to the database.

// staleness is what was written since a snapshot, as of one generation of
// the records.
type staleness struct {
	sn      *snapshot
	records int64
	changed map[string]bool
}

// partSnapshot returns the snapshot in hand and the generations moved
// since it was read, or nil when there is none, it is too large, or a
// write since named no council (so what it changed is unknown).
func (s *Store) partSnapshot() (*snapshot, map[string]bool) {
	x := &s.snap
	sn := s.heldSnapshot()
	if sn == nil {
		return nil, nil
	}
	records := s.SeenRecordsGeneration()
	if st := x.stale.Load(); st != nil && st.sn == sn && st.records == records {
		return sn, st.changed
	}
	// Generations are read after the records' generation, so the changes
	// found cover at least every write it counts.
	changed, ok := s.SeenGenerations().changedSince(sn.gens)
	if !ok {
		return nil, nil
	}
	x.stale.Store(&staleness{sn: sn, records: records, changed: changed})
	return sn, changed
}

// partColl is a collection of a snapshot that councils have been written
// since: it answers a find that depends on none of them, and sends any
// other to the database.
type partColl struct {
	*snapColl
	k       *Kind
	changed map[string]bool
}

// current reports whether the snapshot's answer to a find with filter is
// the database's.
func (p partColl) current(filter any) bool {
	gens, ok := filterGenerations(p.k, filter)
	if !ok {
		return len(p.changed) == 0
	}
	for _, g := range gens {
		if p.changed[g] {
			return false
		}
	}
	return true
}

func (p partColl) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongo.Cursor, error) {
	if p.current(filter) {
		return p.snapColl.Find(ctx, filter, opts...)
	}
	return p.db.Find(ctx, filter, opts...)
}

func (p partColl) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	if p.current(filter) {
		return p.snapColl.CountDocuments(ctx, filter, opts...)
	}
	return p.db.CountDocuments(ctx, filter, opts...)
}

// readOf is read for document type T.
func readOf[T any](ctx context.Context, s *Store) source { return s.read(ctx, kindFor[T]()) }

type databaseKey struct{}

// FromDatabase returns a context whose reads go to the database, never to
// the snapshot. The change feed reads so: it reads the log, which a write
// in another process extends before this process has seen the write's
// generation, and the records it names must be read as new as the log.
func FromDatabase(ctx context.Context) context.Context {
	return context.WithValue(ctx, databaseKey{}, true)
}

func fromDatabase(ctx context.Context) bool {
	v, _ := ctx.Value(databaseKey{}).(bool)
	return v
}

// startSnapshot starts a build of the current generation's snapshot
// unless one runs, the current one is of it, or a failed build's pause
// lasts, and reports whether a snapshot of it is to be had: false while
// none is kept (off, not watching, closed) or it was found too large.
func (s *Store) startSnapshot() bool {
	x := &s.snap
	x.mu.Lock()
	defer x.mu.Unlock()
	gen, bound := s.SeenRecordsGeneration(), x.max.Load()
	if bound == 0 || !s.gen.watching.Load() || x.ctx == nil || x.ctx.Err() != nil || x.tooBig == gen {
		return false
	}
	if sn := x.cur.Load(); x.running || time.Now().Before(x.retryAt) || (sn != nil && sn.gen == gen) {
		return true
	}
	x.running = true
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		first := x.cur.Load() == nil
		sn, err := s.buildSnapshot(x.ctx, bound)
		if first && err == nil {
			// A first build decodes every document once beside those it
			// keeps (at L, a peak of 2.3 GB for 0.9 GB kept): give that
			// back to the system now rather than as the runtime's
			// scavenger gets round to it, so that a server's resident
			// memory after start is what it holds.
			debug.FreeOSMemory()
		}
		x.mu.Lock()
		x.running = false
		log := x.log
		switch {
		case errors.Is(err, errTooBig) && bound == x.max.Load():
			x.tooBig = sn.gen
			x.cur.Store(nil)
		case errors.Is(err, errTooBig):
			// The bound changed during the build: judge again.
		case err == nil:
			x.cur.Store(sn)
			x.forgetWrites(sn.gen)
		default:
			// The database failed (or the store is closing): reads go to it
			// meanwhile, and a build is tried again after a pause, not by
			// every read.
			x.retryAt = time.Now().Add(snapshotRetry)
		}
		x.mu.Unlock()
		if log != nil {
			switch {
			case errors.Is(err, errTooBig):
				log.Info("the data set is larger than the snapshot may hold: reads go to the database", "generation", sn.gen, "max_bytes", bound)
			case err != nil && x.ctx.Err() == nil:
				log.Warn("snapshot build failed: reads go to the database", "err", err)
			case err == nil:
				log.Debug("snapshot built", "generation", sn.gen, "bytes", sn.bytes, "took", sn.built)
			}
		}
		// A write during the build left it behind (or the bound changed):
		// build again for the newer generation, which reads will not wait
		// for.
		if (err == nil && sn.gen != s.SeenRecordsGeneration()) || (errors.Is(err, errTooBig) && bound != x.max.Load()) {
			s.startSnapshot()
		}
	}()
	return true
}

// snapshotRetry is how long after a failed build the next may start.
const snapshotRetry = time.Second

var errTooBig = errors.New("the data set is larger than the snapshot may hold")

// close stops a build in progress and waits for it.
func (x *snapshotKeeper) close() {
	x.mu.Lock()
	if x.stop != nil {
		x.stop()
	}
	x.mu.Unlock()
	x.wg.Wait()
}

// buildSnapshot reads every kind's documents, under the generations seen
// before the first is read (so a write during the build files it under an
// older generation than the write's, which no read then uses). Where the
// snapshot in use was read under generations every later write is known
// by (generations per council, reads.go), it keeps the documents of every
// council whose generation has not moved, the very same ones in memory,
// and reads again only those of the councils written: a write to one
// council leaves every other council's records in memory as they were.
// Where this process made every write since, only the records those
// writes name are read again (snapwrites.go).
func (s *Store) buildSnapshot(ctx context.Context, maxBytes int64) (*snapshot, error) {
	start := time.Now()
	// No raise of this process is between the database and its note.
	s.snap.raising.Lock()
	gens := s.SeenGenerations()
	s.snap.raising.Unlock()
	sn := &snapshot{gen: gens.Records, gens: gens, colls: map[string]*snapColl{}}
	var changed map[string]bool
	prev := s.snap.cur.Load()
	incremental := prev != nil && prev.gen < gens.Records
	if incremental {
		if w, ok := s.snap.writesAfter(prev.gen, gens.Records); ok {
			return s.applyWrites(ctx, prev, gens, w, maxBytes)
		}
		changed, incremental = gens.changedSince(prev.gens)
	}
	councils := councilsOf(changed)
	// What each kind needs: the collection in hand as it is, or a read
	// (of every document, or of the councils written, beside those kept).
	type plan struct {
		k      *Kind
		keep   *snapColl
		filter bson.D
	}
	var reads []plan
	var total atomic.Int64
	for _, k := range kinds {
		p := plan{k: k, filter: bson.D{}}
		if incremental {
			p.keep = prev.colls[k.Collection]
			switch {
			case k.Shared && !changed[SharedGeneration], !k.Shared && len(councils) == 0:
				// Nothing of this kind was written: the same documents
				// and maps serve.
				sn.colls[k.Collection] = p.keep
				if total.Add(p.keep.bytes) > maxBytes {
					return sn, errTooBig
				}
				continue
			case k.Shared:
				p.keep = nil // the registry is read again whole
			default:
				p.filter = bson.D{{Key: "councilId", Value: bson.D{{Key: "$in", Value: councils}}}}
			}
		}
		reads = append(reads, p)
	}
	// A first build, which nothing waits on but readiness, reads as many
	// collections at a time as there are cores (FerretDB decodes each
	// find's documents on one); a later one, beside readers, one.
	parallel := 1
	if prev == nil {
		parallel = runtime.GOMAXPROCS(0)
	}
	built := make([]*snapColl, len(reads))
	errs := inParallel(ctx, len(reads), parallel, func(ctx context.Context, i int) (err error) {
		p := reads[i]
		built[i], err = s.readKind(ctx, p.k, p.keep, changed, p.filter, &total, maxBytes)
		return err
	})
	sn.bytes = total.Load()
	for i, p := range reads {
		sn.colls[p.k.Collection] = built[i]
	}
	sn.reread = len(reads)
	for _, err := range errs {
		if errors.Is(err, errTooBig) {
			return sn, errTooBig
		}
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return sn, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return sn, err
	}
	sn.built = time.Since(start)
	return sn, nil
}

// readKind reads kind k's documents that filter selects into a new
// collection of the snapshot, after those of keep whose council is not in
// changed, and maps them; total counts the bytes the build holds, and the
// read stops with errTooBig once it passes maxBytes.
func (s *Store) readKind(ctx context.Context, k *Kind, keep *snapColl, changed map[string]bool, filter bson.D, total *atomic.Int64, maxBytes int64) (*snapColl, error) {
	c := &snapColl{db: s.coll(k), index: map[string]map[string][]int32{}, fallbacks: &s.snap.fallbacks}
	if keep != nil {
		for _, d := range keep.docs {
			if id, _ := d.Lookup("councilId").StringValueOK(); !changed[id] {
				c.docs = append(c.docs, d)
				c.bytes += int64(len(d))
			}
		}
		if total.Add(c.bytes) > maxBytes {
			return nil, errTooBig
		}
	}
	err := eachFound(ctx, c.db, filter, nil, func(d bson.Raw) error {
		c.bytes += int64(len(d))
		if total.Add(int64(len(d))) > maxBytes {
			return errTooBig
		}
		c.docs = append(c.docs, slices.Clone(d))
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.indexFields(k)
	return c, nil
}

// indexFields maps _id and every reference field of k, and the first
// field of each of its indexes, to the documents holding each value.
func (c *snapColl) indexFields(k *Kind) {
	for _, f := range k.snapFields() {
		m := map[string][]int32{}
		for i, d := range c.docs {
			for _, v := range docKeys(d, f) {
				m[v] = append(m[v], int32(i))
			}
		}
		c.index[f] = m
	}
}

func (c *snapColl) Name() string { return c.db.Name() }

// Find answers a find from memory, or sends it to the server where the
// matcher does not evaluate its filter or options.
func (c *snapColl) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongo.Cursor, error) {
	if err := ctx.Err(); err != nil {
		return nil, dbError("find "+c.Name(), err)
	}
	o, err := applied(opts)
	if err != nil {
		return nil, err
	}
	docs, err := c.find(filter, o)
	if errors.Is(err, errUnsupported) {
		c.fallbacks.Add(1)
		return c.db.Find(ctx, filter, opts...)
	}
	if err != nil {
		return nil, err
	}
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return mongo.NewCursorFromDocuments(out, nil, nil)
}

// CountDocuments counts from memory, as Find finds.
func (c *snapColl) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, dbError("count "+c.Name(), err)
	}
	o, err := applied(opts)
	if err != nil {
		return 0, err
	}
	docs, err := c.find(filter, options.FindOptions{Skip: o.Skip, Limit: o.Limit, Collation: o.Collation, Hint: o.Hint})
	if errors.Is(err, errUnsupported) {
		c.fallbacks.Add(1)
		return c.db.CountDocuments(ctx, filter, opts...)
	}
	return int64(len(docs)), err
}

// applied is the options opts set, as the driver applies them.
func applied[T any](opts []options.Lister[T]) (T, error) {
	var o T
	for _, l := range opts {
		for _, set := range l.List() {
			if err := set(&o); err != nil {
				return o, err
			}
		}
	}
	return o, nil
}

// find is the documents matching filter, sorted, skipped, limited and
// projected as o says.
func (c *snapColl) find(filter any, o options.FindOptions) ([]bson.Raw, error) {
	if o.Collation != nil || o.Hint != nil || o.Min != nil || o.Max != nil || o.Let != nil ||
		(o.ReturnKey != nil && *o.ReturnKey) || (o.ShowRecordID != nil && *o.ShowRecordID) {
		return nil, unsupported("find options")
	}
	if filter == nil {
		filter = bson.D{}
	}
	raw, err := bson.Marshal(filter)
	if err != nil {
		return nil, err
	}
	keys, err := sortSpec(o.Sort)
	if err != nil {
		return nil, err
	}
	fields, id, err := projection(o.Projection)
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	var m matcher // one per find: its patterns are compiled once
	visit := func(d bson.Raw) error {
		ok, err := m.matches(d, raw)
		if ok {
			out = append(out, d)
		}
		return err
	}
	if pos, ok := c.candidates(raw); ok {
		for _, p := range pos {
			if err := visit(c.docs[p]); err != nil {
				return nil, err
			}
		}
	} else {
		for _, d := range c.docs {
			if err := visit(d); err != nil {
				return nil, err
			}
		}
	}
	if keys != nil {
		if out, err = sortDocs(out, keys); err != nil {
			return nil, err
		}
	}
	if o.Skip != nil {
		out = out[min(int(max(*o.Skip, 0)), len(out)):]
	}
	if o.Limit != nil && *o.Limit != 0 {
		n := *o.Limit
		if n < 0 {
			n = -n
		}
		out = out[:min(int(n), len(out))]
	}
	if fields != nil {
		for i, d := range out {
			if out[i], err = project(d, fields, id); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// sortDocs sorts docs by keys, stably, reading each document's sort
// values once.
func sortDocs(docs []bson.Raw, keys []sortKey) ([]bson.Raw, error) {
	type row struct {
		doc  bson.Raw
		vals []bson.RawValue
	}
	rows := make([]row, len(docs))
	for i, d := range docs {
		rows[i] = row{d, make([]bson.RawValue, len(keys))}
		for j, k := range keys {
			v := sortValue(d, k.field)
			if v.Type == bson.TypeArray || v.Type == bson.TypeEmbeddedDocument {
				return nil, unsupported("sort on the %s %s", v.Type, k.field)
			}
			rows[i].vals[j] = v
		}
	}
	var cmpErr error
	slices.SortStableFunc(rows, func(a, b row) int {
		for j, k := range keys {
			c, err := compareValues(a.vals[j], b.vals[j])
			cmpErr = cmp.Or(cmpErr, err)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	for i, r := range rows {
		docs[i] = r.doc
	}
	return docs, cmpErr
}

// candidates narrows a filter to the documents its equalities on mapped
// fields allow, in document order: the smallest set any top-level
// condition gives, or the union of an $or's when each branch gives one.
// false means every document must be tested.
func (c *snapColl) candidates(filter bson.Raw) ([]int32, bool) {
	elems, err := filter.Elements()
	if err != nil {
		return nil, false
	}
	var best []int32
	found := false
	for _, e := range elems {
		var pos []int32
		ok := false
		if e.Key() == "$or" {
			pos, ok = c.orCandidates(e.Value())
		} else if m := c.index[e.Key()]; m != nil {
			var keys []string
			if keys, ok = stringKeys(e.Value()); ok {
				pos = union(m, keys)
			}
		}
		if ok && (!found || len(pos) < len(best)) {
			best, found = pos, true
		}
	}
	return best, found
}

func (c *snapColl) orCandidates(v bson.RawValue) ([]int32, bool) {
	branches, err := subFilters(v)
	if err != nil {
		return nil, false
	}
	var all []int32
	for _, b := range branches {
		pos, ok := c.candidates(b)
		if !ok {
			return nil, false
		}
		all = append(all, pos...)
	}
	slices.Sort(all)
	return slices.Compact(all), true
}

// stringKeys are the strings an equality or $in condition (alone) admits.
func stringKeys(v bson.RawValue) ([]string, bool) {
	if s, ok := v.StringValueOK(); ok {
		return []string{s}, true
	}
	ops, ok := operators(v)
	if !ok || len(ops) != 1 {
		return nil, false
	}
	arg := ops[0].Value()
	switch ops[0].Key() {
	case "$eq":
		s, ok := arg.StringValueOK()
		return []string{s}, ok
	case "$in":
		arr, ok := arg.ArrayOK()
		if !ok {
			return nil, false
		}
		vals, err := arr.Values()
		if err != nil {
			return nil, false
		}
		out := make([]string, len(vals))
		for i, e := range vals {
			if out[i], ok = e.StringValueOK(); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// union is the positions holding any of keys, ascending, each once.
func union(m map[string][]int32, keys []string) []int32 {
	if len(keys) == 1 {
		return m[keys[0]]
	}
	var out []int32
	for _, k := range keys {
		out = append(out, m[k]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// WaitSnapshot waits until reads are answered from a snapshot of the
// current generation, and reports whether they are: false at once when no
// snapshot is kept, or when the data set is too large for one.
func (s *Store) WaitSnapshot(ctx context.Context) bool {
	for {
		if s.currentSnapshot() != nil {
			return true
		}
		if !s.startSnapshot() {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}
