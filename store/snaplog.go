package store

// Keeping the model current from the change log.
//
// Another process's write reaches this one as generations only: which
// councils moved, not which records. Every write appends to the change log
// the records it wrote, deleted or moved to another level (changes.go), so
// a build after such a write reads the log's entries since the last build
// that followed it, and reads again, by ID, just those records, as it does
// for this process's own writes: a sync in another process costs the model
// what it changed, not a re-read of the councils it wrote.
//
// A model knows the log up to logSeq: every entry numbered up to it is in
// the model. A first build takes the last settled entry (LastChange) before
// it reads the records; a build from the log takes it before it reads the
// entries. Builds from this process's notes, and re-reads of councils,
// leave it where it was (a write of another process may have logged
// entries that its generations, not yet seen, would name), so the next
// build from the log reads their entries again, harmlessly. Where the log
// has been pruned past logSeq, or holds more entries since than
// maxLogEntries, the councils written are read again instead.

import (
	"context"
)

// maxLogEntries is the most entries a build reads from the log; past it,
// the councils written are read again whole.
const maxLogEntries = 200_000

// logWritesAfter returns the records the log names after entry since, by
// kind, and the last settled entry they run to; false where the log cannot
// say (pruned past since, or too long).
func (s *Store) logWritesAfter(ctx context.Context, since int64) (written, int64, bool, error) {
	c, err := s.counter(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	if since < c.Pruned {
		return nil, 0, false, nil
	}
	last, err := s.LastChange(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	entries, err := s.entriesAfter(ctx, since, last, nil, maxLogEntries+1)
	if err != nil {
		return nil, 0, false, err
	}
	if len(entries) > maxLogEntries {
		return nil, 0, false, nil
	}
	w := written{}
	for _, e := range entries {
		if e.Seq > last {
			break
		}
		if k := KindNamed(e.Type); k != nil {
			w = w.add(k, e.ID)
		}
	}
	return w, last, true, nil
}
