package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

type feedEntry struct {
	Cursor, Kind, Type, ID string
	Record                 map[string]any
}

// post sends a query and decodes its data and errors.
func postVars(t *testing.T, h http.Handler, key, query string, vars map[string]any) (json.RawMessage, []map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Data   json.RawMessage
		Errors []map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: %v", rec.Body.String(), err)
	}
	return out.Data, out.Errors
}

const feedQuery = `query($since: String, $first: Int) { changes(since: $since, first: $first) {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { cursor kind type id record { __typename ... on Node { id } ... on Attendance { id } ... on Membership { id } ... on Declaration { id } ... on Observation { id } ... on Person { email } } } } } }`

// readFeed reads the feed after since to its end, three changes a page.
func readFeed(t *testing.T, h http.Handler, key, since string) ([]feedEntry, string) {
	t.Helper()
	var out []feedEntry
	for {
		vars := map[string]any{"first": 3}
		if since != "" {
			vars["since"] = since
		}
		data, errs := postVars(t, h, key, feedQuery, vars)
		if len(errs) > 0 {
			t.Fatalf("changes: %v", errs)
		}
		var page struct {
			Changes struct {
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
				Edges []struct {
					Cursor string
					Node   feedEntry
				}
			}
		}
		if err := json.Unmarshal(data, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Changes.Edges {
			if e.Cursor != e.Node.Cursor {
				t.Errorf("edge cursor %s, node cursor %s", e.Cursor, e.Node.Cursor)
			}
			if (e.Node.Kind == "UPSERT") != (e.Node.Record != nil) {
				t.Errorf("%s %s with record %v", e.Node.Kind, e.Node.ID, e.Node.Record)
			}
			if r := e.Node.Record; r != nil && (r["__typename"] != e.Node.Type || r["id"] != nil && r["id"] != e.Node.ID) {
				t.Errorf("entry %s %s carries %v", e.Node.Type, e.Node.ID, r)
			}
			out = append(out, e.Node)
		}
		since = page.Changes.PageInfo.EndCursor
		if !page.Changes.PageInfo.HasNextPage {
			return out, since
		}
	}
}

func lines(es []feedEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Kind + " " + e.ID
	}
	return out
}

// visibleIDs lists which of ids level l may see now.
func visibleIDs(t *testing.T, s *store.Store, l store.Level, ids []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, id := range ids {
		found, err := s.FindByIDs(store.WithLevel(context.Background(), l), store.KindOfID(id), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		if len(found) == 1 {
			out[id] = true
		}
	}
	return out
}

// TestChangeFeed: import, change (a set that moves records from PUBLIC
// to PARTNER and OFFICER), re-import unchanged, prune: each scope's feed
// holds exactly its upserts and deletions, in order, paged, and nothing
// above its level; an expired cursor is refused with its own code.
func TestChangeFeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, LoaderWait: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	callers := map[string]string{"public": ""}
	levels := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}

	protected := os.DirFS("testdata/protected")
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	set, problems := importer.Load(protected)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var all []string // in the order the import writes them
	for _, k := range store.Kinds() {
		for _, it := range set.Items[k.Collection] {
			all = append(all, it.Doc.Base().ID)
		}
	}
	cursors := map[string]string{}
	before := map[string]map[string]bool{}
	for scope, key := range callers {
		got, end := readFeed(t, h, key, "")
		cursors[scope] = end
		before[scope] = visibleIDs(t, s, levels[scope], all)
		var want []string
		for _, id := range all {
			if before[scope][id] {
				want = append(want, "UPSERT "+id)
			}
		}
		if !slices.Equal(lines(got), want) {
			t.Errorf("%s after the first import:\n got %q\nwant %q", scope, lines(got), want)
		}
		for _, e := range got {
			if scope == "public" && e.Type == "Person" && e.Record["email"] != nil {
				t.Errorf("public sees %s's email through the feed", e.ID)
			}
		}
	}

	// Pruning the observations deletes them, in order, for each who saw them.
	fewer := fstest.MapFS{}
	entries, _ := os.ReadDir("testdata/protected")
	for _, e := range entries {
		if e.Name() == "observations.yaml" {
			continue
		}
		b, err := os.ReadFile("testdata/protected/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		fewer[e.Name()] = &fstest.MapFile{Data: b}
	}
	if _, err := importer.ImportFS(ctx, s, fewer, importer.Options{Dataset: "protected", Prune: true}); err != nil {
		t.Fatal(err)
	}
	for scope, key := range callers {
		got, end := readFeed(t, h, key, cursors[scope])
		var want []string
		for _, it := range set.Items["observations"] {
			if id := it.Doc.Base().ID; before[scope][id] {
				want = append(want, "DELETE "+id)
			}
		}
		// A store deletes in no promised order within one call.
		if g := lines(got); !slices.Equal(slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(want))) {
			t.Errorf("%s after pruning the observations:\n got %q\nwant %q", scope, g, want)
		}
		cursors[scope] = end
		before[scope] = visibleIDs(t, s, levels[scope], all)
	}

	// The moved set makes an agenda item exempt (what belongs to it goes
	// to officers) and a person PARTNER (and what carries them with it).
	if _, err := importer.ImportFS(ctx, s, os.DirFS("testdata/moved"), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	moved := []string{"agendaItem:testshire/cabinet/2023-03-16/cab-2-22", "person:testshire/mo-moving"}
	for scope, key := range callers {
		got, end := readFeed(t, h, key, cursors[scope])
		cursors[scope] = end
		after := visibleIDs(t, s, levels[scope], all)
		// A record may move twice (a declaration of the person under the
		// item): what counts is the last word on it.
		kinds := map[string]string{}
		for _, e := range got {
			kinds[e.ID] = e.Kind
		}
		for _, id := range all {
			switch {
			case slices.Contains(moved, id) && after[id]:
				if kinds[id] != "UPSERT" {
					t.Errorf("%s: rewritten %s is %q, want UPSERT", scope, id, kinds[id])
				}
			case before[scope][id] && !after[id]:
				if kinds[id] != "DELETE" {
					t.Errorf("%s: %s became hidden, and the feed says %q, want DELETE", scope, id, kinds[id])
				}
			case !before[scope][id] && !after[id]:
				if _, ok := kinds[id]; ok {
					t.Errorf("%s: the feed names %s, which it never could see", scope, id)
				}
			}
		}
		if scope == "public" && len(got) < 3 {
			t.Errorf("public after the move: %q, want the moved records' deletions", lines(got))
		}
		if scope == "officer" {
			for id, k := range kinds {
				if k == "DELETE" {
					t.Errorf("officer: %s deleted by a move", id)
				}
			}
		}
	}

	// An unchanged import appends nothing.
	if _, err := importer.ImportFS(ctx, s, os.DirFS("testdata/moved"), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFeed(t, h, callers["officer"], cursors["officer"]); len(got) != 0 {
		t.Errorf("an unchanged import appended %q", lines(got))
	}

	// A cursor older than the retention is refused; the newest still reads.
	first, _ := readFeed(t, h, "", "")
	if _, err := s.PruneChanges(ctx, time.Now().Add(91*24*time.Hour), 0); err != nil {
		t.Fatal(err)
	}
	_, errs := postVars(t, h, "", feedQuery, map[string]any{"since": first[0].Cursor})
	if len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "CHANGES_EXPIRED" || !strings.Contains(errs[0]["message"].(string), "resynchronise") {
		t.Errorf("an expired cursor: %v", errs)
	}
	if got, _ := readFeed(t, h, "", cursors["public"]); len(got) != 0 {
		t.Errorf("the newest cursor after pruning: %q", lines(got))
	}
	for _, bad := range []map[string]any{{"since": "nonsense"}, {"first": 0}} {
		if _, errs := postVars(t, h, "", feedQuery, bad); len(errs) != 1 || errs[0]["extensions"].(map[string]any)["code"] != "BAD_USER_INPUT" {
			t.Errorf("%v: %v", bad, errs)
		}
	}
	if _, errs := postVars(t, h, "", `{ changes(types: ["Nope"]) { edges { cursor } } }`, nil); len(errs) != 1 || !strings.Contains(errs[0]["message"].(string), `"Nope" is not a record type`) {
		t.Errorf("an unknown type: %v", errs)
	}
}

// TestChangeSubscription: a subscription over server-sent events receives
// the change an import makes, as its caller may see it.
func TestChangeSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	if _, err := importer.ImportFS(ctx, s, os.DirFS("testdata/protected"), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	body := `{"query":"subscription { changes(types: [\"Person\"]) { kind type id record { ... on Person { name email } } } }"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	events := make(chan string)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- data
			}
		}
		close(events)
	}()
	// The subscription starts from the log as it stands when its resolver
	// runs, at a moment the stream does not show: write a person of its
	// own until its change arrives, so that the import below comes after
	// the starting point.
	subscribed(t, func(i int) {
		if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: "person:testshire/sub-warm", Visibility: store.VisibilityPublic,
			Sources: []store.Source{{Document: "zzpublicdoc.txt"}}}, Name: fmt.Sprintf("Warm %d", i)}); err != nil {
			t.Fatal(err)
		}
	}, func(wait time.Duration) (string, bool) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			return ev, true
		case <-time.After(wait):
			return "", false
		}
	}, "person:testshire/sub-warm")
	people := fstest.MapFS{"people.yaml": &fstest.MapFile{Data: []byte(`- id: person:testshire/sub-new
  name: Sue Scriber zzpublic99
  email: sue@example.org
  sources: [{document: zzpublicdoc.txt, locator: lines 1-2}]
`)}}
	if _, err := importer.ImportFS(ctx, s, people, importer.Options{Dataset: "sub"}); err != nil {
		t.Fatal(err)
	}
	// The first event past the warm-up's.
	var ev string
	for ev == "" || strings.Contains(ev, "person:testshire/sub-warm") {
		var ok bool
		select {
		case ev, ok = <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
		case <-time.After(subscriptionGuard):
			t.Fatalf("no event within %s of the import", subscriptionGuard)
		}
	}
	{
		var got struct{ Data map[string]any }
		if err := json.Unmarshal([]byte(ev), &got); err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		want := map[string]any{"kind": "UPSERT", "type": "Person", "id": "person:testshire/sub-new", "record": map[string]any{"name": "Sue Scriber zzpublic99", "email": nil}}
		if c, _ := got.Data["changes"].(map[string]any); !maps.EqualFunc(c, want, func(a, b any) bool { x, _ := json.Marshal(a); y, _ := json.Marshal(b); return bytes.Equal(x, y) }) {
			t.Errorf("event %s, want %v", ev, want)
		}
	}
}

// subscriptionGuard bounds the waits for a subscription's events: far
// longer than a poll takes on a loaded machine, it only stops a test that
// would otherwise hang.
const subscriptionGuard = 2 * time.Minute

// subscribed returns once a subscription is running: it calls write(1),
// write(2), ... (each a change the subscription sees, to record id) until
// next, waiting up to the time it is given, returns an event naming id.
// The subscription's later events may still include write's.
func subscribed(t *testing.T, write func(i int), next func(wait time.Duration) (string, bool), id string) {
	t.Helper()
	deadline := time.Now().Add(subscriptionGuard)
	for i := 1; ; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no change to %s reached the subscription within %s", id, subscriptionGuard)
		}
		write(i)
		// Wait a little for this write's event before writing again;
		// a later event may be an earlier write's.
		for {
			ev, ok := next(250 * time.Millisecond)
			if !ok {
				break
			}
			if strings.Contains(ev, `"`+id+`"`) {
				return
			}
		}
	}
}

// TestChangeSubscriptionOverWebSocket: the same over graphql-ws (the
// graphql-transport-ws protocol), with a partner's key on the upgrade.
func TestChangeSubscriptionOverWebSocket(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), subscriptionGuard)
	defer cancel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, LoaderWait: time.Millisecond}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(h)
	defer srv.Close()
	key, _, err := auth.CreateKey(ctx, s, "partner client", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Authorization": {"Bearer " + key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		if err := wsjson.Write(ctx, conn, v); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				t.Fatal(err)
			}
			if m["type"] != "ping" && m["type"] != "pong" {
				return m
			}
		}
	}
	send(map[string]any{"type": "connection_init"})
	if m := recv(); m["type"] != "connection_ack" {
		t.Fatalf("got %v, want connection_ack", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { changes { kind id record { ... on Person { email } } } }`}})
	// As over server-sent events: a warm-up person's change shows that
	// the subscription has its starting point.
	messages := make(chan map[string]any, 16)
	go func() {
		defer close(messages)
		for {
			var m map[string]any
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				return
			}
			if m["type"] != "ping" && m["type"] != "pong" {
				messages <- m
			}
		}
	}()
	next := func(wait time.Duration) (map[string]any, bool) {
		select {
		case m, ok := <-messages:
			if !ok {
				t.Fatal("the connection closed")
			}
			return m, true
		case <-time.After(wait):
			return nil, false
		}
	}
	subscribed(t, func(i int) {
		if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: "person:testshire/ws-warm", Visibility: store.VisibilityPartner,
			Sources: []store.Source{{Document: "d.txt"}}}, Name: fmt.Sprintf("Warm %d", i)}); err != nil {
			t.Fatal(err)
		}
	}, func(wait time.Duration) (string, bool) {
		m, ok := next(wait)
		b, _ := json.Marshal(m)
		return string(b), ok
	}, "person:testshire/ws-warm")
	if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: "person:testshire/ws", Visibility: store.VisibilityPartner,
		Sources: []store.Source{{Document: "d.txt"}}}, Name: "W", Email: ptrTo("w@example.org")}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	for m == nil || strings.Contains(fmt.Sprint(m), "person:testshire/ws-warm") {
		var ok bool
		if m, ok = next(subscriptionGuard); !ok {
			t.Fatalf("no message within %s of the write", subscriptionGuard)
		}
	}
	b, _ := json.Marshal(m["payload"])
	if want := `{"data":{"changes":{"id":"person:testshire/ws","kind":"UPSERT","record":{"email":"w@example.org"}}}}`; m["type"] != "next" || string(b) != want {
		t.Errorf("got %v %s, want next %s", m["type"], b, want)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestFeedReadsAsNewAsTheLog: another process's write extends the change
// log before this process has seen its generation, so the snapshot still
// holds the old records. A plain lookup then answers from the snapshot
// (the old name: what the poll's bound allows), while the feed, which has
// read the new entries, answers their records and their relations from the
// database: the new name and the new organisation's name.
func TestFeedReadsAsNewAsTheLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	org, person := "organisation:feed-org", "person:testshire/feed-person"
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(st *store.Store, at time.Time, name string) {
		t.Helper()
		if err := st.Put(ctx, at, &store.Organisation{Record: record(org), Name: name + " Org", Kind: "NHS_TRUST"},
			&store.Person{Record: record(person), Name: name, OrganisationID: &org}); err != nil {
			t.Fatal(err)
		}
	}
	write(s, at, "Old")
	// The poll never comes within the test: the other process's write is
	// unseen, as it is for up to a poll in service.
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateAddress: -1, ResponseCacheSize: -1, GenerationPoll: time.Hour},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !s.WaitSnapshot(ctx) {
		t.Fatal("no snapshot")
	}
	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	write(other, at.Add(time.Hour), "New")

	data, errs := postVars(t, h, "", `{ person(id: "`+person+`") { name } }`, nil)
	if len(errs) > 0 || !strings.Contains(string(data), `"Old"`) {
		t.Fatalf("the lookup answered %s %v; want the snapshot's old name, or the test shows nothing", data, errs)
	}
	q := `{ changes(first: 100) { edges { node { id record { ... on Person { name organisation { name } } } } } } }`
	data, errs = postVars(t, h, "", q, nil)
	if len(errs) > 0 || !strings.Contains(string(data), `{"name":"New","organisation":{"name":"New Org"}}`) || strings.Contains(string(data), `"Old`) {
		t.Errorf("the feed answered %s %v; want the new records", data, errs)
	}
	// So does a query whose feed comes through a fragment.
	data, errs = postVars(t, h, "", `{ ...F } fragment F on Query { changes(first: 100) { edges { node { record { ... on Person { organisation { name } } } } } } }`, nil)
	if len(errs) > 0 || !strings.Contains(string(data), `"New Org"`) || strings.Contains(string(data), `"Old`) {
		t.Errorf("the feed through a fragment answered %s %v", data, errs)
	}
}
