package store

// Keeping the snapshot current from this process's writes.
//
// Every write call of a Writer raises the records' generation once, and
// the raise returns the generation it made. The call's IDs (records
// written, deleted, or moved to another level) are noted under that
// generation before the generation is published to readers. A snapshot
// of generation g is then brought to generation h by reading again only
// the records those notes name for every generation from g+1 to h, by ID,
// and putting them in the copy in place of what it held: a write costs
// what it changed, not a re-read of its councils. A generation with no
// note (a write by another process, or a note dropped) is built from the
// change log (snaplog.go), or where the log cannot say, by reading again
// every collection's records of the councils written since.
//
// The copy is never changed in place: each kind written gets new slices
// and maps, sharing the old ones' unchanged posting lists, so reads under
// way keep the snapshot they started with.

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// written is what one write call wrote: the IDs of each kind.
type written map[*Kind][]string

// add notes ids of kind k, making the map where w is nil.
func (w written) add(k *Kind, ids ...string) written {
	if w == nil {
		w = written{}
	}
	w[k] = append(w[k], ids...)
	return w
}

// idsOf is the IDs of docs.
func idsOf(docs []Doc) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.Base().ID
	}
	return ids
}

// maxNotedWrites bounds the notes kept for builds to come: past it (builds
// failing, say) they are dropped, and the next build reads the councils.
const maxNotedWrites = 4096

// noteWrite keeps w, the write that raised the records' generation to gen,
// for the next build, where snapshots are kept.
func (x *snapshotKeeper) noteWrite(gen int64, w written, session uint64, watching bool) {
	if x.max.Load() == 0 || !watching {
		return
	}
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if x.writes == nil || len(x.writes) >= maxNotedWrites {
		x.writes, x.sessionOf = map[int64]written{}, map[int64]uint64{}
	}
	x.writes[gen] = w
	x.sessionOf[gen] = session
}

// writesAfter merges the notes of the generations after from up to to,
// and reports whether every one of them has a note.
func (x *snapshotKeeper) writesAfter(from, to int64) (written, bool) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	out := written{}
	for g := from + 1; g <= to; g++ {
		w, ok := x.writes[g]
		if !ok {
			return nil, false
		}
		for k, ids := range w {
			out[k] = append(out[k], ids...)
		}
	}
	return out, true
}

// forgetWrites drops the notes of generations up to gen: a snapshot of gen
// holds them.
func (x *snapshotKeeper) forgetWrites(gen int64) {
	x.wmu.Lock()
	defer x.wmu.Unlock()
	maps.DeleteFunc(x.writes, func(g int64, _ written) bool { return g <= gen })
	maps.DeleteFunc(x.sessionOf, func(g int64, _ uint64) bool { return g <= gen })
}

// applyWrites makes the snapshot of gens from prev and the records w
// names, read again by ID.
func (s *Store) applyWrites(ctx context.Context, prev *snapshot, gens Generations, w written, maxBytes int64) (*snapshot, error) {
	start := time.Now()
	sn := &snapshot{gen: gens.Records, gens: gens, colls: make(map[string]*snapColl, len(prev.colls)), logSeq: prev.logSeq}
	for _, k := range kinds {
		c := prev.colls[k.Collection]
		if ids := w[k]; len(ids) > 0 {
			slices.Sort(ids)
			ids = slices.Compact(ids)
			found, err := s.recordsByIDs(ctx, k, ids)
			if err != nil {
				return sn, err
			}
			c = c.withWrites(ids, found)
			sn.reread++
		}
		sn.colls[k.Collection] = c
		if sn.bytes += c.bytes; sn.bytes > maxBytes {
			return sn, errTooBig
		}
	}
	sn.built = time.Since(start)
	return sn, nil
}

// recordsByIDs reads the stored records of kind k with the given IDs, as
// they are now (eachByID), with their stored sizes. An ID with no record is
// absent.
func (s *Store) recordsByIDs(ctx context.Context, k *Kind, ids []string) (map[string]sized, error) {
	out := make(map[string]sized, len(ids))
	err := s.eachByID(ctx, s.coll(k), ids, nil, func(raw bson.Raw) error {
		d, err := decodeRecord(k, raw)
		if err == nil {
			out[d.Base().ID] = sized{d, int32(len(raw))}
		}
		return err
	})
	return out, err
}

// sized is a record and its stored size.
type sized struct {
	d    Doc
	size int32
}

// eachFound calls fn with each document of c filter selects, projected by
// proj (nil: whole), in one reply where it fits.
func eachFound(ctx context.Context, c *mongo.Collection, filter, proj bson.D, fn func(bson.Raw) error) error {
	opts := options.Find().SetBatchSize(oneReply)
	if proj != nil {
		opts.SetProjection(proj)
	}
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return dbError("find "+c.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		if err := fn(cur.Current); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return dbError("find "+c.Name(), err)
	}
	return nil
}

// decodeStored decodes a stored record of kind k (whole or projected),
// its effective level PUBLIC where the document has none.
func decodeStored(k *Kind, raw bson.Raw) (Doc, error) {
	d, err := decodeAs(k, raw)
	if err != nil {
		return nil, err
	}
	if d.Base().Effective == "" {
		d.Base().Effective = VisibilityPublic
	}
	return d, nil
}

// decodeAs is stored document raw as a record of kind k, as the database
// holds it.
func decodeAs(k *Kind, raw bson.Raw) (Doc, error) {
	d := k.New()
	if err := bson.Unmarshal(raw, d); err != nil {
		return nil, dbError("decode "+k.Collection, err)
	}
	return d, nil
}

// indexedMaxIDs is the most IDs read one find each from a server that
// looks each up by index (sqliteids.go); more cost a scan of the collection
// once rather than a find each.
const indexedMaxIDs = 1000

// idFinds reports whether n records are best read by ID one find each:
// where the server looks an _id up by index (FerretDB over PostgreSQL, the
// embedded store) and n is not many. MongoDB answers one $in from its
// index; FerretDB on SQLite elsewhere scans for a find by _id too, so
// more than a few IDs cost one scan, not one each.
func (s *Store) idFinds(n int) bool {
	switch s.shape {
	case ShapePushdown:
		return n <= pushdownMaxKeys
	case ShapeSQLite:
		return n <= sqliteMaxIDs || (s.idIndexed && n <= indexedMaxIDs)
	}
	return false
}

// eachByID calls fn, one call at a time, with each stored document of c
// whose _id is one of ids: read whole from the embedded store's file where
// it can, else projected by proj (nil: whole), one find per ID where
// idFinds says so and otherwise by $in. fn may keep the document only by
// copying it.
func (s *Store) eachByID(ctx context.Context, c *mongo.Collection, ids []string, proj bson.D, fn func(bson.Raw) error) error {
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids))) // each once
	var mu sync.Mutex
	read := func(filter bson.D) error {
		return eachFound(ctx, c, filter, proj, func(d bson.Raw) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(d)
		})
	}
	if ok, err := s.storedByIDs(ctx, c.Name(), ids, fn); ok || err != nil {
		return err
	}
	if s.idFinds(len(ids)) {
		return errors.Join(inParallel(ctx, len(ids), pushdownParallel, func(_ context.Context, i int) error {
			return read(bson.D{{Key: "_id", Value: ids[i]}})
		})...)
	}
	// Batches keep each command far below MongoDB's 16 MiB; FerretDB's
	// scans once for all.
	batch := len(ids)
	if s.shape == ShapeIn {
		batch = 10000
	}
	for start := 0; start < len(ids); start += batch {
		if err := read(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[start:min(start+batch, len(ids))]}}}}); err != nil {
			return err
		}
	}
	return nil
}

// withWrites is c with the records of ids replaced by found's: changed in
// place, added at the end, or (absent from found) removed, the last record
// taking the removed one's place. The maps are those of c with only the
// values of the records moved changed, and the order is c's with only the
// records moved placed again.
func (c *snapColl) withWrites(ids []string, found map[string]sized) *snapColl {
	k := c.k
	n := &snapColl{k: k, db: c.db, recs: slices.Clone(c.recs), sizes: slices.Clone(c.sizes), bytes: c.bytes,
		index: make(map[string]map[string][]int32, len(c.index))}
	// before is what each position changed held in c (nil: past its end).
	before := map[int32]Doc{}
	put := func(p int32, d Doc, size int32) {
		if _, ok := before[p]; !ok {
			if int(p) < len(c.recs) {
				before[p] = c.recs[p]
			} else {
				before[p] = nil
			}
		}
		if int(p) == len(n.recs) {
			n.recs, n.sizes = append(n.recs, d), append(n.sizes, size)
		} else {
			n.recs[p], n.sizes[p] = d, size
		}
	}
	ids2pos := c.index["_id"]
	var gone []int32
	var added []sized
	for _, id := range ids {
		d, now := found[id]
		pos, held := ids2pos[id]
		switch {
		case held && now:
			n.bytes += int64(d.size) - int64(c.sizes[pos[0]])
			put(pos[0], d.d, d.size)
		case held:
			n.bytes -= int64(c.sizes[pos[0]])
			gone = append(gone, pos[0])
		case now:
			n.bytes += int64(d.size)
			added = append(added, d)
		}
	}
	// Removed from the highest position down, so that the last record,
	// which fills each gap, is never one still to be removed.
	slices.Sort(gone)
	for i := len(gone) - 1; i >= 0; i-- {
		p, last := gone[i], int32(len(n.recs)-1)
		if p != last {
			put(p, n.recs[last], n.sizes[last])
		}
		if _, ok := before[last]; !ok {
			before[last] = c.recs[last]
		}
		n.recs, n.sizes = n.recs[:last], n.sizes[:last]
	}
	for _, d := range added {
		put(int32(len(n.recs)), d.d, d.size)
	}
	moved := slices.Sorted(maps.Keys(before))
	for _, f := range k.snapFields() {
		old := c.index[f]
		drop, give := map[string][]int32{}, map[string][]int32{}
		for _, p := range moved {
			was := recordKeys(k, before[p], f)
			var is []string
			if int(p) < len(n.recs) {
				is = recordKeys(k, n.recs[p], f)
			}
			for _, v := range was {
				if !slices.Contains(is, v) {
					drop[v] = append(drop[v], p)
				}
			}
			for _, v := range is {
				if !slices.Contains(was, v) {
					give[v] = append(give[v], p)
				}
			}
		}
		if len(drop) == 0 && len(give) == 0 {
			n.index[f] = old
			continue
		}
		m := maps.Clone(old)
		for v, ps := range drop {
			m[v] = without(m[v], ps)
		}
		for v, ps := range give {
			m[v] = append(slices.Clone(m[v]), ps...)
			slices.Sort(m[v])
		}
		for v := range drop {
			if len(m[v]) == 0 {
				delete(m, v)
			}
		}
		n.index[f] = m
	}
	n.ordered = n.reordered(c.ordered, moved, k.orderCompare())
	if c.idOrdered != nil {
		n.idOrdered = n.reordered(c.idOrdered, moved, k.compare(byID))
	}
	return n
}

// reordered is the order of n's records from old, c's order, where only
// the positions moved hold other records than they did in c.
func (n *snapColl) reordered(old, moved []int32, compare func(a, b Doc) int) []int32 {
	out := make([]int32, 0, len(n.recs))
	for _, p := range old {
		if _, ok := slices.BinarySearch(moved, p); !ok {
			out = append(out, p)
		}
	}
	var place []int32
	for _, p := range moved {
		if int(p) < len(n.recs) {
			place = append(place, p)
		}
	}
	if len(place) > len(n.recs)/8 {
		// Many moved: sorting again is cheaper than placing each.
		out = append(out, place...)
		n.sortPositions(out, compare)
		return out
	}
	for _, p := range place {
		i, _ := slices.BinarySearchFunc(out, p, func(q, p int32) int {
			if c := compare(n.recs[q], n.recs[p]); c != 0 {
				return c
			}
			return -1 // equal keys: after those placed
		})
		out = slices.Insert(out, i, p)
	}
	return out
}

// without is list less ps, both ascending, in a new slice.
func without(list, ps []int32) []int32 {
	out := make([]int32, 0, len(list))
	j := 0
	for _, p := range list {
		for j < len(ps) && ps[j] < p {
			j++
		}
		if j < len(ps) && ps[j] == p {
			continue
		}
		out = append(out, p)
	}
	return out
}

// snapFields are the fields a snapshot maps for kind k: _id, the data set
// that holds a record (an import's checks), every reference field, and the
// first field of each of its indexes.
func (k *Kind) snapFields() []string {
	fields := []string{"_id", "dataset"}
	for _, r := range k.Refs {
		fields = append(fields, r.Field)
	}
	for _, ix := range k.Indexes {
		fields = append(fields, ix[0])
	}
	if k.Searchable() {
		fields = append(fields, searchGrams)
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}
