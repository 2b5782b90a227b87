package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/moderngov"
	"councilgraph/moderngov/mgsync"
	"councilgraph/moderngov/mgtest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// What a synchronised council withholds, in the recorded Manchester
// meeting 4967 made to restrict two things: attachment 60860 (under the
// public item 18831) is a restricted document, listed to everyone, its
// address to officers only; item 18833 is restricted, so exempt business:
// the item is public as the agenda prints it, its document 60909 (and the
// document's address) officers' only.
const (
	syncedRestrictedDoc = "document:manchester/mg-meeting-4967/mg-attachment-60860"
	syncedRestrictedURL = "mgConvert2PDF.aspx?ID=60860"
	syncedExemptItem    = "agendaItem:manchester/mg-meeting-4967/mg-item-18833"
	syncedWithheldDoc   = "document:manchester/mg-meeting-4967/mg-attachment-60909"
	syncedWithheldURL   = "mgConvert2PDF.aspx?ID=60909"
)

// restrict sets the first <isrestricted> after marker to True.
func restrict(b []byte, marker string) []byte {
	i := bytes.Index(b, []byte(marker))
	if i < 0 {
		panic("no " + marker)
	}
	const no, yes = "<isrestricted>False</isrestricted>", "<isrestricted>True</isrestricted>"
	j := i + bytes.Index(b[i:], []byte(no))
	return slices.Concat(b[:j], []byte(yes), b[j+len(no):])
}

// syncedEnv runs a real sync of the restricted recording into a new store
// and serves it (without a response cache, so that each answer comes from
// the database or the snapshot, as the store is set), with a key for each
// scope.
func syncedEnv(t *testing.T) (*store.Store, http.Handler, map[string]string) {
	t.Helper()
	ctx := context.Background()
	site := mgtest.Recorded()
	site.Edit(4967, func(b []byte) []byte {
		return restrict(restrict(b, "<attachmentid>60860</attachmentid>"), "<agendaitemid>18833</agendaitemid>")
	})
	srv := site.Start(t)
	s := storetest.New(t, nil)
	c, err := moderngov.New(srv.URL, moderngov.Options{Rate: -1, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := mgsync.Run(ctx, s, c, mgsync.Options{Council: "council:manchester", Name: "Manchester City Council",
		From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC),
		Now: func() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil || r.Failed() {
		t.Fatalf("sync: %v %+v", err, r.Failures)
	}
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30 // cost is not what the matrix is about
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, LoaderWait: time.Millisecond, ResponseCacheSize: -1},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	callers := map[string]string{"public": ""}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	return s, h, callers
}

// TestSyncedRecordsOnEveryPath is the visibility matrix for what a sync
// writes: for the public, a partner and an officer, every field of every
// synchronised record by every path (lookups, node, nodes, _entities,
// every list, search, the relations two levels down), the downloads of
// every collection in CSV and NDJSON, and the change feed. A restricted
// document is listed to all, its address (in any field, its sources
// included) to officers only; an exempt item is shown to all as printed,
// and its document, by ID or address, reaches officers only.
func TestSyncedRecordsOnEveryPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, h, callers := syncedEnv(t)
	var ids []string
	for _, k := range store.Kinds() {
		ids = append(ids, storetest.IDs(t, s, k.Collection)...)
	}
	slices.Sort(ids)
	if !slices.Contains(ids, syncedWithheldDoc) || !slices.Contains(ids, syncedRestrictedDoc) {
		t.Fatalf("the sync did not write the documents: %v", ids)
	}
	battery := queries(ids)
	battery = append(battery, probe{"changes", `{ changes(first: 100) { edges { node { kind type id record { __typename
	  ... on Document { id title url restricted sources { document url } }
	  ... on AgendaItem { id title exempt minutes } } } } } }`})
	// Every scope on the database, then from the store's snapshot.
	for _, phase := range []string{"database", "snapshot"} {
		if phase == "database" {
			s.KeepSnapshot(-1, nil)
		} else {
			s.KeepSnapshot(store.DefaultSnapshotSize, nil)
			if !s.WaitSnapshot(ctx) {
				t.Fatal("no snapshot of the synchronised records")
			}
		}
		t.Run(phase, func(t *testing.T) { syncedMatrix(t, h, callers, battery) })
	}
}

// syncedMatrix asks the battery, the downloads and two lookups as each
// caller, and checks what each sees of the restricted and withheld.
func syncedMatrix(t *testing.T, h http.Handler, callers map[string]string, battery []probe) {
	for scope, key := range callers {
		officer := scope == auth.ScopeOfficer
		t.Run(scope, func(t *testing.T) {
			t.Parallel()
			var all bytes.Buffer
			for _, q := range battery {
				body := ask(t, h, key, q.query)
				checkTotals(t, q.name, body)
				all.WriteString(withCursorsDecoded(body))
				for _, secret := range []string{syncedRestrictedURL, syncedWithheldURL, "mg-attachment-60909"} {
					if !officer && strings.Contains(string(body), secret) {
						t.Errorf("%s sees %s through %s", scope, secret, q.name)
					}
				}
			}
			for _, f := range export.Collections() {
				for _, ext := range []string{".csv", ".ndjson"} {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest(http.MethodGet, "/export/"+f+ext, nil)
					if key != "" {
						req.Header.Set("Authorization", "Bearer "+key)
					}
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						t.Fatalf("/export/%s%s: %d %s", f, ext, rec.Code, rec.Body.String())
					}
					all.Write(rec.Body.Bytes())
					for _, secret := range []string{syncedRestrictedURL, syncedWithheldURL, "mg-attachment-60909"} {
						if !officer && strings.Contains(rec.Body.String(), secret) {
							t.Errorf("%s sees %s in /export/%s%s", scope, secret, f, ext)
						}
					}
				}
			}
			// What everyone sees, and what only officers do, is there.
			for _, want := range []string{syncedRestrictedDoc, syncedExemptItem, "Work Programme"} {
				if !strings.Contains(all.String(), want) {
					t.Errorf("%s never sees %s", scope, want)
				}
			}
			for _, secret := range []string{syncedRestrictedURL, syncedWithheldURL, syncedWithheldDoc} {
				if officer && !strings.Contains(all.String(), secret) {
					t.Errorf("the officer never sees %s", secret)
				}
			}
			var got struct {
				Data struct {
					AgendaItem struct {
						Exempt    bool
						Title     string
						Documents []struct{ ID string }
					}
					Document struct {
						Restricted bool
						URL        *string
					}
				}
			}
			body := ask(t, h, key, fmt.Sprintf(`{ agendaItem(id: %q) { exempt title documents { id } } document(id: %q) { restricted url } }`, syncedExemptItem, syncedRestrictedDoc))
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Data.AgendaItem.Exempt || got.Data.AgendaItem.Title == "" || (len(got.Data.AgendaItem.Documents) == 1) != officer {
				t.Errorf("%s sees the exempt item as %s", scope, body)
			}
			if !got.Data.Document.Restricted || (got.Data.Document.URL != nil) != officer {
				t.Errorf("%s sees the restricted document as %s", scope, body)
			}
		})
	}
}

// TestSyncedAttacks: what an attacker can try on synchronised records.
// A withheld document's ID answers as an ID that names nothing does, on
// every lookup path; a restricted document's address cannot be reached
// by asking for its fields through another path (node, _entities, the
// meeting's documents, the feed by type); and documents nested in their
// meeting and back, deeper than the limit, are refused, not run.
func TestSyncedAttacks(t *testing.T) {
	t.Parallel()
	s, h, _ := syncedEnv(t)
	const missing = "document:manchester/mg-meeting-4967/mg-attachment-1"
	probeID := func(id string) string {
		return string(ask(t, h, "", fmt.Sprintf(`{ document(id: %q) { id } node(id: %q) { id }
		  nodes(ids: [%q]) { id } _entities(representations: [{__typename: "Document", id: %q}]) { ... on Document { id } } }`, id, id, id, id)))
	}
	if withheld, nothing := probeID(syncedWithheldDoc), probeID(missing); strings.ReplaceAll(withheld, syncedWithheldDoc, "") != strings.ReplaceAll(nothing, missing, "") {
		t.Errorf("a withheld document answers otherwise than a missing one:\n%s\n%s", withheld, nothing)
	}
	via := string(ask(t, h, "", fmt.Sprintf(`{ node(id: %q) { ... on Document { url sources { url } } }
	  _entities(representations: [{__typename: "Document", id: %q}]) { ... on Document { url sources { url } } }
	  meeting(id: "meeting:manchester/mg-meeting-4967") { documents { id url sources { url document } } agendaItems { documents { url } } }
	  changes(types: ["Document"], first: 100) { edges { node { record { ... on Document { url sources { url } } } } } } }`, syncedRestrictedDoc, syncedRestrictedDoc)))
	for _, secret := range []string{syncedRestrictedURL, syncedWithheldURL} {
		if strings.Contains(via, secret) {
			t.Errorf("the public reaches %s: %s", secret, via)
		}
	}
	// Documents to their meeting and back, nested: the operation is
	// refused before it runs.
	q := `{ meeting(id: "meeting:manchester/mg-meeting-4967") { ` + strings.Repeat(`documents { meeting { `, 8) + `id` + strings.Repeat(` } }`, 8) + ` } }`
	hs := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateAddress: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := postAs(hs, "", q)
	if body := rec.Body.String(); !strings.Contains(body, "exceeds the limit") || strings.Contains(body, `"data"`) {
		t.Errorf("nested documents were not refused before they ran: %d %.500s", rec.Code, body)
	}
}

// TestSyncedCostBoundsTheWork: the paths of the new fields (a meeting's
// and an item's documents, a document's meeting and item, a person's
// party, a seat's ward) read no more than their cost admits, on records a
// sync wrote.
func TestSyncedCostBoundsTheWork(t *testing.T) {
	t.Parallel()
	s, _, callers := syncedEnv(t)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, ResponseCacheSize: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, q := range []string{
		`{ meeting(id: "meeting:manchester/mg-meeting-4967") { documents { id title url meeting { id documents { id } } agendaItem { id documents { id restricted } } council { id } sources { url } } } }`,
		`{ meeting(id: "meeting:manchester/mg-meeting-4967") { agendaItems { agendaText documents { publishedOn agendaItem { meeting { documents { id } } } } } } }`,
		`{ document(id: "` + syncedRestrictedDoc + `") { meeting { agendaItems { documents { id } } attendance { person { party memberships { area { id name kind } body { id } } } } } } }`,
		`{ meetings(first: 10, council: "council:manchester") { edges { node { documents { id } agendaItems { documents { id } } } } } }`,
		`{ changes(types: ["Document"], first: 50) { edges { node { record { ... on Document { id meeting { documents { id } } } } } } } }`,
	} {
		for _, key := range callers {
			if body := ask(t, h, key, q); bytes.Contains(body, []byte("than its cost")) {
				t.Errorf("%s read more than its cost: %s", q, body)
			}
		}
	}
}
