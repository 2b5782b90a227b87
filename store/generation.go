package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The data generation is a number that every write through a Writer and
// every API key change raises, once per write call. It is kept in a
// collection of its own (meta, one document), so that whichever process
// writes — the server, `import`, `keys` — raises it for every process
// reading the same database. Caches key what they hold by it: an answer
// cached under one generation is never served under another.
//
// FerretDB has no transactions, so the generation is raised after the
// records are written: whoever reads the new generation reads the new
// records, and an answer read under the old one is only ever filed under
// the old one.

const (
	metaCollection = "meta"
	generationID   = "generation"
)

// Key changes raise the generation too (an answer cached for a key must
// not outlive its revocation), and count themselves in the meta document's
// keys field, in the same update. The records' generation, n - keys, is
// therefore raised by every write of records and by nothing else, whatever
// the version of the process that wrote (one that counted no keys raised n
// alone): what keys the snapshot, which holds records only, so that a key
// change does not cost a rebuild.

// generationWatch is what a Store knows of the generation: the newest it
// has written or seen, and the watcher that keeps that up to date.
type generationWatch struct {
	seen atomic.Int64
	// records is the newest records' generation seen (n - keys).
	records atomic.Int64
	// changed is when seen last rose, in Unix nanoseconds (0: never).
	changed atomic.Int64
	source  atomic.Value // string: "change stream" or "poll"
	// councils holds each council's generation (reads.go), replaced whole.
	councils atomic.Pointer[map[string]int64]
	// writes counts the raises that named the councils they touched: where
	// it rose as much as records did, every write since is in councils.
	writes atomic.Int64
	// watching says WatchGeneration was called.
	watching atomic.Bool
	once     sync.Once
	stop     context.CancelFunc
	done     chan struct{}
}

// note records the generation n, with keys of its raises by key changes,
// as seen, where they are newer than what was. Generations never go down:
// the meta document is only ever raised.
func (g *generationWatch) note(n, keys, writes int64, councils map[string]int64) {
	// The counts the generations are judged by rise first: a reader that
	// sees the new records' generation sees them (reads.go).
	raise(&g.writes, writes)
	for {
		old := g.councils.Load()
		merged := make(map[string]int64, len(councils))
		if old != nil {
			for c, v := range *old {
				merged[c] = v
			}
		}
		grew := false
		for c, v := range councils {
			if v > merged[c] {
				merged[c], grew = v, true
			}
		}
		if (!grew && old != nil) || g.councils.CompareAndSwap(old, &merged) {
			break
		}
	}
	raise(&g.records, n-keys)
	if raise(&g.seen, n) {
		g.changed.Store(time.Now().UnixNano())
	}
}

// genDoc is the meta document of the generations.
type genDoc struct {
	N    int64 `bson:"n"`
	Keys int64 `bson:"keys"`
	// W counts the raises that named the councils they touched.
	W int64 `bson:"w"`
	// C holds each council's generation, by slug ("_shared" for the
	// shared registries'): a council's ID is not a field name.
	C map[string]int64 `bson:"c"`
}

// councils turns the stored councils' generations into council IDs.
func (d genDoc) councils() map[string]int64 {
	out := make(map[string]int64, len(d.C))
	for slug, v := range d.C {
		if slug == "_"+SharedGeneration {
			out[SharedGeneration] = v
		} else {
			out["council:"+slug] = v
		}
	}
	return out
}

// genField is the meta document's field of a council's generation.
func genField(council string) string {
	if council == SharedGeneration {
		return "c._" + SharedGeneration
	}
	return "c." + strings.TrimPrefix(council, "council:")
}

// raise sets v to n where n is larger, and reports whether it did.
func raise(v *atomic.Int64, n int64) bool {
	for {
		old := v.Load()
		if n <= old {
			return false
		}
		if v.CompareAndSwap(old, n) {
			return true
		}
	}
}

// close stops the watcher, if one runs, and waits for it.
func (g *generationWatch) close() {
	if g.stop != nil {
		g.stop()
		<-g.done
	}
}

func (s *Store) meta() *mongo.Collection { return s.db.Collection(metaCollection) }

// Generation reads the data generation from the database (0 before the
// first write).
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var doc genDoc
	err := s.meta().FindOne(ctx, bson.D{{Key: "_id", Value: generationID}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, dbError("read generation", err)
	}
	s.gen.note(doc.N, doc.Keys, doc.W, doc.councils())
	return doc.N, nil
}

// SeenGeneration is the newest generation this process has written or
// seen: what WatchGeneration keeps up to date without reading the database
// on each call.
func (s *Store) SeenGeneration() int64 { return s.gen.seen.Load() }

// SeenRecordsGeneration is the newest records' generation this process
// has written or seen: raised by writes of records, not by key changes.
func (s *Store) SeenRecordsGeneration() int64 { return s.gen.records.Load() }

// SeenGenerationAt is when this process last saw the generation rise (its
// own write, or another process's through the watcher); zero when it has
// not since it started.
func (s *Store) SeenGenerationAt() time.Time {
	if n := s.gen.changed.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// GenerationSource says how the running watcher learns of new generations:
// "change stream", "poll", or "" when none runs.
func (s *Store) GenerationSource() string {
	v, _ := s.gen.source.Load().(string)
	return v
}

// raiseGeneration raises the generation by one after a write of records.
// It runs even when the write failed part way (some records may have been
// written) and even when ctx is cancelled, so that no cache outlives a
// write.
//
// wrote is what the write wrote, the IDs of each kind: the snapshot reads
// again only those (snapwrites.go).
func (s *Store) raiseGeneration(ctx context.Context, errp *error, councils map[string]bool, wrote written, session uint64) {
	inc := bson.D{{Key: "n", Value: int64(1)}}
	if len(councils) > 0 {
		inc = append(inc, bson.E{Key: "w", Value: int64(1)})
	}
	for c := range councils {
		inc = append(inc, bson.E{Key: genField(c), Value: int64(1)})
	}
	if wrote == nil {
		wrote = written{}
	}
	s.raise(ctx, errp, inc, wrote, session)
}

// raiseKeysGeneration is raiseGeneration after a key change, counted as
// one (see above).
func (s *Store) raiseKeysGeneration(ctx context.Context, errp *error) {
	s.raise(ctx, errp, bson.D{{Key: "n", Value: int64(1)}, {Key: "keys", Value: int64(1)}}, nil, 0)
}

// raise applies inc to the generations; wrote, for a write of records, is
// noted under the records' generation the raise made, before this store
// notes that generation and before a snapshot build can read what was
// noted (the watcher may see the raise in the database first).
func (s *Store) raise(ctx context.Context, errp *error, inc bson.D, wrote written, session uint64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if wrote != nil {
		s.snap.raising.RLock()
		defer s.snap.raising.RUnlock()
	}
	var doc genDoc
	err := s.meta().FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: generationID}},
		bson.D{{Key: "$inc", Value: inc}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		if *errp == nil {
			*errp = dbError("raise generation", err)
		}
		return
	}
	if wrote != nil {
		s.snap.noteWrite(doc.N-doc.Keys, wrote, session, s.gen.watching.Load())
	}
	s.gen.note(doc.N, doc.Keys, doc.W, doc.councils())
}

// DefaultGenerationPoll is how often a store without change streams reads
// the generation: a write by another process is seen within it. A read is
// one find of one small document, so four a second cost the server next
// to nothing.
const DefaultGenerationPoll = 250 * time.Millisecond

// WatchGeneration starts (once per Store; later calls do nothing) a
// watcher that keeps SeenGeneration up to date, stopped by Close: a
// change stream on the meta collection where the server offers one
// (MongoDB replica sets), otherwise one read of the generation every poll
// (FerretDB, standalone MongoDB). poll is therefore the longest a write by
// another process goes unseen; writes through this Store are seen at once.
func (s *Store) WatchGeneration(poll time.Duration) {
	if poll <= 0 {
		poll = DefaultGenerationPoll
	}
	s.gen.once.Do(func() {
		s.gen.watching.Store(true)
		ctx, cancel := context.WithCancel(context.Background())
		s.gen.stop, s.gen.done = cancel, make(chan struct{})
		rctx, rcancel := context.WithTimeout(ctx, poll)
		_, _ = s.Generation(rctx)
		rcancel()
		go func() {
			defer close(s.gen.done)
			for ctx.Err() == nil {
				if err := s.streamGeneration(ctx); err != nil && ctx.Err() == nil {
					s.gen.source.Store("poll")
					s.pollGeneration(ctx, poll)
				}
			}
		}()
	})
}

// streamGeneration follows the meta collection's change stream until ctx
// ends or the stream fails; it fails at once where the server has none.
func (s *Store) streamGeneration(ctx context.Context) error {
	cs, err := s.meta().Watch(ctx, mongo.Pipeline{})
	if err != nil {
		return fmt.Errorf("watch generation: %w", err)
	}
	defer cs.Close(context.WithoutCancel(ctx))
	s.gen.source.Store("change stream")
	_, _ = s.Generation(ctx) // what was raised before the stream opened
	for cs.Next(ctx) {
		if _, err := s.Generation(ctx); err != nil {
			return err
		}
	}
	if err := cs.Err(); err != nil {
		return fmt.Errorf("watch generation: %w", err)
	}
	return errors.New("watch generation: the stream ended")
}

// pollTimeout is the least time a poll of the generation is given.
const pollTimeout = 10 * time.Second

// pollGeneration reads the generation every interval until ctx ends.
func (s *Store) pollGeneration(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Not the interval: on FerretDB's SQLite backend, polls
			// cancelled while their find ran were seen to fail other
			// clients' finds with SQLite's "interrupted" (a 20 ms poll
			// under load, in a search index's test). So a slow
			// poll is let finish (a late tick is dropped), not cancelled.
			rctx, cancel := context.WithTimeout(ctx, max(interval, pollTimeout))
			_, _ = s.Generation(rctx)
			cancel()
		}
	}
}
