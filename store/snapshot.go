package store

// The model (the snapshot).
//
// A council's record is small and changes only when it is written, while
// FerretDB answers most finds by decoding every document of a collection
// (shape.go): on its SQLite backend a committee page is a few hundred
// milliseconds of scanning, and over PostgreSQL each equality is a table
// scan that grows with the data. So a server keeps, per data generation,
// every record in memory as typed Go values, per kind, with maps from the
// mapped fields' values to the records holding them and each kind's
// order (model.go), and answers the record reads of requests from it
// instead of asking: the fastest query is the one not sent.
//
// What is kept is everything, every level's records; what a read returns
// is exactly what the server would: the read's own conditions and the
// caller's level are tested on the records (a where's test, where.go,
// beside the filter it sends the database), then sorted and limited, and a
// record that the caller's level hides part of is copied before it is
// blanked, so redaction never touches the model. (A read with no order has
// none on the server either: the model's is the kind's.)
// TestSnapshotAnswersAsTheServer holds the two to the same answers at
// every level.
//
// A snapshot is used only for the records' generation it was read under
// (generation.go: raised by every write of records, not by key changes),
// and only
// where the store learns of every write (WatchGeneration runs): a write
// through this Store raises the generation at once, and another process's
// within the poll, so a read never sees an older generation than its cache
// would. It is built in the background, one build at a time, when a read
// finds none for the current generation; until the first is ready, reads
// go to the server, and after a write those that depend on what it wrote
// wait for the next (session.go). A data set whose documents exceed the
// size given to KeepSnapshot is not kept (reads go to the server as
// before), and the build stops as soon as it passes that size.

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DefaultSnapshotSize is the snapshot's bound unless configured: room for
// about two million records (a benchmark council's 9,954 records are 4.7
// MiB of documents, a hundred councils' 470 MiB), whose model takes about
// 2.8 times their stored size in memory. A data set too large to hold goes
// to the database rather than exhaust the machine's memory.
const DefaultSnapshotSize = 1 << 30

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
	// logSeq is the change log entry up to which the model holds every
	// change (snaplog.go).
	logSeq int64
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
	retryAt time.Time
	// writes are this process's writes not yet in a snapshot, by the
	// records' generation each raised (snapwrites.go); a raise holds
	// raising for reading from its write to the database until its note.
	wmu    sync.Mutex
	writes map[int64]written
	// sessionOf is the session each noted write belongs to; sessions the
	// Writers open and not yet closed (session.go).
	sessionOf map[int64]uint64
	sessions  map[uint64]bool
	writing   map[uint64]bool
	lastID    uint64
	// begun counts the sessions that have begun writing (session.go).
	begun uint64
	// built is closed when a build ends (and replaced): what a read
	// waiting for the next model waits on (session.go).
	built   chan struct{}
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
// metrics follow too, and the snapshot (KeepSnapshot
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
	// Reread is how many collections its build read from the database:
	// every one for a first build, only those with records of the
	// councils written since for a later one.
	Reread int
}

// SnapshotStats reports the snapshot in use, if any.
func (s *Store) SnapshotStats() SnapshotStats {
	st := SnapshotStats{}
	if sn := s.currentSnapshot(); sn != nil {
		st.Generation, st.Bytes, st.BuildTime, st.Reread = sn.gen, sn.bytes, sn.built, sn.reread
		for _, c := range sn.colls {
			st.Records += int64(len(c.recs))
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

// InMemory reports whether reads of ctx are answered from the model now:
// it is of the generation this store has seen, and ctx is not from
// FromDatabase. The loaders answer each lookup at once while it is.
func (s *Store) InMemory(ctx context.Context) bool {
	return !fromDatabase(ctx) && s.currentSnapshot() != nil
}

// modelFor is the model's collection of kind k that answers a read with w
// for ctx: the current snapshot's, or the one in hand when w depends on no
// council written since; nil sends the read to the database (and starts a
// build of the current generation's model where one is wanted), as does a
// context from FromDatabase.
func (s *Store) modelFor(ctx context.Context, k *Kind, w where) *snapColl {
	if fromDatabase(ctx) {
		return nil
	}
	if sn := s.currentSnapshot(); sn != nil {
		return sn.colls[k.Collection]
	}
	if s.snap.max.Load() > 0 && s.gen.watching.Load() {
		s.startSnapshot()
	}
	sn, changed := s.partSnapshot()
	if sn == nil {
		return nil
	}
	if !unchangedFor(k, w, changed) {
		if sn = s.behindFor(ctx, sn); sn == nil {
			return nil
		}
	}
	return sn.colls[k.Collection]
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

// unchangedFor reports whether a read of kind k with w depends on none of
// the generations changed.
func unchangedFor(k *Kind, w where, changed map[string]bool) bool {
	gens, ok := whereGenerations(k, w)
	if !ok {
		return len(changed) == 0
	}
	for _, g := range gens {
		if changed[g] {
			return false
		}
	}
	return true
}

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
	if sn := x.cur.Load(); x.running || time.Now().Before(x.retryAt) || (sn != nil && (sn.gen == gen || x.held(sn.gen, gen))) {
		// Under way, pausing after a failure, done, or put off until a
		// session of this process ends (session.go).
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
		case errors.Is(err, errHeld):
			// Close starts the next build.
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
		x.signalBuiltLocked()
		x.mu.Unlock()
		if log != nil {
			switch {
			case errors.Is(err, errTooBig):
				log.Info("the data set is larger than the snapshot may hold: reads go to the database", "generation", sn.gen, "max_bytes", bound)
			case errors.Is(err, errHeld):
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
		// A build put off by a session that has ended since: its Close
		// found this one running, so build again now.
		if _, writing := x.writeEpoch(); errors.Is(err, errHeld) && !writing {
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
func (s *Store) buildSnapshot(ctx context.Context, maxBytes int64) (out *snapshot, err error) {
	start := time.Now()
	// No raise of this process is between the database and its note.
	s.snap.raising.Lock()
	gens := s.SeenGenerations()
	prev := s.snap.cur.Load()
	held := prev != nil && s.snap.held(prev.gen, gens.Records)
	epoch, writing := s.snap.writeEpoch()
	s.snap.raising.Unlock()
	sn := &snapshot{gen: gens.Records, gens: gens, colls: map[string]*snapColl{}}
	if held || writing {
		return sn, errHeld
	}
	// Whatever the build reads from the database, a session of this
	// process that begins writing meanwhile may be part of: the model
	// would hold it half written under the generations before it. Such a
	// build is put off until the session ends.
	defer func() {
		if now, writing := s.snap.writeEpoch(); err == nil && (writing || now != epoch) {
			out, err = sn, errHeld
		}
	}()
	var changed map[string]bool
	incremental := prev != nil && prev.gen < gens.Records
	if incremental {
		if w, ok := s.snap.writesAfter(prev.gen, gens.Records); ok {
			return s.applyWrites(ctx, prev, gens, w, maxBytes)
		}
		if s.snap.writingNow() {
			// Another process wrote, and a session of this one is under
			// way: what is read now could hold part of it.
			return sn, errHeld
		}
		w, last, ok, err := s.logWritesAfter(ctx, prev.logSeq)
		if err != nil {
			return sn, err
		}
		if ok {
			sn, err := s.applyWrites(ctx, prev, gens, w, maxBytes)
			sn.logSeq = last
			return sn, err
		}
		changed, incremental = gens.changedSince(prev.gens)
	}
	if prev == nil || !incremental {
		// Every record is read after this: the model holds the log up
		// to here.
		last, err := s.LastChange(ctx)
		if err != nil {
			return sn, err
		}
		sn.logSeq = last
	} else {
		sn.logSeq = prev.logSeq
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
	// Every record of a kind read whole comes from the embedded store's
	// file where the store has one (sqliteread.go); the rest, and any kind
	// it could not read, through the server.
	var whole []*Kind
	for _, p := range reads {
		if p.keep == nil && len(p.filter) == 0 {
			whole = append(whole, p.k)
		}
	}
	var stored map[string]*snapColl
	if len(whole) > 0 {
		var err error
		if stored, err = s.readStored(ctx, whole, parallel, &total, maxBytes); err != nil {
			sn.bytes = total.Load()
			return sn, err
		}
	}
	var rest []plan
	for _, p := range reads {
		if c, ok := stored[p.k.Collection]; ok {
			sn.colls[p.k.Collection] = c
		} else {
			rest = append(rest, p)
		}
	}
	built := make([]*snapColl, len(rest))
	errs := inParallel(ctx, len(rest), parallel, func(ctx context.Context, i int) (err error) {
		p := rest[i]
		built[i], err = s.readKind(ctx, p.k, p.keep, changed, p.filter, &total, maxBytes)
		return err
	})
	sn.bytes = total.Load()
	for i, p := range rest {
		sn.colls[p.k.Collection] = built[i]
	}
	sn.reread = len(reads)
	if err := firstError(errs); err != nil {
		return sn, err
	}
	sn.built = time.Since(start)
	return sn, nil
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
