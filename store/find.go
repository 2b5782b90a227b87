package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/apierr"
)

// ErrDatabase marks every error the database gave: errors.Is(err,
// ErrDatabase) tells a failure of the store from a fault in the request.
var ErrDatabase = errors.New("database error")

// dbErr is a database error with the operation it failed in.
type dbErr struct {
	op  string
	err error
}

func dbError(op string, err error) error { return &dbErr{op: op, err: err} }

func (e *dbErr) Error() string        { return e.op + ": " + e.err.Error() }
func (e *dbErr) Unwrap() error        { return e.err }
func (e *dbErr) Is(target error) bool { return target == ErrDatabase }

// ErrorCode: a database that cannot be reached, or a read past its
// request's deadline, is the service unavailable; any other failure of the
// database is internal (apierr.CodeOf).
func (e *dbErr) ErrorCode() apierr.Code {
	if Unreachable(e.err) {
		return apierr.ServiceUnavailable
	}
	return apierr.CodeOf(e.err)
}

// ErrBadCursor is returned when an `after` cursor was not made by the list it
// is given to.
var ErrBadCursor = apierr.Errorf(apierr.BadUserInput, "not a cursor from this list")

// Order is a sort order: ascending on each field in turn. Its last field is
// unique (_id), so that a cursor names one place in the list however many
// records are inserted around it.
type Order []string

var (
	byID   = Order{"_id"}
	byName = Order{"name", "_id"}
	byDate = Order{"date", "_id"}
)

func (o Order) sort() bson.D {
	d := make(bson.D, len(o))
	for i, f := range o {
		d[i] = bson.E{Key: f, Value: 1}
	}
	return d
}

// Page asks for the First records after the cursor After ("" for the start).
type Page struct {
	First int
	After string
}

// Result is one page of a list.
type Result[T any] struct {
	Nodes   []*T
	Cursors []string
	HasNext bool
}

// recordsOf answers one read of kind k's records for a caller: those that
// pass w and that the caller's level may see, sorted by o (nil: in no
// order), after the cursor key after (nil: from the start), at most limit
// (0: all), with what the level may not see blanked. The model answers
// it where it holds the kind current for w (modelFor), the database
// otherwise. Each record is charged against the request's budget, and a
// find of the database one more: a read in memory costs no round trip,
// so the loaders' lookups answered at once cost what a batch would.
func (s *Store) recordsOf(ctx context.Context, k *Kind, w where, o Order, after []string, limit int) ([]Doc, error) {
	noteWhere(ctx, k, w)
	l := LevelOf(ctx)
	if c := s.modelFor(ctx, k, w); c != nil {
		if err := ctx.Err(); err != nil {
			return nil, dbError("find "+k.Collection, err)
		}
		out := c.find(l, w, o, after, limit)
		if err := spend(ctx, len(out)); err != nil {
			return nil, err
		}
		for i, d := range out {
			out[i] = redacted(l, d)
		}
		return out, nil
	}
	return s.recordsFound(ctx, k, w, o, after, limit)
}

// recordsFound is recordsOf answered by the database. It is a function of
// its own so that a read of the model, on a goroutine gqlgen has just
// started for one list element, does not carry its frame: a deeper stack
// is one the runtime grows, and copies, more often.
func (s *Store) recordsFound(ctx context.Context, k *Kind, w where, o Order, after []string, limit int) ([]Doc, error) {
	if err := spend(ctx, 1); err != nil {
		return nil, err
	}
	filter := scoped(ctx, w.bson())
	if after != nil {
		filter = append(filter, bson.E{Key: "$or", Value: o.after(after)})
	}
	opts := options.Find().SetBatchSize(oneReply)
	if o != nil {
		opts.SetSort(o.sort())
	}
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	return findKey(ctx, s.coll(k), k, filter, false, opts)
}

// list is recordsOf for document type T, every record in order o.
func list[T any](ctx context.Context, s *Store, w where, o Order) ([]*T, error) {
	docs, err := s.recordsOf(ctx, kindFor[T](), w, o, nil, 0)
	return typed[T](docs), err
}

// typed is docs as their document type.
func typed[T any](docs []Doc) []*T {
	out := make([]*T, len(docs))
	for i, d := range docs {
		out[i] = any(d).(*T)
	}
	return out
}

// findUnscoped runs one find command as it is, for the store's own
// bookkeeping (import stamps, reference checks), never for a caller.
func findUnscoped[T any](ctx context.Context, c *mongo.Collection, filter bson.D, opts ...options.Lister[options.FindOptions]) ([]*T, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, dbError("find "+c.Name(), err)
	}
	var out []*T
	if err := cur.All(ctx, &out); err != nil {
		return nil, dbError("find "+c.Name(), err)
	}
	return out, nil
}

// oneReply is the batch size that lets a loader's batch come back in the
// find's first reply rather than in getMore round trips after it (the
// server still caps a reply at 16 MiB). FerretDB allocates room for a whole
// batch in every reply (8 bytes a document: 8 MiB a find at 2^20, which was
// most of what a request allocated), so it is no larger than a batch needs:
// the largest a benchmark operation fetches is a few thousand documents.
const oneReply = 1 << 14

// oneKeyReply is the batch size of a find for one key's records (a few, or
// a few dozen); more come by getMore.
const oneKeyReply = 1 << 10

// count counts kind k's records that pass w and the caller may see.
func (s *Store) count(ctx context.Context, k *Kind, w where) (int, error) {
	noteWhere(ctx, k, w)
	if c := s.modelFor(ctx, k, w); c != nil {
		if err := ctx.Err(); err != nil {
			return 0, dbError("count "+k.Collection, err)
		}
		return c.count(LevelOf(ctx), w), spend(ctx, 1)
	}
	if err := spend(ctx, 1); err != nil {
		return 0, err
	}
	n, err := s.coll(k).CountDocuments(ctx, scoped(ctx, w.bson()))
	if err != nil {
		return 0, dbError("count "+k.Collection, err)
	}
	return int(n), nil
}

// countOf is count for document type T.
func countOf[T any](ctx context.Context, s *Store, w where) (int, error) {
	return s.count(ctx, kindFor[T](), w)
}

// page returns one page of the records of type T that pass w, in order o,
// reading one more than asked to learn whether another page follows.
func page[T any](ctx context.Context, s *Store, w where, o Order, p Page) (*Result[T], error) {
	k := kindFor[T]()
	var after []string
	if p.After != "" {
		var err error
		if after, err = decodeCursor(k.Collection, p.After, len(o)); err != nil {
			return nil, err
		}
	}
	docs, err := s.recordsOf(ctx, k, w, o, after, p.First+1)
	if err != nil {
		return nil, err
	}
	res := &Result[T]{}
	for _, d := range docs {
		if len(res.Nodes) == p.First {
			res.HasNext = true
			break
		}
		res.Nodes = append(res.Nodes, any(d).(*T))
		res.Cursors = append(res.Cursors, encodeCursor(k.Collection, k.cursorKey(d, o)))
	}
	return res, nil
}

// after is the filter for records that sort after key: greater on the first
// field, or equal on it and greater on the next, and so on.
func (o Order) after(key []string) bson.A {
	or := bson.A{}
	for i := range o {
		d := bson.D{}
		for j := range i {
			d = append(d, bson.E{Key: o[j], Value: key[j]})
		}
		d = append(d, bson.E{Key: o[i], Value: bson.D{{Key: "$gt", Value: key[i]}}})
		or = append(or, d)
	}
	return or
}

// PageOf pages through a list already in memory, sorted by key, with the same
// cursors findPage makes. list names the list so that its cursors are its own.
func PageOf[T any](list string, all []*T, key func(*T) []string, p Page) (*Result[T], error) {
	start := 0
	if p.After != "" {
		after, err := decodeCursor(list, p.After, -1)
		if err != nil {
			return nil, err
		}
		for start < len(all) && !keyLess(after, key(all[start])) {
			start++
		}
	}
	res := &Result[T]{}
	for _, v := range all[start:] {
		if len(res.Nodes) == p.First {
			res.HasNext = true
			break
		}
		res.Nodes = append(res.Nodes, v)
		res.Cursors = append(res.Cursors, encodeCursor(list, key(v)))
	}
	return res, nil
}

func keyLess(a, b []string) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

type cursor struct {
	List string   `json:"l"`
	Key  []string `json:"k"`
}

func encodeCursor(list string, key []string) string {
	b, _ := json.Marshal(cursor{List: list, Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor made for list; n is the number of sort fields
// it must hold, or -1 for any.
func decodeCursor(list, s string, n int) ([]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.List != list || len(c.Key) == 0 || (n >= 0 && len(c.Key) != n) {
		return nil, ErrBadCursor
	}
	return c.Key, nil
}

// FindByIDs returns the records of kind k with the given IDs that the
// caller may see, in the store's shape (shape.go). Loaders batch lookups
// by ID through it.
func (s *Store) FindByIDs(ctx context.Context, k *Kind, ids []string) ([]Doc, error) {
	return s.findDocs(ctx, k, "_id", ids, nil)
}

// FindByRef returns the records of kind k whose reference field holds one
// of ids ("the meetings of these bodies"), that the caller may see, in the
// kind's order, in the store's shape (shape.go).
func (s *Store) FindByRef(ctx context.Context, k *Kind, field string, ids []string) ([]Doc, error) {
	if _, ok := k.Ref(field); !ok {
		return nil, fmt.Errorf("find %s by %s: %s is not a reference of %s", k.Collection, field, field, k.Name)
	}
	return s.findDocs(ctx, k, field, ids, k.Order)
}
