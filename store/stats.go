package store

import (
	"context"
	"reflect"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Stats are the sizes the cost of an operation is reckoned from: how many
// records of each kind there are, and the most any one record's relations
// hold, so that a list the schema does not page still costs its real
// largest size.
type Stats struct {
	// Counts holds the number of records of each kind, by kind name.
	Counts map[string]int
	// Fanout holds, for each reference field ("Attendance.meetingId"), the
	// most records of the kind that name one same record; for each list of
	// references or of embedded records ("Report.priorityIds[]",
	// "Priority.updates[]"), the longest such list one record holds.
	Fanout map[string]int
}

// Max is the largest fan-out of any relation: a bound for a list whose own
// fan-out is not known.
func (st *Stats) Max() int {
	m := 0
	for _, v := range st.Fanout {
		m = max(m, v)
	}
	for _, v := range st.Counts {
		m = max(m, v)
	}
	return m
}

// FindStats reckons the stats: one find per kind, projecting only the
// reference fields and embedded lists, whoever may see the records (a bound
// must hold for every caller). The finds read the snapshot where it is
// current: on the embedded store a scan of every document of a national
// data set takes minutes, and of the snapshot seconds. While the first
// snapshot is read, FindStats waits for it (within ctx) rather than scan
// the database beside it: a server's first stats are asked for as it
// starts, and such a scan, on the cores the build reads with, held a
// server at a million records unready until it gave up a minute later.
func (s *Store) FindStats(ctx context.Context) (*Stats, error) {
	if !fromDatabase(ctx) {
		if s.snap.cur.Load() == nil && !s.WaitSnapshot(ctx) && ctx.Err() != nil {
			return nil, dbError("find stats", ctx.Err())
		}
		if sn := s.currentSnapshot(); sn != nil {
			return sn.stats(), nil
		}
	}
	st := &Stats{Counts: map[string]int{}, Fanout: map[string]int{}}
	for _, k := range kinds {
		proj := bson.D{}
		for _, r := range k.Refs {
			proj = append(proj, bson.E{Key: r.Field, Value: 1})
		}
		embedded := embeddedLists(k)
		for _, f := range embedded {
			proj = append(proj, bson.E{Key: f.name, Value: 1})
		}
		if len(proj) == 0 {
			proj = bson.D{{Key: "_id", Value: 1}}
		}
		cur, err := s.coll(k).Find(ctx, bson.D{}, options.Find().SetProjection(proj).SetBatchSize(oneReply))
		if err != nil {
			return nil, dbError("find stats of "+k.Collection, err)
		}
		counts := map[string]map[string]int{}
		for cur.Next(ctx) {
			d := k.New()
			if err := cur.Decode(d); err != nil {
				cur.Close(ctx)
				return nil, dbError("find stats of "+k.Collection, err)
			}
			st.Counts[k.Name]++
			for _, r := range k.Refs {
				vals := RefValues(d, r.Field)
				if r.Many() {
					key := k.Name + "." + r.Field + "[]"
					st.Fanout[key] = max(st.Fanout[key], len(vals))
				}
				if counts[r.Field] == nil {
					counts[r.Field] = map[string]int{}
				}
				// Each record once per record it names; an empty one
				// names none.
				slices.Sort(vals)
				for _, v := range slices.Compact(vals) {
					if v != "" {
						counts[r.Field][v]++
					}
				}
			}
			for _, f := range embedded {
				key := k.Name + "." + f.name + "[]"
				st.Fanout[key] = max(st.Fanout[key], reflect.ValueOf(d).Elem().FieldByIndex(f.index).Len())
			}
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return nil, dbError("find stats of "+k.Collection, err)
		}
		for _, r := range k.Refs {
			key := k.Name + "." + r.Field
			st.Fanout[key] = 0
			for _, n := range counts[r.Field] {
				st.Fanout[key] = max(st.Fanout[key], n)
			}
		}
	}
	return st, nil
}

// stats reckons the stats from the snapshot's maps: a reference's fan-out
// is its longest list of positions; only the lengths of lists are read
// from the documents.
func (sn *snapshot) stats() *Stats {
	st := &Stats{Counts: map[string]int{}, Fanout: map[string]int{}}
	for _, k := range kinds {
		c := sn.colls[k.Collection]
		if len(c.recs) > 0 {
			st.Counts[k.Name] = len(c.recs)
		}
		var lists []string
		for _, r := range k.Refs {
			key := k.Name + "." + r.Field
			st.Fanout[key] = 0
			for v, ps := range c.index[r.Field] {
				if v != "" {
					st.Fanout[key] = max(st.Fanout[key], len(ps))
				}
			}
			if r.Many() {
				lists = append(lists, r.Field)
			}
		}
		for _, f := range embeddedLists(k) {
			lists = append(lists, f.name)
		}
		for _, f := range lists {
			if len(c.recs) == 0 {
				break // as a read of no documents: no list, no entry
			}
			key := k.Name + "." + f + "[]"
			st.Fanout[key] = 0
			idx := k.fields[f]
			for _, d := range c.recs {
				st.Fanout[key] = max(st.Fanout[key], reflect.ValueOf(d).Elem().FieldByIndex(idx).Len())
			}
		}
	}
	return st
}

type embeddedList struct {
	name  string
	index []int
}

// embeddedLists are a kind's fields that hold lists of embedded records,
// sources aside (which lead nowhere).
func embeddedLists(k *Kind) []embeddedList {
	var out []embeddedList
	for _, f := range reflect.VisibleFields(k.typ) {
		name, _, _ := strings.Cut(f.Tag.Get("bson"), ",")
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct && name != "sources" && name != "" {
			out = append(out, embeddedList{name: name, index: f.Index})
		}
	}
	return out
}
