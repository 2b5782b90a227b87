package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// feed reads the whole change log at level l, limit entries a page, and
// returns it as "KIND id" lines.
func feed(t *testing.T, s *store.Store, l store.Level, since int64, limit int, types ...string) ([]string, int64) {
	t.Helper()
	ctx := store.WithLevel(context.Background(), l)
	var out []string
	for {
		page, last, more, err := s.Changes(ctx, since, types, nil, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > limit {
			t.Fatalf("page of %d for limit %d", len(page), limit)
		}
		for _, c := range page {
			if (c.Kind == store.ChangeUpsert) != (c.Record != nil) {
				t.Fatalf("%s %s: record %v", c.Kind, c.ID, c.Record)
			}
			if c.Record != nil && c.Record.Base().ID != c.ID {
				t.Fatalf("entry %s carries record %s", c.ID, c.Record.Base().ID)
			}
			out = append(out, c.Kind+" "+c.ID)
		}
		since = last
		if !more {
			return out, since
		}
	}
}

func wantFeed(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestChangeLogRecordsWritesInOrder: Put, change and delete append one entry
// per record, in order, read back page by page; the types filter holds.
func TestChangeLogRecordsWritesInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	a := &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}
	b := &store.Organisation{Record: store.Record{ID: "organisation:b", Sources: src()}, Name: "B", Kind: "COUNCIL"}
	p := &store.Person{Record: store.Record{ID: "person:p", Sources: src()}, Name: "P"}
	if err := s.Put(ctx, now, a, b, p); err != nil {
		t.Fatal(err)
	}
	got, cur := feed(t, s, store.Public, 0, 2)
	wantFeed(t, "after the first write", got, "UPSERT person:p", "UPSERT organisation:a", "UPSERT organisation:b")

	b.Name = "B2"
	if err := s.Put(ctx, now, b); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteByIDs(ctx, "organisations", []string{"organisation:a", "organisation:gone"}); err != nil {
		t.Fatal(err)
	}
	got, _ = feed(t, s, store.Public, cur, 1)
	wantFeed(t, "after the cursor", got, "UPSERT organisation:b", "DELETE organisation:a")
	got, _ = feed(t, s, store.Officer, 0, 10, "Person")
	wantFeed(t, "people only", got, "UPSERT person:p")
	got, _ = feed(t, s, store.Public, 0, 10)
	// organisation:a's first upsert is left out: the record is gone, and
	// its deletion follows.
	wantFeed(t, "the whole log", got, "UPSERT person:p", "UPSERT organisation:b", "UPSERT organisation:b", "DELETE organisation:a")
}

// TestChangeLogFollowsVisibility: a record moving from PUBLIC to PARTNER,
// and what depends on it, reaches public callers as deletions and partners
// as upserts; a record never public is never named to the public.
func TestChangeLogFollowsVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	body := &store.Body{Record: store.Record{ID: "body:b", Sources: src()}, Name: "B", Kind: "BOARD"}
	meeting := &store.Meeting{Record: store.Record{ID: "meeting:b:2023-01-01", Sources: src()}, BodyID: "body:b", Title: "M", Date: "2023-01-01", Status: "HELD"}
	secret := &store.Person{Record: store.Record{ID: "person:secret", Sources: src(), Visibility: store.VisibilityPartner}, Name: "S"}
	if err := s.Put(ctx, now, body, meeting, secret); err != nil {
		t.Fatal(err)
	}
	_, pub := feed(t, s, store.Public, 0, 10)
	_, par := feed(t, s, store.Partner, 0, 10)

	body.Visibility = store.VisibilityPartner
	if err := s.Put(ctx, now, body); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteByIDs(ctx, "people", []string{secret.ID}); err != nil {
		t.Fatal(err)
	}
	got, _ := feed(t, s, store.Public, pub, 10)
	wantFeed(t, "public", got, "DELETE body:b", "DELETE meeting:b:2023-01-01")
	got, _ = feed(t, s, store.Partner, par, 10)
	wantFeed(t, "partner", got, "UPSERT body:b", "UPSERT meeting:b:2023-01-01", "DELETE person:secret")
	got, _ = feed(t, s, store.Public, 0, 10)
	wantFeed(t, "public, whole log", got, "DELETE body:b", "DELETE meeting:b:2023-01-01")

	body.Visibility = store.VisibilityPublic
	if err := s.Put(ctx, now, body); err != nil {
		t.Fatal(err)
	}
	got, _ = feed(t, s, store.Public, pub, 10)
	wantFeed(t, "public, after the move back", got, "DELETE body:b", "DELETE meeting:b:2023-01-01",
		"UPSERT body:b", "UPSERT meeting:b:2023-01-01")
}

// TestChangeLogRetention: pruning removes old entries, and a cursor from
// before them is refused as expired, while one after them still reads.
func TestChangeLogRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	a := &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}
	if err := s.Put(ctx, now, a); err != nil {
		t.Fatal(err)
	}
	_, first := feed(t, s, store.Public, 0, 10)
	if n, err := s.PruneChanges(ctx, time.Now(), 0); err != nil || n != 0 {
		t.Fatalf("prune of fresh entries: %d, %v", n, err)
	}
	a.Name = "A2"
	if err := s.Put(ctx, now, a); err != nil {
		t.Fatal(err)
	}
	_, second := feed(t, s, store.Public, 0, 10)
	n, err := s.PruneChanges(ctx, time.Now().Add(91*24*time.Hour), 0)
	if err != nil || n != 2 {
		t.Fatalf("prune after 91 days: %d, %v", n, err)
	}
	if _, _, _, err := s.Changes(ctx, first, nil, nil, 10); !errors.Is(err, store.ErrChangesExpired) {
		t.Errorf("cursor before the pruned entries: %v, want ErrChangesExpired", err)
	}
	if _, _, _, err := s.Changes(ctx, second, nil, nil, 10); err != nil {
		t.Errorf("cursor at the last pruned entry: %v", err)
	}
	if err := s.Put(ctx, now, a); err != nil {
		t.Fatal(err)
	}
	got, _ := feed(t, s, store.Public, second, 10)
	wantFeed(t, "after pruning", got, "UPSERT organisation:a")
}

// TestPruneReadsTheLogOnlyWhenDue: the counter keeps the time of the
// log's oldest entry, so a prune with nothing old enough reads no entry,
// and one that prunes leaves the time of the oldest kept.
func TestPruneReadsTheLogOnlyWhenDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, finds := storeCountingFinds(t, "changeLog")
	a := &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}
	put := func(name string) {
		t.Helper()
		a.Name = name
		if err := s.Put(ctx, now, a); err != nil {
			t.Fatal(err)
		}
	}
	prune := func(step string, at time.Time, wantPruned int, wantFinds int64) {
		t.Helper()
		before := finds.Load()
		n, err := s.PruneChanges(ctx, at, 0)
		if err != nil || n != wantPruned {
			t.Fatalf("%s: pruned %d, %v; want %d", step, n, err, wantPruned)
		}
		if got := finds.Load() - before; got != wantFinds {
			t.Errorf("%s: %d finds of the log, want %d", step, got, wantFinds)
		}
	}
	later := time.Now().Add(91 * 24 * time.Hour)
	put("A")
	prune("fresh entries", time.Now(), 0, 0)
	prune("after 91 days", later, 1, 1)
	prune("again, nothing left", later, 0, 0)
	put("A2")
	prune("a fresh entry after a prune", time.Now(), 0, 0)
	prune("that entry after 91 days", later.Add(time.Hour), 1, 1)
}

// TestChangeLogRecovers: a write that fails leaves no pending entry and no
// entry for what was not written; a pending entry left by a stopped
// process holds readers back until RecoverChanges settles it.
func TestChangeLogRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	a := &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}
	if err := s.Put(ctx, now, a); err != nil {
		t.Fatal(err)
	}
	dup := &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}
	fresh := &store.Organisation{Record: store.Record{ID: "organisation:b", Sources: src()}, Name: "B", Kind: "COUNCIL"}
	for _, d := range []store.Doc{dup, fresh} {
		if err := store.Prepare(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertDocs(ctx, "organisations", []store.Doc{dup, fresh}); err == nil {
		t.Fatal("inserting a stored ID succeeded")
	}
	got, _ := feed(t, s, store.Public, 0, 10)
	// The duplicate's entry is kept, as an upsert of a record that exists:
	// at least once, never a change that did not happen.
	wantFeed(t, "after a failed insert", got, "UPSERT organisation:a", "UPSERT organisation:a", "UPSERT organisation:b")

	raw := storetest.Raw(t, s)
	// What a process stopped between its entries and its records leaves:
	// a pending mark, and the log's documents for three entries (one of
	// two, one of one).
	if _, err := raw.Collection("changesPending").InsertOne(ctx, bson.D{{Key: "_id", Value: int64(1000)}, {Key: "last", Value: int64(1002)}}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []bson.D{
		{{Key: "_id", Value: int64(1000)}, {Key: "last", Value: int64(1001)}, {Key: "at", Value: now}, {Key: "kind", Value: store.ChangeUpsert}, {Key: "type", Value: "Organisation"},
			{Key: "ids", Value: bson.A{"organisation:never", "organisation:a"}}, {Key: "from", Value: bson.A{"", ""}}, {Key: "to", Value: bson.A{"PUBLIC", "PARTNER"}}},
		{{Key: "_id", Value: int64(1002)}, {Key: "last", Value: int64(1002)}, {Key: "at", Value: now}, {Key: "kind", Value: store.ChangeDelete}, {Key: "type", Value: "Organisation"},
			{Key: "ids", Value: bson.A{"organisation:b"}}, {Key: "from", Value: bson.A{"PUBLIC"}}, {Key: "to", Value: bson.A{""}}},
	} {
		if _, err := raw.Collection("changeLog").InsertOne(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// The stopped process had reserved those numbers.
	if _, err := raw.Collection("changeCounters").UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "next", Value: int64(1002)}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, now, &store.Organisation{Record: store.Record{ID: "organisation:c", Sources: src()}, Name: "C", Kind: "COUNCIL"}); err != nil {
		t.Fatal(err)
	}
	got, _ = feed(t, s, store.Public, 0, 10)
	if len(got) != 3 {
		t.Errorf("a reader passed a pending entry: %q", got)
	}
	if err := s.RecoverChanges(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = feed(t, s, store.Public, 0, 10)
	wantFeed(t, "after recovery", got, "UPSERT organisation:a", "UPSERT organisation:a", "UPSERT organisation:b",
		"UPSERT organisation:a", "UPSERT organisation:c")
	if n, err := raw.Collection("changesPending").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("pending blocks after recovery: %d, %v", n, err)
	}
}

// TestReadersStopAtAMarkMadeBetweenTheirReads: a Writer that marks and logs
// its numbers while a reader of the log is between its read of the entries
// and its read of the marks is not passed, though its record is not yet
// written: the reader must not move its cursor beyond a change it has not
// shown (a webhook would never deliver it, a model never read its record).
func TestReadersStopAtAMarkMadeBetweenTheirReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A store whose log holds one settled entry, and a reader's hook that
	// once does what a Writer does before it writes its records: reserve
	// the next number, mark it pending and log an upsert under it.
	setUp := func(t *testing.T) (*store.Store, int64) {
		s := storetest.New(t, nil)
		if err := s.Put(ctx, now, &store.Organisation{Record: store.Record{ID: "organisation:a", Sources: src()}, Name: "A", Kind: "COUNCIL"}); err != nil {
			t.Fatal(err)
		}
		settled, err := s.LastChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		raw := storetest.Raw(t, s)
		n := settled + 1
		var once sync.Once
		store.BetweenLogReads(s, func() {
			once.Do(func() {
				if _, err := raw.Collection("changeCounters").UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "next", Value: n}}}}); err != nil {
					t.Error(err)
				}
				if _, err := raw.Collection("changesPending").InsertOne(ctx, bson.D{{Key: "_id", Value: n}, {Key: "last", Value: n}}); err != nil {
					t.Error(err)
				}
				if _, err := raw.Collection("changeLog").InsertOne(ctx, bson.D{{Key: "_id", Value: n}, {Key: "last", Value: n}, {Key: "at", Value: now},
					{Key: "kind", Value: store.ChangeUpsert}, {Key: "type", Value: "Organisation"}, {Key: "ids", Value: bson.A{"organisation:x"}},
					{Key: "from", Value: bson.A{""}}, {Key: "to", Value: bson.A{"PUBLIC"}}}); err != nil {
					t.Error(err)
				}
			})
		})
		return s, settled
	}
	t.Run("the last change", func(t *testing.T) {
		s, settled := setUp(t)
		if last, err := s.LastChange(ctx); err != nil || last != settled {
			t.Errorf("LastChange = %d, %v; want %d, before the Writer's pending number", last, err, settled)
		}
	})
	t.Run("the feed", func(t *testing.T) {
		s, settled := setUp(t)
		got, last := feed(t, s, store.Public, 0, 10)
		wantFeed(t, "the feed beside a Writer", got, "UPSERT organisation:a")
		if last != settled {
			t.Errorf("the feed's cursor moved to %d, past the Writer's pending number %d", last, settled+1)
		}
	})
}

// TestChangeLogUpgradesSingleEntries: entries stored one to a document, as
// the log first kept them, read back in order after EnsureIndexes moves
// them, beside entries written since; the old collection is gone.
func TestChangeLogUpgradesSingleEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	raw := storetest.Raw(t, s)
	if _, err := raw.Collection("changes").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: int64(1)}, {Key: "at", Value: now}, {Key: "kind", Value: store.ChangeUpsert}, {Key: "type", Value: "Person"}, {Key: "rid", Value: "person:p"}, {Key: "from", Value: ""}, {Key: "to", Value: "PUBLIC"}},
		bson.D{{Key: "_id", Value: int64(2)}, {Key: "at", Value: now}, {Key: "kind", Value: store.ChangeUpsert}, {Key: "type", Value: "Person"}, {Key: "rid", Value: "person:p"}, {Key: "from", Value: "PUBLIC"}, {Key: "to", Value: "PUBLIC"}},
		bson.D{{Key: "_id", Value: int64(3)}, {Key: "at", Value: now}, {Key: "kind", Value: store.ChangeDelete}, {Key: "type", Value: "Person"}, {Key: "rid", Value: "person:q"}, {Key: "from", Value: "PUBLIC"}, {Key: "to", Value: ""}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Collection("changeCounters").InsertOne(ctx, bson.D{{Key: "_id", Value: "changes"}, {Key: "next", Value: int64(3)}}); err != nil {
		t.Fatal(err)
	}
	// An upgrade stopped before it dropped the old collection had moved
	// the first two already.
	if _, err := raw.Collection("changeLog").InsertOne(ctx, bson.D{{Key: "_id", Value: int64(1)}, {Key: "last", Value: int64(2)}, {Key: "at", Value: now},
		{Key: "kind", Value: store.ChangeUpsert}, {Key: "type", Value: "Person"}, {Key: "ids", Value: bson.A{"person:p", "person:p"}},
		{Key: "from", Value: bson.A{"", "PUBLIC"}}, {Key: "to", Value: bson.A{"PUBLIC", "PUBLIC"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	p := &store.Person{Record: store.Record{ID: "person:p", Sources: src()}, Name: "P"}
	if err := s.Put(ctx, now, p); err != nil {
		t.Fatal(err)
	}
	got, last := feed(t, s, store.Public, 0, 1)
	wantFeed(t, "after the upgrade", got, "UPSERT person:p", "UPSERT person:p", "DELETE person:q", "UPSERT person:p")
	if last != 4 {
		t.Errorf("last entry %d, want 4", last)
	}
	if names, err := raw.ListCollectionNames(ctx, bson.D{{Key: "name", Value: "changes"}}); err != nil || len(names) != 0 {
		t.Errorf("the old collection is left: %q, %v", names, err)
	}
	if docs, err := raw.Collection("changeLog").CountDocuments(ctx, bson.D{}); err != nil || docs != 3 {
		t.Errorf("the log holds %d documents (%v), want 3: the two old upserts in one, the deletion, the new upsert", docs, err)
	}
}
