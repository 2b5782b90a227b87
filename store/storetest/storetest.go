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

	"go.mongodb.org/mongo-driver/v2/event"

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
