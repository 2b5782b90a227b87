package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// service serves s as the service does: the downloads behind the same keys
// and limits as the graph. Its requests have an hour, not the service's
// 10 s: the tests compare answers, and a starved machine (the stress
// script's) must not turn a slow answer into a refusal.
func service(s *store.Store) http.Handler {
	return httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, Timeout: time.Hour}, quiet())
}

// get downloads path with an optional key.
func get(t *testing.T, h http.Handler, key, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// readCSV parses a download as a spreadsheet would: RFC 4180, the first
// row the header.
func readCSV(t *testing.T, body []byte) (header []string, rows []map[string]string) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(body))
	all, err := r.ReadAll()
	if err != nil {
		t.Fatalf("not RFC 4180 CSV: %v\n%s", err, body)
	}
	if len(all) == 0 {
		t.Fatal("no header row")
	}
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return all[0], rows
}

// protected holds something to hide at every level: a PARTNER person and
// a PARTNER figure, an OFFICER report, contact details, and an exempt agenda
// item (public as printed) with a report and an action of its own (officers').
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
	"indicators.yaml": {Data: []byte(`
- {id: 'indicator:roads', name: Roads in good repair, unit: PERCENT, polarity: HIGHER_IS_BETTER, sources: [{document: a.txt}]}
`)},
	"areas.yaml": {Data: []byte(`
- {id: 'area:borough', name: Borough, kind: LOCAL_AUTHORITY, sources: [{document: a.txt}]}
- {id: 'area:neighbours', name: Neighbours, kind: COMPARATOR_GROUP, sources: [{document: a.txt}]}
`)},
	"observations.yaml": {Data: []byte(`
- {id: 'observation:stockton-on-tees/roads/borough/2021-22', indicatorId: 'indicator:roads', areaId: 'area:borough', period: '2021/22', value: 80, sources: [{document: a.txt, locator: lines 1-1}]}
- {id: 'observation:stockton-on-tees/roads/neighbours/2021-22', indicatorId: 'indicator:roads', areaId: 'area:neighbours', period: '2021/22', value: 61.25, visibility: PARTNER, sources: [{document: a.txt}]}
`)},
}

// secrets are the protected strings and who may see each.
var secrets = []struct {
	text, level string
}{
	{"person:stockton-on-tees/pam-partner", "partner"},
	{"Pam Partner", "partner"},
	{"pat@example.org", "partner"},
	{"01642 000000", "partner"},
	{"observation:stockton-on-tees/roads/neighbours", "partner"},
	{"61.25", "partner"},
	{"Staffing review", "officer"},
	{"Land sale valuation", "officer"},
	{"Complete the land sale", "officer"},
	// The exempt item as its published minute prints it is public; its
	// report and action are officers'.
	{"The price was agreed.", "public"},
	{"RESOLVED that the land be sold.", "public"},
	{"APPROVED", "public"},
}

// TestVisibility downloads every file in both formats as every scope and
// checks that each protected string appears exactly for the scopes that may
// see it through the graph. One leaking download fails it.
func TestVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	h := service(s)
	keys := map[string]string{"public": ""}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer, auth.ScopeAdmin} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys[scope] = key
	}
	rank := map[string]int{"public": 0, "partner": 1, "officer": 2, "admin": 2}
	files := append(export.Collections(), export.AnalysisFile)
	for _, scope := range []string{"public", "partner", "officer", "admin"} {
		var all bytes.Buffer
		for _, f := range files {
			for _, ext := range []string{".csv", ".ndjson"} {
				rec := get(t, h, keys[scope], "/export/"+f+ext)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s %s%s: %d %s", scope, f, ext, rec.Code, rec.Body.String())
				}
				all.Write(rec.Body.Bytes())
			}
		}
		for _, sec := range secrets {
			shown := strings.Contains(all.String(), sec.text)
			if want := rank[scope] >= rank[sec.level]; shown != want {
				t.Errorf("%s downloads: %q shown = %v, want %v", scope, sec.text, shown, want)
			}
		}
	}
	// The figure a public caller may not see is no comparator for them
	// either: the analysis layout's column for its area stays empty.
	_, rows := readCSV(t, get(t, h, "", "/export/observations-analysis.csv").Body.Bytes())
	if len(rows) != 1 || rows[0]["neighbours_value"] != "" || rows[0]["neighbours_assessment"] != "" {
		t.Errorf("public analysis rows = %v, want the borough's figure alone, with no comparator", rows)
	}
	_, rows = readCSV(t, get(t, h, keys[auth.ScopePartner], "/export/observations-analysis.csv").Body.Bytes())
	if len(rows) != 2 || rows[0]["neighbours_value"] != "61.25" || rows[0]["neighbours_assessment"] != "BETTER" {
		t.Errorf("partner analysis rows = %v, want the borough's 80 BETTER than the neighbours' 61.25", rows)
	}
}

// TestBadRequests checks that each mistake gets a clear error.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := service(s)
	tests := []struct {
		path   string
		status int
		msg    string
	}{
		{"/export/people.xlsx", 404, `no download "people.xlsx": downloads end in .csv or .ndjson`},
		{"/export/clients.csv", 404, `no download "clients.csv": there is one for each of people, organisations,`},
		{"/export/people.csv?colour=red", 400, `unknown parameter "colour" for people: it takes name, organisation, updatedSince`},
		{"/export/meetings.csv?status=DONE", 400, `status must be one of SCHEDULED, HELD, CANCELLED, got "DONE"`},
		{"/export/meetings.csv?from=16/03/2023", 400, `from must be a date as YYYY-MM-DD, got "16/03/2023"`},
		{"/export/people.ndjson?updatedSince=yesterday", 400, `updatedSince must be an RFC 3339 date and time such as 2023-06-15T12:00:00Z, got "yesterday"`},
		{"/export/bodies.csv?kind=CABINET&kind=COUNCIL", 400, `give kind once, not 2 times`},
		// Filters are checked as the graph checks the same arguments.
		{"/export/people.csv?name=" + strings.Repeat("a", 60_000), 400, `name must be at most 200 characters, got 60000`},
		{"/export/people.csv?name=%CC%81%20", 400, `name must have at least 1 characters besides accents and spaces`},
		{"/export/people.csv?name=a%00b", 400, `name must not contain control characters`},
		{"/export/people.csv?organisation=" + strings.Repeat("x", 201), 400, `organisation must be at most 200 characters, got 201`},
		{"/export/indicators.csv?theme=", 400, `theme must not be empty`},
	}
	for _, tt := range tests {
		rec := get(t, h, "", tt.path)
		var body struct {
			Errors []struct {
				Message    string
				Extensions map[string]string
			}
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tt.status || len(body.Errors) != 1 || !strings.HasPrefix(body.Errors[0].Message, tt.msg) {
			t.Errorf("GET %s = %d %s, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.status, tt.msg)
		}
	}
	if rec := get(t, h, "cgk_not-a-key", "/export/people.csv"); rec.Code != http.StatusUnauthorized {
		t.Errorf("a bad key: status %d, want 401", rec.Code)
	}
}
