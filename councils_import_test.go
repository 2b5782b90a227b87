package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestImportRefusesATakeover runs the import command as a user would: the
// Stockton set, then a second council's set that also holds Stockton's
// Cabinet. The second fails (main exits non-zero on the error), prints
// each conflict as file:line: id: owned by stockton, and writes nothing.
func TestImportRefusesATakeover(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	env := map[string]string{"MONGODB_URI": storetest.URI(), "MONGODB_DATABASE": s.DatabaseName()}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"import", "data/stockton"}, getenv, &stdout, &stderr); err != nil {
		t.Fatalf("import data/stockton: %v\n%s", err, stderr.String())
	}

	dir := filepath.Join(t.TempDir(), "hartlepool")
	files := map[string]string{
		"set.yaml": "name: hartlepool\ncouncils: [council:hartlepool, council:stockton-on-tees]\n",
		"bodies.yaml": `- id: body:hartlepool/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 1-1}]
- id: body:stockton-on-tees/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 1-1}]
`,
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := everything(t, s)
	stdout.Reset()
	stderr.Reset()
	err := run(ctx, []string{"import", dir}, getenv, &stdout, &stderr)
	if err == nil {
		t.Fatalf("the takeover imported:\n%s", stdout.String())
	}
	if want := dir + ": 1 problem(s); nothing was written"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if want := "bodies.yaml:6: body:stockton-on-tees/cabinet: owned by stockton\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not name the owner with %q:\n%s", want, stderr.String())
	}
	if diff := cmp.Diff(before, everything(t, s)); diff != "" {
		t.Errorf("the refused import changed the database (-before +after):\n%s", diff)
	}
}

// everything reads every document of every collection of the store's
// database, in _id order.
func everything(t *testing.T, s *store.Store) map[string][]bson.M {
	t.Helper()
	ctx := context.Background()
	db := storetest.Raw(t, s)
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]bson.M{}
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		out[name] = docs
	}
	return out
}
