package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// FuzzHandler sends arbitrary documents and variables to the whole handler:
// it must never panic, never answer 500, and always answer within its
// deadline.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ q, vars string }{
		{`{ people { totalCount edges { node { id name email } } } }`, `{}`},
		{`query($id: ID!) { node(id: $id) { id ... on Person { memberships { body { name } } } } }`, `{"id": "person:stockton-on-tees/pat-public"}`},
		{`query($f: Int) { meetings(first: $f) { edges { node { agendaItems { minutes } } } } }`, `{"f": -3}`},
		{`{ search(query: "\u00e9\u0000") { __typename } }`, `null`},
		{`query($r: [_Any!]!) { _entities(representations: $r) { ... on Report { id } } }`, `{"r": [{"__typename": "Report"}, 7, {"id": null}]}`},
		{`{ a: areas { id } b: areas { ...F } } fragment F on Area { ...F }`, `[]`},
		{`{ bodies(after: "eyJsIjoiYm9kaWVzIiwiayI6W119") { totalCount } }`, `{"x": {"y": [1, 2]}}`},
		{`mutation { x }`, `"v"`},
		{`{{{{`, `{`},
	} {
		f.Add(seed.q, seed.vars)
	}
	ctx := context.Background()
	s := storetest.New(f, nil)
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "test"}); err != nil {
		f.Fatal(err)
	}
	const deadline = 2 * time.Second
	h := httpapitest.New(s, httpapi.Config{Timeout: deadline, RateAnonymous: -1, RateKeyed: -1}, quiet())
	f.Fuzz(func(t *testing.T, query, vars string) {
		body := map[string]any{"query": query}
		if json.Valid([]byte(vars)) {
			body["variables"] = json.RawMessage(vars)
		}
		b, _ := json.Marshal(body)
		done := make(chan result, 1)
		go func() { done <- do(t, h, "", "", b) }()
		select {
		case r := <-done:
			if r.status >= http.StatusInternalServerError && r.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d for %q %s: %+v", r.status, query, vars, r.Errors)
			}
			for _, e := range r.Errors {
				if e.Extensions["code"] == "INTERNAL" {
					t.Fatalf("internal error for %q %s: %s", query, vars, e.Message)
				}
			}
		case <-time.After(5 * deadline):
			t.Fatalf("no answer within %s for %q %s", 5*deadline, query, vars)
		}
	})
}
