package gen

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestDeterministic checks that a seed always makes the same records and
// that a different seed makes different ones.
func TestDeterministic(t *testing.T) {
	a, b, other := Council(7, 1), Council(7, 1), Council(8, 1)
	if len(a) != len(b) {
		t.Fatalf("same seed gave %d and %d records", len(a), len(b))
	}
	same := true
	for i := range a {
		ra, _ := bson.Marshal(a[i])
		rb, _ := bson.Marshal(b[i])
		if !bytes.Equal(ra, rb) {
			t.Fatalf("record %d differs between two runs with the same seed: %s", i, a[i].Base().ID)
		}
		ro, _ := bson.Marshal(other[i])
		same = same && bytes.Equal(ra, ro)
	}
	if same {
		t.Error("seeds 7 and 8 made the same records")
	}
}

// TestSampleKeepsEveryKind: a sampled council (Config.Sample) holds every
// kind of record a benchmark council does, held and scheduled meetings,
// and as many records as its Config says.
func TestSampleKeepsEveryKind(t *testing.T) {
	kinds := func(docs []store.Doc) map[string]int {
		n := map[string]int{}
		for _, d := range docs {
			n[store.CollectionOf(d)]++
			if m, ok := d.(*store.Meeting); ok {
				n["meetings "+m.Status]++
			}
		}
		return n
	}
	cfg := Config{Seed: 3, Councils: 1, Sample: 10}
	full, sampled := kinds(Council(cfg.Seed, 0)), kinds(cfg.council(0))
	for k, n := range full {
		if sampled[k] == 0 || sampled[k] > n {
			t.Errorf("%s: %d in a sampled council, %d in a full one", k, sampled[k], n)
		}
	}
	if len(sampled) != len(full) {
		t.Errorf("a sampled council holds %v, a full one %v", sampled, full)
	}
	if got, want := len(cfg.council(0)), cfg.Total()-SharedRecords(); got != want {
		t.Errorf("a sampled council holds %d records, its Config says %d", got, want)
	}
}

// loadValid reads a set folder as the importer does and validates it on
// its own: the manifest, every field, ID, enum and reference. It returns
// the set.
func loadValid(t *testing.T, dir string) *importer.Set {
	t.Helper()
	set, problems := importer.Load(os.DirFS(dir))
	if len(problems) == 0 {
		none := func(context.Context, string, []string) (map[string]bool, error) { return map[string]bool{}, nil }
		var err error
		if problems, err = importer.Validate(context.Background(), set, none); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range problems {
		if i == 10 {
			t.Fatalf("%s: ... and %d more problems", dir, len(problems)-10)
		}
		t.Errorf("%s: %s", dir, p)
	}
	return set
}

// TestValid writes two councils' sets, each in its folder, and both as one
// set, and runs each through the importer's decoder and validator: the
// manifests name the councils the records are in, every ID is
// council-scoped (or a shared registry's) and unique, every enum valid,
// every reference resolves within the folder.
func TestValid(t *testing.T) {
	cfg := Config{Seed: 1, Councils: 2}
	root := t.TempDir()
	dirs, n, err := WriteSets(root, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "c000"), filepath.Join(root, "c001")}; !slices.Equal(dirs, want) {
		t.Fatalf("folders %v, want %v", dirs, want)
	}
	if n != 2*cfg.SetRecords() {
		t.Errorf("wrote %d records, want %d a set", n, cfg.SetRecords())
	}
	for c, dir := range dirs {
		set := loadValid(t, dir)
		if set.Manifest == nil || set.Manifest.Name != SetName(c) || !slices.Equal(set.Manifest.Councils, []string{CouncilID(c)}) {
			t.Errorf("%s: manifest %+v, want %s writing %s", dir, set.Manifest, SetName(c), CouncilID(c))
		}
		if got := set.Count(); got != cfg.SetRecords() {
			t.Errorf("%s holds %d records, SetRecords says %d", dir, got, cfg.SetRecords())
		}
		if got := len(set.Items["councils"]); got != 1 {
			t.Errorf("%s holds %d councils, want its own", dir, got)
		}
		for _, items := range set.Items {
			for _, it := range items {
				id := it.Doc.Base().ID
				if c := store.CouncilOf(id); c != "" && c != CouncilID(c0(dir)) {
					t.Errorf("%s: %s is in %s's namespace", dir, id, c)
				}
			}
		}
	}

	one := filepath.Join(root, "all")
	n, err = WriteDir(one, cfg)
	if err != nil {
		t.Fatal(err)
	}
	set := loadValid(t, one)
	if got, want := set.Count(), cfg.Total(); got != want || n != want {
		t.Errorf("one set of %d councils: wrote %d, holds %d, Total says %d", cfg.Councils, n, got, want)
	}
	if set.Manifest == nil || set.Manifest.Name != "synthetic" || len(set.Manifest.Councils) != cfg.Councils {
		t.Errorf("one set's manifest: %+v", set.Manifest)
	}

	// One council's folder alone.
	dirs, _, err = WriteSets(filepath.Join(root, "only"), Config{Seed: 1, Councils: 100}, func(c int) bool { return c == 42 })
	if err != nil || len(dirs) != 1 || filepath.Base(dirs[0]) != "c042" {
		t.Fatalf("only council 42: %v, %v", dirs, err)
	}
}

// c0 is the council a set folder (root/c000) holds.
func c0(dir string) int {
	var c int
	for _, r := range strings.TrimPrefix(filepath.Base(dir), "c") {
		c = c*10 + int(r-'0')
	}
	return c
}

// TestSetsImportAsWriteStores imports two councils' sets, one after the
// other, as a user would, and compares what they stored with what Write
// stores: the same records, owned by the same sets, with the same
// statements of the shared records. A council's set imported again over
// Write's records changes nothing. The councils are sampled (Sample:
// every kind of record, in about a seventh of a benchmark council's
// records): what is compared is how each path writes a record, not how
// many there are, and four imports of full councils cost half a minute of
// the database's CPU.
func TestSetsImportAsWriteStores(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Seed: 3, Councils: 2, Sample: 10}
	dirs, _, err := WriteSets(t.TempDir(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	imported := storetest.New(t, nil)
	for _, dir := range dirs {
		if _, err := importer.ImportFS(ctx, imported, os.DirFS(dir), importer.Options{RequireManifest: true}); err != nil {
			t.Fatalf("import %s: %v", dir, err)
		}
	}
	written := storetest.New(t, nil)
	if _, err := Write(ctx, written, cfg, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	a, b := records(t, imported), records(t, written)
	for coll := range b {
		if diff := cmp.Diff(a[coll], b[coll]); diff != "" {
			t.Errorf("%s: imported (-) and written (+) differ:\n%s", coll, diff)
			break
		}
	}
	for c, dir := range dirs {
		sum, err := importer.ImportFS(ctx, written, os.DirFS(dir), importer.Options{RequireManifest: true})
		if err != nil {
			t.Fatalf("import %s over Write's records: %v", dir, err)
		}
		if sum.Changed() != 0 {
			for _, s := range sum {
				if s.Inserted+s.Updated+s.Deleted > 0 {
					t.Errorf("council %d's set over Write's records: %+v", c, s)
				}
			}
		}
	}
}

// records reads every record collection, each in _id order, without the
// time each record was written.
func records(t *testing.T, s *store.Store) map[string][]bson.M {
	t.Helper()
	out := storetest.Dump(t, s)
	for coll, docs := range out {
		for _, d := range docs {
			delete(d, "updatedAt")
		}
		slices.SortFunc(docs, func(x, y bson.M) int { return strings.Compare(x["_id"].(string), y["_id"].(string)) })
		out[coll] = docs
	}
	return out
}
