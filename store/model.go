package store

// The model's collections: one kind's records of one generation, typed.
//
// A collection holds every record of its kind as the Go value the store
// decodes (a *Meeting, a *Person), decoded once when it is read from the
// database, with a map from each mapped field's values (_id, the data set,
// every reference field, the first field of each index) to the records
// holding them, and every record's position in the kind's order. A read
// (where.go) takes its candidates from the smallest map its equalities
// name, or walks the kind's order, tests each record with the where's own
// test and the caller's level (admits), and stops at its limit. What it
// returns is the model's own values: a record is never changed once in a
// collection (a write makes a new collection, snapwrites.go), and a caller
// may not change it either; a read whose level hides part of a record
// (redacted) gets a copy.

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// snapColl is one kind's records in the model and the maps into them.
type snapColl struct {
	k  *Kind
	db *mongo.Collection
	// recs are the records, in no order; sizes their stored sizes.
	recs  []Doc
	sizes []int32
	// bytes is the records' stored size.
	bytes int64
	// index maps a field's string values (each element of a list) to the
	// positions in recs of the records holding them, ascending.
	index map[string]map[string][]int32
	// ordered is every position in recs, in the kind's Order; idOrdered
	// every position in ID order, where that is another (search's).
	ordered, idOrdered []int32
}

// readKind reads kind k's records that filter selects into a new
// collection, after those of keep whose council is not in changed, and
// maps them; total counts the bytes the build holds, and the read stops
// with errTooBig once it passes maxBytes.
func (s *Store) readKind(ctx context.Context, k *Kind, keep *snapColl, changed map[string]bool, filter bson.D, total *atomic.Int64, maxBytes int64) (*snapColl, error) {
	c := &snapColl{k: k, db: s.coll(k)}
	if keep != nil {
		for i, d := range keep.recs {
			if !changed[d.Base().CouncilID] {
				c.recs = append(c.recs, d)
				c.sizes = append(c.sizes, keep.sizes[i])
				c.bytes += int64(keep.sizes[i])
			}
		}
		if total.Add(c.bytes) > maxBytes {
			return nil, errTooBig
		}
	}
	err := eachFound(ctx, c.db, filter, nil, func(raw bson.Raw) error {
		return c.add(raw, total, maxBytes)
	})
	if err != nil {
		return nil, err
	}
	c.mapRecords()
	return c, nil
}

// add decodes the stored record raw into c; total counts the bytes the
// build holds, and add fails with errTooBig once it passes maxBytes.
func (c *snapColl) add(raw bson.Raw, total *atomic.Int64, maxBytes int64) error {
	c.bytes += int64(len(raw))
	if total.Add(int64(len(raw))) > maxBytes {
		return errTooBig
	}
	d, err := decodeRecord(c.k, raw)
	if err != nil {
		return err
	}
	c.recs = append(c.recs, d)
	c.sizes = append(c.sizes, int32(len(raw)))
	return nil
}

// mapRecords makes c's maps and order from its records.
func (c *snapColl) mapRecords() {
	c.index = map[string]map[string][]int32{}
	c.indexFields()
	c.ordered = make([]int32, len(c.recs))
	for i := range c.ordered {
		c.ordered[i] = int32(i)
	}
	c.sortPositions(c.ordered, c.k.orderCompare())
	if c.k.keepsIDOrder() {
		c.idOrdered = slices.Clone(c.ordered)
		c.sortPositions(c.idOrdered, c.k.compare(byID))
	}
}

// keepsIDOrder reports whether the model keeps k's records in ID order
// beside its Order: where that is another, for search, which lists each
// kind's records by ID.
func (k *Kind) keepsIDOrder() bool { return k.Searchable() && !slices.Equal(k.Order, byID) }

// decodeRecord decodes a stored record of kind k as it is stored.
func decodeRecord(k *Kind, raw bson.Raw) (Doc, error) {
	d := k.New()
	if err := bson.Unmarshal(raw, d); err != nil {
		return nil, dbError("decode "+k.Collection, err)
	}
	return d, nil
}

// indexFields maps every mapped field to the records holding each value.
func (c *snapColl) indexFields() {
	for _, f := range c.k.snapFields() {
		m := map[string][]int32{}
		for i, d := range c.recs {
			for _, v := range recordKeys(c.k, d, f) {
				m[v] = append(m[v], int32(i))
			}
		}
		c.index[f] = m
	}
}

// recordKeys are the strings field f holds in d (each element of a list,
// each once); none for a nil d.
func recordKeys(k *Kind, d Doc, f string) []string {
	if d == nil {
		return nil
	}
	if f == searchGrams {
		return grams(d.Base().Search)
	}
	var out []string
	k.anyString(d, f, func(v string) bool {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
		return false
	})
	return out
}

// sortPositions sorts positions of c's records by compare.
func (c *snapColl) sortPositions(ps []int32, compare func(a, b Doc) int) {
	slices.SortFunc(ps, func(a, b int32) int { return compare(c.recs[a], c.recs[b]) })
}

// orderCompare compares records in the kind's Order.
func (k *Kind) orderCompare() func(a, b Doc) int { return k.compare(k.Order) }

// find is the records that level l may see and that pass w, in order o
// (nil: any), after the cursor key after (nil: from the start), at most
// limit (0: all).
func (c *snapColl) find(l Level, w where, o Order, after []string, limit int) []Doc {
	k := c.k
	pass := func(d Doc) bool {
		return admits(l, d) && w.test(k, d) && (after == nil || k.after(d, o, after))
	}
	var out []Doc
	pos, narrowed := c.candidates(w)
	ordered, inOrder := c.orderOf(o)
	if narrowed && inOrder && limit > 0 && len(pos) > sortedCandidatesMax {
		// Many candidates and a few wanted in a kept order: walk the
		// order, testing only candidates, rather than sort them all.
		return c.walkOrder(ordered, o, after, limit, func(p int32) bool {
			_, is := slices.BinarySearch(pos, p)
			return is && pass(c.recs[p])
		})
	}
	switch {
	case narrowed:
		for _, p := range pos {
			if d := c.recs[p]; pass(d) {
				out = append(out, d)
			}
		}
	case !inOrder:
		// An order the model does not keep: every record is tested, and
		// those that pass sorted.
		for _, d := range c.recs {
			if pass(d) {
				out = append(out, d)
			}
		}
	default:
		return c.walkOrder(ordered, o, after, limit, func(p int32) bool { return pass(c.recs[p]) })
	}
	if o != nil {
		slices.SortStableFunc(out, k.compare(o))
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// sortedCandidatesMax is the most candidates find sorts to give a few in
// the kind's order; past it, it walks the order instead.
const sortedCandidatesMax = 1024

// orderOf is the positions of c's records in order o, where the model
// keeps that order (nil: any).
func (c *snapColl) orderOf(o Order) ([]int32, bool) {
	switch {
	case o == nil || slices.Equal(o, c.k.Order):
		return c.ordered, true
	case c.idOrdered != nil && slices.Equal(o, byID):
		return c.idOrdered, true
	}
	return nil, false
}

// walkOrder is the records at ordered's positions, in order o, from the
// cursor key after on, whose positions pass, until the limit (0: all).
func (c *snapColl) walkOrder(ordered []int32, o Order, after []string, limit int, pass func(int32) bool) []Doc {
	if after != nil {
		start := sort.Search(len(ordered), func(i int) bool { return c.k.after(c.recs[ordered[i]], o, after) })
		ordered = ordered[start:]
	}
	var out []Doc
	for _, p := range ordered {
		if pass(p) {
			out = append(out, c.recs[p])
			if len(out) == limit {
				break
			}
		}
	}
	return out
}

// count is how many records level l may see pass w.
func (c *snapColl) count(l Level, w where) int {
	n := 0
	test := func(d Doc) {
		if admits(l, d) && w.test(c.k, d) {
			n++
		}
	}
	if pos, ok := c.candidates(w); ok {
		for _, p := range pos {
			test(c.recs[p])
		}
		return n
	}
	for _, d := range c.recs {
		test(d)
	}
	return n
}

// after reports whether d sorts after the cursor key in order o: greater on
// the first field, or equal on it and greater on the next, and so on.
func (k *Kind) after(d Doc, o Order, key []string) bool {
	for i, f := range o {
		v, _ := k.stringOf(d, f)
		if v != key[i] {
			return v > key[i]
		}
	}
	return false
}

// cursorKey is d's values of the fields of o: where its cursor points.
func (k *Kind) cursorKey(d Doc, o Order) []string {
	key := make([]string, len(o))
	for i, f := range o {
		key[i], _ = k.stringOf(d, f)
	}
	return key
}

// candidates narrows w to the records its equalities on mapped fields,
// or the search index's runs of a string the search text contains, allow,
// ascending: the smallest set any top-level condition gives, or the
// union of an $or's when each branch gives one. false means every record
// must be tested.
func (c *snapColl) candidates(w where) ([]int32, bool) {
	var best []int32
	found := false
	for _, cd := range w {
		var pos []int32
		ok := false
		switch m := c.index[cd.field]; {
		case cd.or != nil:
			pos, ok = c.orCandidates(cd.or)
		case m != nil && cd.in != nil:
			pos, ok = union(m, cd.in), true
		case cd.field == "search" && cd.contains != nil:
			pos, ok = c.gramCandidates(*cd.contains)
		}
		if ok && (!found || len(pos) < len(best)) {
			best, found = pos, true
		}
	}
	return best, found
}

func (c *snapColl) orCandidates(branches []where) ([]int32, bool) {
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

// redacted is d as level l may see it: d itself, or a copy with what l
// may not see blanked.
func redacted(l Level, d Doc) Doc {
	if r, ok := d.(redactor); !ok || !r.hides(l) {
		return d
	}
	out := copyOf(d)
	redact(l, out)
	return out
}

// copyOf is a new record holding d's fields: what is blanked in it leaves
// d, which may be the model's, as it was. Lists are shared, so what blanks
// part of one replaces it.
func copyOf(d Doc) Doc {
	c := reflect.New(reflect.TypeOf(d).Elem())
	c.Elem().Set(reflect.ValueOf(d).Elem())
	return c.Interface().(Doc)
}
