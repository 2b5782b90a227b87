// Package store owns councilgraph's MongoDB storage: the document types (which
// are also the GraphQL models), one collection per type, their indexes, batch
// finds for the loaders, paged lists, and bulk upserts for the importer.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Store is a connection to one councilgraph database. Its collections are
// its own: every read goes through its methods, which keep to the caller's
// visibility level (see visibility.go).
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	// idIndexed says the server looks an _id up by index: an embedded
	// server of this process, whose tables EnsureIndexes indexes
	// (sqliteids.go).
	idIndexed bool
	// sqliteDir is the directory of the embedded server's files, where
	// the store is on one of this process's or was told it
	// (sqliteread.go); "" otherwise.
	sqliteDir string
	// sqlite is that directory's file of the store's database, opened for
	// reading when first needed; sqliteClosed says Close closed it.
	sqliteMu     sync.Mutex
	sqlite       *sql.DB
	sqliteClosed bool
	// colls holds each kind's collection, by kind name.
	colls map[string]*mongo.Collection
	// clients holds the API clients and their key hashes; it is not part
	// of the data set.
	clients *mongo.Collection
	// shape is how batches of keys are sent (shape.go), chosen by Open.
	shape Shape
	// gen is the data generation this process knows (generation.go).
	gen generationWatch
	// hidden is the IDs each level may not see, per generation, for the
	// downloads (visibility.go).
	hidden hiddenCache
	// snap is the records in memory, per generation (snapshot.go).
	snap snapshotKeeper
	// betweenLogReads, when set (by tests), runs between a reader's read of
	// the change log and its read of the pending marks.
	betweenLogReads func()
}

// Options configure Open.
type Options struct {
	// URI is the MongoDB connection string.
	URI string
	// Database is the database name.
	Database string
	// Monitor, when set, sees every command the driver sends.
	Monitor *event.CommandMonitor
	// ConnectTimeout bounds how long Open waits for the server to answer.
	ConnectTimeout time.Duration
	// EmbeddedDir is the directory of the embedded server at URI where
	// another process runs it (InUseError.Dir): the store reads records
	// from its file, as a store of this process's embedded server does,
	// and leaves its indexes to that process.
	EmbeddedDir string
}

// Open connects to the database, waits until it answers a ping (at most
// o.ConnectTimeout, default 10 s) and makes sure every index exists.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	opts := options.Client().ApplyURI(o.URI).SetServerSelectionTimeout(o.ConnectTimeout)
	if o.Monitor != nil {
		opts.SetMonitor(o.Monitor)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURI(o.URI), err)
	}
	pctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("database at %s did not answer within %s: %w", redactURI(o.URI), o.ConnectTimeout, err)
	}
	s := New(client, o.Database)
	if dir, ok := embeddedDirs.Load(o.URI); ok {
		s.sqliteDir, s.idIndexed = dir.(string), true
	} else if o.EmbeddedDir != "" {
		s.sqliteDir = o.EmbeddedDir
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, err
	}
	if s.shape, err = detectShape(ctx, s.db, s.clients.Name()); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("open %s: %w", redactURI(o.URI), err)
	}
	return s, nil
}

// New wraps a connected client, using database name. Its batches are
// MongoDB's shape (ShapeIn); Open asks the server which suits it.
func New(client *mongo.Client, name string) *Store {
	db := client.Database(name)
	s := &Store{client: client, db: db, colls: map[string]*mongo.Collection{}, clients: db.Collection("clients"), shape: ShapeIn}
	for _, k := range kinds {
		s.colls[k.Name] = db.Collection(k.Collection)
	}
	return s
}

// coll is the collection of kind k.
func (s *Store) coll(k *Kind) *mongo.Collection { return s.colls[k.Name] }

// collNamed is the collection of the kind with the given collection name;
// an unknown name is an error, never a nil collection.
func (s *Store) collNamed(name string) (*mongo.Collection, error) {
	_, c, err := s.kindNamed(name)
	return c, err
}

// kindNamed is the kind stored in the collection named name, and the
// collection.
func (s *Store) kindNamed(name string) (*Kind, *mongo.Collection, error) {
	k := KindNamed(name)
	if k == nil || k.Collection != name {
		return nil, nil, fmt.Errorf("store: no collection %q", name)
	}
	return k, s.coll(k), nil
}

// DatabaseName is the name of the store's database.
func (s *Store) DatabaseName() string { return s.db.Name() }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.client.Ping(ctx, nil)
}

// Drop deletes the whole database; tests use it to clean up.
func (s *Store) Drop(ctx context.Context) error {
	err := s.db.Drop(ctx)
	s.closeSQLiteFile(false)
	return err
}

// Close disconnects from the database.
func (s *Store) Close(ctx context.Context) error {
	s.snap.close()
	s.gen.close()
	s.closeSQLiteFile(true)
	return s.client.Disconnect(ctx)
}

func keys(fields ...string) bson.D {
	d := make(bson.D, len(fields))
	for i, f := range fields {
		d[i] = bson.E{Key: f, Value: 1}
	}
	return d
}

// EnsureIndexes creates every index that is missing; existing ones are left
// as they are, so it is safe at every start. (It lists the indexes first and
// creates only the missing ones: FerretDB fails a createIndexes command that
// names an index it already has.) On an embedded server of this process
// it then adds the indexes FerretDB does not make (sqliteids.go) to every
// table, those it has just made included.
func (s *Store) EnsureIndexes(ctx context.Context) error {
	var errs []error
	// The moved IDs' table is read by the IDs entries point to (PutMoves)
	// and written by _id, an entry a statement: made here, it is also
	// among the embedded store's tables that get an _id lookup index
	// (sqliteids.go), without which each of an import's moves scanned it.
	want := map[*mongo.Collection][][]string{s.clients: {{"keyHash"}}, s.moved(): {{"to"}}}
	for _, k := range kinds {
		want[s.coll(k)] = indexesOf(k)
	}
	for c, fields := range want {
		have, err := indexNames(ctx, c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var missing []mongo.IndexModel
		for _, f := range fields {
			if k := keys(f...); !have[indexName(k)] {
				missing = append(missing, mongo.IndexModel{Keys: k, Options: options.Index().SetName(indexName(k))})
			}
		}
		if len(missing) == 0 {
			continue
		}
		if _, err := c.Indexes().CreateMany(ctx, missing); err != nil {
			errs = append(errs, fmt.Errorf("create indexes on %s: %w", c.Name(), err))
		}
	}
	errs = append(errs, s.ensureChangeIndexes(ctx))
	if err := errors.Join(errs...); err != nil || !s.idIndexed {
		return err
	}
	return indexSQLiteIDs(ctx, s.sqliteDir, s.db.Name())
}

// IndexNames lists the names of the indexes of a kind's collection.
func (s *Store) IndexNames(ctx context.Context, collection string) ([]string, error) {
	c, err := s.collNamed(collection)
	if err != nil {
		return nil, err
	}
	have, err := indexNames(ctx, c)
	names := make([]string, 0, len(have))
	for n := range have {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, err
}

// indexName is the name MongoDB gives an index by default: field_1_field_1.
func indexName(keys bson.D) string {
	name := ""
	for i, k := range keys {
		if i > 0 {
			name += "_"
		}
		name += fmt.Sprintf("%s_%v", k.Key, k.Value)
	}
	return name
}

func indexNames(ctx context.Context, c *mongo.Collection) (map[string]bool, error) {
	specs, err := c.Indexes().ListSpecifications(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes on %s: %w", c.Name(), err)
	}
	have := make(map[string]bool, len(specs))
	for _, sp := range specs {
		have[sp.Name] = true
	}
	return have, nil
}

// redactURI hides a password in a connection string.
func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "the configured MongoDB URI"
	}
	return u.Redacted()
}

// Empty reports whether no collection holds any record.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	for _, k := range kinds {
		c := s.coll(k)
		n, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
		if err != nil {
			return false, dbError("count "+c.Name(), err)
		}
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}
