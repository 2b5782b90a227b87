package export_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// stockton is a store on the Stockton database the package's tests which
// only read share.
func stockton(t *testing.T) *store.Store {
	t.Helper()
	return importertest.Stockton(t, nil)
}

// graphQL runs a query anonymously and decodes its data into v.
func graphQL(t *testing.T, h http.Handler, query string, vars map[string]any, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %s", query, rec.Body.String())
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

// pages reads every page of a top-level list: query takes $after and its
// list is field.
func pages(t *testing.T, h http.Handler, field, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	var after any
	for {
		var d map[string]struct {
			Edges []struct {
				Node map[string]any
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
		graphQL(t, h, query, map[string]any{"after": after}, &d)
		for _, e := range d[field].Edges {
			out = append(out, e.Node)
		}
		if !d[field].PageInfo.HasNextPage {
			return out
		}
		after = d[field].PageInfo.EndCursor
	}
}

// text is a GraphQL value as the CSV writes it.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if m, ok := e.(map[string]any); ok { // a source
				parts[i] = strings.TrimSpace(text(m["document"]) + " " + text(m["locator"]))
			} else {
				parts[i] = text(e)
			}
		}
		return strings.Join(parts, "; ")
	case map[string]any: // a reference
		return text(x["id"])
	}
	return fmt.Sprint(v)
}

// join adds v to a "; "-joined cell.
func join(cell, v string) string {
	if cell == "" {
		return v
	}
	return cell + "; " + v
}

// instant reads a DateTime in any offset as UTC, as the CSV writes it.
func instant(v any) string {
	if v == nil {
		return ""
	}
	tm, _ := time.Parse(time.RFC3339, v.(string))
	return tm.UTC().Format(time.RFC3339)
}

// TestCSVEqualsGraph downloads collections of the Stockton set as CSV,
// parses them back and checks every row and cell against the graph's
// answer for the same records.
func TestCSVEqualsGraph(t *testing.T) {
	t.Parallel()
	h := service(stockton(t))
	tests := []struct {
		file, field, query string
		// columns maps CSV columns to the graph's fields.
		columns map[string]string
		times   []string
	}{
		{"people.csv", "people",
			`query($after: String) { people(first: 100, after: $after) { edges { node { id name honorific aliases jobTitle organisation { id } email phone notes sources { document locator } } } pageInfo { hasNextPage endCursor } } }`,
			map[string]string{"id": "id", "name": "name", "honorific": "honorific", "aliases": "aliases", "jobTitle": "jobTitle", "organisationId": "organisation", "email": "email", "phone": "phone", "notes": "notes", "sources": "sources"}, nil},
		{"meetings.csv", "meetings",
			`query($after: String) { meetings(first: 100, after: $after) { edges { node { id body { id } title date startsAt endsAt venue status notes sources { document locator } } } pageInfo { hasNextPage endCursor } } }`,
			map[string]string{"id": "id", "bodyId": "body", "title": "title", "date": "date", "startsAt": "startsAt", "endsAt": "endsAt", "venue": "venue", "status": "status", "notes": "notes", "sources": "sources"},
			[]string{"startsAt", "endsAt"}},
		{"indicators.csv", "indicators",
			`query($after: String) { indicators(first: 100, after: $after) { edges { node { id name description unit polarity theme notes updatedAt sources { document locator } } } pageInfo { hasNextPage endCursor } } }`,
			map[string]string{"id": "id", "name": "name", "description": "description", "unit": "unit", "polarity": "polarity", "theme": "theme", "notes": "notes", "updatedAt": "updatedAt", "sources": "sources"},
			[]string{"updatedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := get(t, h, "", "/export/"+tt.file)
			header, rows := readCSV(t, rec.Body.Bytes())
			for col := range tt.columns {
				if !slices.Contains(header, col) {
					t.Fatalf("header %v has no %s", header, col)
				}
			}
			nodes := pages(t, h, tt.field, tt.query)
			want := map[string]map[string]string{}
			for _, n := range nodes {
				row := map[string]string{}
				for col, field := range tt.columns {
					if slices.Contains(tt.times, field) {
						row[col] = instant(n[field])
					} else {
						row[col] = text(n[field])
					}
				}
				want[row["id"]] = row
			}
			got := map[string]map[string]string{}
			for _, r := range rows {
				row := map[string]string{}
				for col := range tt.columns {
					row[col] = r[col]
				}
				got[r["id"]] = row
			}
			if len(got) == 0 || len(got) != len(rows) {
				t.Fatalf("%d rows, %d distinct IDs", len(rows), len(got))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CSV against the graph (-graph +csv):\n%s", diff)
			}
		})
	}
}

// gssKey is an area key that is a GSS code rather than a slug.
var gssKey = regexp.MustCompile(`^[EWSNK][0-9]{8}$`)

// analysisColumn is the analysis layout's column stem for an area, as
// docs/analysts.md prints them: its key in snake case, or its name for an
// area keyed by its GSS code (area:E12000001, North East, is north_east),
// so that the columns read as places and stayed as they were when the
// areas took GSS codes as their IDs.
func analysisColumn(area map[string]any) string {
	key := strings.TrimPrefix(text(area["id"]), "area:")
	if gssKey.MatchString(key) {
		key = strings.ToLower(strings.Join(strings.FieldsFunc(text(area["name"]), func(r rune) bool {
			return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		}), "-"))
	}
	return strings.ReplaceAll(key, "-", "_")
}

// TestAnalysisEqualsGraph checks the analysis layout's figures, comparator
// values, assessments and trends against the graph's comparisons and trend
// for every Stockton figure.
func TestAnalysisEqualsGraph(t *testing.T) {
	t.Parallel()
	h := service(stockton(t))
	_, rows := readCSV(t, get(t, h, "", "/export/observations-analysis.csv").Body.Bytes())
	nodes := pages(t, h, "indicators", `query($after: String) { indicators(first: 50, after: $after) { edges { node { id unit polarity
		observations { id period value area { id } comparisons { assessment comparator { value area { id name } } } sources { document locator } } } }
		pageInfo { hasNextPage endCursor } } }`)
	want := map[string]map[string]string{}
	for _, n := range nodes {
		for _, o := range n["observations"].([]any) {
			o := o.(map[string]any)
			area := text(o["area"])
			row := map[string]string{
				"indicator_id": text(n["id"]), "unit": text(n["unit"]), "polarity": text(n["polarity"]),
				"area_id": area, "period": text(o["period"]), "value": text(o["value"]),
			}
			for _, c := range o["comparisons"].([]any) {
				c := c.(map[string]any)
				comp := c["comparator"].(map[string]any)
				col := analysisColumn(comp["area"].(map[string]any))
				row[col+"_value"] = join(row[col+"_value"], text(comp["value"]))
				row[col+"_assessment"] = join(row[col+"_assessment"], text(c["assessment"]))
			}
			want[text(o["id"])] = row
		}
	}
	got := map[string]map[string]string{}
	for _, r := range rows {
		row := map[string]string{}
		for k, v := range r {
			switch {
			case k == "indicator_id", k == "unit", k == "polarity", k == "area_id", k == "period", k == "value":
				row[k] = v
			case strings.HasPrefix(k, "trend_"):
			case (strings.HasSuffix(k, "_value") || strings.HasSuffix(k, "_assessment")) && v != "":
				row[k] = v
			}
		}
		got[r["observation_id"]] = row
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, %d figures in the graph", len(rows), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("analysis layout against the graph (-graph +csv):\n%s", diff)
	}
	// A worked example, checked by hand: assessments within 45 days, 94%
	// against the North East's 82% (Appendix 2 of the 2021 overview report,
	// which prints no period), higher is better.
	for _, r := range rows {
		if r["indicator_id"] == "indicator:assessments-within-45-days" && r["area_id"] == "area:E06000004" {
			if r["north_east_value"] != "82" || r["north_east_assessment"] != "BETTER" || r["trend_direction"] != "CANNOT_BE_CALCULATED" ||
				r["source_documents"] != "cyp-select-committee-2021-02-17-overview-report.txt" ||
				r["source_lines"] != "lines 234-234" || r["period"] != "" {
				t.Errorf("assessments within 45 days: %v", r)
			}
		}
	}
}

// TestFilters checks that a download's filters keep what the graph's list
// with the same arguments keeps, and name themselves in the file name.
func TestFilters(t *testing.T) {
	t.Parallel()
	h := service(stockton(t))
	idsOf := func(body []byte) []string {
		_, rows := readCSV(t, body)
		var ids []string
		for _, r := range rows {
			ids = append(ids, r["id"])
		}
		slices.Sort(ids)
		return ids
	}
	nodes := pages(t, h, "meetings", `query($after: String) { meetings(body: "body:stockton-on-tees/cyp-select-committee", status: HELD, first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`)
	var want []string
	for _, n := range nodes {
		want = append(want, n["id"].(string))
	}
	slices.Sort(want)
	rec := get(t, h, "", "/export/meetings.csv?body=body:stockton-on-tees/cyp-select-committee&status=HELD")
	if got := idsOf(rec.Body.Bytes()); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("meetings of the committee: %v, want %v", got, want)
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="councilgraph-meetings-body-stockton-on-tees-cyp-select-committee-status-held-`) || !strings.HasSuffix(cd, `.csv"`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	rec = get(t, h, "", "/export/observations.csv?indicator=indicator:assessments-within-45-days")
	if got := idsOf(rec.Body.Bytes()); !slices.Equal(got, []string{"observation:stockton-on-tees/assessments-within-45-days/north-east/published-2021-02-17", "observation:stockton-on-tees/assessments-within-45-days/stockton-on-tees/published-2021-02-17"}) {
		t.Errorf("observations of one indicator: %v", got)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, f := range []string{"people", "observations", "agendaItems"} {
		rec = get(t, h, "", "/export/"+f+".csv?updatedSince="+future)
		if header, rows := readCSV(t, rec.Body.Bytes()); len(rows) != 0 || len(header) == 0 {
			t.Errorf("%s changed in the future: %d rows, header %v", f, len(rows), header)
		}
	}
}

// TestCSVForm checks what a spreadsheet, pandas and R rely on: UTF-8 with
// no byte order mark, CRLF line ends (within quoted fields too, as Go's
// encoding/csv writes them), quotes doubled, a header row, and text that
// a spreadsheet would run as a formula defused.
func TestCSVForm(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	name := `Zoë "Zed" O'Brien, Jr.`
	notes := "=HYPERLINK(\"http://example.org\")\nsecond line"
	if err := s.Put(t.Context(), time.Date(2023, 6, 15, 12, 0, 0, 0, time.UTC), &store.Person{
		Record: store.Record{ID: "person:zoe", Sources: []store.Source{{Document: "a.txt"}}, Notes: &notes},
		Name:   name, Aliases: []string{"Zoe Zed", "Z. O'Brien"},
	}); err != nil {
		t.Fatal(err)
	}
	body := get(t, service(s), "", "/export/people.csv").Body.String()
	want := "id,name,honorific,aliases,jobTitle,organisationId,email,phone,party,notes,sources,visibility,updatedAt\r\n" +
		`person:zoe,"Zoë ""Zed"" O'Brien, Jr.",,Zoe Zed; Z. O'Brien,,,,,,"'=HYPERLINK(""http://example.org"")` + "\r\nsecond line\",a.txt,PUBLIC,2023-06-15T12:00:00Z\r\n"
	if body != want {
		t.Errorf("people.csv =\n%q\nwant\n%q", body, want)
	}
}
