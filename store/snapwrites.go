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
// note (a write by another process, or a note dropped) is built as before,
// reading again every collection's records of the councils written since.
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
func (x *snapshotKeeper) noteWrite(gen int64, w written, watching bool) {
	if x.max.Load() == 0 || !watching {
		return
	}
	x.wmu.Lock()
	defer x.wmu.Unlock()
	if x.writes == nil || len(x.writes) >= maxNotedWrites {
		x.writes = map[int64]written{}
	}
	x.writes[gen] = w
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
}

// applyWrites makes the snapshot of gens from prev and the records w
// names, read again by ID.
func (s *Store) applyWrites(ctx context.Context, prev *snapshot, gens Generations, w written, maxBytes int64) (*snapshot, error) {
	start := time.Now()
	sn := &snapshot{gen: gens.Records, gens: gens, colls: make(map[string]*snapColl, len(prev.colls))}
	for _, k := range kinds {
		c := prev.colls[k.Collection]
		if ids := w[k]; len(ids) > 0 {
			slices.Sort(ids)
			ids = slices.Compact(ids)
			found, err := s.rawByIDs(ctx, k, ids, len(c.docs))
			if err != nil {
				return sn, err
			}
			c = c.withWrites(k, ids, found)
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

// rawByIDs reads the stored documents of kind k with the given IDs, as
// they are now: one find by _id per ID where the server answers that from
// its index without a scan (FerretDB's), for up to a quarter of the held
// documents; one $in find otherwise (MongoDB answers it from the index).
// An ID with no document is absent.
func (s *Store) rawByIDs(ctx context.Context, k *Kind, ids []string, held int) (map[string]bson.Raw, error) {
	c := s.coll(k)
	out := make(map[string]bson.Raw, len(ids))
	collect := func(filter bson.D) ([]bson.Raw, error) {
		cur, err := c.Find(ctx, filter, options.Find().SetBatchSize(oneReply))
		if err != nil {
			return nil, dbError("snapshot "+k.Collection, err)
		}
		defer cur.Close(context.WithoutCancel(ctx))
		var docs []bson.Raw
		for cur.Next(ctx) {
			docs = append(docs, slices.Clone(cur.Current))
		}
		if err := cur.Err(); err != nil {
			return nil, dbError("snapshot "+k.Collection, err)
		}
		return docs, nil
	}
	keep := func(docs []bson.Raw) {
		for _, d := range docs {
			if id, ok := d.Lookup("_id").StringValueOK(); ok {
				out[id] = d
			}
		}
	}
	if s.shape != ShapeIn && len(ids) <= max(held/4, sqliteMaxIDs) {
		found := make([][]bson.Raw, len(ids))
		errs := make([]error, len(ids))
		sem := make(chan struct{}, pushdownParallel)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				found[i], errs[i] = collect(bson.D{{Key: "_id", Value: id}})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		for _, docs := range found {
			keep(docs)
		}
		return out, nil
	}
	for start := 0; start < len(ids); start += 1000 {
		docs, err := collect(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[start:min(start+1000, len(ids))]}}}})
		if err != nil {
			return nil, err
		}
		keep(docs)
	}
	return out, nil
}

// withWrites is c with the documents of ids replaced by found's: changed
// in place, added at the end, or (absent from found) removed, the last
// document taking the removed one's place. The maps are those of c with
// only the values of the documents moved changed.
func (c *snapColl) withWrites(k *Kind, ids []string, found map[string]bson.Raw) *snapColl {
	n := &snapColl{db: c.db, docs: slices.Clone(c.docs), bytes: c.bytes, index: make(map[string]map[string][]int32, len(c.index)), fallbacks: c.fallbacks}
	// before is what each position changed held in c (nil: past its end).
	before := map[int32]bson.Raw{}
	put := func(p int32, d bson.Raw) {
		if _, ok := before[p]; !ok {
			if int(p) < len(c.docs) {
				before[p] = c.docs[p]
			} else {
				before[p] = nil
			}
		}
		if int(p) == len(n.docs) {
			n.docs = append(n.docs, d)
		} else {
			n.docs[p] = d
		}
	}
	ids2pos := c.index["_id"]
	var gone []int32
	var added []bson.Raw
	for _, id := range ids {
		d, now := found[id]
		pos, held := ids2pos[id]
		switch {
		case held && now:
			n.bytes += int64(len(d)) - int64(len(c.docs[pos[0]]))
			put(pos[0], d)
		case held:
			n.bytes -= int64(len(c.docs[pos[0]]))
			gone = append(gone, pos[0])
		case now:
			n.bytes += int64(len(d))
			added = append(added, d)
		}
	}
	// Removed from the highest position down, so that the last document,
	// which fills each gap, is never one still to be removed.
	slices.Sort(gone)
	for i := len(gone) - 1; i >= 0; i-- {
		p, last := gone[i], int32(len(n.docs)-1)
		if p != last {
			put(p, n.docs[last])
		}
		if _, ok := before[last]; !ok {
			before[last] = c.docs[last]
		}
		n.docs = n.docs[:last]
	}
	for _, d := range added {
		put(int32(len(n.docs)), d)
	}
	moved := slices.Sorted(maps.Keys(before))
	for _, f := range k.snapFields() {
		old := c.index[f]
		drop, give := map[string][]int32{}, map[string][]int32{}
		for _, p := range moved {
			was := docKeys(before[p], f)
			var is []string
			if int(p) < len(n.docs) {
				is = docKeys(n.docs[p], f)
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
	return n
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

// snapFields are the fields a snapshot maps for kind k: _id, every
// reference field, and the first field of each of its indexes.
func (k *Kind) snapFields() []string {
	fields := []string{"_id"}
	for _, r := range k.Refs {
		fields = append(fields, r.Field)
	}
	for _, ix := range k.Indexes {
		fields = append(fields, ix[0])
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}

// docKeys are the string values field f holds in d, each element of a
// list, each once; none for a nil d.
func docKeys(d bson.Raw, f string) []string {
	if d == nil {
		return nil
	}
	v, err := d.LookupErr(f)
	if err != nil {
		return nil
	}
	if str, ok := v.StringValueOK(); ok {
		return []string{str}
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil
	}
	vals, _ := arr.Values()
	var out []string
	for _, e := range vals {
		if str, ok := e.StringValueOK(); ok && !slices.Contains(out, str) {
			out = append(out, str)
		}
	}
	return out
}
