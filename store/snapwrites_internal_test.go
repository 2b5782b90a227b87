package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestWithWritesKeepsTheMaps: a collection brought up to date by
// withWrites (records changed, added and removed, in random mixes, the
// reference fields' values moving between records) holds exactly the
// records written, and maps and orders them as a build from those records
// would, while the collection it came from, which reads may still hold, is
// left as it was.
func TestWithWritesKeepsTheMaps(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		fields := k.snapFields()
		value := func() string { return fmt.Sprint("v", rng.IntN(5)) }
		doc := func(id string) sized {
			d := k.New()
			d.Base().ID = id
			v := reflect.ValueOf(d).Elem()
			for _, f := range append(fields, k.Order...) {
				if f == "_id" {
					continue
				}
				if f == "dataset" {
					d.Base().Dataset = value()
					continue
				}
				if f == searchGrams {
					d.Base().Search = fmt.Sprint("cllr ", value())
					continue
				}
				fv := v.FieldByIndex(k.fields[f])
				switch {
				case rng.IntN(4) == 0: // absent
				case fv.Kind() == reflect.String:
					fv.SetString(value())
				case fv.Kind() == reflect.Pointer:
					s := value()
					fv.Set(reflect.ValueOf(&s))
				case fv.Kind() == reflect.Slice:
					fv.Set(reflect.ValueOf([]string{value(), value()}))
				}
			}
			return sized{d, int32(10 + rng.IntN(100))}
		}
		built := func(recs []sized) *snapColl {
			c := &snapColl{k: k, index: map[string]map[string][]int32{}}
			for _, d := range recs {
				c.recs = append(c.recs, d.d)
				c.sizes = append(c.sizes, d.size)
				c.bytes += int64(d.size)
			}
			c.mapRecords()
			return c
		}
		want := map[string]sized{}
		next := 0
		for range 40 {
			want[fmt.Sprint("x", next)] = doc(fmt.Sprint("x", next))
			next++
		}
		c := built(slices.Collect(maps.Values(want)))
		for round := range 30 {
			var ids []string
			found := map[string]sized{}
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
			n := c.withWrites(ids, found)
			if !reflect.DeepEqual(snapshotOf(c), before) {
				t.Fatalf("%s, round %d: the collection written from changed", k.Name, round)
			}
			got := map[string]sized{}
			for i, d := range n.recs {
				got[d.Base().ID] = sized{d, n.sizes[i]}
			}
			if len(got) != len(n.recs) || !maps.Equal(got, want) {
				t.Fatalf("%s, round %d: holds %d records (%d IDs), want %d", k.Name, round, len(n.recs), len(got), len(want))
			}
			var recs []sized
			for i, d := range n.recs {
				recs = append(recs, sized{d, n.sizes[i]})
			}
			fresh := built(recs)
			if n.bytes != fresh.bytes {
				t.Errorf("%s, round %d: %d bytes, want %d", k.Name, round, n.bytes, fresh.bytes)
			}
			for _, f := range fields {
				if !maps.EqualFunc(n.index[f], fresh.index[f], slices.Equal) {
					t.Fatalf("%s, round %d: the map of %s is\n%v\nwant\n%v", k.Name, round, f, n.index[f], fresh.index[f])
				}
			}
			if !slices.Equal(n.ordered, fresh.ordered) {
				t.Fatalf("%s, round %d: the order is %v, want %v", k.Name, round, n.ordered, fresh.ordered)
			}
			if !slices.Equal(n.idOrdered, fresh.idOrdered) {
				t.Fatalf("%s, round %d: the ID order is %v, want %v", k.Name, round, n.idOrdered, fresh.idOrdered)
			}
			c = n
		}
	}
}

// snapshotOf is a copy of what c holds: its records (the same values), maps
// and order.
func snapshotOf(c *snapColl) any {
	idx := map[string]map[string][]int32{}
	for f, m := range c.index {
		idx[f] = map[string][]int32{}
		for v, ps := range m {
			idx[f][v] = slices.Clone(ps)
		}
	}
	return []any{slices.Clone(c.recs), slices.Clone(c.sizes), idx, slices.Clone(c.ordered), slices.Clone(c.idOrdered), c.bytes}
}

// TestHidesSaysWhatRedactBlanks: a record the model hands out is copied
// only where hides says redact would blank something, so hides must agree
// with redact for every record and level.
func TestHidesSaysWhatRedactBlanks(t *testing.T) {
	email, url := "a@example.org", "https://example.org/d.pdf"
	records := []redactor{
		&Person{}, &Person{Email: &email}, &Person{Phone: &email},
		&Document{}, &Document{URL: &url}, &Document{Restricted: true}, &Document{Restricted: true, URL: &url},
	}
	for _, r := range records {
		for _, l := range []Level{Public, Partner, Officer} {
			c := copyOf(r.(Doc)).(redactor)
			redact(l, c)
			if changed := !reflect.DeepEqual(c, r); changed != r.hides(l) {
				t.Errorf("%+v at level %d: hides says %v, redact changed it: %v", r, l, r.hides(l), changed)
			}
		}
	}
}
