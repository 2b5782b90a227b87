package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

var now = time.Date(2023, 6, 15, 12, 0, 0, 0, time.UTC)

func src() []store.Source {
	loc := "lines 1-1"
	return []store.Source{{Document: "test.txt", Locator: &loc}}
}

func people(n int) []store.Doc {
	out := make([]store.Doc, n)
	for i := range n {
		out[i] = &store.Person{Record: store.Record{ID: fmt.Sprintf("person:p%03d", i), Sources: src()}, Name: fmt.Sprintf("Person %03d", i%50)}
	}
	return out
}

func TestFindPeopleWalksEveryPageOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if err := s.Put(ctx, now, people(250)...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var last []string
	p := store.Page{First: 37}
	pages := 0
	for {
		res, err := s.FindPeople(ctx, store.PersonFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, n := range res.Nodes {
			seen[n.ID]++
			key := []string{n.Name, n.ID}
			if last != nil && !(last[0] < key[0] || last[0] == key[0] && last[1] < key[1]) {
				t.Fatalf("out of order: %v after %v", key, last)
			}
			last = key
		}
		if !res.HasNext {
			break
		}
		p.After = res.Cursors[len(res.Cursors)-1]
	}
	if len(seen) != 250 || pages != 7 {
		t.Fatalf("saw %d people in %d pages, want 250 in 7", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
}

func TestCursorIsStableUnderInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if err := s.Put(ctx, now, people(10)...); err != nil {
		t.Fatal(err)
	}
	first, err := s.FindPeople(ctx, store.PersonFilter{}, store.Page{First: 4})
	if err != nil {
		t.Fatal(err)
	}
	// A record that sorts before the cursor must not shift the next page.
	early := &store.Person{Record: store.Record{ID: "person:aaa", Sources: src()}, Name: "Aaron Early"}
	if err := s.Put(ctx, now, early); err != nil {
		t.Fatal(err)
	}
	next, err := s.FindPeople(ctx, store.PersonFilter{}, store.Page{First: 3, After: first.Cursors[3]})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range next.Nodes {
		got = append(got, n.ID)
	}
	// Names are "Person 000".."Person 009" for p000..p009.
	if diff := cmp.Diff([]string{"person:p004", "person:p005", "person:p006"}, got); diff != "" {
		t.Errorf("next page (-want +got):\n%s", diff)
	}
}

func TestForgedCursorIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	res, err := s.FindMeetings(ctx, store.MeetingFilter{}, store.Page{First: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	for _, after := range []string{"garbage", "eyJsIjoicGVvcGxlIiwiayI6WyJhIiwiYiJdfQ" /* a people cursor */, "e30"} {
		_, err := s.FindMeetings(ctx, store.MeetingFilter{}, store.Page{First: 1, After: after})
		if !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("after=%q: err = %v, want ErrBadCursor", after, err)
		}
	}
}

func TestEnsureIndexesIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil) // Open already ran EnsureIndexes once.
	for range 2 {
		if err := s.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.IndexNames(ctx, "meetings")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"_id_", "bodyId_1_date_1", "date_1__id_1"} {
		if !contains(names, want) {
			t.Errorf("meetings has no index %s; has %v", want, names)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSearchIgnoresCaseAndAccents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	docs := []store.Doc{
		&store.Person{Record: store.Record{ID: "person:renee-smith", Sources: src()}, Name: "Renée Smith", Aliases: []string{"Cllr R Smith"}},
		&store.Body{Record: store.Record{ID: "body:smithfield-board", Sources: src()}, Name: "Smithfield Board", Kind: "BOARD"},
		&store.Organisation{Record: store.Record{ID: "organisation:other", Sources: src()}, Name: "Other", Kind: "OTHER"},
	}
	if err := s.Put(ctx, now, docs...); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, "RENEE", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].(*store.Person).ID != "person:renee-smith" {
		t.Fatalf("search RENEE = %v", hits)
	}
	hits, err = s.Search(ctx, "smith", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 {
		t.Fatalf("search smith found %d, want 2", len(hits))
	}
}
