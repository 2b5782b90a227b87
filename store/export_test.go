package store

// SetShape makes s send its batches in shape sh whatever its server, so that
// each shape's commands and answers can be tested on the servers at hand.
func SetShape(s *Store, sh Shape) { s.shape = sh }
