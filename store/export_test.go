package store

import "time"

// SetShape makes s send its batches in shape sh whatever its server, so that
// each shape's commands and answers can be tested on the servers at hand.
func SetShape(s *Store, sh Shape) { s.shape = sh }

// HoldSnapshotBuilds keeps s from starting a snapshot build until the
// returned release is called, so that a test can read while the snapshot
// in hand is behind the store (as it is while a build runs) for as long as
// it needs to.
func HoldSnapshotBuilds(s *Store) (release func()) {
	x := &s.snap
	x.mu.Lock()
	x.retryAt = time.Now().Add(24 * time.Hour)
	x.mu.Unlock()
	return func() {
		x.mu.Lock()
		x.retryAt = time.Time{}
		x.mu.Unlock()
	}
}
