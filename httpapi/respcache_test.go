package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// logRecorder keeps the attributes of every log record, by message.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]any
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	m := map[string]any{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.Any(); return true })
	l.mu.Lock()
	l.records = append(l.records, m)
	l.mu.Unlock()
	return nil
}

// last is the newest record with message msg.
func (l *logRecorder) last(t *testing.T, msg string) map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.records) - 1; i >= 0; i-- {
		if l.records[i]["msg"] == msg {
			return l.records[i]
		}
	}
	t.Fatalf("no %q log record", msg)
	return nil
}

func (l *logRecorder) count(msg, key string, value any) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r["msg"] == msg && (key == "" || r[key] == value) {
			n++
		}
	}
	return n
}

// cacheEnv is a handler on the protected set with a recorded log.
func cacheEnv(t *testing.T, cfg httpapi.Config) (*store.Store, http.Handler, *logRecorder) {
	t.Helper()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(context.Background(), s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	cfg.RateAnonymous, cfg.RateKeyed, cfg.RateAddress = -1, -1, -1
	rec := &logRecorder{}
	return s, httpapitest.New(s, cfg, slog.New(rec)), rec
}

// outcome asks q as key (POST) and returns what the cache did.
func outcome(t *testing.T, h http.Handler, rec *logRecorder, key, q string) string {
	t.Helper()
	ask(t, h, key, q)
	o, _ := rec.last(t, "request")["cache"].(string)
	return o
}

func TestResponseCacheKey(t *testing.T) {
	t.Parallel()
	_, h, rec := cacheEnv(t, httpapi.Config{})
	q := `query P($id: ID!) { person(id: $id) { name } }`
	ask := func(query string, vars map[string]any) string {
		t.Helper()
		r := do(t, h, "", "", mustJSON(map[string]any{"query": query, "variables": vars}))
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		o, _ := rec.last(t, "request")["cache"].(string)
		return o
	}
	steps := []struct {
		query string
		vars  map[string]any
		want  string
	}{
		{q, map[string]any{"id": "person:stockton-on-tees/pat-public"}, "miss"},
		{q, map[string]any{"id": "person:stockton-on-tees/pat-public"}, "hit"},
		{"# a comment\nquery P($id: ID!) {\n  person(id: $id) {\n    name # and another\n  }\n}\n", map[string]any{"id": "person:stockton-on-tees/pat-public"}, "hit"},
		{q, map[string]any{"id": "person:stockton-on-tees/pam-partner"}, "miss"},
		{`query P($id: ID!) { person(id: $id) { name email } }`, map[string]any{"id": "person:stockton-on-tees/pat-public"}, "miss"},
	}
	for i, st := range steps {
		if got := ask(st.query, st.vars); got != st.want {
			t.Errorf("step %d: cache %q, want %q", i, got, st.want)
		}
	}
}

// TestResponseCacheKeepsLevelsApart asks as officer, then partner, then
// the public: each answer is its level's own.
func TestResponseCacheKeepsLevelsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, h, rec := cacheEnv(t, httpapi.Config{})
	keys := map[string]string{}
	for _, sc := range []string{auth.ScopeOfficer, auth.ScopePartner} {
		k, _, err := auth.CreateKey(ctx, s, sc, "", []string{sc}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		keys[sc] = k
	}
	q := `{ people { totalCount edges { node { name } } } reports { totalCount edges { node { title } } } }`
	for range 2 {
		officer := string(ask(t, h, keys[auth.ScopeOfficer], q))
		partner := string(ask(t, h, keys[auth.ScopePartner], q))
		public := string(ask(t, h, "", q))
		if !strings.Contains(officer, "Staffing review") || !strings.Contains(partner, "Pam Partner") {
			t.Fatalf("officer %s, partner %s: the set is not what this test expects", officer, partner)
		}
		if strings.Contains(partner, "Staffing review") || strings.Contains(public, "Pam Partner") || strings.Contains(public, "Staffing review") {
			t.Fatalf("an answer crossed levels:\npartner %s\npublic %s", partner, public)
		}
	}
	if n := rec.count("request", "cache", "hit"); n != 3 {
		t.Errorf("%d hits, want 3 (the second round)", n)
	}
	// The operation log still records keyed calls served from the cache.
	if n := rec.count("operation", "", nil); n != 4 {
		t.Errorf("%d operation log records for 4 keyed calls", n)
	}
}

// TestResponseCacheFreshWithinBound writes through a second connection,
// as `import` beside a running server does, and holds the service to
// answering from the new data as soon as its poll has seen the write's
// generation.
func TestResponseCacheFreshWithinBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const poll = 200 * time.Millisecond
	s, h, _ := cacheEnv(t, httpapi.Config{GenerationPoll: poll})
	other, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	q := `{ person(id: "person:stockton-on-tees/pat-public") { name } }`
	ask(t, h, "", q)
	ask(t, h, "", q) // now cached
	loc := "lines 1-1"
	changed := &store.Person{Record: store.Record{ID: "person:stockton-on-tees/pat-public", Sources: []store.Source{{Document: "b.txt", Locator: &loc}}}, Name: "Pat Renamed"}
	if err := other.Put(ctx, time.Now(), changed); err != nil {
		t.Fatal(err)
	}
	want, err := other.Generation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// How soon the poll comes depends on the machine; the wait is bounded
	// only so that a watcher that never sees the write fails the test.
	deadline := time.Now().Add(2 * time.Minute)
	for s.SeenGeneration() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the watcher still sees generation %d two minutes after %d was written", s.SeenGeneration(), want)
		}
		time.Sleep(poll / 10)
	}
	if got := string(ask(t, h, "", q)); !strings.Contains(got, "Pat Renamed") {
		t.Fatalf("the old answer %s once generation %d was seen", got, want)
	}
	// A write through the service's own store is seen at once.
	changed.Name = "Pat Again"
	changed.Hash = ""
	if err := s.Put(ctx, time.Now(), changed); err != nil {
		t.Fatal(err)
	}
	if got := string(ask(t, h, "", q)); !strings.Contains(got, "Pat Again") {
		t.Errorf("after a write through the same store: %s", got)
	}
}

// TestResponseCacheSkipsCutAnswers stops a query part way, once it has
// sent its first command to the store, as a deadline does: its answer is
// not kept, and the next caller is answered afresh.
func TestResponseCacheSkipsCutAnswers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var cut context.CancelFunc
	monitor := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) {
		mu.Lock()
		defer mu.Unlock()
		if cut != nil {
			cut()
		}
	}}
	s := storetest.New(t, monitor)
	if _, err := importer.ImportFS(context.Background(), s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	rec := &logRecorder{}
	// The database path: the cut comes with the store's first command,
	// which reads from the snapshot never send.
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateAddress: -1, SnapshotSize: -1}, slog.New(rec))
	ask(t, h, "", `{ bodies { totalCount } }`) // the cost stats are read
	q := `{ people { totalCount edges { node { name organisation { name } } } } }`
	ctx, cancel := context.WithCancel(context.Background())
	mu.Lock()
	cut = cancel
	mu.Unlock()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(doc(q)))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	mu.Lock()
	cut = nil
	mu.Unlock()
	if !strings.Contains(w.Body.String(), `"errors"`) {
		t.Fatalf("the cut request was answered %s", w.Body)
	}
	if got, _ := rec.last(t, "request")["cache"].(string); got != "miss" {
		t.Fatalf("the cut request did not reach the cache: %q (%s)", got, w.Body)
	}
	if got := outcome(t, h, rec, "", q); got != "miss" {
		t.Errorf("after a cut answer the next was a %q", got)
	}
	if got := outcome(t, h, rec, "", q); got != "hit" {
		t.Errorf("a whole answer was not kept: %q", got)
	}
}

// TestResponseCacheByteBound fills a small cache with many answers and
// holds it to its bound.
func TestResponseCacheByteBound(t *testing.T) {
	t.Parallel()
	const bound = 4096
	_, h, rec := cacheEnv(t, httpapi.Config{ResponseCacheSize: bound})
	first := `{ a0: person(id: "person:stockton-on-tees/pat-public") { name email phone } }`
	for i := range 60 {
		ask(t, h, "", fmt.Sprintf(`{ a%d: person(id: "person:stockton-on-tees/pat-public") { name email phone } }`, i))
		if b := rec.last(t, "request")["cache_bytes"].(int64); b > bound {
			t.Fatalf("the cache holds %d bytes, over its bound of %d", b, bound)
		}
	}
	last := rec.last(t, "request")
	if last["cache_evictions"].(int64) == 0 || last["cache_bytes"].(int64) < bound/2 {
		t.Errorf("60 answers in %d bytes: %v evictions, %v bytes", bound, last["cache_evictions"], last["cache_bytes"])
	}
	if got := outcome(t, h, rec, "", first); got != "miss" {
		t.Errorf("the least recently used answer is still held: %q", got)
	}
}

func TestResponseCacheOff(t *testing.T) {
	t.Parallel()
	_, h, rec := cacheEnv(t, httpapi.Config{ResponseCacheSize: -1})
	q := `{ bodies { totalCount } }`
	ask(t, h, "", q)
	ask(t, h, "", q)
	if _, ok := rec.last(t, "request")["cache"]; ok {
		t.Error("a cache turned off still reports")
	}
}

// TestResponseCacheRestrictedIntrospection keeps introspection answers out
// of the cache when not everyone may introspect.
func TestResponseCacheRestrictedIntrospection(t *testing.T) {
	t.Parallel()
	s, h, rec := cacheEnv(t, httpapi.Config{Introspection: "authenticated"})
	key, _, err := auth.CreateKey(context.Background(), s, "p", "", []string{auth.ScopePublic}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := `{ __schema { queryType { name } } }`
	for range 2 {
		if got := outcome(t, h, rec, key, q); got != "" {
			t.Fatalf("introspection went through the cache: %q", got)
		}
	}
	if got := outcome(t, h, rec, key, `{ bodies { __typename totalCount } }`); got != "miss" {
		t.Errorf("__typename is not introspection: %q", got)
	}
}

// get sends a GET with the query (or a persisted query's hash) in the URL.
func get(t *testing.T, h http.Handler, key string, params url.Values, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/graphql?"+params.Encode(), nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHTTPCaching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, h, _ := cacheEnv(t, httpapi.Config{CacheMaxAge: 30 * time.Second})
	key, _, err := auth.CreateKey(ctx, s, "p", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"query": {`{ people { totalCount } }`}}

	anon := get(t, h, "", q, nil)
	etag := anon.Header().Get("ETag")
	if anon.Code != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("anonymous GET: %d, ETag %q", anon.Code, etag)
	}
	if got := anon.Header().Get("Cache-Control"); got != "public, max-age=30" {
		t.Errorf("anonymous Cache-Control %q", got)
	}
	for _, hd := range []string{"Authorization", "X-API-Key", "Accept"} {
		if !strings.Contains(strings.Join(anon.Header().Values("Vary"), ","), hd) {
			t.Errorf("Vary %q lacks %s", anon.Header().Values("Vary"), hd)
		}
	}
	notMod := get(t, h, "", q, map[string]string{"If-None-Match": etag})
	if notMod.Code != http.StatusNotModified || notMod.Body.Len() != 0 || notMod.Header().Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d %q, ETag %q", notMod.Code, notMod.Body, notMod.Header().Get("ETag"))
	}
	if w := get(t, h, "", q, map[string]string{"If-None-Match": `"other", ` + etag}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with a list: %d", w.Code)
	}
	if w := get(t, h, "", q, map[string]string{"If-None-Match": etag, "Accept": "application/graphql-response+json"}); w.Code != 200 || w.Header().Get("ETag") == etag {
		t.Errorf("another media type matched the ETag: %d %q", w.Code, w.Header().Get("ETag"))
	}

	keyed := get(t, h, key, q, map[string]string{"If-None-Match": etag})
	if keyed.Code != 200 || keyed.Header().Get("ETag") == etag || keyed.Header().Get("ETag") == "" {
		t.Errorf("a partner matched the public ETag: %d %q", keyed.Code, keyed.Header().Get("ETag"))
	}
	if got := keyed.Header().Get("Cache-Control"); got != "private, no-cache" {
		t.Errorf("keyed Cache-Control %q", got)
	}
	if w := get(t, h, key, q, map[string]string{"If-None-Match": keyed.Header().Get("ETag")}); w.Code != http.StatusNotModified {
		t.Errorf("keyed If-None-Match: %d", w.Code)
	}

	// A write makes a new generation: the old ETag no longer matches.
	loc := "lines 1-1"
	if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: "person:stockton-on-tees/new", Sources: []store.Source{{Document: "a.txt", Locator: &loc}}}, Name: "New Person"}); err != nil {
		t.Fatal(err)
	}
	after := get(t, h, "", q, map[string]string{"If-None-Match": etag})
	if after.Code != 200 || after.Header().Get("ETag") == etag || !strings.Contains(after.Body.String(), `"totalCount":2`) {
		t.Errorf("after a write: %d %s, ETag %q", after.Code, after.Body, after.Header().Get("ETag"))
	}

	// An automatic persisted query by hash alone, the form CDNs cache.
	pq := `{ bodies { totalCount } }`
	ext := fmt.Sprintf(`{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hash(pq))
	if w := get(t, h, "", url.Values{"query": {pq}, "extensions": {ext}}, nil); w.Code != 200 {
		t.Fatalf("registering the persisted query: %d %s", w.Code, w.Body)
	}
	byHash := get(t, h, "", url.Values{"extensions": {ext}}, nil)
	if byHash.Code != 200 || byHash.Header().Get("ETag") == "" || byHash.Header().Get("Cache-Control") != "public, max-age=30" {
		t.Fatalf("persisted query by hash: %d %s %v", byHash.Code, byHash.Body, byHash.Header())
	}
	if w := get(t, h, "", url.Values{"extensions": {ext}}, map[string]string{"If-None-Match": byHash.Header().Get("ETag")}); w.Code != http.StatusNotModified {
		t.Errorf("persisted query If-None-Match: %d", w.Code)
	}

	// An answer with errors is kept by no HTTP cache.
	bad := get(t, h, "", url.Values{"query": {`{ people(first: -1) { totalCount } }`}}, nil)
	if !strings.Contains(bad.Body.String(), `"errors"`) || bad.Header().Get("ETag") != "" || bad.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("an answer %s got ETag %q, Cache-Control %q", bad.Body, bad.Header().Get("ETag"), bad.Header().Get("Cache-Control"))
	}
}

// TestCachingHeadersEveryCombination asks the same kinds of operation as
// anonymous and keyed callers (with either header that carries a key),
// over GET and POST, with the response cache on and off and introspection
// open and restricted, with a document that names __type in a comment: the
// caching headers depend only on who asked, what was asked and whether it
// answered without errors.
func TestCachingHeadersEveryCombination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type caller struct{ name, header, prefix string }
	callers := []caller{{"anonymous", "", ""}, {"X-API-Key", "X-API-Key", ""}, {"Authorization", "Authorization", "Bearer "}}
	type operation struct {
		name, query string
		ok          bool // answered without errors
	}
	operations := []operation{
		{"query", `{ people { totalCount } }`, true},
		{"query naming __type in a comment", "# __type(name: \"Person\")\n{ people { totalCount } }", true},
		{"query with errors", `{ people(first: -1) { totalCount } }`, false},
		{"mutation", `mutation { people { totalCount } }`, false},
	}
	for _, cacheSize := range []int64{0, -1} {
		for _, intro := range []string{"on", "authenticated", "off"} {
			s, h, _ := cacheEnv(t, httpapi.Config{CacheMaxAge: 45 * time.Second, ResponseCacheSize: cacheSize, Introspection: intro})
			key, _, err := auth.CreateKey(ctx, s, "p", "", []string{auth.ScopePartner}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range callers {
				for _, op := range operations {
					for _, method := range []string{http.MethodGet, http.MethodPost} {
						name := fmt.Sprintf("cache %d, introspection %s, %s, %s, %s", cacheSize, intro, c.name, op.name, method)
						var req *http.Request
						if method == http.MethodGet {
							req = httptest.NewRequest(method, "/graphql?"+url.Values{"query": {op.query}}.Encode(), nil)
						} else {
							req = httptest.NewRequest(method, "/graphql", strings.NewReader(string(doc(op.query))))
							req.Header.Set("Content-Type", "application/json")
						}
						if c.header != "" {
							req.Header.Set(c.header, c.prefix+key)
						}
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						hd := w.Header()
						cc, etag, vary := hd.Get("Cache-Control"), hd.Get("ETag"), strings.Join(hd.Values("Vary"), ", ")
						switch {
						case !op.ok:
							if cc != "no-store" || etag != "" {
								t.Errorf("%s: %d %.200s: Cache-Control %q, ETag %q", name, w.Code, w.Body, cc, etag)
							}
							continue
						case w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`):
							t.Errorf("%s: %d %.300s", name, w.Code, w.Body)
							continue
						case c.header == "" && cc != "public, max-age=45":
							t.Errorf("%s: anonymous Cache-Control %q", name, cc)
						case c.header != "" && cc != "private, no-cache":
							t.Errorf("%s: keyed Cache-Control %q", name, cc)
						}
						if !strings.HasPrefix(etag, `"`) {
							t.Errorf("%s: ETag %q", name, etag)
						}
						for _, want := range []string{"Authorization", "X-API-Key", "Accept"} {
							if !strings.Contains(vary, want) {
								t.Errorf("%s: Vary %q lacks %s", name, vary, want)
							}
						}
					}
				}
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
