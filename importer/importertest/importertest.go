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
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

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

// Copy opens a store for t on a new database (storetest.New's, dropped
// when t ends) that holds a copy of every document and index of the
// shared database called name (see Shared): what fill wrote, without
// running it again. It is for tests that write over what fill wrote;
// copying the documents costs the database a fraction of an import's
// work.
func Copy(t testing.TB, name string, fill Fill, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	f := filled(t, name, fill)
	ctx := context.Background()
	shared, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: f.name})
	if err != nil {
		t.Fatalf("open the shared database %s: %v", name, err)
	}
	defer shared.Close(ctx)
	s := storetest.New(t, monitor)
	from, to := storetest.Raw(t, shared), storetest.Raw(t, s)
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
		// The indexes the new database lacks (store.Open made the store's
		// own; FerretDB refuses to make one it has).
		var want, have []bson.M
		for db, into := range map[string]*[]bson.M{"from": &want, "to": &have} {
			d := from
			if db == "to" {
				d = to
			}
			cur, err := d.Collection(c).Indexes().List(ctx)
			if err != nil {
				t.Fatalf("list the indexes of %s: %v", c, err)
			}
			if err := cur.All(ctx, into); err != nil {
				t.Fatalf("list the indexes of %s: %v", c, err)
			}
		}
		var missing []bson.M
		for _, ix := range want {
			if !slices.ContainsFunc(have, func(h bson.M) bool { return h["name"] == ix["name"] }) {
				delete(ix, "v")
				delete(ix, "ns")
				missing = append(missing, ix)
			}
		}
		if len(missing) > 0 {
			if err := to.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: c}, {Key: "indexes", Value: missing}}).Err(); err != nil {
				t.Fatalf("copy the indexes of %s of %s: %v", c, name, err)
			}
		}
	}
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
	return Shared(t, "stockton", stocktonFill(), monitor)
}

// StocktonCopy opens a store for t on a database of its own holding a
// copy of the one Stockton opens, as Copy does: for tests that write
// beside the set.
func StocktonCopy(t testing.TB, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	return Copy(t, "stockton", stocktonFill(), monitor)
}

// stocktonFill imports the Stockton set as dataset "stockton".
func stocktonFill() Fill {
	return Import(os.DirFS(StocktonDir()), importer.Options{Dataset: "stockton"})
}

// StocktonDir is the folder of the Stockton set.
func StocktonDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "data", "stockton")
}

// dropShared drops every shared database on the server at uri.
func dropShared(uri string) error {
	ctx := context.Background()
	mu.Lock()
	defer mu.Unlock()
	for name, f := range fixtures {
		if f.name == "" {
			continue
		}
		s, err := store.Open(ctx, store.Options{URI: uri, Database: f.name})
		if err != nil {
			return fmt.Errorf("drop the shared database %s: %w", name, err)
		}
		err = s.Drop(ctx)
		_ = s.Close(ctx)
		if err != nil {
			return fmt.Errorf("drop the shared database %s: %w", name, err)
		}
	}
	return nil
}
