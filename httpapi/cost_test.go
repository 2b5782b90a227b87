package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestExposeCost reads each request's MongoDB round trips from
// extensions.cost: one find per relation level, one per entity type.
func TestExposeCost(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, httpapi.CostMonitor())
	org := "organisation:north-tees"
	docs := []store.Doc{&store.Organisation{Record: record(org), Name: "North Tees", Kind: "NHS_TRUST"}}
	for _, id := range []string{"person:a", "person:b", "person:c"} {
		docs = append(docs, &store.Person{Record: record(id), Name: strings.ToUpper(id[7:]), OrganisationID: &org})
	}
	if err := s.Put(context.Background(), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), docs...); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	tests := []struct {
		name  string
		query string
		vars  map[string]any
		want  *httpapi.CostReport
	}{
		{
			name:  "two relation levels",
			query: `{ people(first: 10) { edges { node { name organisation { name } } } } }`,
			want:  &httpapi.CostReport{MongoRoundTrips: 2, MongoCommands: map[string]int{"find people": 1, "find organisations": 1}},
		},
		{
			name:  "entities of two types, one unknown",
			query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name } ... on Organisation { name } } }`,
			vars: map[string]any{"r": []map[string]any{
				{"__typename": "Person", "id": "person:a"}, {"__typename": "Organisation", "id": org},
				{"__typename": "Person", "id": "person:c"}, {"__typename": "Person", "id": "person:missing"},
			}},
			// three person IDs: one find, or one per ID where the store's
			// shape looks IDs up one by one (store.Shape.Finds); the ID
			// that names no record is looked for once more, in the table
			// of moved IDs, since an ID once published keeps resolving
			want: &httpapi.CostReport{MongoRoundTrips: 2 + s.Shape().Finds("_id", 3), MongoCommands: map[string]int{"find people": s.Shape().Finds("_id", 3), "find organisations": 1, "find moved": 1}},
		},
		{
			name:  "nothing from the database",
			query: `{ __typename }`,
			want:  &httpapi.CostReport{MongoRoundTrips: 0, MongoCommands: map[string]int{}},
		},
	}
	// The database's round trips: with the snapshot off, every read is one.
	for _, expose := range []bool{true, false} {
		h := httpapitest.New(s, httpapi.Config{ExposeCost: expose, SnapshotSize: -1}, quiet)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s, exposed %v", tt.name, expose), func(t *testing.T) {
				body, _ := json.Marshal(map[string]any{"query": tt.query, "variables": tt.vars})
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(body)))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var resp struct {
					Errors     []any `json:"errors"`
					Extensions struct {
						Cost *httpapi.CostReport `json:"cost"`
					} `json:"extensions"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != http.StatusOK || len(resp.Errors) > 0 {
					t.Fatalf("POST = %d %s (%v)", rec.Code, rec.Body.String(), err)
				}
				want := tt.want
				if !expose {
					want = nil
				}
				if diff := cmp.Diff(want, resp.Extensions.Cost); diff != "" {
					t.Errorf("extensions.cost with ExposeCost %v (-want +got):\n%s", expose, diff)
				}
			})
		}
	}
}

// TestExposeCostOfTheSnapshot: once the snapshot of the current data is
// ready, record reads send the database nothing, and the cost says so.
func TestExposeCostOfTheSnapshot(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, httpapi.CostMonitor())
	org := "organisation:north-tees"
	if err := s.Put(context.Background(), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		&store.Organisation{Record: record(org), Name: "North Tees", Kind: "NHS_TRUST"},
		&store.Person{Record: record("person:a"), Name: "A", OrganisationID: &org}); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{ExposeCost: true}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !s.WaitSnapshot(context.Background()) {
		t.Fatal("no snapshot of two records")
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ people(first: 10) { edges { node { name organisation { name } } } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp struct {
		Data       json.RawMessage `json:"data"`
		Extensions struct {
			Cost *httpapi.CostReport `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || !strings.Contains(string(resp.Data), `"North Tees"`) {
		t.Fatalf("POST = %d %s (%v)", rec.Code, rec.Body.String(), err)
	}
	if want := (&httpapi.CostReport{MongoRoundTrips: 0, MongoCommands: map[string]int{}}); !cmp.Equal(want, resp.Extensions.Cost) {
		t.Errorf("extensions.cost = %+v, want none sent", resp.Extensions.Cost)
	}
}

func record(id string) store.Record {
	line := "lines 1-2"
	return store.Record{ID: id, Sources: []store.Source{{Document: "fixture.txt", Locator: &line}}}
}
