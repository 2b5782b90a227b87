// Package importertest gives the tests that only read a data set one
// database per test binary that holds it, filled once, instead of a fresh
// import each: the Stockton set takes seconds of the database's CPU to
// import, and most tests only ask questions of it.
//
// Each test still opens a store of its own on that database (its own
// client, command monitor, watcher and snapshot), closed when the test
// ends; only the stored records are shared. A test that writes, even a
// key, takes its own database from storetest.New instead: Shared fails a
// test after which the shared database's generation has moved.
package importertest

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// Main runs a package's tests as storetest.Main does, then drops the
// shared databases where the server outlives the tests (TEST_MONGODB_URI;
// the embedded server's folder is removed with it). Call it from TestMain:
// os.Exit(importertest.Main(m)).
func Main(m *testing.M) int {
	code := storetest.Main(m)
	if u := os.Getenv("TEST_MONGODB_URI"); u != "" {
		if err := dropShared(u); err != nil {
			fmt.Fprintln(os.Stderr, "importertest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// fixture is one shared database: its name, and the generation its fill
// left it at.
type fixture struct {
	once sync.Once
	name string
	gen  int64
	err  error
}

var (
	mu       sync.Mutex
	fixtures = map[string]*fixture{}
)

// Fill writes a shared database's contents into s, the first time a test
// asks for it.
type Fill func(ctx context.Context, s *store.Store) error

// Import is the Fill that imports the set in fsys with opts.
func Import(fsys fs.FS, opts importer.Options) Fill {
	return func(ctx context.Context, s *store.Store) error {
		_, err := importer.ImportFS(ctx, s, fsys, opts)
		return err
	}
}

// Shared opens a store for t on the database called name in this test
// binary, which fill wrote the first time any test asked for it. monitor,
// when given, sees every command of t's store. The store is closed when t
// ends, and t fails if the database's generation moved meanwhile: a test
// that writes must take a database of its own (Copy).
func Shared(t testing.TB, name string, fill Fill, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	f := filled(t, name, fill)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: f.name, Monitor: monitor})
	if err != nil {
		t.Fatalf("open the shared database %s: %v", name, err)
	}
	t.Cleanup(func() {
		gen, err := s.Generation(ctx)
		if err != nil {
			t.Errorf("read the shared database %s's generation: %v", name, err)
		} else if gen != f.gen {
			t.Errorf("the test wrote to the shared database %s (generation %d, filled at %d): a test that writes takes its own database", name, gen, f.gen)
		}
		_ = s.Close(ctx)
	})
	return s
}

// Copy opens a store for t on a new database, dropped when t ends, that
// holds a copy of every document of the shared database called name (see
// Shared): what fill wrote, without running it again. It is for tests
// that write over what fill wrote; copying the documents costs the
// database a fraction of an import's work.
func Copy(t testing.TB, name string, fill Fill, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	f := filled(t, name, fill)
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(storetest.URI()))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer client.Disconnect(ctx)
	from, to := client.Database(f.name), client.Database(storetest.NewName())
	t.Cleanup(func() {
		// The store is closed by then (cleanups run last first).
		c, err := mongo.Connect(options.Client().ApplyURI(storetest.URI()))
		if err == nil {
			_ = c.Database(to.Name()).Drop(ctx)
			_ = c.Disconnect(ctx)
		}
	})
	colls, err := from.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatalf("list the shared database %s: %v", name, err)
	}
	for _, c := range colls {
		cur, err := from.Collection(c).Find(ctx, bson.D{})
		if err != nil {
			t.Fatalf("copy %s of %s: %v", c, name, err)
		}
		var docs []bson.Raw
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatalf("copy %s of %s: %v", c, name, err)
		}
		if len(docs) > 0 {
			if _, err := to.Collection(c).InsertMany(ctx, docs); err != nil {
				t.Fatalf("copy %s of %s: %v", c, name, err)
			}
		}
		specs, err := from.Collection(c).Indexes().ListSpecifications(ctx)
		if err != nil {
			t.Fatalf("copy the indexes of %s of %s: %v", c, name, err)
		}
		var models []mongo.IndexModel
		for _, sp := range specs {
			if sp.Name == "_id_" {
				continue
			}
			o := options.Index().SetName(sp.Name)
			if sp.Unique != nil {
				o.SetUnique(*sp.Unique)
			}
			if sp.Sparse != nil {
				o.SetSparse(*sp.Sparse)
			}
			if sp.ExpireAfterSeconds != nil {
				o.SetExpireAfterSeconds(*sp.ExpireAfterSeconds)
			}
			models = append(models, mongo.IndexModel{Keys: sp.KeysDocument, Options: o})
		}
		if len(models) > 0 {
			if _, err := to.Collection(c).Indexes().CreateMany(ctx, models); err != nil {
				t.Fatalf("copy the indexes of %s of %s: %v", c, name, err)
			}
		}
	}
	s, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: to.Name(), Monitor: monitor})
	if err != nil {
		t.Fatalf("open the copy of %s: %v", name, err)
	}
	t.Cleanup(func() { _ = s.Close(ctx) })
	return s
}

// filled is the shared database called name, which fill writes the first
// time it is asked for.
func filled(t testing.TB, name string, fill Fill) *fixture {
	t.Helper()
	mu.Lock()
	f := fixtures[name]
	if f == nil {
		f = &fixture{}
		fixtures[name] = f
	}
	mu.Unlock()
	ctx := context.Background()
	f.once.Do(func() {
		f.name = storetest.NewName()
		s, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: f.name})
		if err != nil {
			f.err = fmt.Errorf("open the shared database %s: %w", name, err)
			return
		}
		defer s.Close(ctx)
		if err := fill(ctx, s); err != nil {
			f.err = fmt.Errorf("fill the shared database %s: %w", name, err)
			return
		}
		if f.gen, err = s.Generation(ctx); err != nil {
			f.err = err
		}
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f
}

// Stockton opens a store for t on a database holding the Stockton set
// (data/stockton, dataset "stockton"), as Shared does.
func Stockton(t testing.TB, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	return Shared(t, "stockton", Import(os.DirFS(StocktonDir()), importer.Options{Dataset: "stockton"}), monitor)
}

// StocktonDir is the folder of the Stockton set.
func StocktonDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "data", "stockton")
}

// dropShared drops every shared database on the server at uri.
func dropShared(uri string) error {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(ctx)
	mu.Lock()
	defer mu.Unlock()
	for name, f := range fixtures {
		if f.name == "" {
			continue
		}
		if err := client.Database(f.name).Drop(ctx); err != nil {
			return fmt.Errorf("drop the shared database %s: %w", name, err)
		}
	}
	return nil
}
