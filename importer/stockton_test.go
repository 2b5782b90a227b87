package importer_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

const stocktonDir = "../data/stockton"

func loadStockton(t *testing.T) *importer.Set {
	t.Helper()
	set, problems := importer.Load(os.DirFS(stocktonDir))
	if len(problems) > 0 {
		t.Fatalf("the Stockton set does not decode:\n%v", problems)
	}
	return set
}

// stocktonImported is what the import that filled the test binary's
// Stockton database (fillStockton) changed.
var stocktonImported importer.Summary

// fillStockton imports the bundled set into an empty database, as the
// import command does.
func fillStockton(ctx context.Context, s *store.Store) error {
	var err error
	stocktonImported, err = importer.ImportFS(ctx, s, os.DirFS(stocktonDir), importer.Options{RequireManifest: true})
	return err
}

// stocktonCopy is a database of t's own holding the Stockton set as
// fillStockton imported it, for tests that write beside it: a copy costs
// the database a fraction of an import.
func stocktonCopy(t *testing.T) *store.Store {
	t.Helper()
	return importertest.Copy(t, "stockton", fillStockton, nil)
}

// TestStocktonSetImportsCleanly imports the bundled set into an empty
// database (the one the tests beside it copy): every record is valid and
// every reference resolves within it.
func TestStocktonSetImportsCleanly(t *testing.T) {
	t.Parallel()
	importertest.Shared(t, "stockton", fillStockton, nil) // fails t when the import did
	if stocktonImported.Changed() != loadStockton(t).Count() {
		t.Errorf("inserted %d records, the files hold %d", stocktonImported.Changed(), loadStockton(t).Count())
	}
}

// TestStocktonLocatorsLieInsideTheirSources checks that every source names a
// file in sources/ and lines that exist in it.
func TestStocktonLocatorsLieInsideTheirSources(t *testing.T) {
	t.Parallel()
	lines := map[string]int{}
	entries, err := os.ReadDir(filepath.Join(stocktonDir, "sources"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(stocktonDir, "sources", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines[e.Name()] = bytes.Count(b, []byte("\n")) + 1
	}
	loc := regexp.MustCompile(`^lines ([0-9]+)-([0-9]+)$`)
	check := func(id string, sources []store.Source) {
		if len(sources) == 0 {
			t.Errorf("%s: no sources", id)
		}
		for _, src := range sources {
			n, ok := lines[src.Document]
			if !ok {
				t.Errorf("%s: source %q is not in sources/", id, src.Document)
				continue
			}
			if src.Locator == nil {
				t.Errorf("%s: source %s has no locator", id, src.Document)
				continue
			}
			m := loc.FindStringSubmatch(*src.Locator)
			if m == nil {
				t.Errorf("%s: locator %q", id, *src.Locator)
				continue
			}
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			if a < 1 || b < a || b > n {
				t.Errorf("%s: %s %s is outside the file's %d lines", id, src.Document, *src.Locator, n)
			}
		}
	}
	for _, items := range loadStockton(t).Items {
		for _, it := range items {
			check(it.Doc.Base().ID, it.Doc.Base().Sources)
			if p, ok := it.Doc.(*store.Priority); ok {
				for _, u := range p.Updates {
					check(p.ID+" update", u.Sources)
				}
			}
		}
	}
}

// TestStocktonPeopleAreDistinct holds the set to one person, one record: no
// two people share a name or alias.
func TestStocktonPeopleAreDistinct(t *testing.T) {
	t.Parallel()
	owner := map[string]string{}
	for _, it := range loadStockton(t).Items["people"] {
		p := it.Doc.(*store.Person)
		names := map[string]bool{}
		for _, n := range append([]string{p.Name}, p.Aliases...) {
			names[store.Fold(n)] = true
		}
		for n := range names {
			if other, ok := owner[n]; ok {
				t.Errorf("%s and %s both answer to %q", other, p.ID, n)
			}
			owner[n] = p.ID
		}
	}
}

// TestStocktonMeetingsBelongToBodies checks every meeting's body exists and
// its ID names that body and its date.
func TestStocktonMeetingsBelongToBodies(t *testing.T) {
	t.Parallel()
	set := loadStockton(t)
	bodies := map[string]bool{}
	for _, it := range set.Items["bodies"] {
		bodies[it.Doc.Base().ID] = true
	}
	for _, it := range set.Items["meetings"] {
		m := it.Doc.(*store.Meeting)
		if !bodies[m.BodyID] {
			t.Errorf("%s: body %s does not exist", m.ID, m.BodyID)
		}
		// meeting:<council>/<body key>/<date>: the body's council and key.
		if want := "meeting:" + strings.TrimPrefix(m.BodyID, "body:") + "/" + m.Date; m.ID != want {
			t.Errorf("%s: want ID %s for its body and date", m.ID, want)
		}
	}
}

// TestStocktonCountsMatchTheReadme keeps data/stockton/README.md honest.
func TestStocktonCountsMatchTheReadme(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(stocktonDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile(`^\| ([a-zA-Z]+) \| ([0-9]+) \|`)
	documented := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			documented[m[1]], _ = strconv.Atoi(m[2])
		}
	}
	set := loadStockton(t)
	kinds := len(store.Kinds())
	if len(documented) != kinds {
		var missing []string
		for _, k := range store.Kinds() {
			if _, ok := documented[k.Collection]; !ok {
				missing = append(missing, k.Collection)
			}
		}
		t.Fatalf("README documents %d collections, want all %d (missing: %v)", len(documented), kinds, missing)
	}
	for coll, n := range documented {
		if got := len(set.Items[coll]); got != n {
			t.Errorf("%s: README says %d, the files hold %d", coll, n, got)
		}
	}
}

// TestStocktonReimportsUnchanged imports the bundled set again over its
// import, from a copy in another folder, as a partner mirroring the set
// would: the manifest names the set, so the copy is the same set and
// changes nothing (its 1,173 moved IDs included).
func TestStocktonReimportsUnchanged(t *testing.T) {
	t.Parallel()
	s := stocktonCopy(t)
	copyDir := filepath.Join(t.TempDir(), "stockton-copy")
	if err := os.CopyFS(copyDir, os.DirFS(stocktonDir)); err != nil {
		t.Fatal(err)
	}
	before := storetest.Dump(t, s)
	// A guard against a wedged database, not a bound on speed: the import
	// takes seconds.
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	sum, err := importer.ImportFS(ctx, s, os.DirFS(copyDir), importer.Options{RequireManifest: true, Prune: true})
	if err != nil {
		t.Fatalf("the copy did not import within %s: %v", hangGuard, err)
	}
	set := loadStockton(t)
	for _, c := range sum {
		if want := (importer.Counts{Collection: c.Collection, Unchanged: len(set.Items[c.Collection])}); c != want {
			t.Errorf("%+v, want %+v", c, want)
		}
	}
	if diff := cmp.Diff(before, storetest.Dump(t, s)); diff != "" {
		t.Errorf("the copy changed records:\n%s", diff)
	}
	moved, err := s.Moved(context.Background(), []string{"body:cabinet"})
	if err != nil || moved["body:cabinet"] != "body:stockton-on-tees/cabinet" {
		t.Errorf("moved body:cabinet: %v, %v", moved, err)
	}
}

// hangGuard bounds a wait that only a wedged database would make long.
const hangGuard = 2 * time.Minute
