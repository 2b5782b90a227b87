package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/graph"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// badCouncils are council arguments no caller should get records or a 500
// for: not IDs, IDs of other kinds, patterns a query language might run,
// operators smuggled in as JSON, and a value far longer than any ID.
var badCouncils = []any{
	"", "not an id", "council:", ".*", "council:.*", "^council:", "council:testshire|council:board-zzpartner17",
	"council:TESTSHIRE", "council:testshire/", "body:testshire/cabinet", "testshire", "council:testshire\x00",
	"council:%", "council:*", `council:testshire" || "1"=="1`, "council:" + strings.Repeat("x", 20000),
	map[string]any{"$ne": nil}, map[string]any{"$regex": ".*"}, []any{"council:testshire"}, 42, true,
}

// TestBadCouncilValues: every list, search and the feed, given a council
// argument that names no council, answers with a clear error or with no
// council's records, never with a 500; the downloads likewise.
func TestBadCouncilValues(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	for _, f := range councilLists(t) {
		var q string
		switch f.Name {
		case "search":
			q = `query($c: ID) { search(query: "zz", first: 100, council: $c) { ... on Node { id } } }`
		case "changes":
			q = `query($c: ID) { changes(council: $c, first: 100) { edges { node { id } } } }`
		default:
			q = fmt.Sprintf(`query($c: ID) { %s(council: $c, first: 100) { totalCount edges { node { id } } } }`, f.Name)
		}
		for _, bad := range badCouncils {
			for scope, key := range e.callers {
				body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"c": bad}})
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if key != "" {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				name := fmt.Sprintf("%s(council: %.40q) as %s", f.Name, fmt.Sprint(bad), scope)
				checkRefusedOrEmpty(t, name, rec)
			}
		}
	}
	for _, c := range export.Collections() {
		k := kindOfCollection(c)
		if k == nil || k.Shared || k.Name == "Council" {
			continue
		}
		for _, bad := range badCouncils {
			s, ok := bad.(string)
			if !ok {
				continue
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export/"+c+".ndjson?"+url.Values{"council": {s}}.Encode(), nil))
			switch {
			case rec.Code >= 500:
				t.Errorf("/export/%s?council=%.40q: %d %.300s", c, s, rec.Code, rec.Body)
			case rec.Code == http.StatusOK && strings.TrimSpace(rec.Body.String()) != "":
				t.Errorf("/export/%s?council=%.40q downloads records: %.300s", c, s, rec.Body)
			case rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), "council"):
				t.Errorf("/export/%s?council=%.40q: %d, and the error does not name the council parameter: %.300s", c, s, rec.Code, rec.Body)
			}
		}
	}
}

// checkRefusedOrEmpty fails unless rec is an error that says what was
// wrong, coded, or an answer with no council's records in it.
func checkRefusedOrEmpty(t *testing.T, name string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Errorf("%s: status %d: %.300s", name, rec.Code, rec.Body)
		return
	}
	var res struct {
		Data   map[string]any
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Errorf("%s: %v: %.300s", name, err, rec.Body)
		return
	}
	for _, e := range res.Errors {
		if e.Extensions["code"] == "INTERNAL" || strings.Contains(e.Message, "internal error") || e.Message == "" {
			t.Errorf("%s: %+v", name, e)
		}
		if e.Extensions["code"] == nil {
			t.Errorf("%s: an error without a code: %+v", name, e)
		}
	}
	if len(res.Errors) > 0 {
		return
	}
	for _, m := range regexp.MustCompile(`"id":"([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		if store.CouncilOf(m[1]) != "" {
			t.Errorf("%s answers %s", name, m[1])
		}
	}
}

// TestCouncilArgumentKeepsTheCost: asking for one council costs what the
// same question of every council costs (a filter narrows what is shown,
// not what the cost must bound), so a council argument lets no caller past
// its ceiling, past the page limit or past the store budget.
func TestCouncilArgumentKeepsTheCost(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	st, err := e.s.FindStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sch := schemaOnce()
	cost := func(q string) int {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := graph.Cost{Schema: sch, Stats: st}.Of(doc, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var heavy []string
	for _, f := range councilLists(t) {
		var all, one string
		switch f.Name {
		case "search":
			all = `{ search(query: "zz", first: 100) { ... on Person { memberships { body { meetings { totalCount } } } } } }`
			one = `{ search(query: "zz", first: 100, council: "council:testshire") { ... on Person { memberships { body { meetings { totalCount } } } } } }`
		case "changes":
			all = `{ changes(first: 100) { edges { node { id } } } }`
			one = `{ changes(council: "council:testshire", first: 100) { edges { node { id } } } }`
		default:
			all = fmt.Sprintf(`{ %s(first: 100) { totalCount edges { node { id council { feeds { name } organisation { people { totalCount } } } } } } }`, f.Name)
			one = fmt.Sprintf(`{ %s(council: "council:testshire", first: 100) { totalCount edges { node { id council { feeds { name } organisation { people { totalCount } } } } } } }`, f.Name)
		}
		if a, o := cost(all), cost(one); o < a {
			t.Errorf("%s costs %d with a council, %d without", f.Name, o, a)
		}
		heavy = append(heavy, one)
		// The page limit holds with a council as without.
		big := strings.Replace(one, "first: 100", "first: 101", 1)
		rec := postAs(e.h, "", big)
		if !strings.Contains(rec.Body.String(), "first must be between 1 and 100") {
			t.Errorf("%s with first: 101 and a council: %d %.300s", f.Name, rec.Code, rec.Body)
		}
	}
	// A ceiling just below a document's cost refuses it, council or not.
	var aliased strings.Builder
	aliased.WriteString("{ ")
	for i, q := range heavy {
		fmt.Fprintf(&aliased, "a%d: %s ", i, strings.TrimSuffix(strings.TrimPrefix(q, "{ "), " }"))
	}
	aliased.WriteString("}")
	c := cost(aliased.String())
	ceilings := map[string]int{}
	for _, sc := range auth.Scopes() {
		ceilings[sc] = c - 1
	}
	tight := httpapitest.New(e.s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: ceilings}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for scope, key := range e.callers {
		rec := postAs(tight, key, aliased.String())
		if !strings.Contains(rec.Body.String(), "exceeds the limit") || strings.Contains(rec.Body.String(), `"data":{`) {
			t.Errorf("%s: a document costing %d past a ceiling of %d: %d %.300s", scope, c, c-1, rec.Code, rec.Body)
		}
	}
}

// sseEvents posts a subscription asking for server-sent events and returns
// its events' data, or the response when it is not a stream.
func sseEvents(t *testing.T, ctx context.Context, srv *httptest.Server, key, query string, vars map[string]any) (<-chan string, *http.Response) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return nil, res
	}
	events := make(chan string, 64)
	go func() {
		defer close(events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				select {
				case events <- data:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return events, res
}

// TestSubscriptionBadCouncil: a subscription given a council argument that
// is not an ID is refused with a coded error over server-sent events, as
// over HTTP, never with a 500 or a stream of everything.
func TestSubscriptionBadCouncil(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), subscriptionGuard)
	defer cancel()
	for _, bad := range []any{map[string]any{"$ne": nil}, []any{"council:testshire"}, map[string]any{"$regex": ".*"}} {
		events, res := sseEvents(t, ctx, srv, "", `subscription($c: ID) { changes(council: $c) { id } }`, map[string]any{"c": bad})
		if events != nil {
			// A stream: its first event must be the refusal.
			select {
			case ev := <-events:
				if !strings.Contains(ev, `"errors"`) || strings.Contains(ev, "internal error") {
					t.Errorf("subscription(council: %v): first event %s, want a coded refusal", bad, ev)
				}
			case <-ctx.Done():
				t.Fatalf("subscription(council: %v): no event", bad)
			}
			res.Body.Close()
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 500 || !bytes.Contains(b, []byte(`"code"`)) {
			t.Errorf("subscription(council: %v): %d %s", bad, res.StatusCode, b)
		}
	}
}

// kindOfCollection is the kind stored in collection c; nil for a file
// that is no one kind's (the analysis layout).
func kindOfCollection(c string) *store.Kind {
	for _, k := range store.Kinds() {
		if k.Collection == c {
			return k
		}
	}
	return nil
}

// TestCouncilSubscriptions: the changes subscription with a council, over
// server-sent events and over graphql-ws, at every level, carries exactly
// the changes to that council's records the caller may see: an import of
// the marked set reaches each subscription to a council its caller may see
// as that council's upserts, and nothing of another council or above the
// caller's level. (A subscription to a council hidden from its caller has
// nothing it may carry, so no event could tell that it has seen the
// import; the feed query's matrix checks those councils.)
func TestCouncilSubscriptions(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the streams' own cleanups and cancel
	ctx, cancel := context.WithTimeout(context.Background(), 2*subscriptionGuard)
	defer cancel()
	// The councils first (and the shared records they name), so that a
	// change to a council's record can be served with its council.
	protected := os.DirFS(visibilitytest.Protected())
	first := fstest.MapFS{}
	for _, name := range []string{"councils.yaml", "organisations.yaml", "areas.yaml"} {
		b, err := fs.ReadFile(protected, name)
		if err != nil {
			t.Fatal(err)
		}
		first[name] = &fstest.MapFile{Data: b}
	}
	if _, err := importer.ImportFS(ctx, s, first, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	callers := map[string]string{"public": ""}
	levels := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	sch := schemaOnce()
	query := fmt.Sprintf(`subscription($c: ID) { changes(council: $c) { kind type id record { %s } } }`, selection(sch, sch.Types["ChangeRecord"], 1))
	// sentinel writes a person into council's namespace at the council's
	// own level: every subscription to the council that may see the
	// council sees it.
	councilLevel := map[string]string{"council:testshire": store.VisibilityPublic,
		"council:board-zzpartner17": store.VisibilityPartner, "council:inquiry-zzofficer31": store.VisibilityOfficer}
	sees := map[string][]string{"public": {"council:testshire"}, "partner": {"council:testshire", "council:board-zzpartner17"}, "officer": markedCouncils}
	sentinel := func(council, name string) string {
		id := "person:" + strings.TrimPrefix(council, "council:") + "/" + name
		if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: id, Visibility: councilLevel[council],
			Sources: []store.Source{{Document: "sentinel.txt"}}}, Name: "Sentinel " + name}); err != nil {
			t.Fatal(err)
		}
		return id
	}

	type stream struct {
		transport, scope, council string
		next                      func(wait time.Duration) (string, bool)
	}
	var streams []*stream
	for _, transport := range []string{"sse", "graphql-ws"} {
		for scope, key := range callers {
			for _, council := range sees[scope] {
				st := &stream{transport: transport, scope: scope, council: council}
				switch transport {
				case "sse":
					events, res := sseEvents(t, ctx, srv, key, query, map[string]any{"c": council})
					if events == nil {
						b, _ := io.ReadAll(res.Body)
						t.Fatalf("%s %s %s: %d %s", transport, scope, council, res.StatusCode, b)
					}
					st.next = func(wait time.Duration) (string, bool) {
						select {
						case ev, ok := <-events:
							if !ok {
								t.Fatalf("%s %s %s: the stream ended", transport, scope, council)
							}
							return ev, true
						case <-time.After(wait):
							return "", false
						}
					}
				default:
					c := socket(t, ctx, srv, "graphql-transport-ws", key, "127.0.0.1")
					p, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"c": council}})
					c.send(wsMsg{ID: "1", Type: "subscribe", Payload: p})
					st.next = func(wait time.Duration) (string, bool) {
						m, ok := c.recv(wait)
						if ok && m.Type != "next" {
							t.Fatalf("%s %s %s: %s %s", transport, scope, council, m.Type, m.Payload)
						}
						return string(m.Payload), ok
					}
				}
				streams = append(streams, st)
			}
		}
	}
	// Each subscription has its starting point once a change of its own
	// council's reaches it.
	for _, st := range streams {
		subscribed(t, func(i int) { sentinel(st.council, "warm") }, st.next, "person:"+strings.TrimPrefix(st.council, "council:")+"/warm")
	}
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	set, problems := importer.Load(protected)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var ids []string // what the second import wrote
	for _, items := range set.Items {
		for _, it := range items {
			if id := it.Doc.Base().ID; store.KindOfID(id).Name != "Council" {
				ids = append(ids, id)
			}
		}
	}
	end := map[string]string{}
	for _, council := range markedCouncils {
		end[council] = sentinel(council, "end")
	}
	for _, st := range streams {
		allowed := visibilitytest.Allowed("before", st.scope)
		visible := visibleIDs(t, s, levels[st.scope], ids)
		var want, got []string
		for _, id := range ids {
			if visible[id] && store.CouncilOf(id) == st.council {
				want = append(want, id)
			}
		}
		for {
			ev, ok := st.next(subscriptionGuard)
			if !ok {
				t.Fatalf("%s %s %s: no event within %s", st.transport, st.scope, st.council, subscriptionGuard)
			}
			var p struct {
				Data struct {
					Changes struct{ Kind, ID string }
				}
				Errors []any
			}
			if err := json.Unmarshal([]byte(ev), &p); err != nil || len(p.Errors) > 0 {
				t.Fatalf("%s %s %s: %v %s", st.transport, st.scope, st.council, err, ev)
			}
			id := p.Data.Changes.ID
			if id == end[st.council] {
				break
			}
			if strings.HasSuffix(id, "/warm") {
				continue
			}
			if c := store.CouncilOf(id); !slices.Contains(sees[st.scope], c) {
				t.Errorf("%s %s %s: a change to %s, of a council the caller may not see", st.transport, st.scope, st.council, id)
			}
			if c := store.CouncilOf(id); c != st.council {
				t.Errorf("%s %s %s: a change to %s, of %q", st.transport, st.scope, st.council, id, c)
			}
			for _, m := range visibilitytest.Marker.FindAllStringSubmatch(ev, -1) {
				if !slices.Contains(allowed, m[1]) {
					t.Errorf("%s %s %s sees %s: %.300s", st.transport, st.scope, st.council, m[0], ev)
				}
			}
			if p.Data.Changes.Kind == "UPSERT" && !slices.Contains(got, id) {
				got = append(got, id)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %s %s:\n got %q\nwant %q", st.transport, st.scope, st.council, got, want)
		}
	}
}
