package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestSearchIndexAnswersAsTheScan: a store that watches the generation
// searches its index, one that does not scans; on the Stockton set and the
// marked set, at every level, for queries common and rare and every page
// size, both answer the same records in the same order, before and after
// an import moves records across levels, and the watching store sends no
// scan once its index is built.
func TestSearchIndexAnswersAsTheScan(t *testing.T) {
	ctx := context.Background()
	var scans atomic.Int64
	mon := &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName == "find" && strings.Contains(e.Command.String(), `"$regularExpression"`) {
			scans.Add(1)
		}
	}}
	indexed := storetest.New(t, mon)
	for _, set := range []struct{ name, dir string }{{"stockton", "../data/stockton"}, {"protected", visibilitytest.Protected()}} {
		if _, err := importer.ImportFS(ctx, indexed, os.DirFS(set.dir), importer.Options{Dataset: set.name}); err != nil {
			t.Fatal(err)
		}
	}
	scanned, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: indexed.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer scanned.Close(ctx)
	indexed.WatchGeneration(20 * time.Millisecond)

	queries := []string{"council", "an", "zz", "zzmovex", "no such words"}
	levels := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}
	// search runs every query at every level through st.
	search := func(st *store.Store, which string) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for name, l := range levels {
			lctx := store.WithLevel(ctx, l)
			for _, q := range queries {
				for _, first := range []int{3, 100} {
					hits, err := st.Search(lctx, q, first, nil)
					if err != nil {
						t.Fatalf("%s, %s, %q first %d: %v", which, name, q, first, err)
					}
					out[fmt.Sprintf("%s, %q first %d", name, q, first)] = hitIDs(hits)
				}
			}
		}
		return out
	}
	compare := func(phase string, got, want map[string][]string) {
		t.Helper()
		for k, w := range want {
			if g := got[k]; !slices.Equal(g, w) {
				t.Errorf("%s, %s:\n index %q\n  scan %q", phase, k, g, w)
			}
		}
	}
	want := search(scanned, "scan")
	compare("before", search(indexed, "index"), want)
	scans.Store(0)
	compare("again", search(indexed, "index"), want)
	if n := scans.Load(); n != 0 {
		t.Errorf("the watching store scanned %d times with its index built", n)
	}
	if len(want[`officer, "zzmovex" first 100`]) == 0 || len(want[`public, "council" first 3`]) != 3 {
		t.Fatalf("the queries find too little to compare: %v", want)
	}

	if _, err := importer.ImportFS(ctx, indexed, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	compare("after the moved set", search(indexed, "index"), search(scanned, "scan"))
}

func hitIDs(hits []store.Searchable) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.(store.Doc).Base().ID
	}
	return out
}
