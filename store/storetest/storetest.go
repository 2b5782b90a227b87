// Package storetest gives tests a real database: one embedded FerretDB per
// test binary (or the MongoDB named by TEST_MONGODB_URI), and a fresh,
// dropped-afterwards database for each test. When TEST_POSTGRESQL_URL names
// a PostgreSQL database, a second FerretDB runs in process over it, and
// Servers lists both, so that tests of the store's query shapes cover both
// of FerretDB's backends (.ci/run starts one).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/store"
)

var (
	mu    sync.Mutex
	uri   string
	pgURI string
	// servers maps each test database's name to its server's URI.
	servers = map[string]string{}
)

// TestHeap sets a test binary's heap goal. Test binaries live for a minute
// and allocate much: a goal four times the default's takes about a seventh
// off the suite's CPU, which the collector spent. GOGC set in the
// environment wins; benchmarks keep the default, as a server runs.
func TestHeap() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// Main starts the database for a package's tests, runs them and stops it.
// Call it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
	TestHeap()
	u := os.Getenv("TEST_MONGODB_URI")
	if u == "" {
		dir, err := os.MkdirTemp("", "councilgraph-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		e, err := store.StartEmbedded(dir, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
			return 1
		}
		defer e.Stop()
		u = e.URI()
	}
	var pg string
	if pgURL := os.Getenv("TEST_POSTGRESQL_URL"); pgURL != "" {
		stop, u, err := startPostgreSQL(pgURL)
		if err != nil {
			fmt.Fprintln(os.Stderr, "storetest: TEST_POSTGRESQL_URL:", err)
			return 1
		}
		defer stop()
		pg = u
	}
	mu.Lock()
	uri, pgURI = u, pg
	mu.Unlock()
	return m.Run()
}

// startPostgreSQL runs FerretDB in this process over the PostgreSQL
// database at pgURL and waits until it answers.
func startPostgreSQL(pgURL string) (stop func(), uri string, err error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Handler:       "postgresql",
		PostgreSQLURL: pgURL,
	})
	if err != nil {
		return nil, "", fmt.Errorf("ferretdb over postgresql: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	stop = func() { cancel(); <-done }
	client, err := mongo.Connect(options.Client().ApplyURI(f.MongoDBURI()).SetServerSelectionTimeout(10 * time.Second))
	if err == nil {
		err = client.Ping(ctx, nil)
		_ = client.Disconnect(context.Background())
	}
	if err != nil {
		stop()
		return nil, "", fmt.Errorf("ferretdb over postgresql did not answer: %w", err)
	}
	return stop, f.MongoDBURI(), nil
}

// Server is one database server the tests can run on.
type Server struct {
	// Name says which: "embedded" (FerretDB on SQLite, or TEST_MONGODB_URI's
	// server) or "postgresql" (FerretDB over TEST_POSTGRESQL_URL).
	Name string
	uri  string
}

// Servers lists the servers this test binary has: the default one, and
// FerretDB over PostgreSQL when TEST_POSTGRESQL_URL is set.
func Servers() []Server {
	out := []Server{{Name: "embedded", uri: URI()}}
	mu.Lock()
	defer mu.Unlock()
	if pgURI != "" {
		out = append(out, Server{Name: "postgresql", uri: pgURI})
	}
	return out
}

// New opens a fresh database on the server for t, dropped when t ends.
func (sv Server) New(t testing.TB, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	return open(t, sv.uri, monitor)
}

// URI is the test database server's connection string.
func URI() string {
	mu.Lock()
	defer mu.Unlock()
	if uri == "" {
		panic("storetest: call storetest.Main from TestMain first")
	}
	return uri
}

// New opens a fresh database for t, dropped when t ends. A monitor, when
// given, sees every command the test's client sends.
func New(t testing.TB, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	return open(t, URI(), monitor)
}

func open(t testing.TB, uri string, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	name := NewName()
	s, err := store.Open(context.Background(), store.Options{URI: uri, Database: name, Monitor: monitor})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	mu.Lock()
	servers[name] = uri
	mu.Unlock()
	t.Cleanup(func() {
		ctx := context.Background()
		_ = s.Drop(ctx)
		_ = s.Close(ctx)
	})
	return s
}

// NewName makes a database name no other test uses.
func NewName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "test_" + hex.EncodeToString(b[:])
}

// Counter counts the commands a client sends, by name.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// Monitor is the command monitor that feeds the counter.
func (c *Counter) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.counts == nil {
			c.counts = map[string]int{}
		}
		c.counts[e.CommandName]++
	}}
}

// Reset forgets every count.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = nil
}

// Count is how many commands called name were sent since the last Reset.
func (c *Counter) Count(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[name]
}

// Raw opens the database of s on a driver client of the test's own, for
// tests that look at what is stored around the store's methods (to prove
// that nothing was written, or how a field is stored). Collections of a
// record kind are named as in the storage schema ("people").
func Raw(t testing.TB, s *store.Store) *mongo.Database {
	t.Helper()
	mu.Lock()
	u, ok := servers[s.DatabaseName()]
	mu.Unlock()
	if !ok {
		u = URI()
	}
	client, err := mongo.Connect(options.Client().ApplyURI(u))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(s.DatabaseName())
}

// Dump reads every document of every record collection, to tell whether
// something changed anything at all.
func Dump(t testing.TB, s *store.Store) map[string][]bson.M {
	t.Helper()
	db := Raw(t, s)
	out := map[string][]bson.M{}
	for _, k := range store.Kinds() {
		cur, err := db.Collection(k.Collection).Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		out[k.Collection] = docs
	}
	return out
}

// IDs lists, sorted, the ID of every document of a collection, whoever
// may see it.
func IDs(t testing.TB, s *store.Store, collection string) []string {
	t.Helper()
	cur, err := Raw(t, s).Collection(collection).Find(context.Background(), bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids
}

// Count counts every document of a collection, whoever may see it.
func Count(t testing.TB, s *store.Store, collection string) int {
	t.Helper()
	n, err := Raw(t, s).Collection(collection).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// URI is the server's connection string.
func (sv Server) URI() string { return sv.uri }
