package store_test

import (
	"context"
	"testing"
	"time"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestGenerationRaisedOncePerWrite holds every write through the Writer,
// and every key change, to raising the generation once, however many
// records it writes.
func TestGenerationRaisedOncePerWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	gen := func() int64 {
		t.Helper()
		g, err := s.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := gen(); g != 0 {
		t.Fatalf("a new database has generation %d, want 0", g)
	}
	now := time.Now()
	people := []store.Doc{
		&store.Person{Record: store.Record{ID: "person:a", Sources: src()}, Name: "A"},
		&store.Person{Record: store.Record{ID: "person:b", Sources: src()}, Name: "B"},
	}
	if err := s.Put(ctx, now, people...); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != 1 {
		t.Fatalf("after one insert of two records the generation is %d, want 1", g)
	}
	if err := s.Put(ctx, now, people...); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != 2 {
		t.Fatalf("after a replace the generation is %d, want 2", g)
	}
	if err := s.DeleteByIDs(ctx, "people", []string{"person:a"}); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != 3 {
		t.Fatalf("after a delete the generation is %d, want 3", g)
	}
	if err := s.DeleteByIDs(ctx, "people", nil); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != 3 {
		t.Fatalf("a delete of nothing raised the generation to %d", g)
	}
	c := &store.Client{ID: "client:x", Name: "x", Scopes: []string{"partner"}, KeyHash: "h", CreatedAt: now}
	if err := s.InsertClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeClient(ctx, c.ID, now); err != nil {
		t.Fatal(err)
	}
	if g := gen(); g != 5 {
		t.Fatalf("after a key is made and revoked the generation is %d, want 5", g)
	}
	if g := s.SeenGeneration(); g != 5 {
		t.Fatalf("the store's own writes leave SeenGeneration at %d, want 5", g)
	}
}

// TestGenerationWatchSeesOtherProcesses writes through a second
// connection (as `import` does beside a running server) and holds the
// watcher to seeing it at a poll.
func TestGenerationWatchSeesOtherProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	const poll = 100 * time.Millisecond
	s.WatchGeneration(poll)
	if err := other.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: "person:a", Sources: src()}, Name: "A"}); err != nil {
		t.Fatal(err)
	}
	want, err := other.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// How soon the poll comes depends on the machine; the wait is bounded
	// only so that a watcher that never sees the write fails the test.
	const guard = 2 * time.Minute
	deadline := time.Now().Add(guard)
	for s.SeenGeneration() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher (%s) still sees generation %d, %s after %d was written", s.GenerationSource(), s.SeenGeneration(), guard, want)
		}
		time.Sleep(poll / 10)
	}
	if src := s.GenerationSource(); src != "poll" && src != "change stream" {
		t.Errorf("GenerationSource is %q", src)
	}
}
