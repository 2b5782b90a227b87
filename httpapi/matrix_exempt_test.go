package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// The exempt item of the Stockton set: TVCA Cabinet's minute TVCA 44/22,
// taken in private under paragraph 3 of Schedule 12A, and printed in the
// public agenda pack of Cabinet's 15 June 2023 meeting at line 587.
const (
	exemptItem    = "agendaItem:tees-valley-combined-authority/tvca-cabinet/2023-03-17/tvca-44-22"
	exemptMeeting = "meeting:tees-valley-combined-authority/tvca-cabinet/2023-03-17"
	exemptPack    = "cabinet-2023-06-15-agenda-pack.txt"
	exemptLine    = 587
)

// withheldRecord is a record below an exempt item, which only officers see,
// with the strings of it that no other record the public sees holds.
type withheldRecord struct {
	id, kind string
	// own are its ID and notes: what is its alone (its title and summary
	// may repeat the printed minute, which is public).
	own []string
	// cites are the lines of each document it cites.
	cites map[string][][2]int
}

// TestExemptItemOnEveryPath checks the rule for exempt business on the
// Stockton set, for the public, a partner and an officer, on every path a
// caller has: the graph (lookups, node, nodes, _entities, the meeting's
// agenda, reports, lists and every relation two levels down), search, the
// downloads in CSV and NDJSON, the source pages, the change feed, and the
// answers to an ID that names a withheld record. The rule: what a public
// document prints is public, so every caller gets the exempt item as the
// pack prints it (title, minute reference, paragraph, minute, decision,
// sources); what is withheld (the records below the item: its exempt
// report, actions and declarations) reaches no caller but an officer, not
// by its ID in another record, a search, a download, the feed, nor an error
// that tells it apart from an ID that names nothing.
func TestExemptItemOnEveryPath(t *testing.T) {
	t.Parallel()
	s, keys := sharedStockton(t, nil)
	sources := os.DirFS("../data/stockton/sources")
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30 // cost is not what this test is about
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, LoaderWait: time.Millisecond,
		Sources: sources}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	callers := map[string]string{"public": "", auth.ScopePartner: keys[auth.ScopePartner], auth.ScopeOfficer: keys[auth.ScopeOfficer]}

	// What the pack prints at the item's line, its markup taken off.
	printed := sourceLine(t, sources, exemptPack, exemptLine)
	plain := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(printed, " ")), " ")
	for _, fact := range []string{"TVCA 44/22", "paragraph 3 of schedule 12a", "RESOLVED that Cabinet approved the recommendation in the report."} {
		if !strings.Contains(plain, fact) {
			t.Fatalf("line %d of %s does not print %q: %s", exemptLine, exemptPack, fact, plain)
		}
	}

	withheld := withheldBelowExempt(t, s)
	if !slices.ContainsFunc(withheld, func(w withheldRecord) bool { return w.kind == "Report" }) {
		t.Fatalf("the Stockton set holds no report below an exempt item: %v", withheld)
	}

	for _, scope := range []string{"public", "partner", "officer"} {
		key := callers[scope]
		officer := scope == "officer"
		t.Run(scope, func(t *testing.T) {
			t.Parallel()
			// answers gathers every answer this caller gets, to look for
			// what is withheld from it.
			var answers bytes.Buffer
			byPath := map[string][]byte{}
			keep := func(path string, b []byte) []byte {
				answers.Write(b)
				answers.WriteByte('\n')
				byPath[path] = append(byPath[path], b...)
				return b
			}

			// The graph: the item as printed, for everyone.
			const itemFields = `id number title minuteRef exempt exemptionParagraph minutes decision outcome sources { document locator }`
			item := ask(t, h, key, `{ agendaItem(id: "`+exemptItem+`") { `+itemFields+` reports { id } actions { id } declarations { id } } }`)
			keep("agendaItem", item)
			var got struct {
				Data struct {
					AgendaItem struct {
						ID, Title, Minutes, Decision, Outcome string
						MinuteRef                             *string
						Exempt                                bool
						ExemptionParagraph                    *int
						Sources                               []struct{ Document, Locator string }
						Reports, Actions, Declarations        []struct{ ID string }
					}
				}
			}
			if err := json.Unmarshal(item, &got); err != nil {
				t.Fatal(err)
			}
			a := got.Data.AgendaItem
			if !a.Exempt || a.MinuteRef == nil || *a.MinuteRef != "TVCA 44/22" || a.ExemptionParagraph == nil || *a.ExemptionParagraph != 3 ||
				a.Decision != "RESOLVED that Cabinet approved the recommendation in the report." || a.Outcome != "APPROVED" {
				t.Errorf("%s gets the exempt item other than the pack prints it: %s", scope, item)
			}
			if want := fmt.Sprintf("lines %d-%d", exemptLine, exemptLine); len(a.Sources) != 1 || a.Sources[0].Document != exemptPack || a.Sources[0].Locator != want {
				t.Errorf("%s gets the exempt item's sources as %+v, want %s %s", scope, a.Sources, exemptPack, want)
			}
			// Every sentence of the minute is printed at the cited line.
			for _, sentence := range strings.Split(strings.ReplaceAll(a.Minutes, "\n", " "), ". ") {
				if sentence = strings.TrimSpace(strings.TrimSuffix(sentence, ".")); sentence != "" && !strings.Contains(strings.ToLower(plain), strings.ToLower(sentence)) {
					t.Errorf("%s gets a minute sentence the pack does not print at line %d: %q", scope, exemptLine, sentence)
				}
			}
			// The item's ID names only what the pack prints: its body,
			// the meeting's date and its minute reference.
			if a.MinuteRef == nil {
				t.Errorf("%s is not told the minute reference the exempt item's ID %s is made of", scope, a.ID)
			} else if want := "agendaItem:tees-valley-combined-authority/tvca-cabinet/2023-03-17/" + strings.ToLower(strings.NewReplacer(" ", "-", "/", "-").Replace(*a.MinuteRef)); a.ID != want {
				t.Errorf("the exempt item's ID %s encodes more than its printed minute reference (%s)", a.ID, want)
			}
			below := len(a.Reports) + len(a.Actions) + len(a.Declarations)
			if officer != (below > 0) {
				t.Errorf("%s sees %d records below the exempt item: %s", scope, below, item)
			}

			// The same item through node, nodes, _entities and its
			// meeting's agenda; the withheld records by ID, through the
			// meeting's reports and the lists.
			var ids []string
			for _, w := range withheld {
				ids = append(ids, w.id)
			}
			quoted, _ := json.Marshal(append([]string{exemptItem}, ids...))
			var reps []string
			for _, id := range append([]string{exemptItem}, ids...) {
				if k := store.KindOfID(id); k.Node {
					reps = append(reps, fmt.Sprintf(`{__typename: %q, id: %q}`, k.Name, id))
				}
			}
			paths := ask(t, h, key, `{ node(id: "`+exemptItem+`") { ... on AgendaItem { `+itemFields+` } }
  nodes(ids: `+string(quoted)+`) { id ... on AgendaItem { minuteRef exemptionParagraph } ... on Report { notes } ... on Action { notes } }
  _entities(representations: [`+strings.Join(reps, ", ")+`]) { ... on AgendaItem { id minuteRef exemptionParagraph decision } ... on Report { id notes } ... on Action { id notes } }
  meeting(id: "`+exemptMeeting+`") { agendaItems { id minuteRef exemptionParagraph minutes reports { id notes } declarations { id } actions { id } } reports { id notes } }
  reports(first: 100) { totalCount edges { node { id notes agendaItem { id } } } }
  actions(first: 100) { totalCount edges { node { id } } } }`)
			keep("graph paths", paths)
			for _, want := range []string{`"minuteRef":"TVCA 44/22"`, `"exemptionParagraph":3`} {
				if n := strings.Count(string(paths), want); n < 4 {
					t.Errorf("%s gets %s %d times through node, nodes, _entities and the meeting, want 4", scope, want, n)
				}
			}
			checkTotals(t, "graph paths", paths)
			// matrix_test's battery over the item, its meeting and the
			// withheld records: each by its lookup, node, nodes and
			// _entities, and every list's first page, every field and every
			// relation two levels down.
			for _, q := range queries(append([]string{exemptItem, exemptMeeting}, ids...)) {
				b := keep(q.name, ask(t, h, key, q.query))
				checkTotals(t, q.name, b)
			}

			// Search, by the minute reference and by the title the item
			// and its report share.
			for _, query := range []string{"TVCA 44/22", "Commercial Decision", "urgent decision"} {
				b := keep("search "+query, ask(t, h, key, fmt.Sprintf(`{ search(query: %q, first: 100) { __typename ... on AgendaItem { id minuteRef } ... on Report { id notes } } }`, query)))
				if query != "Commercial Decision" || !officer {
					if !bytes.Contains(b, []byte(`"id":"`+exemptItem+`"`)) {
						t.Errorf("%s: search %q does not find the exempt item: %s", scope, query, b)
					}
				}
			}

			// The downloads: the item as printed, in both formats.
			for _, f := range append(export.Collections(), export.AnalysisFile) {
				for _, ext := range []string{".csv", ".ndjson"} {
					rec := getPath(t, h, key, "/export/"+f+ext)
					if rec.Code != http.StatusOK {
						t.Fatalf("%s /export/%s%s: %d %s", scope, f, ext, rec.Code, rec.Body.String())
					}
					keep("/export/"+f+ext, rec.Body.Bytes())
				}
			}
			row := ndjsonRecord(t, getPath(t, h, key, "/export/agendaItems.ndjson").Body.Bytes(), exemptItem)
			if row["minuteRef"] != "TVCA 44/22" || row["exemptionParagraph"] != float64(3) || row["decision"] != a.Decision || row["minutes"] != a.Minutes {
				t.Errorf("%s downloads the exempt item other than the graph shows it: %v", scope, row)
			}
			csvRow := csvRecord(t, getPath(t, h, key, "/export/agendaItems.csv").Body.Bytes(), exemptItem)
			if csvRow["minuteRef"] != "TVCA 44/22" || csvRow["exemptionParagraph"] != "3" || csvRow["sources"] != fmt.Sprintf("%s lines %d-%d", exemptPack, exemptLine, exemptLine) {
				t.Errorf("%s downloads the exempt item's CSV row as %v", scope, csvRow)
			}

			// The source page: the pack is a published document, so every
			// line of it is public, the lines the withheld records cite
			// included; for the exempt report they are the item's minute,
			// which every caller also gets from the graph.
			for _, w := range withheld {
				for doc, ranges := range w.cites {
					for _, r := range ranges {
						page := getPage(t, h, key, fmt.Sprintf("/sources/%s?lines=%d-%d", doc, r[0], r[1]))
						keep("source page", page)
						for n := r[0]; n <= r[1]; n++ {
							line := fmt.Sprintf(`<span id="L%d" class="marked"><a class="ln" href="#L%d">%d</a> %s`, n, n, n, template.HTMLEscapeString(sourceLine(t, sources, doc, n)))
							if !bytes.Contains(page, []byte(line)) {
								t.Errorf("%s: the source page of %s does not show line %d as published", scope, doc, n)
							}
						}
						if doc == exemptPack && r == [2]int{exemptLine, exemptLine} && !slices.ContainsFunc(a.Sources, func(s struct{ Document, Locator string }) bool {
							return s.Document == doc && s.Locator == fmt.Sprintf("lines %d-%d", r[0], r[1])
						}) {
							t.Errorf("%s: the graph does not cite the line the source page shows", scope)
						}
					}
				}
			}

			// The change feed: the item as printed; the withheld records
			// never, not even as deletions.
			feed := keep("changes", readWholeFeed(t, h, key))
			if !regexp.MustCompile(`"kind":"UPSERT","type":"AgendaItem","id":"` + regexp.QuoteMeta(exemptItem) + `","record":\{[^}]*"minuteRef":"TVCA 44/22","exemptionParagraph":3`).Match(feed) {
				t.Errorf("%s: the feed does not carry the exempt item as printed", scope)
			}

			// An ID that names a withheld record is answered as one that
			// names nothing, errors included.
			for _, w := range withheld {
				none := w.id[:strings.LastIndex(w.id, ":")+1] + "nothing-by-this-name"
				k := store.KindNamed(w.kind)
				lookup := strings.ToLower(k.Name[:1]) + k.Name[1:]
				for _, q := range []string{
					`{ node(id: %q) { id } }`,
					`{ nodes(ids: [%q]) { id } }`,
					`{ _entities(representations: [{__typename: "` + k.Name + `", id: %q}]) { __typename } }`,
					`{ ` + lookup + `(id: %q) { id } }`,
					`{ agendaItem(id: %q) { id } }`,
					`{ person(id: %q) { id } }`,
				} {
					if !k.Node && !strings.Contains(q, "node") {
						continue
					}
					withheldAnswer := raw(t, h, key, fmt.Sprintf(q, w.id))
					noneAnswer := raw(t, h, key, fmt.Sprintf(q, none))
					if !officer && !bytes.Equal(bytes.ReplaceAll(withheldAnswer, []byte(w.id), []byte(none)), noneAnswer) {
						t.Errorf("%s tells %s from an ID that names nothing:\n%s\n%s", scope, w.id, withheldAnswer, noneAnswer)
					}
					keep("by ID", withheldAnswer)
				}
			}

			// Nothing of a withheld record reaches anyone but an officer,
			// and an officer gets each on every path above.
			all := answers.String()
			for _, w := range withheld {
				for _, s := range w.own {
					if shown := strings.Contains(all, s); shown != officer {
						t.Errorf("%s: %q of %s shown = %v, want %v", scope, s, w.id, shown, officer)
					}
				}
				if officer {
					for _, path := range []string{"changes", "/export/" + store.KindNamed(w.kind).Collection + ".ndjson", "/export/" + store.KindNamed(w.kind).Collection + ".csv"} {
						if !bytes.Contains(byPath[path], []byte(w.id)) {
							t.Errorf("officer: %s is missing from %s", w.id, path)
						}
					}
				}
			}
		})
	}
}

// withheldBelowExempt lists the records below the store's exempt items, as
// an officer reads them, each checked to be OFFICER.
func withheldBelowExempt(t *testing.T, s *store.Store) []withheldRecord {
	t.Helper()
	ctx := store.WithLevel(context.Background(), store.Officer)
	items, err := s.FindByRef(ctx, store.KindNamed("AgendaItem"), "meetingId", []string{exemptMeeting})
	if err != nil {
		t.Fatal(err)
	}
	var exempt []string
	for _, d := range items {
		if d.(*store.AgendaItem).Exempt {
			exempt = append(exempt, d.Base().ID)
		}
	}
	if !slices.Equal(exempt, []string{exemptItem}) {
		t.Fatalf("the exempt items of %s are %v, want %s", exemptMeeting, exempt, exemptItem)
	}
	var out []withheldRecord
	for _, k := range store.Kinds() {
		if _, ok := k.Ref("agendaItemId"); !ok {
			continue
		}
		docs, err := s.FindByRef(ctx, k, "agendaItemId", exempt)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			b := d.Base()
			if b.Effective != store.VisibilityOfficer {
				t.Errorf("%s, below an exempt item, is stored as %s", b.ID, b.Effective)
			}
			w := withheldRecord{id: b.ID, kind: k.Name, own: []string{b.ID}, cites: map[string][][2]int{}}
			if b.Notes != nil {
				w.own = append(w.own, *b.Notes)
			}
			for _, src := range b.Sources {
				var from, to int
				if src.Locator != nil {
					if _, err := fmt.Sscanf(*src.Locator, "lines %d-%d", &from, &to); err != nil {
						t.Fatalf("%s cites %s %q: %v", b.ID, src.Document, *src.Locator, err)
					}
					w.cites[src.Document] = append(w.cites[src.Document], [2]int{from, to})
				}
			}
			out = append(out, w)
		}
	}
	return out
}

// sourceLine is line n (from 1) of a source document.
func sourceLine(t *testing.T, sources fs.FS, doc string, n int) string {
	t.Helper()
	b, err := fs.ReadFile(sources, doc)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return sc.Text()
		}
	}
	t.Fatalf("%s has no line %d", doc, n)
	return ""
}

// raw runs a query as the caller with key and returns the whole answer,
// errors and all.
func raw(t *testing.T, h http.Handler, key, query string) []byte {
	t.Helper()
	rec := postAs(h, key, query)
	return append([]byte(fmt.Sprintf("%d ", rec.Code)), rec.Body.Bytes()...)
}

// getPath sends a GET to path as the caller with key.
func getPath(t *testing.T, h http.Handler, key, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// getPage is a GET that must answer 200.
func getPage(t *testing.T, h http.Handler, key, path string) []byte {
	t.Helper()
	rec := getPath(t, h, key, path)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// ndjsonRecord is the record with id in an NDJSON download.
func ndjsonRecord(t *testing.T, body []byte, id string) map[string]any {
	t.Helper()
	for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		if m["id"] == id {
			return m
		}
	}
	t.Fatalf("no %s in the download", id)
	return nil
}

// csvRecord is the row with id in a CSV download, by column.
func csvRecord(t *testing.T, body []byte, id string) map[string]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[0] == id {
			m := map[string]string{}
			for i, name := range rows[0] {
				m[name] = r[i]
			}
			return m
		}
	}
	t.Fatalf("no %s in the download", id)
	return nil
}

// exemptFeedQuery reads the change feed with the records' own fields.
const exemptFeedQuery = `query($since: String) { changes(since: $since, first: 100) {
  pageInfo { hasNextPage endCursor }
  edges { node { kind type id record { __typename
    ... on AgendaItem { id title minuteRef exemptionParagraph minutes decision notes }
    ... on Report { id title notes summary }
    ... on Action { id title notes }
    ... on Declaration { id text } } } } } }`

// readWholeFeed reads the change feed from its start to its end as the
// caller with key, and returns its pages' answers one after another.
func readWholeFeed(t *testing.T, h http.Handler, key string) []byte {
	t.Helper()
	var out bytes.Buffer
	vars := map[string]any{}
	for {
		data, errs := postVars(t, h, key, exemptFeedQuery, vars)
		if len(errs) > 0 {
			t.Fatalf("changes: %v", errs)
		}
		out.Write(data)
		var page struct {
			Changes struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		if !page.Changes.PageInfo.HasNextPage {
			return out.Bytes()
		}
		vars["since"] = page.Changes.PageInfo.EndCursor
	}
}

// TestReferencesToWithheldRecordsReadAsNull checks, on the marked sets
// (package visibilitytest), that a record every caller sees names a
// withheld one, in the graph and in both download formats, only to an
// officer: a public priority's progress updates name the report of an
// exempt item, and the report of the item the moved set makes exempt.
// Downloads read what a level hides once per data generation, so the
// second phase checks that the import of the moved set is seen.
func TestReferencesToWithheldRecordsReadAsNull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	protected := os.DirFS(visibilitytest.Protected())
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	callers := map[string]string{"public": ""}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	const (
		priority = "priority:testshire/plan-public/1"
		open     = "report:testshire/cabinet/2023-03-16/open"
		land     = "report:testshire/cabinet/2023-03-16/land-zzofficer13"
		moving   = "report:testshire/cabinet/2023-03-16/moving"
	)
	want := map[string]map[string][]string{
		"before": {"public": {open, "", moving}, "partner": {open, "", moving}, "officer": {open, land, moving}},
		"after":  {"public": {open, "", ""}, "partner": {open, "", ""}, "officer": {open, land, moving}},
	}
	check := func(phase string) {
		for _, scope := range []string{"public", "partner", "officer"} {
			key := callers[scope]
			// The graph.
			var graphed struct {
				Data struct {
					Priority struct {
						Updates []struct{ Report *struct{ ID string } }
					}
				}
			}
			if err := json.Unmarshal(ask(t, h, key, `{ priority(id: "`+priority+`") { updates { report { id } } } }`), &graphed); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range graphed.Data.Priority.Updates {
				id := ""
				if u.Report != nil {
					id = u.Report.ID
				}
				got = append(got, id)
			}
			if !slices.Equal(got, want[phase][scope]) {
				t.Errorf("%s: %s gets the updates' reports as %q in the graph, want %q", phase, scope, got, want[phase][scope])
			}
			// NDJSON: each update's reportId.
			row := ndjsonRecord(t, getPath(t, h, key, "/export/priorities.ndjson").Body.Bytes(), priority)
			got = nil
			updates, _ := row["updates"].([]any)
			for _, u := range updates {
				id, _ := u.(map[string]any)["reportId"].(string)
				got = append(got, id)
			}
			if !slices.Equal(got, want[phase][scope]) {
				t.Errorf("%s: %s downloads the updates' reportIds as %q in NDJSON, want %q", phase, scope, got, want[phase][scope])
			}
			// CSV: the updates cell names a report only where the graph does.
			cell := csvRecord(t, getPath(t, h, key, "/export/priorities.csv").Body.Bytes(), priority)["updates"]
			for _, id := range []string{open, land, moving} {
				if shown := strings.Contains(cell, `"`+id+`"`); shown != slices.Contains(want[phase][scope], id) {
					t.Errorf("%s: %s's priorities.csv names %s = %v: %s", phase, scope, id, shown, cell)
				}
			}
		}
	}
	check("before")
	if _, err := importer.ImportFS(ctx, s, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	check("after")
}
