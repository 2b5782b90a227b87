package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWithWritesKeepsTheMaps: a collection brought up to date by
// withWrites (records changed, added and removed, in random mixes, the
// reference fields' values moving between records) holds exactly the
// documents written, and maps every field as a build from those documents
// would, while the collection it came from, which reads may still hold, is
// left as it was.
func TestWithWritesKeepsTheMaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		fields := k.snapFields()
		doc := func(id string) bson.Raw {
			d := bson.D{{Key: "_id", Value: id}}
			for _, f := range fields[1:] {
				switch rng.IntN(4) {
				case 0: // absent
				case 1:
					d = append(d, bson.E{Key: f, Value: []string{fmt.Sprint("v", rng.IntN(5)), fmt.Sprint("v", rng.IntN(5))}})
				default:
					d = append(d, bson.E{Key: f, Value: fmt.Sprint("v", rng.IntN(5))})
				}
			}
			raw, err := bson.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		built := func(docs []bson.Raw) *snapColl {
			c := &snapColl{docs: docs, index: map[string]map[string][]int32{}}
			for _, d := range docs {
				c.bytes += int64(len(d))
			}
			c.indexFields(k)
			return c
		}
		want := map[string]bson.Raw{}
		next := 0
		for range 40 {
			want[fmt.Sprint("x", next)] = doc(fmt.Sprint("x", next))
			next++
		}
		c := built(slices.Collect(maps.Values(want)))
		for round := range 30 {
			var ids []string
			found := map[string]bson.Raw{}
			for id := range want {
				switch rng.IntN(5) {
				case 0:
					ids = append(ids, id)
					delete(want, id)
				case 1:
					ids = append(ids, id)
					want[id] = doc(id)
					found[id] = want[id]
				}
			}
			for range rng.IntN(12) {
				id := fmt.Sprint("x", next)
				next++
				ids = append(ids, id)
				want[id] = doc(id)
				found[id] = want[id]
			}
			ids = append(ids, "never-stored") // written and deleted between builds
			slices.Sort(ids)
			before := snapshotOf(c)
			n := c.withWrites(k, ids, found)
			if !reflect.DeepEqual(snapshotOf(c), before) {
				t.Fatalf("%s, round %d: the collection written from changed", k.Name, round)
			}
			got := map[string]bson.Raw{}
			for _, d := range n.docs {
				got[d.Lookup("_id").StringValue()] = d
			}
			if len(got) != len(n.docs) || !maps.EqualFunc(got, want, slices.Equal) {
				t.Fatalf("%s, round %d: holds %d documents (%d IDs), want %d", k.Name, round, len(n.docs), len(got), len(want))
			}
			fresh := built(n.docs)
			if n.bytes != fresh.bytes {
				t.Errorf("%s, round %d: %d bytes, want %d", k.Name, round, n.bytes, fresh.bytes)
			}
			for _, f := range fields {
				if !maps.EqualFunc(n.index[f], fresh.index[f], slices.Equal) {
					t.Fatalf("%s, round %d: the map of %s is\n%v\nwant\n%v", k.Name, round, f, n.index[f], fresh.index[f])
				}
			}
			c = n
		}
	}
}

// snapshotOf is a deep copy of what c holds.
func snapshotOf(c *snapColl) any {
	idx := map[string]map[string][]int32{}
	for f, m := range c.index {
		idx[f] = map[string][]int32{}
		for v, ps := range m {
			idx[f][v] = slices.Clone(ps)
		}
	}
	docs := make([]string, len(c.docs))
	for i, d := range c.docs {
		docs[i] = string(d)
	}
	return []any{docs, idx, c.bytes}
}
