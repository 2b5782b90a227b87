package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// protected is a data set with something to hide at every level: a PARTNER
// person, an OFFICER report, contact details, and an exempt agenda item with
// a report and an action of its own (the item is public as printed; its
// report and action are officers').
var protected = fstest.MapFS{
	"organisations.yaml": {Data: []byte(`
- {id: 'organisation:council', name: Borough Council, kind: LOCAL_AUTHORITY, sources: [{document: a.txt}]}
`)},
	"people.yaml": {Data: []byte(`
- {id: 'person:stockton-on-tees/pat-public', name: Pat Public, email: pat@example.org, phone: '01642 000000', organisationId: 'organisation:council', sources: [{document: a.txt}]}
- {id: 'person:stockton-on-tees/pam-partner', name: Pam Partner, visibility: PARTNER, organisationId: 'organisation:council', sources: [{document: a.txt}]}
`)},
	"bodies.yaml": {Data: []byte(`
- {id: 'body:stockton-on-tees/cabinet', name: Cabinet, kind: CABINET, sources: [{document: a.txt}]}
`)},
	"meetings.yaml": {Data: []byte(`
- {id: 'meeting:stockton-on-tees/cabinet/2023-03-16', bodyId: 'body:stockton-on-tees/cabinet', title: Cabinet, date: 2023-03-16, status: HELD, sources: [{document: a.txt}]}
`)},
	"agendaItems.yaml": {Data: []byte(`
- {id: 'agendaItem:stockton-on-tees/cabinet/2023-03-16/1', meetingId: 'meeting:stockton-on-tees/cabinet/2023-03-16', number: '1', title: Open item, sources: [{document: a.txt}]}
- id: agendaItem:stockton-on-tees/cabinet/2023-03-16/2
  meetingId: meeting:stockton-on-tees/cabinet/2023-03-16
  number: '2'
  title: Land sale
  exempt: true
  exemptionParagraph: 3
  presenterId: person:stockton-on-tees/pat-public
  minutes: The price was agreed.
  decision: RESOLVED that the land be sold.
  outcome: APPROVED
  sources: [{document: a.txt}]
`)},
	"reports.yaml": {Data: []byte(`
- {id: 'report:stockton-on-tees/cabinet/2023-03-16/land', title: Land sale valuation, meetingId: 'meeting:stockton-on-tees/cabinet/2023-03-16', agendaItemId: 'agendaItem:stockton-on-tees/cabinet/2023-03-16/2', authorId: 'person:stockton-on-tees/pat-public', sources: [{document: a.txt}]}
- {id: 'report:stockton-on-tees/cabinet/2023-03-16/staffing', title: Staffing review, visibility: OFFICER, meetingId: 'meeting:stockton-on-tees/cabinet/2023-03-16', agendaItemId: 'agendaItem:stockton-on-tees/cabinet/2023-03-16/1', sources: [{document: a.txt}]}
`)},
	"actions.yaml": {Data: []byte(`
- {id: 'action:stockton-on-tees/cabinet/2023-03-16/1', title: Complete the land sale, ownerId: 'person:stockton-on-tees/pat-public', agendaItemId: 'agendaItem:stockton-on-tees/cabinet/2023-03-16/2', sources: [{document: a.txt}]}
`)},
}

// TestVisibilityMatrix asks for every protected thing by every path, as
// every scope, and checks exactly what comes back. One leaking path fails it.
func TestVisibilityMatrix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	keys := map[string]string{}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer, auth.ScopeAdmin} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys[scope] = key
	}

	const (
		pamHidden  = `null`
		pamShown   = `{"id":"person:stockton-on-tees/pam-partner"}`
		staffHid   = `null`
		staffShown = `{"id":"report:stockton-on-tees/cabinet/2023-03-16/staffing"}`
		landHidden = `null`
		landShown  = `{"id":"report:stockton-on-tees/cabinet/2023-03-16/land"}`
	)
	type levels struct{ public, partner, officer string }
	probes := []struct {
		name, query string
		want        levels
	}{
		// A PARTNER person.
		{"person lookup", `{ person(id: "person:stockton-on-tees/pam-partner") { id } }`,
			levels{`{"person":null}`, `{"person":{"id":"person:stockton-on-tees/pam-partner"}}`, `{"person":{"id":"person:stockton-on-tees/pam-partner"}}`}},
		{"node", `{ node(id: "person:stockton-on-tees/pam-partner") { id } }`,
			levels{`{"node":null}`, `{"node":{"id":"person:stockton-on-tees/pam-partner"}}`, `{"node":{"id":"person:stockton-on-tees/pam-partner"}}`}},
		{"nodes", `{ nodes(ids: ["person:stockton-on-tees/pam-partner", "report:stockton-on-tees/cabinet/2023-03-16/staffing", "report:stockton-on-tees/cabinet/2023-03-16/land"]) { id } }`,
			levels{`{"nodes":[null,null,null]}`, `{"nodes":[` + pamShown + `,null,null]}`, `{"nodes":[` + pamShown + `,` + staffShown + `,` + landShown + `]}`}},
		{"entities", `{ _entities(representations: [{__typename: "Person", id: "person:stockton-on-tees/pam-partner"}, {__typename: "Report", id: "report:stockton-on-tees/cabinet/2023-03-16/staffing"}, {__typename: "Report", id: "report:stockton-on-tees/cabinet/2023-03-16/land"}]) { ... on Person { id } ... on Report { id } } }`,
			levels{`{"_entities":[null,null,null]}`, `{"_entities":[` + pamShown + `,null,null]}`, `{"_entities":[` + pamShown + `,` + staffShown + `,` + landShown + `]}`}},
		{"list and count", `{ people { totalCount edges { node { id } } } }`,
			levels{`{"people":{"totalCount":1,"edges":[{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}`,
				`{"people":{"totalCount":2,"edges":[{"node":{"id":"person:stockton-on-tees/pam-partner"}},{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}`,
				`{"people":{"totalCount":2,"edges":[{"node":{"id":"person:stockton-on-tees/pam-partner"}},{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}`}},
		{"nested relation", `{ organisation(id: "organisation:council") { people { totalCount edges { node { id } } } } }`,
			levels{`{"organisation":{"people":{"totalCount":1,"edges":[{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}}`,
				`{"organisation":{"people":{"totalCount":2,"edges":[{"node":{"id":"person:stockton-on-tees/pam-partner"}},{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}}`,
				`{"organisation":{"people":{"totalCount":2,"edges":[{"node":{"id":"person:stockton-on-tees/pam-partner"}},{"node":{"id":"person:stockton-on-tees/pat-public"}}]}}}`}},
		{"search", `{ search(query: "pa") { ... on Person { id } } }`,
			levels{`{"search":[{"id":"person:stockton-on-tees/pat-public"}]}`, `{"search":[` + pamShown + `,{"id":"person:stockton-on-tees/pat-public"}]}`, `{"search":[` + pamShown + `,{"id":"person:stockton-on-tees/pat-public"}]}`}},

		// Contact details.
		{"contact details", `{ person(id: "person:stockton-on-tees/pat-public") { email phone } }`,
			levels{`{"person":{"email":null,"phone":null}}`, `{"person":{"email":"pat@example.org","phone":"01642 000000"}}`, `{"person":{"email":"pat@example.org","phone":"01642 000000"}}`}},
		{"contact details through a relation", `{ report(id: "report:stockton-on-tees/cabinet/2023-03-16/land") { author { email } } action(id: "action:stockton-on-tees/cabinet/2023-03-16/1") { owner { phone } } }`,
			levels{`{"report":null,"action":null}`, `{"report":null,"action":null}`, `{"report":{"author":{"email":"pat@example.org"}},"action":{"owner":{"phone":"01642 000000"}}}`}},
		{"contact details in search", `{ search(query: "pat") { ... on Person { email } } }`,
			levels{`{"search":[{"email":null}]}`, `{"search":[{"email":"pat@example.org"}]}`, `{"search":[{"email":"pat@example.org"}]}`}},

		// An OFFICER report and the exempt item's report and action.
		{"report lookups", `{ staff: report(id: "report:stockton-on-tees/cabinet/2023-03-16/staffing") { id } land: report(id: "report:stockton-on-tees/cabinet/2023-03-16/land") { id } }`,
			levels{`{"staff":` + staffHid + `,"land":` + landHidden + `}`, `{"staff":` + staffHid + `,"land":` + landHidden + `}`, `{"staff":` + staffShown + `,"land":` + landShown + `}`}},
		{"reports list and count", `{ reports { totalCount edges { node { id } } } }`,
			levels{`{"reports":{"totalCount":0,"edges":[]}}`, `{"reports":{"totalCount":0,"edges":[]}}`, `{"reports":{"totalCount":2,"edges":[{"node":` + landShown + `},{"node":` + staffShown + `}]}}`}},
		{"reports of a meeting and a person", `{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { reports { id } } person(id: "person:stockton-on-tees/pat-public") { reports { id } actions { id } } }`,
			levels{`{"meeting":{"reports":[]},"person":{"reports":[],"actions":[]}}`, `{"meeting":{"reports":[]},"person":{"reports":[],"actions":[]}}`,
				`{"meeting":{"reports":[` + landShown + `,` + staffShown + `]},"person":{"reports":[` + landShown + `],"actions":[{"id":"action:stockton-on-tees/cabinet/2023-03-16/1"}]}}`}},
		{"actions list", `{ actions { totalCount } action(id: "action:stockton-on-tees/cabinet/2023-03-16/1") { id } }`,
			levels{`{"actions":{"totalCount":0},"action":null}`, `{"actions":{"totalCount":0},"action":null}`, `{"actions":{"totalCount":1},"action":{"id":"action:stockton-on-tees/cabinet/2023-03-16/1"}}`}},
		{"exempt item", `{ agendaItem(id: "agendaItem:stockton-on-tees/cabinet/2023-03-16/2") { number title exempt exemptionParagraph minutes decision outcome presenter { id } reports { id } actions { id } } }`,
			levels{
				`{"agendaItem":{"number":"2","title":"Land sale","exempt":true,"exemptionParagraph":3,"minutes":"The price was agreed.","decision":"RESOLVED that the land be sold.","outcome":"APPROVED","presenter":{"id":"person:stockton-on-tees/pat-public"},"reports":[],"actions":[]}}`,
				`{"agendaItem":{"number":"2","title":"Land sale","exempt":true,"exemptionParagraph":3,"minutes":"The price was agreed.","decision":"RESOLVED that the land be sold.","outcome":"APPROVED","presenter":{"id":"person:stockton-on-tees/pat-public"},"reports":[],"actions":[]}}`,
				`{"agendaItem":{"number":"2","title":"Land sale","exempt":true,"exemptionParagraph":3,"minutes":"The price was agreed.","decision":"RESOLVED that the land be sold.","outcome":"APPROVED","presenter":{"id":"person:stockton-on-tees/pat-public"},"reports":[` + landShown + `],"actions":[{"id":"action:stockton-on-tees/cabinet/2023-03-16/1"}]}}`}},
		{"exempt item through its meeting and entities", `{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { agendaItems { number minutes } } _entities(representations: [{__typename: "AgendaItem", id: "agendaItem:stockton-on-tees/cabinet/2023-03-16/2"}]) { ... on AgendaItem { title decision } } }`,
			levels{`{"meeting":{"agendaItems":[{"number":"1","minutes":null},{"number":"2","minutes":"The price was agreed."}]},"_entities":[{"title":"Land sale","decision":"RESOLVED that the land be sold."}]}`,
				`{"meeting":{"agendaItems":[{"number":"1","minutes":null},{"number":"2","minutes":"The price was agreed."}]},"_entities":[{"title":"Land sale","decision":"RESOLVED that the land be sold."}]}`,
				`{"meeting":{"agendaItems":[{"number":"1","minutes":null},{"number":"2","minutes":"The price was agreed."}]},"_entities":[{"title":"Land sale","decision":"RESOLVED that the land be sold."}]}`}},
		{"exempt business in search", `{ search(query: "land sale") { __typename } }`,
			levels{`{"search":[{"__typename":"AgendaItem"}]}`, `{"search":[{"__typename":"AgendaItem"}]}`, `{"search":[{"__typename":"AgendaItem"},{"__typename":"Report"},{"__typename":"Action"}]}`}},
	}
	callers := []struct{ scope, key string }{
		{"public", ""}, {"partner", keys[auth.ScopePartner]}, {"officer", keys[auth.ScopeOfficer]}, {"admin", keys[auth.ScopeAdmin]},
	}
	for _, p := range probes {
		for _, c := range callers {
			t.Run(p.name+"/"+c.scope, func(t *testing.T) {
				want := map[string]string{"public": p.want.public, "partner": p.want.partner, "officer": p.want.officer, "admin": p.want.officer}[c.scope]
				got := post(t, h, c.key, p.query)
				var g, w any
				if err := json.Unmarshal(got, &g); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(want), &w); err != nil {
					t.Fatalf("bad want: %v", err)
				}
				if diff := cmp.Diff(w, g); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}

// post runs a query with an optional key and returns its data, failing on errors.
func post(t *testing.T, h http.Handler, key, query string) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	return r.Data
}
