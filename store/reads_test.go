package store_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestWritesRaiseTheirCouncilsGenerations holds a write to the
// generations of the councils it touches and no others: a record's own
// council, those its references name (before and after), and the shared
// registries' for a shared record.
func TestWritesRaiseTheirCouncilsGenerations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	now := time.Now()
	gens := func() map[string]int64 {
		t.Helper()
		if _, err := s.Generation(ctx); err != nil {
			t.Fatal(err)
		}
		return s.SeenGenerations().Councils
	}
	put := func(docs ...store.Doc) {
		t.Helper()
		if err := s.Put(ctx, now, docs...); err != nil {
			t.Fatal(err)
		}
	}
	put(&store.Organisation{Record: store.Record{ID: "organisation:o", Sources: src()}, Name: "O", Kind: "OTHER"},
		&store.Person{Record: store.Record{ID: "person:a/ann", Sources: src()}, Name: "Ann"},
		&store.Person{Record: store.Record{ID: "person:b/bob", Sources: src()}, Name: "Bob"},
		&store.Person{Record: store.Record{ID: "person:c/cat", Sources: src()}, Name: "Cat"})
	before := gens()
	for _, g := range []string{"council:a", "council:b", "council:c", store.SharedGeneration} {
		if before[g] == 0 {
			t.Fatalf("a write of %s's records left its generation at 0: %v", g, before)
		}
	}

	// A body of council b under a body of council a: a and b move, c not.
	boardID := "body:a/board"
	put(&store.Body{Record: store.Record{ID: "body:a/board", Sources: src()}, Name: "Board", Kind: "BOARD"})
	mid := gens()
	put(&store.Body{Record: store.Record{ID: "body:b/sub", Sources: src()}, Name: "Sub", Kind: "SUB_GROUP", ParentID: &boardID})
	after := gens()
	if after["council:a"] == mid["council:a"] || after["council:b"] == mid["council:b"] {
		t.Errorf("a record of b that names a's body left a or b where they were: %v -> %v", mid, after)
	}
	if after["council:c"] != mid["council:c"] || after[store.SharedGeneration] != mid[store.SharedGeneration] {
		t.Errorf("a write of b's record moved c's or the shared generation: %v -> %v", mid, after)
	}

	// Deleting it moves a again: what it referred to changes.
	if err := s.DeleteByIDs(ctx, "bodies", []string{"body:b/sub"}); err != nil {
		t.Fatal(err)
	}
	gone := gens()
	if gone["council:a"] == after["council:a"] || gone["council:c"] != after["council:c"] {
		t.Errorf("deleting b's body that named a's: %v -> %v, want a moved and c not", after, gone)
	}
}

// TestReadsNoteWhatTheyDependOn holds each kind of read to the
// generations it notes: by ID and by reference its keys' councils, a list
// narrowed to one council that council, a list across councils all of
// them, and a shared registry's reads the shared generation.
func TestReadsNoteWhatTheyDependOn(t *testing.T) {
	t.Parallel()
	ctx := store.WithLevel(context.Background(), store.Officer)
	s := storetest.New(t, nil)
	if err := s.Put(ctx, time.Now(),
		&store.Body{Record: store.Record{ID: "body:a/board", Sources: src()}, Name: "Board", Kind: "BOARD"},
		&store.Meeting{Record: store.Record{ID: "meeting:a/board/2023-01-01", Sources: src()}, BodyID: "body:a/board", Title: "Board", Date: "2023-01-01", Status: "HELD"},
		&store.Area{Record: store.Record{ID: "area:E06000004", Sources: src()}, Name: "Stockton-on-Tees", Kind: "LOCAL_AUTHORITY"},
	); err != nil {
		t.Fatal(err)
	}
	bodies, meetings, areas := store.KindFor[store.Body](), store.KindFor[store.Meeting](), store.KindFor[store.Area]()
	council := "council:a"
	for _, c := range []struct {
		name     string
		read     func(context.Context) error
		all      bool
		councils []string
	}{
		{"by ID", func(ctx context.Context) error {
			_, err := s.FindByIDs(ctx, bodies, []string{"body:a/board"})
			return err
		}, false, []string{"council:a"}},
		{"by reference", func(ctx context.Context) error {
			_, err := s.FindByRef(ctx, meetings, "bodyId", []string{"body:a/board"})
			return err
		}, false, []string{"council:a"}},
		{"a council's list", func(ctx context.Context) error {
			_, err := s.FindMeetings(ctx, store.MeetingFilter{Council: &council}, store.Page{First: 10})
			return err
		}, false, []string{"council:a"}},
		{"a list across councils", func(ctx context.Context) error {
			_, err := s.FindMeetings(ctx, store.MeetingFilter{}, store.Page{First: 10})
			return err
		}, true, nil},
		{"a shared registry", func(ctx context.Context) error {
			_, err := s.FindByIDs(ctx, areas, []string{"area:E06000004"})
			return err
		}, false, []string{store.SharedGeneration}},
		{"search across councils", func(ctx context.Context) error { _, err := s.Search(ctx, "board", 10, nil); return err }, true, nil},
		{"the change feed", func(ctx context.Context) error { _, _, _, err := s.Changes(ctx, 0, nil, nil, 10); return err }, true, nil},
	} {
		rctx, reads := store.WithReads(ctx)
		if err := c.read(rctx); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := reads.Councils()
		slices.Sort(got)
		if reads.All() != c.all || (!c.all && !slices.Equal(got, c.councils)) {
			t.Errorf("%s: noted all=%v %v, want all=%v %v", c.name, reads.All(), got, c.all, c.councils)
		}
	}
}

// TestSnapshotReadsAgainOnlyWhatWasWritten holds the snapshot's builds to
// what was written: after a write through the store the next build reads
// again only the records written (one collection here); after a write by
// another process, which the store learns of only by the generations, it
// reads again the records the change log names since it last read the log
// (the other's, and this store's own since: people and areas the first
// time, areas the next); and the snapshot answers as the database
// throughout.
func TestSnapshotReadsAgainOnlyWhatWasWritten(t *testing.T) {
	t.Parallel()
	ctx := store.WithLevel(context.Background(), store.Officer)
	s := storetest.New(t, nil)
	now := time.Now()
	if err := s.Put(ctx, now,
		&store.Person{Record: store.Record{ID: "person:a/ann", Sources: src()}, Name: "Ann"},
		&store.Person{Record: store.Record{ID: "person:b/bob", Sources: src()}, Name: "Bob"},
		&store.Area{Record: store.Record{ID: "area:E06000004", Sources: src()}, Name: "Stockton-on-Tees", Kind: "LOCAL_AUTHORITY"},
	); err != nil {
		t.Fatal(err)
	}
	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	s.WatchGeneration(20 * time.Millisecond)
	s.KeepSnapshot(64<<20, nil)
	if !s.WaitSnapshot(ctx) {
		t.Fatal("no snapshot")
	}
	all := len(store.Kinds())
	if st := s.SnapshotStats(); st.Reread != all {
		t.Fatalf("a first build read %d collections, want all %d", st.Reread, all)
	}
	names := func() []string {
		t.Helper()
		return personNames(t, ctx, s, "person:a/ann", "person:a/amy", "person:a/ada", "person:b/bob")
	}
	for _, step := range []struct {
		name   string
		by     *store.Store
		write  store.Doc
		reread int
		want   []string
	}{
		{"a council's record here", s, &store.Person{Record: store.Record{ID: "person:a/amy", Sources: src()}, Name: "Amy"}, 1, []string{"Amy", "Ann", "Bob"}},
		{"a shared record here", s, &store.Area{Record: store.Record{ID: "area:E12000001", Sources: src()}, Name: "North East", Kind: "REGION"}, 1, []string{"Amy", "Ann", "Bob"}},
		{"a council's record elsewhere", other, &store.Person{Record: store.Record{ID: "person:a/ada", Sources: src()}, Name: "Ada"}, 2, []string{"Ada", "Amy", "Ann", "Bob"}},
		{"a shared record elsewhere", other, &store.Area{Record: store.Record{ID: "area:E12000002", Sources: src()}, Name: "North West", Kind: "REGION"}, 1, []string{"Ada", "Amy", "Ann", "Bob"}},
		{"a council's record here again", s, &store.Person{Record: store.Record{ID: "person:a/amy", Sources: src()}, Name: "Amy Two"}, 1, []string{"Ada", "Amy Two", "Ann", "Bob"}},
	} {
		if err := step.by.Put(ctx, now, step.write); err != nil {
			t.Fatal(err)
		}
		if step.by != s {
			// What the poll would find within 20 ms, read at once.
			if _, err := s.Generation(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !s.WaitSnapshot(ctx) {
			t.Fatalf("after %s: no snapshot", step.name)
		}
		st := s.SnapshotStats()
		if st.Generation != s.SeenRecordsGeneration() {
			t.Fatalf("after %s: the snapshot is of generation %d, the store's %d", step.name, st.Generation, s.SeenRecordsGeneration())
		}
		if st.Reread != step.reread {
			t.Errorf("after a write of %s the build read %d collections, want %d", step.name, st.Reread, step.reread)
		}
		if got := names(); !slices.Equal(got, step.want) {
			t.Errorf("after a write of %s the snapshot answers %v, want %v", step.name, got, step.want)
		}
	}
	// A deletion elsewhere reaches the model by the log too.
	if err := other.DeleteByIDs(ctx, "people", []string{"person:a/ada"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generation(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.WaitSnapshot(ctx) {
		t.Fatal("after a deletion elsewhere: no snapshot")
	}
	if st := s.SnapshotStats(); st.Reread != 1 {
		t.Errorf("after a deletion elsewhere the build read %d collections, want the people's alone", st.Reread)
	}
	if got, want := names(), []string{"Amy Two", "Ann", "Bob"}; !slices.Equal(got, want) {
		t.Errorf("after a deletion elsewhere the snapshot answers %v, want %v", got, want)
	}
}

// TestSearchFollowsEachCouncilsWrites holds search from the model, which
// each write brings up to date, to what the writes leave in the database.
func TestSearchFollowsEachCouncilsWrites(t *testing.T) {
	t.Parallel()
	ctx := store.WithLevel(context.Background(), store.Officer)
	s := storetest.New(t, nil)
	now := time.Now()
	person := func(id, name string) store.Doc {
		return &store.Person{Record: store.Record{ID: id, Sources: src()}, Name: name}
	}
	if err := s.Put(ctx, now, person("person:a/ann", "Ann Smith"), person("person:b/bea", "Bea Smith"),
		&store.Organisation{Record: store.Record{ID: "organisation:smiths", Sources: src()}, Name: "Smith and Co", Kind: "OTHER"}); err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 1<<30)
	found := func() []string {
		t.Helper()
		if !s.WaitSnapshot(ctx) {
			t.Fatal("no model of the generation written")
		}
		hits, err := s.Search(ctx, "smith", 50, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.(store.Doc).Base().ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := found(), []string{"organisation:smiths", "person:a/ann", "person:b/bea"}; !slices.Equal(got, want) {
		t.Fatalf("search finds %v, want %v", got, want)
	}
	for _, step := range []struct {
		write []store.Doc
		del   []string
		want  []string
	}{
		{write: []store.Doc{person("person:a/amy", "Amy Smith")}, want: []string{"organisation:smiths", "person:a/amy", "person:a/ann", "person:b/bea"}},
		{write: []store.Doc{person("person:b/bea", "Bea Jones")}, want: []string{"organisation:smiths", "person:a/amy", "person:a/ann"}},
		{write: []store.Doc{&store.Organisation{Record: store.Record{ID: "organisation:smiths", Sources: src()}, Name: "Jones and Co", Kind: "OTHER"}}, want: []string{"person:a/amy", "person:a/ann"}},
		{del: []string{"person:a/ann"}, want: []string{"person:a/amy"}},
	} {
		if step.write != nil {
			if err := s.Put(ctx, now, step.write...); err != nil {
				t.Fatal(err)
			}
		}
		if step.del != nil {
			if err := s.DeleteByIDs(ctx, "people", step.del); err != nil {
				t.Fatal(err)
			}
		}
		if got := found(); !slices.Equal(got, step.want) {
			t.Errorf("after a write, search finds %v, want %v", got, step.want)
		}
	}
}

// TestSnapshotServesTheCouncilsNotWritten holds reads to the snapshot in
// hand while it is behind the store: a read that depends only on councils
// not written since is answered from memory, without a command, and any
// other (the written council's, or one across all councils) from the
// database. Builds are held off, so the snapshot stays behind for as long
// as the test reads; a change made in the database behind the store's
// back shows which of the two answered.
func TestSnapshotServesTheCouncilsNotWritten(t *testing.T) {
	t.Parallel()
	ctx := store.WithLevel(context.Background(), store.Officer)
	s, finds := storeCountingFinds(t, "people")
	now := time.Now()
	person := func(id, name string) store.Doc {
		return &store.Person{Record: store.Record{ID: id, Sources: src()}, Name: name}
	}
	if err := s.Put(ctx, now, person("person:a/ann", "Ann"), person("person:b/bob", "Bob")); err != nil {
		t.Fatal(err)
	}
	s.WatchGeneration(20 * time.Millisecond)
	s.KeepSnapshot(64<<20, nil)
	if !s.WaitSnapshot(ctx) {
		t.Fatal("no snapshot")
	}
	defer store.HoldSnapshotBuilds(s)()
	if err := s.Put(ctx, now, person("person:a/amy", "Amy")); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Raw(t, s).Collection("people").UpdateOne(ctx,
		map[string]any{"_id": "person:b/bob"}, map[string]any{"$set": map[string]any{"name": "Robert"}}); err != nil {
		t.Fatal(err)
	}
	byID := func(ids ...string) []string {
		t.Helper()
		return personNames(t, ctx, s, ids...)
	}
	listed := func(f store.PersonFilter) []string {
		t.Helper()
		res, err := s.FindPeople(ctx, f, store.Page{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range res.Nodes {
			names = append(names, p.Name)
		}
		slices.Sort(names)
		return names
	}
	b, a := "council:b", "council:a"
	for _, c := range []struct {
		name     string
		read     func() []string
		want     []string
		fromMemo bool
	}{
		{"council b's person by ID", func() []string { return byID("person:b/bob") }, []string{"Bob"}, true},
		{"council b's people", func() []string { return listed(store.PersonFilter{Council: &b}) }, []string{"Bob"}, true},
		{"council a's people by ID", func() []string { return byID("person:a/ann", "person:a/amy") }, []string{"Amy", "Ann"}, false},
		{"council a's people", func() []string { return listed(store.PersonFilter{Council: &a}) }, []string{"Amy", "Ann"}, false},
		{"everyone", func() []string { return listed(store.PersonFilter{}) }, []string{"Amy", "Ann", "Robert"}, false},
	} {
		finds.Store(0)
		if got := c.read(); !slices.Equal(got, c.want) {
			t.Errorf("%s: read %v, want %v", c.name, got, c.want)
		}
		if sent := finds.Load() > 0; sent == c.fromMemo {
			t.Errorf("%s: sent a find to the database: %v, want %v", c.name, sent, !c.fromMemo)
		}
	}
}

// personNames reads the people with the given IDs and returns their names,
// sorted.
func personNames(t *testing.T, ctx context.Context, s *store.Store, ids ...string) []string {
	t.Helper()
	found, err := s.FindByIDs(ctx, store.KindFor[store.Person](), ids)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range found {
		names = append(names, d.(*store.Person).Name)
	}
	slices.Sort(names)
	return names
}

// TestAnotherProcesssWriteIsReadFromTheNextModel: a read of a council
// another process has written, once the store has seen the write's
// generation, waits for the model that holds it (taken from the change
// log, a moment) and answers with the write; it sends no find to the
// database, where every read that came before the model did once took
// seconds on a large store.
func TestAnotherProcesssWriteIsReadFromTheNextModel(t *testing.T) {
	t.Parallel()
	ctx := store.WithLevel(context.Background(), store.Officer)
	s, finds := storeCountingFinds(t, "people")
	now := time.Now()
	if err := s.Put(ctx, now,
		&store.Person{Record: store.Record{ID: "person:a/ann", Sources: src()}, Name: "Ann"},
		&store.Person{Record: store.Record{ID: "person:b/bob", Sources: src()}, Name: "Bob"},
	); err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 64<<20)
	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	for i, name := range []string{"Amy", "Amy Two"} {
		if err := other.Put(ctx, now, &store.Person{Record: store.Record{ID: "person:a/amy", Sources: src()}, Name: name}); err != nil {
			t.Fatal(err)
		}
		// What the watcher's poll would find, read at once.
		if _, err := s.Generation(ctx); err != nil {
			t.Fatal(err)
		}
		before := finds.Load()
		got := personNames(t, ctx, s, "person:a/ann", "person:a/amy", "person:b/bob")
		if want := []string{name, "Ann", "Bob"}; !slices.Equal(got, want) {
			t.Errorf("write %d: people %q, want %q", i+1, got, want)
		}
		// The model reads the records written from the embedded store's
		// file; elsewhere, by finds of its own.
		if _, ok, _ := store.StoredDocuments(ctx, s, "people"); !ok {
			continue
		}
		if n := finds.Load() - before; n != 0 {
			t.Errorf("write %d: %d finds of people to read what another process wrote, want 0: the next model answers", i+1, n)
		}
	}
}

// TestStampsFromTheSnapshotAsOfNow: an import's stamps come from the
// snapshot, with no find of the collection, only while it holds every
// write the database has counted; a write by another process that the
// watcher has not seen sends them to the database, which has it.
func TestStampsFromTheSnapshotAsOfNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, finds := storeCountingFinds(t, "people")
	now := time.Now()
	person := func(id, name string) store.Doc {
		// Partners' records too: an import's checks see every level.
		return &store.Person{Record: store.Record{ID: id, Sources: src(), Visibility: store.VisibilityPartner}, Name: name}
	}
	if err := s.Put(ctx, now, person("person:a/ann", "Ann"), person("person:b/bob", "Bob")); err != nil {
		t.Fatal(err)
	}
	ids := []string{"person:a/ann", "person:b/bob", "person:a/amy"}
	fromDB, err := s.FindStamps(store.FromDatabase(ctx), "people", ids, "")
	if err != nil {
		t.Fatal(err)
	}
	// A watcher that polls once an hour sees nothing in this test: what
	// the stamps see of the other process's write is their own doing.
	keepSnapshot(t, s, 64<<20)
	before := finds.Load()
	fromSnapshot, err := s.FindStamps(ctx, "people", ids, "")
	if err != nil {
		t.Fatal(err)
	}
	if n := finds.Load() - before; n != 0 {
		t.Errorf("%d finds of people with the snapshot current, want 0", n)
	}
	if len(fromSnapshot) != 2 || !maps.EqualFunc(fromSnapshot, fromDB, func(a, b store.Stamp) bool { return reflect.DeepEqual(a, b) }) {
		t.Errorf("stamps from the snapshot %+v, from the database %+v", fromSnapshot, fromDB)
	}

	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	if err := other.Put(ctx, now, person("person:a/amy", "Amy")); err != nil {
		t.Fatal(err)
	}
	before = finds.Load()
	after, err := s.FindStamps(ctx, "people", ids, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := after["person:a/amy"]; !ok || len(after) != 3 {
		t.Errorf("stamps after another process's write: %d, with Amy %v; want 3 with her", len(after), ok)
	}
	// The stamps are then read from the embedded store's file where it
	// has one, else by one find.
	want := int64(1)
	if _, ok, _ := store.StoredDocuments(ctx, s, "people"); ok {
		want = 0
	}
	if n := finds.Load() - before; n != want {
		t.Errorf("%d finds of people after another process's write, want %d", n, want)
	}
}

// TestCountHeldFromTheSnapshot: what a data set holds, per council and
// level, is counted from the snapshot as the database would count it, with
// no scan of a collection, also right after a write of the set's own,
// which the snapshot reads again by ID.
func TestCountHeldFromTheSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, finds := storeCountingFinds(t, "people")
	now := time.Now()
	person := func(id, dataset, level string) store.Doc {
		return &store.Person{Record: store.Record{ID: id, Sources: src(), Dataset: dataset, Visibility: level}, Name: id}
	}
	if err := s.Put(ctx, now, person("person:a/ann", "one", ""), person("person:a/amy", "one", store.VisibilityPartner),
		person("person:b/bea", "one", store.VisibilityOfficer), person("person:b/bob", "two", "")); err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 64<<20)
	count := func(step string, want map[string][3]int, wantFinds int64) {
		t.Helper()
		before := finds.Load()
		got, err := s.CountHeld(ctx, "one")
		if err != nil {
			t.Fatal(err)
		}
		if n := finds.Load() - before; n != wantFinds {
			t.Errorf("%s: %d finds of people, want %d", step, n, wantFinds)
		}
		fromDB, err := s.CountHeld(store.FromDatabase(ctx), "one")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) || !maps.Equal(fromDB, want) {
			t.Errorf("%s: counted %v from the snapshot, %v from the database; want %v", step, got, fromDB, want)
		}
	}
	count("from the snapshot", map[string][3]int{"council:a": {1, 2, 2}, "council:b": {0, 0, 1}}, 0)
	if err := s.Put(ctx, now, person("person:b/ben", "one", "")); err != nil {
		t.Fatal(err)
	}
	// The snapshot reads Ben again by ID: from the embedded store's file
	// where it has one, else by one find.
	byID := int64(1)
	if _, ok, _ := store.StoredDocuments(ctx, s, "people"); ok {
		byID = 0
	}
	count("after a write", map[string][3]int{"council:a": {1, 2, 2}, "council:b": {1, 1, 2}}, byID)
}

// TestStampsOfIDsAndDataset: an import's stamps are those of the IDs it
// names and of every record its set holds, the same from the snapshot
// (with no find) as from the database.
func TestStampsOfIDsAndDataset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, finds := storeCountingFinds(t, "people")
	person := func(id, dataset string) store.Doc {
		return &store.Person{Record: store.Record{ID: id, Sources: src(), Dataset: dataset}, Name: id}
	}
	if err := s.Put(ctx, time.Now(), person("person:a/ann", "one"), person("person:b/bea", "one"),
		person("person:a/amy", "two"), person("person:b/bob", "two"), person("person:c/cy", "")); err != nil {
		t.Fatal(err)
	}
	ids := []string{"person:a/amy", "person:c/cy", "person:c/none"}
	fromDB, err := s.FindStamps(store.FromDatabase(ctx), "people", ids, "one")
	if err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 64<<20)
	before := finds.Load()
	fromSnapshot, err := s.FindStamps(ctx, "people", ids, "one")
	if err != nil {
		t.Fatal(err)
	}
	if n := finds.Load() - before; n != 0 {
		t.Errorf("%d finds of people with the snapshot current, want 0", n)
	}
	want := []string{"person:a/amy", "person:a/ann", "person:b/bea", "person:c/cy"}
	for name, got := range map[string]map[string]store.Stamp{"the database": fromDB, "the snapshot": fromSnapshot} {
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
			t.Errorf("stamps from %s: %v, want %v", name, keys, want)
		}
	}
	if !maps.EqualFunc(fromSnapshot, fromDB, func(a, b store.Stamp) bool { return reflect.DeepEqual(a, b) }) {
		t.Errorf("stamps from the snapshot %+v, from the database %+v", fromSnapshot, fromDB)
	}
}

// keepSnapshot keeps a snapshot of s of up to size bytes, under a
// generation watcher that polls once an hour (what the store sees of
// another process's writes is then the test's own doing), and waits until
// it is built.
func keepSnapshot(t *testing.T, s *store.Store, size int64) {
	t.Helper()
	s.KeepCurrent(time.Hour, size, nil)
	if !s.WaitSnapshot(context.Background()) {
		t.Fatal("no snapshot")
	}
}

// storeCountingFinds is a test store and a count of the finds sent of one
// collection only: the generation watcher's own finds of the meta document
// run beside a test's reads, at any moment.
func storeCountingFinds(t *testing.T, collection string) (*store.Store, *atomic.Int64) {
	var finds atomic.Int64
	s := storetest.New(t, &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if coll, _ := e.Command.Lookup("find").StringValueOK(); e.CommandName == "find" && coll == collection {
			finds.Add(1)
		}
	}})
	return s, &finds
}

// TestAWriteLeavesOtherCouncilsRecordsAsTheyWere: after a write to council
// A's record, the model answers council B's reads with the very records it
// held before (the same values in memory, not copies read again), and A's
// with the record written; and a public caller's read, which blanks a
// person's contact details, gets a copy, leaving the model's record whole
// for the next caller.
func TestAWriteLeavesOtherCouncilsRecordsAsTheyWere(t *testing.T) {
	t.Parallel()
	officer := store.WithLevel(context.Background(), store.Officer)
	s := storetest.New(t, nil)
	email := "bob@example.org"
	if err := s.Put(officer, time.Now(),
		&store.Person{Record: store.Record{ID: "person:a/ann", Sources: src()}, Name: "Ann"},
		&store.Person{Record: store.Record{ID: "person:b/bob", Sources: src()}, Name: "Bob", Email: &email},
		&store.Body{Record: store.Record{ID: "body:b/cabinet", Sources: src()}, Name: "Cabinet", Kind: "CABINET"},
		&store.Meeting{Record: store.Record{ID: "meeting:b/cabinet:2023-06-15", Sources: src()}, BodyID: "body:b/cabinet", Title: "Cabinet", Date: "2023-06-15", Status: "HELD"},
	); err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 64<<20)
	read := func(k *store.Kind, ids ...string) map[string]store.Doc {
		t.Helper()
		docs, err := s.FindByIDs(officer, k, ids)
		if err != nil || len(docs) != len(ids) {
			t.Fatalf("%s %v: %v, %v", k.Name, ids, docs, err)
		}
		out := map[string]store.Doc{}
		for _, d := range docs {
			out[d.Base().ID] = d
		}
		return out
	}
	person, body, meeting := store.KindNamed("Person"), store.KindNamed("Body"), store.KindNamed("Meeting")
	before := read(person, "person:a/ann", "person:b/bob")
	maps.Copy(before, read(body, "body:b/cabinet"))
	maps.Copy(before, read(meeting, "meeting:b/cabinet:2023-06-15"))
	councilB := "council:b"
	page, err := s.FindMeetings(officer, store.MeetingFilter{Council: &councilB}, store.Page{First: 10})
	if err != nil || len(page.Nodes) != 1 || store.Doc(page.Nodes[0]) != before["meeting:b/cabinet:2023-06-15"] {
		t.Fatalf("council B's meetings list answers %v (%v), not the model's record", page, err)
	}

	if err := s.Put(officer, time.Now(), &store.Person{Record: store.Record{ID: "person:a/ann", Sources: src()}, Name: "Ann Smith"}); err != nil {
		t.Fatal(err)
	}
	if !s.WaitSnapshot(officer) {
		t.Fatal("no model of the write's generation")
	}
	after := read(person, "person:a/ann", "person:b/bob")
	maps.Copy(after, read(body, "body:b/cabinet"))
	maps.Copy(after, read(meeting, "meeting:b/cabinet:2023-06-15"))
	for id, d := range before {
		switch {
		case id == "person:a/ann":
			if after[id] == d || after[id].(*store.Person).Name != "Ann Smith" {
				t.Errorf("%s after its write: %+v", id, after[id])
			}
		case after[id] != d:
			t.Errorf("%s, of council B, is another value in memory after council A's write", id)
		}
	}

	public, err := s.FindByIDs(context.Background(), person, []string{"person:b/bob"})
	if err != nil || len(public) != 1 || public[0].(*store.Person).Email != nil {
		t.Fatalf("a public caller reads %v (%v), want Bob without his email", public, err)
	}
	if public[0] == after["person:b/bob"] {
		t.Error("the public caller was handed the model's own record")
	}
	if again := read(person, "person:b/bob")["person:b/bob"].(*store.Person); again.Email == nil || *again.Email != email {
		t.Errorf("after a public read, the model's Bob has email %v", again.Email)
	}
}

// TestReadersNeverSeeAHalfWrittenSession: while sessions write, one after
// another, a meeting with its three agenda items (a meeting call, then an
// agenda items call), and move another meeting between PARTNER and PUBLIC
// (its items' levels following it), public readers never find a meeting
// without its items, nor some of a meeting's items visible and others
// not.
func TestReadersNeverSeeAHalfWrittenSession(t *testing.T) {
	// Not parallel: its reader reads as fast as it can for as long as the
	// sessions take, which beside other tests is a core for half a minute
	// and alone under a second.
	ctx := context.Background()
	officer := store.WithLevel(ctx, store.Officer)
	s := storetest.New(t, nil)
	meeting := func(i int, visibility string) *store.Meeting {
		return &store.Meeting{Record: store.Record{ID: fmt.Sprintf("meeting:b/cabinet:%03d", i), Sources: src(), Visibility: visibility},
			BodyID: "body:b/cabinet", Title: "Cabinet", Date: fmt.Sprintf("2023-%03d", i), Status: "HELD"}
	}
	session := func(i int, visibility string) []store.Doc {
		docs := []store.Doc{meeting(i, visibility)}
		for n := range 3 {
			docs = append(docs, &store.AgendaItem{Record: store.Record{ID: fmt.Sprintf("agendaItem:b/cabinet:%03d:%d", i, n), Sources: src()},
				MeetingID: meeting(i, "").ID, Title: fmt.Sprintf("Item %d", n)})
		}
		return docs
	}
	first := append([]store.Doc{&store.Body{Record: store.Record{ID: "body:b/cabinet", Sources: src()}, Name: "Cabinet", Kind: "CABINET"}},
		session(0, "")...)
	if err := s.Put(officer, time.Now(), first...); err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 64<<20)

	const sessions = 20
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= sessions; i++ {
			moved := store.VisibilityPartner
			if i%2 == 0 {
				moved = store.VisibilityPublic
			}
			if err := s.Put(officer, time.Now(), append(session(i, ""), meeting(0, moved))...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { <-done }()
	items := store.KindNamed("AgendaItem")
	reads := 0
	for stop := false; !stop; reads++ {
		select {
		case <-done:
			stop = true // one more round after the last session
		default:
		}
		page, err := s.FindMeetings(ctx, store.MeetingFilter{}, store.Page{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Nodes {
			ids = append(ids, m.ID)
		}
		// The moved meeting's items are read on their own: in one read,
		// all of them or none.
		found, err := s.FindByRef(ctx, items, "meetingId", append(ids, "meeting:b/cabinet:000"))
		if err != nil {
			t.Fatal(err)
		}
		per := map[string]int{}
		for _, d := range found {
			per[d.(*store.AgendaItem).MeetingID]++
		}
		for _, id := range ids {
			if id != "meeting:b/cabinet:000" && per[id] != 3 {
				t.Fatalf("read %d: %s with %d of its 3 agenda items", reads, id, per[id])
			}
		}
		if n := per["meeting:b/cabinet:000"]; n != 0 && n != 3 {
			t.Fatalf("read %d: %d of the moved meeting's 3 items visible to the public", reads, n)
		}
	}
	if reads < sessions {
		t.Logf("only %d reads beside %d sessions", reads, sessions)
	}
}
