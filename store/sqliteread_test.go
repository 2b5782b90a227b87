package store_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestStoredDocumentsAreFerretDBs: what a model's first build reads from
// the embedded store's file is, document for document and byte for byte,
// what FerretDB's find sends: every collection of the Stockton and marked
// sets, and documents holding every type FerretDB stores, in every
// nesting, _id anywhere.
func TestStoredDocumentsAreFerretDBs(t *testing.T) {
	ctx := context.Background()
	s, raw := filledEmbeddedStore(t)
	oid := bson.NewObjectIDFromTimestamp(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	odd := []any{
		bson.D{
			{Key: "_id", Value: "odd:1"},
			{Key: "plain", Value: "plain"},
			{Key: "unicode", Value: "ünïcødé ✓ 😀"},
			{Key: "escaped", Value: "quote\" back\\ nl\n tab\t ctrl\x01 ls\u2028 <&>"},
			{Key: "empty", Value: ""},
			{Key: "zero", Value: 0.0},
			{Key: "negzero", Value: math.Copysign(0, -1)},
			{Key: "half", Value: 1.5},
			{Key: "big", Value: 1e300},
			{Key: "tiny", Value: 5e-324},
			{Key: "whole", Value: 42.0},
			{Key: "third", Value: 1.0 / 3},
			{Key: "i32", Value: int32(math.MaxInt32)},
			{Key: "i32min", Value: int32(math.MinInt32)},
			{Key: "i64", Value: int64(math.MaxInt64)},
			{Key: "i64min", Value: int64(math.MinInt64)},
			{Key: "when", Value: bson.NewDateTimeFromTime(time.Date(2023, 6, 15, 12, 0, 0, 123e6, time.UTC))},
			{Key: "before1970", Value: bson.DateTime(-1)},
			{Key: "epoch", Value: bson.DateTime(0)},
			{Key: "yes", Value: true},
			{Key: "no", Value: false},
			{Key: "nothing", Value: nil},
			{Key: "doc", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: bson.D{}}, {Key: "c", Value: bson.D{{Key: "d", Value: bson.A{"x"}}}}}},
			{Key: "emptydoc", Value: bson.D{}},
			{Key: "list", Value: bson.A{int32(1), "x", bson.D{{Key: "k", Value: "v"}, {Key: "l", Value: bson.A{2.5, nil}}}, nil, true}},
			{Key: "emptylist", Value: bson.A{}},
			{Key: "oid", Value: oid},
			{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 255}}},
			{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{0xab}, 16)}},
			{Key: "userbin", Value: bson.Binary{Subtype: 0x80, Data: []byte{}}},
			{Key: "re", Value: bson.Regex{Pattern: "^a.*\"b\"$", Options: "i"}},
			{Key: "ts", Value: bson.Timestamp{T: 1, I: 2}},
			{Key: "spaced key", Value: int32(1)},
			{Key: "ключ", Value: "значение"},
		},
		bson.D{{Key: "first", Value: "before _id"}, {Key: "_id", Value: "odd:2"}, {Key: "last", Value: int64(7)}},
		bson.D{{Key: "_id", Value: oid}, {Key: "n", Value: int32(3)}},
		bson.D{{Key: "_id", Value: int32(4)}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "compound", Value: "id"}}}},
	}
	if _, err := raw.Collection("oddities").InsertMany(ctx, odd); err != nil {
		t.Fatal(err)
	}
	colls := []string{"oddities"}
	for _, k := range store.Kinds() {
		colls = append(colls, k.Collection)
	}
	for _, c := range colls {
		want := found(t, raw.Collection(c))
		got, _, err := store.StoredDocuments(ctx, s, c)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d documents read from the file, %d found", c, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: document %d read from the file\n%s\nFerretDB's\n%s", c, i, got[i], want[i])
			}
		}
	}
}

// found is every document of c as FerretDB sends it, in its order.
func found(t *testing.T, c *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, bytes.Clone(cur.Current))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStoredTextsFerretDBRefusesAreRefused: a stored text FerretDB would
// not decode, or that a build is not sure to read as FerretDB does, is an
// error (and the kind is then read through FerretDB), never a document.
func TestStoredTextsFerretDBRefusesAreRefused(t *testing.T) {
	const id = `"_id":{"t":"string"}`
	for _, text := range []string{
		``,
		`{}`,
		`[]`,
		`{"_id":"a"}`,
		`{"$s":{"p":{` + id + `},"$k":["_id"]},"_id":"a"} `,
		`{"$s":{"p":{` + id + `},"$k":["_id"]},"_id":"a"}x`,
		`{"$s":{"p":{` + id + `},"$k":["_id"]},"_id":"a","$s":{}}`,
		`{"$s":{"p":{` + id + `},"$k":["_id","_id"]},"_id":"a"}`,
		`{"$s":{"p":{` + id + `},"$k":["_id"],"x":1},"_id":"a"}`,
		`{"$s":{"p":{"n":{"t":"int"}},"$k":["n"]},"n":1}`,
		`{"$s":{"p":{` + id + `},"$k":["_id"]},"_id":"a","n":1}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"int"}},"$k":["_id","n"]},"_id":"a"}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"int"}},"$k":["_id","n"]},"_id":"a","n":2147483648}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"int"}},"$k":["_id","n"]},"_id":"a","n":01}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"int"}},"$k":["_id","n"]},"_id":"a","n":1.0}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"int"}},"$k":["_id","n"]},"_id":"a","n":"1"}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"long"}},"$k":["_id","n"]},"_id":"a","n":1e3}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"double"}},"$k":["_id","n"]},"_id":"a","n":1e999}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"double"}},"$k":["_id","n"]},"_id":"a","n":NaN}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"double"}},"$k":["_id","n"]},"_id":"a","n":.5}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"timestamp"}},"$k":["_id","n"]},"_id":"a","n":-1}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"bool"}},"$k":["_id","n"]},"_id":"a","n":1}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"null"}},"$k":["_id","n"]},"_id":"a","n":0}`,
		`{"$s":{"p":{` + id + `,"n":{"t":"decimal"}},"$k":["_id","n"]},"_id":"a","n":0}`,
		`{"$s":{"p":{` + id + `,"s":{"t":"string"}},"$k":["_id","s"]},"_id":"a","s":"tab	in it"}`,
		`{"$s":{"p":{` + id + `,"s":{"t":"string"}},"$k":["_id","s"]},"_id":"a","s":"unterminated}`,
		`{"$s":{"p":{` + id + `,"o":{"t":"objectId"}},"$k":["_id","o"]},"_id":"a","o":"abc"}`,
		`{"$s":{"p":{` + id + `,"b":{"t":"binData"}},"$k":["_id","b"]},"_id":"a","b":"AAEC"}`,
		`{"$s":{"p":{` + id + `,"b":{"t":"binData","s":0}},"$k":["_id","b"]},"_id":"a","b":"not base64!"}`,
		`{"$s":{"p":{` + id + `,"r":{"t":"regex"}},"$k":["_id","r"]},"_id":"a","r":"x"}`,
		`{"$s":{"p":{` + id + `,"d":{"t":"object"}},"$k":["_id","d"]},"_id":"a","d":{}}`,
		`{"$s":{"p":{` + id + `,"d":{"t":"object","$s":{"p":{"x":{"t":"int"}},"$k":["x"]}}},"$k":["_id","d"]},"_id":"a","d":{"x":1,"x":2}}`,
		`{"$s":{"p":{` + id + `,"l":{"t":"array"}},"$k":["_id","l"]},"_id":"a","l":[]}`,
		`{"$s":{"p":{` + id + `,"l":{"t":"array","i":[{"t":"int"}]}},"$k":["_id","l"]},"_id":"a","l":[1,2]}`,
		`{"$s":{"p":{` + id + `,"l":{"t":"array","i":[{"t":"int"}]}},"$k":["_id","l"]},"_id":"a","l":[1}`,
	} {
		if doc, err := store.StoredAsFerretDB([]byte(text)); err == nil {
			t.Errorf("%s read as %s", text, doc)
		}
	}
}

// TestStoredByIDsAreTheFinds: records read by ID from the embedded
// store's file are, byte for byte, those FerretDB's find by each _id
// sends: in every collection, for IDs that JSON escapes, IDs of no record,
// and more IDs than one statement asks for.
func TestStoredByIDsAreTheFinds(t *testing.T) {
	ctx := context.Background()
	s, raw := filledEmbeddedStore(t)
	var many []any
	for i := range 2500 {
		many = append(many, bson.D{{Key: "_id", Value: fmt.Sprintf("many:%04d", i)}, {Key: "n", Value: int32(i)}})
	}
	many = append(many,
		bson.D{{Key: "_id", Value: "odd:quote\" back\\ <&> \u2028 ünï"}, {Key: "n", Value: int32(-1)}},
		bson.D{{Key: "_id", Value: "odd:tab\t nl\n"}, {Key: "n", Value: int32(-2)}})
	if _, err := raw.Collection("many").InsertMany(ctx, many); err != nil {
		t.Fatal(err)
	}
	colls := []string{"many", "none-such"}
	for _, k := range store.Kinds() {
		colls = append(colls, k.Collection)
	}
	compared := 0
	for _, c := range colls {
		var ids []string
		byID := map[string]bson.Raw{}
		for _, d := range found(t, raw.Collection(c)) {
			id := d.Lookup("_id").StringValue()
			ids = append(ids, id)
			byID[id] = d
		}
		// Every other ID (all of "many"), and some of no record.
		var asked []string
		for i, id := range ids {
			if i%2 == 0 || c == "many" {
				asked = append(asked, id)
			}
		}
		asked = append(asked, "none:such", "", "many:9999")
		got, ok, err := store.StoredByIDs(ctx, s, c, asked)
		if err != nil || !ok {
			t.Fatalf("%s: %v, read from the file: %v", c, err, ok)
		}
		want := 0
		for _, id := range asked {
			if _, held := byID[id]; held {
				want++
			}
		}
		if len(got) != want {
			t.Fatalf("%s: %d of %d asked read from the file, %d held", c, len(got), len(asked), want)
		}
		for _, d := range got {
			id := d.Lookup("_id").StringValue()
			if !bytes.Equal(d, byID[id]) {
				t.Errorf("%s: %q read from the file\n%s\nFerretDB's\n%s", c, id, d, byID[id])
			}
		}
		compared += len(got)
	}
	if compared < 1500 {
		t.Errorf("only %d records compared", compared)
	}
}

// TestStoredStampsAreTheFinds: an import's stamps read from the embedded
// store's file are those FerretDB's find gives, by IDs, by data set and
// by both, in every collection.
func TestStoredStampsAreTheFinds(t *testing.T) {
	ctx := context.Background()
	t.Parallel()
	s, raw := sharedEmbeddedStore(t)
	compared := 0
	for _, k := range store.Kinds() {
		var ids, datasets []string
		for i, d := range found(t, raw.Collection(k.Collection)) {
			if i%3 == 0 {
				ids = append(ids, d.Lookup("_id").StringValue())
			}
			if ds, ok := d.Lookup("dataset").StringValueOK(); ok && !slices.Contains(datasets, ds) {
				datasets = append(datasets, ds)
			}
		}
		for _, dataset := range append(datasets, "", "no-such-set") {
			for _, asked := range [][]string{nil, ids, append(slices.Clone(ids), "none:such")} {
				if len(asked) == 0 && dataset == "" {
					continue // FindStamps asks nothing
				}
				fromFile, byFind, ok, err := store.StampsBothWays(ctx, s, k.Collection, asked, dataset)
				if err != nil || !ok {
					t.Fatalf("%s: %v, read from the file: %v", k.Collection, err, ok)
				}
				if diff := cmp.Diff(byFind, fromFile); diff != "" {
					t.Fatalf("%s, %d IDs, data set %q: the file's stamps differ from the find's (-find +file):\n%s", k.Collection, len(asked), dataset, diff)
				}
				compared += len(byFind)
			}
		}
	}
	if compared < 2000 {
		t.Errorf("only %d stamps compared", compared)
	}
}

// TestHeldFromTheFileIsTheFinds: the counts an import reports of the
// records a data set holds, read from the embedded store's file by the
// data set's index, are those of FerretDB's finds, for every data set
// stored and one that holds nothing.
func TestHeldFromTheFileIsTheFinds(t *testing.T) {
	ctx := context.Background()
	t.Parallel()
	s, raw := sharedEmbeddedStore(t)
	var datasets []string
	for _, k := range store.Kinds() {
		for _, d := range found(t, raw.Collection(k.Collection)) {
			if ds, ok := d.Lookup("dataset").StringValueOK(); ok && !slices.Contains(datasets, ds) {
				datasets = append(datasets, ds)
			}
		}
	}
	if len(datasets) < 2 {
		t.Fatalf("data sets stored: %q", datasets)
	}
	counted := 0
	for _, dataset := range append(datasets, "no-such-set") {
		fromFile, byFind, ok, err := store.HeldBothWays(ctx, s, dataset)
		if err != nil || !ok {
			t.Fatalf("%s: %v, read from the file: %v", dataset, err, ok)
		}
		if diff := cmp.Diff(byFind, fromFile); diff != "" {
			t.Errorf("data set %q: the file's counts differ from the finds' (-find +file):\n%s", dataset, diff)
		}
		for _, n := range byFind {
			counted += n[store.Officer]
		}
	}
	if counted < 1000 {
		t.Errorf("only %d records counted", counted)
	}
}

// TestReferrersFromTheFileAreTheFinds: the records an import's delete
// would leave dangling, read from the embedded store's file, are those
// FerretDB's finds return, through reference fields of one ID and of
// lists, for every kind referred to.
func TestReferrersFromTheFileAreTheFinds(t *testing.T) {
	ctx := context.Background()
	t.Parallel()
	s, raw := sharedEmbeddedStore(t)
	compared, throughLists := 0, 0
	for _, to := range store.Kinds() {
		var ids []string
		for i, d := range found(t, raw.Collection(to.Collection)) {
			if i%2 == 0 {
				ids = append(ids, d.Lookup("_id").StringValue())
			}
		}
		ids = append(ids, "none:such", `quote"d`)
		fromFile, byFind, ok, err := store.ReferrersBothWays(ctx, s, to, ids)
		if err != nil || !ok {
			t.Fatalf("%s: %v, read from the file: %v", to.Name, err, ok)
		}
		if diff := cmp.Diff(byFind, fromFile); diff != "" {
			t.Errorf("referrers of %d %s: the file's differ from the finds' (-find +file):\n%s", len(ids), to.Collection, diff)
		}
		compared += len(byFind)
		for _, r := range byFind {
			if strings.HasSuffix(r.Field, "Ids") {
				throughLists++
			}
		}
	}
	if compared < 1000 || throughLists < 50 {
		t.Errorf("only %d referrers compared, %d through lists", compared, throughLists)
	}
}

// TestFileReadsUseTheirIndexes: SQLite reads a data set's records,
// records by ID and records by a reference of one ID by the indexes the
// store makes for them, not by scanning the table: the expressions of the
// reads and of the indexes are one. The indexes are there on a store as
// opened, and on one whose database was dropped and made again (as the
// benchmarks make theirs).
func TestFileReadsUseTheirIndexes(t *testing.T) {
	ctx := context.Background()
	t.Parallel()
	opened, _ := sharedEmbeddedStore(t)
	remade := embeddedStore(t)
	if err := remade.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := remade.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*store.Store{opened, remade} {
		fileReadsUseTheirIndexes(t, s)
	}
}

func fileReadsUseTheirIndexes(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	for _, k := range store.Kinds() {
		if k.Shared {
			continue
		}
		plan, err := store.StoredPlan(ctx, s, k.Collection, store.ByDatasetWhere, "stockton")
		if err != nil {
			t.Fatalf("%s: %v", k.Collection, err)
		}
		if !strings.Contains(plan, "USING INDEX _dataset_") {
			t.Errorf("%s: a data set's records are read by\n%s", k.Collection, plan)
		}
		where, args := store.ByIDsWhere([]string{"a", "b"})
		if plan, err = store.StoredPlan(ctx, s, k.Collection, where, args...); err != nil {
			t.Fatalf("%s: %v", k.Collection, err)
		}
		if !strings.Contains(plan, "USING INDEX _id_lookup_") {
			t.Errorf("%s: records by ID are read by\n%s", k.Collection, plan)
		}
		for _, r := range k.Refs {
			where, args := store.ByRefsWhere(r.Field, []string{"a", "b"})
			if plan, err = store.StoredPlan(ctx, s, k.Collection, where, args...); err != nil {
				t.Fatalf("%s.%s: %v", k.Collection, r.Field, err)
			}
			// A list is read by its items, row by row.
			if indexed := strings.Contains(plan, "USING INDEX _ref_"+r.Field+"_"); indexed == r.Many() {
				t.Errorf("%s: records by their %s are read by\n%s", k.Collection, r.Field, plan)
			}
		}
	}
}

// TestAStoreBesideAnotherProcesssServerReadsItsFile: a store on an
// embedded server this process does not run (reached here by a URI of
// its own, as an import command beside a running service reaches that
// service's) reads records from the server's file when told its
// directory, as the server's own store does, and not otherwise.
func TestAStoreBesideAnotherProcesssServerReadsItsFile(t *testing.T) {
	if os.Getenv("TEST_MONGODB_URI") != "" {
		t.Skip("reads of an embedded store's file")
	}
	ctx := context.Background()
	dir := t.TempDir()
	e, err := store.StartEmbedded(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	open := func(uri, embeddedDir string) *store.Store {
		s, err := store.Open(ctx, store.Options{URI: uri, Database: "beside", EmbeddedDir: embeddedDir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(ctx) })
		return s
	}
	own := open(e.URI(), "")
	if _, err := importer.ImportFS(ctx, own, os.DirFS(visibilitytest.Protected()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	client, err := mongo.Connect(options.Client().ApplyURI(e.URI()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	for _, d := range found(t, client.Database("beside").Collection("people")) {
		ids = append(ids, d.Lookup("_id").StringValue())
	}
	want, ok, err := store.StoredByIDs(ctx, own, "people", ids)
	if err != nil || !ok || len(want) != len(ids) || len(ids) == 0 {
		t.Fatalf("the server's own store read %d of %d people from its file (%v, %v)", len(want), len(ids), ok, err)
	}
	elsewhere := e.URI() + "&appName=import"
	beside := open(elsewhere, e.Dir())
	got, ok, err := store.StoredByIDs(ctx, beside, "people", ids)
	if err != nil || !ok {
		t.Fatalf("a store told the server's directory read from its file: %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("its people differ from the server's own store's (-own +beside):\n%s", diff)
	}
	fromFile, byFind, ok, err := store.HeldBothWays(ctx, beside, "protected")
	if err != nil || !ok || len(byFind) == 0 {
		t.Fatalf("its counts of the data set: %v from the file (%v), %v found", fromFile, ok, byFind)
	}
	if diff := cmp.Diff(byFind, fromFile); diff != "" {
		t.Errorf("its counts from the file differ from the finds' (-find +file):\n%s", diff)
	}
	if _, ok, err := store.StoredByIDs(ctx, open(elsewhere, ""), "people", ids); ok || err != nil {
		t.Errorf("a store not told the directory read from the file (%v, %v)", ok, err)
	}
}

// TestLastChangeFromTheFileIsTheFinds: the change log's last entry read
// from the embedded store's file is the one FerretDB finds, before any
// write (no block: read by the server) and after imports of many blocks.
func TestLastChangeFromTheFileIsTheFinds(t *testing.T) {
	ctx := context.Background()
	s := embeddedStore(t)
	stored, ok, found, err := store.LastChanges(ctx, s)
	if err != nil || ok || found != 0 {
		t.Fatalf("an empty log: %d from the file (%v), %d found, %v; want none from the file, 0 found", stored, ok, found, err)
	}
	if err := fillStocktonAndMarked(ctx, s); err != nil {
		t.Fatal(err)
	}
	stored, ok, found, err = store.LastChanges(ctx, s)
	if err != nil || !ok || stored != found || found == 0 {
		t.Fatalf("after imports: %d from the file (%v), %d found, %v", stored, ok, found, err)
	}
	if last, err := s.LastChange(ctx); err != nil || last != found {
		t.Fatalf("LastChange = %d, %v; want %d", last, err, found)
	}
	// The entries after a number, up to another, of some types, a few at
	// a time, as the feed and the model read them.
	compared := 0
	for _, since := range []int64{0, found / 3, found/2 + 7, found - 1} {
		for _, upTo := range []int64{math.MaxInt64, found / 2} {
			for _, types := range [][]string{nil, {"Person"}, {"Meeting", "AgendaItem"}} {
				for _, n := range []int{1, 3, 100000} {
					fromFile, ok, byFind, err := store.LogEntries(ctx, s, since, upTo, types, n)
					if err != nil || !ok {
						t.Fatalf("entries after %d: %v, read from the file: %v", since, err, ok)
					}
					if !slices.Equal(fromFile, byFind) {
						t.Fatalf("entries after %d up to %d of %v, %d: from the file\n%q\nfound\n%q", since, upTo, types, n, fromFile, byFind)
					}
					compared += len(byFind)
				}
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d entries compared", compared)
	}
}

// TestModelReadsThroughFerretDBWhatItCannotReadItself: a stored document
// FerretDB reads but a build does not read from the file itself (its
// schema not first) has its kind read through FerretDB: the model holds
// every record, and answers as the database does.
func TestModelReadsThroughFerretDBWhatItCannotReadItself(t *testing.T) {
	ctx := context.Background()
	s := embeddedStore(t)
	if err := s.Put(ctx, now, people(3)...); err != nil {
		t.Fatal(err)
	}
	text, err := store.StoredText(ctx, s, "people", "person:p001")
	if err != nil {
		t.Fatal(err)
	}
	// The same document, its schema last and another _id: FerretDB
	// decodes a document's members by name.
	schema, rest, ok := strings.Cut(strings.TrimPrefix(text, `{"$s":`), `,"_id":"person:p001"`)
	if !ok {
		t.Fatalf("a stored person: %s", text)
	}
	moved := `{"_id":"person:p999"` + strings.TrimSuffix(rest, "}") + `,"$s":` + schema + "}"
	if _, err := store.StoredAsFerretDB([]byte(moved)); err == nil {
		t.Fatalf("%s is read from the file", moved)
	}
	if err := store.StoreText(ctx, s, "people", moved); err != nil {
		t.Fatal(err)
	}
	want, err := s.FindPeople(store.FromDatabase(ctx), store.PersonFilter{}, store.Page{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Nodes) != 4 {
		t.Fatalf("the database holds %d people, want 4", len(want.Nodes))
	}
	keepSnapshot(t, s, 1<<30)
	if n := s.SnapshotStats().Records; n != 4 {
		t.Errorf("the model holds %d records, want 4", n)
	}
	got, err := s.FindPeople(ctx, store.PersonFilter{}, store.Page{First: 100})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the model's people differ from the database's (-want +got):\n%s", diff)
	}
}

// sharedEmbeddedStore is a store on the database of the Stockton and
// marked sets this test binary shares among the tests that only read it
// (importertest.Shared), and that database as the driver reads it; the
// test is skipped where the store is on another server, as embeddedStore.
func sharedEmbeddedStore(t *testing.T) (*store.Store, *mongo.Database) {
	t.Helper()
	s := importertest.Shared(t, "stockton and marked", fillStocktonAndMarked, nil)
	if _, ok, _ := store.StoredDocuments(context.Background(), s, "people"); !ok {
		t.Skip("not on an embedded store of this process")
	}
	return s, storetest.Raw(t, s)
}

// filledEmbeddedStore is embeddedStore holding the Stockton and marked
// sets, and the store's database as the driver reads it.
func filledEmbeddedStore(t *testing.T) (*store.Store, *mongo.Database) {
	t.Helper()
	s := embeddedStore(t)
	if err := fillStocktonAndMarked(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s, storetest.Raw(t, s)
}

// embeddedStore is storetest.New's store, for a test of the reads from the
// embedded store's file; the test is skipped where the store is on another
// server (TEST_MONGODB_URI), which has no file to read.
func embeddedStore(t *testing.T) *store.Store {
	t.Helper()
	s := storetest.New(t, nil)
	if _, ok, _ := store.StoredDocuments(context.Background(), s, "people"); !ok {
		t.Skip("not on an embedded store of this process")
	}
	return s
}
