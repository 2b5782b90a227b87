package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// otherton is a second council's set whose every local key is one of
// Stockton's: its own cabinet, carol-clark and council-plan-2022-25.
var otherton = fstest.MapFS{
	"set.yaml": {Data: []byte("name: otherton\ncouncils: [council:otherton]\n")},
	"councils.yaml": {Data: []byte(`- id: council:otherton
  name: Otherton Borough Council
  organisationId: organisation:otherton-borough-council
  sources: [{document: otherton.txt, locator: lines 1-1}]
`)},
	"organisations.yaml": {Data: []byte(`- id: organisation:otherton-borough-council
  name: Otherton Borough Council
  kind: LOCAL_AUTHORITY
  sources: [{document: otherton.txt, locator: lines 1-1}]
`)},
	"people.yaml": {Data: []byte(`- id: person:otherton/carol-clark
  name: Carol Clark
  sources: [{document: otherton.txt, locator: lines 2-2}]
`)},
	"bodies.yaml": {Data: []byte(`- id: body:otherton/cabinet
  name: Cabinet
  kind: CABINET
  sources: [{document: otherton.txt, locator: lines 3-3}]
`)},
	"memberships.yaml": {Data: []byte(`- id: membership:otherton/cabinet/carol-clark
  personId: person:otherton/carol-clark
  bodyId: body:otherton/cabinet
  role: CHAIR
  sources: [{document: otherton.txt, locator: lines 3-3}]
`)},
	"meetings.yaml": {Data: []byte(`- id: meeting:otherton/cabinet/2023-06-15
  bodyId: body:otherton/cabinet
  title: Cabinet
  date: '2023-06-15'
  status: HELD
  sources: [{document: otherton.txt, locator: lines 4-4}]
`)},
	"plans.yaml": {Data: []byte(`- id: plan:otherton/council-plan-2022-25
  title: Council Plan 2022-25
  sources: [{document: otherton.txt, locator: lines 5-5}]
`)},
}

// TestASecondCouncilBesideStockton imports, beside Stockton, a council
// whose local keys are all Stockton's: every Stockton record stays byte
// for byte what it was, and each council's lists, search, downloads and
// change feed show only its own records when asked for one council.
func TestASecondCouncilBesideStockton(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, os.DirFS("../data/stockton"), importer.Options{RequireManifest: true}); err != nil {
		t.Fatal(err)
	}
	before := storedRecords(t, s)
	if _, err := importer.ImportFS(ctx, s, otherton, importer.Options{RequireManifest: true}); err != nil {
		t.Fatal(err)
	}
	after := storedRecords(t, s)
	for id, raw := range before {
		if !bytes.Equal(after[id], raw) {
			t.Errorf("%s changed when another council was imported", id)
		}
	}
	if n := len(after) - len(before); n != 7 {
		t.Errorf("the second council added %d records, want its 7", n)
	}

	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	councils := map[string]string{"council:stockton-on-tees": "stockton-on-tees", "council:otherton": "otherton"}
	lists := []string{"people", "bodies", "meetings", "plans", "reports", "actions", "inspections"}
	for council, slug := range councils {
		for _, list := range lists {
			ids := listIDs(t, h, list, council)
			if list == "people" || list == "bodies" || list == "meetings" || list == "plans" {
				if len(ids) == 0 {
					t.Errorf("%s(council: %s) is empty", list, council)
				}
			}
			for _, id := range ids {
				if store.CouncilOf(id) != council {
					t.Errorf("%s(council: %s) lists %s", list, council, id)
				}
			}
		}
		// Search finds only this council's Carol Clark (and shared records).
		data := post(t, h, "", `{ search(query: "Carol Clark", first: 100, council: "`+council+`") { __typename ... on Node { id } } }`)
		var hits struct{ Search []struct{ ID string } }
		_ = json.Unmarshal(data, &hits)
		people := 0
		for _, hit := range hits.Search {
			if c := store.CouncilOf(hit.ID); c != "" && c != council {
				t.Errorf("search(council: %s) finds %s", council, hit.ID)
			}
			if strings.HasPrefix(hit.ID, "person:"+slug+"/carol-clark") {
				people++
			}
		}
		if people != 1 {
			t.Errorf("search(council: %s) for Carol Clark found %d of its people named so, want 1: %v", council, people, hits.Search)
		}
		// Downloads of one council.
		for _, file := range []string{"people", "bodies", "meetings", "memberships", "plans"} {
			for _, id := range downloadIDs(t, h, "/export/"+file+".ndjson?council="+council) {
				if store.CouncilOf(id) != council {
					t.Errorf("/export/%s.ndjson?council=%s holds %s", file, council, id)
				}
			}
		}
		// The change feed of one council, read to its end: pages of other
		// councils' changes come back empty, their cursor moved on.
		seen, vars := 0, map[string]any{"council": council}
		for page := 0; ; page++ {
			data, errs := postVars(t, h, "", `query($since: String, $council: ID) { changes(since: $since, first: 100, council: $council) {
			  pageInfo { hasNextPage endCursor } edges { node { id } } } }`, vars)
			if len(errs) > 0 || page > 100 {
				t.Fatalf("changes(council: %s): %v", council, errs)
			}
			var feed struct {
				Changes struct {
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct{ Node struct{ ID string } }
				}
			}
			_ = json.Unmarshal(data, &feed)
			for _, e := range feed.Changes.Edges {
				seen++
				if store.CouncilOf(e.Node.ID) != council {
					t.Errorf("changes(council: %s) shows %s", council, e.Node.ID)
				}
			}
			if !feed.Changes.PageInfo.HasNextPage {
				break
			}
			vars["since"] = feed.Changes.PageInfo.EndCursor
		}
		if seen == 0 {
			t.Errorf("changes(council: %s) is empty", council)
		}
	}
	// Each council's Cabinet is its own, with its own members.
	for council, slug := range councils {
		data := post(t, h, "", `{ body(id: "body:`+slug+`/cabinet") { council { id } } }`)
		var b struct {
			Body struct{ Council struct{ ID string } }
		}
		_ = json.Unmarshal(data, &b)
		if b.Body.Council.ID != council {
			t.Errorf("body:%s/cabinet belongs to %q, want %s", slug, b.Body.Council.ID, council)
		}
	}
}

// storedRecords reads every stored record, at every level, as the BSON the
// database holds, by ID.
func storedRecords(t *testing.T, s *store.Store) map[string][]byte {
	t.Helper()
	ctx := store.WithLevel(store.FromDatabase(context.Background()), store.Officer)
	out := map[string][]byte{}
	for _, k := range store.Kinds() {
		err := s.Export(ctx, k.Collection, store.ExportFilter{}, func(d store.Doc) error {
			raw, err := bson.Marshal(d)
			out[d.Base().ID] = raw
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// listIDs reads every ID of a top-level list narrowed to one council.
func listIDs(t *testing.T, h http.Handler, list, council string) []string {
	t.Helper()
	data := post(t, h, "", `{ l: `+list+`(council: "`+council+`", first: 100) { edges { node { id } } } }`)
	var out struct {
		L struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range out.L.Edges {
		ids = append(ids, e.Node.ID)
	}
	slices.Sort(ids)
	return ids
}

// downloadIDs reads the IDs of an NDJSON download.
func downloadIDs(t *testing.T, h http.Handler, path string) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	var ids []string
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// TestAnotherCouncilsImportKeepsCachedAnswers holds the response cache to
// per-council generations: an import that changes one council's records
// leaves the cached answers about another council's records standing, and
// ends those that read across councils.
func TestAnotherCouncilsImportKeepsCachedAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	for _, set := range []fstest.MapFS{otherton, otherton2("Otherton Borough Council")} {
		if _, err := importer.ImportFS(ctx, s, set, importer.Options{RequireManifest: true}); err != nil {
			t.Fatal(err)
		}
	}
	cache := httpapi.NewResponseCache(s, httpapi.DefaultResponseCacheSize, true)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond, ResponseCache: cache},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ask := func(q string) (hit bool) {
		t.Helper()
		before := cache.Stats().Hits
		post(t, h, "", q)
		return cache.Stats().Hits > before
	}
	own := `{ meetings(council: "council:otherton") { edges { node { id title body { name memberships { role person { name } } meetings { totalCount } } } } } }`
	one := `{ body(id: "body:otherton/cabinet") { name council { name } } }`
	across := `{ meetings(first: 50) { edges { node { id } } } }`
	for _, q := range []string{own, one, across} {
		if ask(q) {
			t.Fatalf("a first ask was a hit: %s", q)
		}
		if !ask(q) {
			t.Fatalf("a second ask was not a hit: %s", q)
		}
	}
	// The second council changes one of its records.
	if _, err := importer.ImportFS(ctx, s, otherton2("Otherton Town Council"), importer.Options{RequireManifest: true}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{own, one} {
		if !ask(q) {
			t.Errorf("another council's import ended the cached answer to %s", q)
		}
	}
	if ask(across) {
		t.Error("an answer across councils outlived an import that changed one")
	}
}

// otherton2 is a third council's set, named as given.
func otherton2(name string) fstest.MapFS {
	return fstest.MapFS{
		"set.yaml": {Data: []byte("name: otherton2\ncouncils: [council:otherton2]\n")},
		"councils.yaml": {Data: []byte(`- id: council:otherton2
  name: ` + name + `
  organisationId: organisation:otherton-borough-council
  sources: [{document: otherton2.txt, locator: lines 1-1}]
  notes: It shares its organisation with council:otherton, which only refers to it.
`)},
		"bodies.yaml": {Data: []byte(`- id: body:otherton2/cabinet
  name: Cabinet
  kind: CABINET
  sources: [{document: otherton2.txt, locator: lines 2-2}]
`)},
		"meetings.yaml": {Data: []byte(`- id: meeting:otherton2/cabinet/2023-06-15
  bodyId: body:otherton2/cabinet
  title: ` + name + ` Cabinet
  date: '2023-06-16'
  status: HELD
  sources: [{document: otherton2.txt, locator: lines 2-2}]
`)},
	}
}
