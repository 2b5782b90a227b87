// Package storetest gives tests a real database: one embedded FerretDB per
// test binary (or the MongoDB named by TEST_MONGODB_URI), and a fresh,
// dropped-afterwards database for each test.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/store"
)

var (
	mu  sync.Mutex
	uri string
)

// Main starts the database for a package's tests, runs them and stops it.
// Call it from TestMain: os.Exit(storetest.Main(m)).
func Main(m *testing.M) int {
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
	mu.Lock()
	uri = u
	mu.Unlock()
	return m.Run()
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
	s, err := store.Open(context.Background(), store.Options{URI: URI(), Database: NewName(), Monitor: monitor})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
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
	client, err := mongo.Connect(options.Client().ApplyURI(URI()))
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

// Count counts every document of a collection, whoever may see it.
func Count(t testing.TB, s *store.Store, collection string) int {
	t.Helper()
	n, err := Raw(t, s).Collection(collection).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}
