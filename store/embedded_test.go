package store_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestEmbeddedStoreIsPrivate checks that the embedded store's directory and
// every file in it are its owner's alone, and that it listens on a Unix
// socket in the directory and on no TCP port.
//
// SQLite makes the files of a database created while the store runs with
// the process's umask (the councilgraph command sets 077); the directory is
// 0700 from the start, and each start makes the files in it 0600. This
// test runs with the test process's umask, so it checks the files after a
// second start.
func TestEmbeddedStoreIsPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "db")
	e, err := store.StartEmbedded(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, store.Options{URI: e.URI(), Database: "councilgraph"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, now, people(3)...); err != nil {
		t.Fatal(err)
	}
	_ = s.Close(ctx)
	e.Stop()
	if e, err = store.StartEmbedded(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer e.Stop()

	if want := "mongodb://" + strings.ReplaceAll(filepath.Join(dir, "ferretdb.sock"), "/", "%2F") + "/?maxPoolSize=8"; e.URI() != want {
		t.Errorf("URI = %s, want the socket in the data dir, %s", e.URI(), want)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v, want 0700", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, en := range entries {
		fi, err := en.Info()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, en.Name())
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", en.Name(), fi.Mode().Perm())
		}
	}
	for _, want := range []string{"ADDR", "LOCK", "ferretdb.sock", "councilgraph.sqlite"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("no %s in the data dir: %v", want, names)
		}
	}
	addr, _ := os.ReadFile(filepath.Join(dir, "ADDR"))
	if strings.TrimSpace(string(addr)) != e.URI() {
		t.Errorf("ADDR holds %q, want %q", addr, e.URI())
	}
}

// TestEmbeddedStoreSocketOfALongPath checks that a data dir too deep for a
// socket path still gets a private socket.
func TestEmbeddedStoreSocketOfALongPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	e, err := store.StartEmbedded(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Stop()
	s, err := store.Open(context.Background(), store.Options{URI: e.URI(), Database: "councilgraph"})
	if err != nil {
		t.Fatalf("open %s: %v", e.URI(), err)
	}
	_ = s.Close(context.Background())
	addr, _, _ := strings.Cut(e.URI(), "?")
	sock := strings.TrimSuffix(strings.ReplaceAll(strings.TrimPrefix(addr, "mongodb://"), "%2F", "/"), "/")
	info, err := os.Stat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("socket dir %s has mode %v, want 0700", filepath.Dir(sock), info.Mode().Perm())
	}
}

// TestEmbeddedStoreReportsFerretDBsOwnError checks that a store FerretDB
// cannot open fails with FerretDB's reason, at once.
func TestEmbeddedStoreReportsFerretDBsOwnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "councilgraph.sqlite"), []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := store.StartEmbedded(dir, nil)
	if err == nil {
		e.Stop()
		t.Fatal("a store over a file that is not a database started")
	}
	if !strings.Contains(err.Error(), "not a database") || strings.Contains(err.Error(), "did not answer") {
		t.Errorf("err = %v, want FerretDB's own reason (file is not a database)", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
}

// TestReplacingManyStoredRecordsDoesNotWedgeTheStore replaces more stored
// records than FerretDB on SQLite has connections; in one update command
// that took every connection and never answered.
func TestReplacingManyStoredRecordsDoesNotWedgeTheStore(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.Put(ctx, now, people(250)...); err != nil {
		t.Fatal(err)
	}
	again := people(250)
	for _, d := range again {
		d.(*store.Person).Name += " (renamed)"
	}
	if err := s.Put(ctx, now.Add(time.Hour), again...); err != nil {
		t.Fatalf("replacing 250 stored records: %v", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("the store does not answer after the replace: %v", err)
	}
	res, err := s.FindPeople(ctx, store.PersonFilter{}, store.Page{First: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Nodes) != 1 || !strings.HasSuffix(res.Nodes[0].Name, "(renamed)") {
		t.Errorf("the replace did not land: %+v", res.Nodes)
	}
}

// TestUnreachableIsNotADeadline checks that a reply cut short by the
// caller's deadline, which the driver reports as a network error, does not
// count as the database being unreachable, and that a server that is gone
// does.
func TestUnreachableIsNotADeadline(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	if err := s.Put(context.Background(), now, people(300)...); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if _, err := s.FindPeople(ctx, store.PersonFilter{}, store.Page{First: 100}); err == nil || store.Unreachable(err) {
		t.Errorf("a query past its deadline: %v; Unreachable = %v, want an error that is not Unreachable", err, store.Unreachable(err))
	}

	f, err := store.StartFerretDB(context.Background(), store.FerretConfig{Handler: "sqlite", SQLiteURL: "file:" + t.TempDir() + "/", TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := store.Open(context.Background(), store.Options{URI: f.URI(), Database: "councilgraph"})
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close(context.Background())
	f.Stop()
	ctx, cancel = context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := gone.Check(ctx); !store.Unreachable(err) {
		t.Errorf("a stopped server: %v, want Unreachable", err)
	}
	// Once the driver has marked the server down, a check waits for it
	// to come back until the check's deadline: still unreachable, not
	// slow, whatever the deadline.
	for _, d := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		err := gone.Check(ctx)
		cancel()
		if !store.Unreachable(err) {
			t.Errorf("a stopped server, checked again within %s: %v, want Unreachable", d, err)
		}
	}
}

// TestEmbeddedStoreLooksUpIDsByIndex: on the embedded store a find by _id,
// the statement FerretDB sends to SQLite for every lookup, update and
// delete of one record, is answered from an index, not a scan of the
// collection, for every kind's collection.
func TestEmbeddedStoreLooksUpIDsByIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	db := storetest.Raw(t, s)
	for _, k := range store.Kinds() {
		// SQLite plans a scan of an empty table, which costs nothing.
		if _, err := db.Collection(k.Collection).InsertOne(ctx, bson.D{{Key: "_id", Value: "y"}}); err != nil {
			t.Fatal(err)
		}
		var plan struct {
			QueryPlanner struct {
				Plan []string `bson:"Plan"`
			} `bson:"queryPlanner"`
		}
		cmd := bson.D{{Key: "explain", Value: bson.D{{Key: "find", Value: k.Collection}, {Key: "filter", Value: bson.D{{Key: "_id", Value: "x"}}}}}}
		if err := db.RunCommand(ctx, cmd).Decode(&plan); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(plan.QueryPlanner.Plan, "; ")
		if !strings.Contains(got, "USING INDEX _id_lookup_") {
			t.Errorf("%s: a find by _id is planned as %q, want a search of the ID index", k.Collection, got)
		}
	}
}
