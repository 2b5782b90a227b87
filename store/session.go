package store

// A Writer's writes reach readers together.
//
// A Writer is a session: an import, a sync, a Put. Its write calls raise
// the generations as they go, so that every cache and watcher knows the
// data moved, but the model takes in what an open session wrote only when
// it ends (Close), all of it at once. Meanwhile a read that depends on a
// council written since the model in hand is answered from that model, as
// the data was before the session, and its answer is not cached (it is
// behind the generation it would be filed under: Reads.Behind). Once no
// session of this process has writes outstanding, a read waits for the
// model of the generation it sees, which this process builds from the
// sessions' notes in milliseconds (snapwrites.go), rather than asking the
// database, which holds whatever a session under way has written so far.
// So no reader of this process's writes sees a session half applied: a
// meeting without its agenda items, or a record above a caller's level
// while what it carries is not yet.
//
// Sessions of this process that overlap are published together, when the
// last of them ends. A write by another process is known only by its
// generations, each raised once what it counts is stored: reads that
// depend on what it wrote wait for the model of the generation they see,
// built from the change log, and may see that process's session half
// written, as the database would show it.

import (
	"context"
	"errors"
)

// errHeld is a build put off while a session of this process has writes
// outstanding: the session's Close starts it.
var errHeld = errors.New("a session's writes are outstanding")

// open starts a session and returns its ID.
func (x *snapshotKeeper) open() uint64 {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	x.lastID++
	if x.sessions == nil {
		x.sessions = map[uint64]bool{}
	}
	x.sessions[x.lastID] = true
	return x.lastID
}

// begin notes that a session starts a write call: from now its writes may
// be in the database, and in the change log, before any is noted.
func (x *snapshotKeeper) begin(id uint64) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if x.sessions[id] && !x.writing[id] {
		if x.writing == nil {
			x.writing = map[uint64]bool{}
		}
		x.writing[id] = true
		x.begun++
	}
}

// writeEpoch is how many sessions have begun writing, and whether one is
// writing now: a build that reads the database while a session of this
// process writes may take in part of it, so one that saw either move is
// put off (buildSnapshot).
func (x *snapshotKeeper) writeEpoch() (uint64, bool) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return x.begun, len(x.writing) > 0
}

// end ends a session.
func (x *snapshotKeeper) end(id uint64) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	delete(x.sessions, id)
	delete(x.writing, id)
}

// writingNow reports whether a session of this process has begun writing
// and is still open: a build that reads the database or the log by
// anything but this process's notes could take in part of it.
func (x *snapshotKeeper) writingNow() bool {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	return len(x.writing) > 0
}

// held reports whether a write after generation from, up to to, belongs
// to a session still open.
func (x *snapshotKeeper) held(from, to int64) bool {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	for g := from + 1; g <= to; g++ {
		if id, ok := x.sessionOf[g]; ok && x.sessions[id] {
			return true
		}
	}
	return false
}

// ownWrites reports whether every write after generation from, up to to,
// is one of this process's, noted.
func (x *snapshotKeeper) ownWrites(from, to int64) bool {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	for g := from + 1; g <= to; g++ {
		if _, ok := x.writes[g]; !ok {
			return false
		}
	}
	return true
}

// builtSignal returns the channel closed when the next build ends.
func (x *snapshotKeeper) builtSignal() chan struct{} {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.built == nil {
		x.built = make(chan struct{})
	}
	return x.built
}

// signalBuilt wakes those waiting for a build's end; x.mu is held.
func (x *snapshotKeeper) signalBuiltLocked() {
	if x.built != nil {
		close(x.built)
		x.built = nil
	}
}

// Close ends the Writer's session: what it wrote is published to readers
// at once (see above). A Writer's writes are invisible to this process's
// readers until it is closed; closing it again does nothing.
func (w *Writer) Close() {
	if w.session == 0 {
		return
	}
	w.s.snap.end(w.session)
	w.session = 0
	if w.s.snap.max.Load() > 0 && w.s.gen.watching.Load() {
		w.s.startSnapshot()
	}
}

// behindFor returns, for a read of kind k with w whose councils were
// written since the model in hand (sn), the model that answers it: sn
// itself while a session of this process has writes outstanding (the
// read is then behind its generation, and noted so), else the next model
// (waiting for its build, a moment: a write of this process is in it once
// published, another process's once its generation is seen, from the
// change log), or nil for the database where no build can be made.
// Another process's write once went to the database until the build was
// done; a read of a large store there takes seconds, and every read that
// came meanwhile took them.
func (s *Store) behindFor(ctx context.Context, sn *snapshot) *snapshot {
	for {
		// Another process's write raises its generation once what it
		// wrote is stored, so the next build holds it whole; this
		// process's is held back while a session of it is writing.
		seen := s.SeenRecordsGeneration()
		if s.snap.ownWrites(sn.gen, seen) {
			if _, writing := s.snap.writeEpoch(); writing || s.snap.held(sn.gen, seen) {
				// The database holds the session half written, and the
				// build waits for it to end.
				if r := readsOf(ctx); r != nil {
					r.noteBehind()
				}
				return sn
			}
		}
		done := s.snap.builtSignal()
		if cur := s.heldSnapshot(); cur != nil && cur.gen >= seen {
			return cur
		}
		if !s.startSnapshot() || !s.snap.building() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-done:
		}
		switch cur := s.heldSnapshot(); {
		case cur != nil && cur.gen >= seen:
			return cur
		case cur != nil && cur.gen > sn.gen:
			sn = cur
		}
		// A session began meanwhile and put the build off, or wrote again
		// since: as above. (A build that failed pauses the next, and the
		// database answers.)
	}
}

// building reports whether a build is under way.
func (x *snapshotKeeper) building() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.running
}
