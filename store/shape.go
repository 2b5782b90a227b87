package store

// The query shape of a loader's batch, chosen per server when the store
// connects.
//
// A batch is "the records of kind k whose field holds one of these keys".
// MongoDB answers one $in from the field's index, whatever the number of
// keys. FerretDB 1.24 does not: it translates only some filters to SQL and
// evaluates the rest in Go after decoding every document of the collection
// (about 50 to 130 µs a document). What each backend pushes down decides the
// shape:
//
//   - PostgreSQL pushes down a scalar equality on any top-level field, never
//     $in. So a batch is one equality find per key, run concurrently within
//     a bound: each is an indexed SQL lookup returning only its records.
//     Past pushdownMaxKeys keys, one $in scan is cheaper than the finds.
//   - SQLite pushes down only a filter that is exactly {_id: <string>}: one
//     more condition (the caller's visibility) and it scans. So a batch of
//     a few IDs is one unscoped {_id: k} find per key, the visibility rule
//     applied to the decoded documents here (admits, in visibility.go); any
//     other batch is one $in scan, which costs the same as a scan for one key.
//   - MongoDB: one $in (an equality for one key) on the indexed field.
//
// FerretDB identifies itself in buildInfo (ferretdbVersion) but not its
// backend; the store asks the server what it pushes down instead (explain
// of an equality on a field that is not _id: filterPushdown is true over
// PostgreSQL, false on SQLite), which is the property the choice rests on.

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Shape names the way the store sends a batch of keys to its server.
type Shape string

// The shapes.
const (
	// ShapeIn is one find with $in over the keys (an equality for one
	// key): MongoDB's, from the field's index.
	ShapeIn Shape = "in"
	// ShapePushdown is one equality find per key, run concurrently: for
	// FerretDB over PostgreSQL, which pushes equalities down to SQL.
	ShapePushdown Shape = "pushdown"
	// ShapeSQLite is one {_id: k} find per key for a few IDs, one $in scan
	// otherwise: for FerretDB on SQLite.
	ShapeSQLite Shape = "sqlite"
)

const (
	// pushdownMaxKeys is the most keys ShapePushdown sends as equalities;
	// more go as one $in scan.
	pushdownMaxKeys = 100
	// pushdownParallel bounds the equality finds of one batch in flight.
	pushdownParallel = 8
	// sqliteMaxIDs is the most IDs ShapeSQLite looks up one by one; more
	// go as one $in scan.
	sqliteMaxIDs = 8
)

// Shape is the query shape the store chose for its server.
func (s *Store) Shape() Shape { return s.shape }

// Finds is how many find commands a batch of n keys on field costs with
// shape sh: what the batching-budget tests count.
func (sh Shape) Finds(field string, n int) int {
	switch {
	case n == 0:
		return 0
	case sh == ShapePushdown && n <= pushdownMaxKeys:
		return n
	case sh == ShapeSQLite && field == "_id" && n <= sqliteMaxIDs:
		return n
	}
	return 1
}

// detectShape asks the server which shape suits it: ShapeIn unless it is
// FerretDB; then ShapePushdown when it pushes down an equality on an
// ordinary field, ShapeSQLite otherwise.
func detectShape(ctx context.Context, db *mongo.Database, probe string) (Shape, error) {
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return "", dbError("buildInfo", err)
	}
	if _, ok := info["ferretdbVersion"]; !ok {
		return ShapeIn, nil
	}
	var plan struct {
		FilterPushdown bool `bson:"filterPushdown"`
	}
	cmd := bson.D{
		{Key: "explain", Value: bson.D{{Key: "find", Value: probe}, {Key: "filter", Value: bson.D{{Key: "keyHash", Value: "probe"}}}}},
	}
	if err := db.RunCommand(ctx, cmd).Decode(&plan); err != nil {
		return "", dbError("explain", err)
	}
	if plan.FilterPushdown {
		return ShapePushdown, nil
	}
	return ShapeSQLite, nil
}

// findDocs returns the records of kind k whose field holds one of keys,
// that the caller may see, sorted by o (when given) and then by the kind's
// Sort: from the model where it answers, otherwise from the database in
// the store's shape.
func (s *Store) findDocs(ctx context.Context, k *Kind, field string, keys []string, o Order) ([]Doc, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	w := where{oneOf(field, keys)}
	var out []Doc
	var err error
	bareIDs := s.shape == ShapeSQLite && field == "_id" && len(keys) <= sqliteMaxIDs
	perKey := s.shape == ShapePushdown && len(keys) > 1 && len(keys) <= pushdownMaxKeys
	if !(bareIDs || perKey) || s.modelFor(ctx, k, w) != nil {
		// One read; asking whether the model answers only where the
		// database would be sent a find per key (recordsOf asks again).
		out, err = s.recordsOf(ctx, k, w, o, nil, 0)
	} else {
		out, err = s.findEachKey(ctx, k, w, field, keys, o, bareIDs)
	}
	if err == nil && k.Sort != nil {
		slices.SortStableFunc(out, k.Sort)
	}
	return out, err
}

// findEachKey is findDocs answered by one find per key, by _id alone
// where bareIDs; a function of its own, as recordsFound is.
func (s *Store) findEachKey(ctx context.Context, k *Kind, w where, field string, keys []string, o Order, bareIDs bool) ([]Doc, error) {
	noteWhere(ctx, k, w)
	if err := spend(ctx, 1); err != nil {
		return nil, err
	}
	c := s.coll(k)
	if bareIDs {
		return findEach(ctx, keys, pushdownParallel, func(ctx context.Context, key string) ([]Doc, error) {
			return findKey(ctx, c, k, bson.D{{Key: "_id", Value: key}}, true)
		})
	}
	out, err := findEach(ctx, keys, pushdownParallel, func(ctx context.Context, key string) ([]Doc, error) {
		return findKey(ctx, c, k, scoped(ctx, bson.D{{Key: field, Value: key}}), false, options.Find().SetBatchSize(oneKeyReply))
	})
	if err == nil && o != nil {
		slices.SortStableFunc(out, k.compare(o))
	}
	return out, err
}

// findKey is one find of kind k's records in the database, decoded, each
// charged against the request's budget, with what the caller's level may
// not see blanked. filter goes as it is: with bare set it has no
// visibility condition (the only filter FerretDB's SQLite backend answers
// without a scan is {_id: id}), and the caller's level is kept here
// instead, as scoped would have kept it.
func findKey(ctx context.Context, c *mongo.Collection, k *Kind, filter bson.D, bare bool, opts ...options.Lister[options.FindOptions]) ([]Doc, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, dbError("find "+c.Name(), err)
	}
	defer cur.Close(ctx)
	l := LevelOf(ctx)
	var out []Doc
	for cur.Next(ctx) {
		if err := spend(ctx, 1); err != nil {
			return nil, err
		}
		d := k.New()
		if err := cur.Decode(d); err != nil {
			return nil, dbError("find "+c.Name(), err)
		}
		if bare && !admits(l, d) {
			continue
		}
		redact(l, d)
		out = append(out, d)
	}
	if err := cur.Err(); err != nil {
		return nil, dbError("find "+c.Name(), err)
	}
	return out, nil
}

// findEach runs one find per key, at most parallel at a time, and merges
// their records, each once (a record holding several of the keys in a list
// field comes back from each of their finds), in key order.
func findEach(ctx context.Context, keys []string, parallel int, find func(context.Context, string) ([]Doc, error)) ([]Doc, error) {
	results := make([][]Doc, len(keys))
	errs := inParallel(ctx, len(keys), parallel, func(ctx context.Context, i int) (err error) {
		results[i], err = find(ctx, keys[i])
		return err
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var out []Doc
	for _, docs := range results {
		for _, d := range docs {
			if id := d.Base().ID; !seen[id] {
				seen[id] = true
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// inParallel runs f(ctx, i) for each i from 0 to n-1, at most parallel at
// a time, cancelling ctx for the rest once one fails, and returns each
// call's error.
func inParallel(ctx context.Context, n, parallel int, f func(ctx context.Context, i int) error) []error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if errs[i] = f(ctx, i); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errs
}

// compare orders records of kind k by o as the server sorts: ascending on
// each field in turn, a missing value first.
func (k *Kind) compare(o Order) func(a, b Doc) int {
	if slices.Equal(o, byID) {
		return compareIDs
	}
	key := strings.Join(o, ",")
	if f, ok := k.compares.Load(key); ok {
		return f.(func(a, b Doc) int)
	}
	f, _ := k.compares.LoadOrStore(key, k.newCompare(o))
	return f.(func(a, b Doc) int)
}

// compareIDs is compare(byID): IDs are unique strings, so their order needs
// no field read by name.
func compareIDs(a, b Doc) int { return strings.Compare(a.Base().ID, b.Base().ID) }

func (k *Kind) newCompare(o Order) func(a, b Doc) int {
	idx := make([][]int, len(o))
	for i, f := range o {
		sf, ok := bsonField(k.typ, f)
		if !ok {
			panic("store: " + k.Name + " has no field " + f + " to sort by")
		}
		idx[i] = sf.Index
	}
	str := func(d Doc, i []int) (string, bool) {
		if v := fieldValue(d, i); v.Kind() == reflect.String {
			return v.String(), true
		}
		return "", false
	}
	return func(a, b Doc) int {
		for _, i := range idx {
			av, aok := str(a, i)
			bv, bok := str(b, i)
			if c := cmp.Compare(boolInt(aok), boolInt(bok)); c != 0 {
				return c
			}
			if c := cmp.Compare(av, bv); c != 0 {
				return c
			}
		}
		return 0
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
