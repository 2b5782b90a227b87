package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"councilgraph/httpapi"
)

// The doors besides the front one: introspection, name filters,
// downloads and source pages, tried as an attacker would. Each attack is
// refused with a small error answer that has extensions.code, before the
// work it asks for is done (the answer's size bounds what it held), and a
// bystander's trivial query is answered while the attack runs.

// small checks that a refusal is a small answer: the attack's work was not
// done and held.
func small(t *testing.T, r result) {
	t.Helper()
	if n := len(r.Data) + len(fmt.Sprint(r.Errors)); n > 2048 {
		t.Errorf("the refusal is %d bytes, want a small answer", n)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" {
		t.Errorf("a refused operation answered data: %.200s", r.Data)
	}
}

// introspectionQuery is graphql-js's getIntrospectionQuery with every
// option on (descriptions, specifiedByURL, isRepeatable, the schema's
// description, deprecated input values, isOneOf), as GraphiQL, Apollo's
// rover and graphql-http's audits send it, with a type reference nine
// wrappers deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue isDeprecated deprecationReason }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}`

// getFrom sends a GET to path from remote and reads the answer as an error
// answer when it is one.
func getFrom(t *testing.T, h http.Handler, remote, path string) (result, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := result{status: rec.Code, header: rec.Header()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(rec.Body.Bytes(), &r)
	}
	return r, rec.Body.Bytes()
}

func TestAttacksOnOtherDoors(t *testing.T) {
	t.Parallel()
	e := newAttackEnv(t, httpapi.Config{Sources: os.DirFS("../data/stockton/sources")})
	anon := func(i int) string { return fmt.Sprintf("203.0.%d.%d:4000", (i/250)%250, i%250) }

	t.Run("tools introspect within the limits", func(t *testing.T) {
		r := do(t, e.h, "", anon(10), doc(introspectionQuery))
		if r.status != http.StatusOK || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"name":"Query"`) {
			t.Fatalf("the full introspection query: %d %+v", r.status, r.Errors)
		}
		for _, q := range []string{
			`{ __schema { queryType { name } } }`,
			`{ __type(name: "Person") { name fields { name type { name kind ofType { name kind } } } } }`,
			`{ __typename }`,
		} {
			if r := do(t, e.h, "", anon(10), doc(q)); len(r.Errors) > 0 {
				t.Errorf("%s: %+v", q, r.Errors)
			}
		}
	})
	t.Run("introspection listed under many aliases", func(t *testing.T) {
		var a []string
		for i := range 100 {
			a = append(a, fmt.Sprintf(`s%d: __schema { types { name fields { name args { name } type { name fields { name } } } } }`, i))
		}
		q := doc("{ " + strings.Join(a, " ") + " }")
		r := do(t, e.h, "", anon(11), q)
		refused(t, r, "BAD_USER_INPUT", "which exceeds the limit of 10000 for public callers")
		small(t, r)
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), q) })
	})
	t.Run("introspection listed under many aliases over a WebSocket", func(t *testing.T) {
		var a []string
		for i := range 300 {
			a = append(a, fmt.Sprintf(`s%d: __schema { types { name fields { name args { name } type { name fields { name } } } } }`, i))
		}
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		ctx := t.Context()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
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
		if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init"}); err != nil {
			t.Fatal(err)
		}
		if m := recv(); m["type"] != "connection_ack" {
			t.Fatalf("got %v, want connection_ack", m)
		}
		if err := wsjson.Write(ctx, conn, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "{ " + strings.Join(a, " ") + " }"}}); err != nil {
			t.Fatal(err)
		}
		// Refused as an error message, or as a result that holds only
		// errors: either way, small and before any of it is made.
		m := recv()
		raw, _ := json.Marshal(m)
		var errs []any
		switch p := m["payload"].(type) {
		case []any:
			errs = p
		case map[string]any:
			if p["data"] == nil {
				errs, _ = p["errors"].([]any)
			}
		}
		if len(errs) == 0 || len(raw) > 2048 {
			t.Fatalf("got %.500s, want a small error", raw)
		}
		first, _ := errs[0].(map[string]any)
		ext, _ := first["extensions"].(map[string]any)
		if msg, _ := first["message"].(string); ext["code"] != "BAD_USER_INPUT" || !strings.Contains(msg, "which exceeds the limit of 10000 for public callers") {
			t.Errorf("got %s, want the cost refusal", raw)
		}
	})
	t.Run("fragments spread into each other under introspection and a name filter", func(t *testing.T) {
		// Each fragment spreads the one before twice: 2^24 fields once
		// expanded, which the reckoning itself must not expand.
		bomb := func(op, on, leaf string) string {
			var b strings.Builder
			fmt.Fprintf(&b, "%s fragment F0 on %s { %s }", op, on, leaf)
			for i := 1; i <= 24; i++ {
				fmt.Fprintf(&b, " fragment F%d on %s { ...F%d ...F%d }", i, on, i-1, i-1)
			}
			return b.String()
		}
		for _, q := range []string{
			bomb("{ __schema { types { ...F24 } } }", "__Type", "name fields { name }"),
			bomb(`{ people(name: "ann") { ...F24 } }`, "PersonConnection", "totalCount"),
		} {
			r := do(t, e.h, "", anon(15), doc(q))
			refused(t, r, "BAD_USER_INPUT", "fields once its fragments are expanded, which exceeds the limit of 5000")
			small(t, r)
		}
	})
	t.Run("introspection nested deep", func(t *testing.T) {
		// Deeper than the limit, with no more than the three nested
		// lists of types gqlparser's own introspection rule allows.
		q := doc("{ __schema { types { " + strings.Repeat("fields { args { type { ofType { ", 3) + "name" + strings.Repeat(" } } } }", 3) + " } } }")
		r := do(t, e.h, "", anon(12), q)
		refused(t, r, "BAD_USER_INPUT", "depth") // gqlparser's rule on nested lists of types, or the depth limit
		small(t, r)
	})
	t.Run("long names under many aliases", func(t *testing.T) {
		name := strings.Repeat("Bob Cook ", 23)[:200]
		var a []string
		for i := range 500 {
			a = append(a, fmt.Sprintf(`p%d: people(name: %q, first: 1) { totalCount }`, i, name))
		}
		q := doc("{ " + strings.Join(a, " ") + " }")
		r := do(t, e.h, "", anon(13), q)
		refused(t, r, "BAD_USER_INPUT", "which exceeds the limit of 10000 for public callers")
		small(t, r)
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), q) })
		// A name search as a person makes one passes.
		if r := do(t, e.h, "", anon(14), doc(fmt.Sprintf(`{ people(name: %q) { totalCount edges { node { name } } } }`, name))); len(r.Errors) > 0 {
			t.Errorf("one long name search: %+v", r.Errors)
		}
	})
	t.Run("a download's name without a bound", func(t *testing.T) {
		long := strings.Repeat("a", 60_000)
		r, _ := getFrom(t, e.h, anon(20), "/export/people.csv?name="+long)
		if r.status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", r.status)
		}
		refused(t, r, "BAD_USER_INPUT", "name must be at most 200 characters, got 60000")
		small(t, r)
		// The graph says the same of the same argument.
		body, _ := json.Marshal(map[string]any{"query": `query($n: String) { people(name: $n) { totalCount } }`, "variables": map[string]any{"n": long}})
		if g := do(t, e.h, "", anon(21), body); len(g.Errors) == 0 || g.Errors[0].Message != r.Errors[0].Message {
			t.Errorf("the graph says %+v, the download %q", g.Errors, r.Errors[0].Message)
		}
		e.underAttack(t, 4, func(i int) { getFrom(t, e.h, anon(i), "/export/people.csv?name="+long) })
	})
	t.Run("source pages from one address", func(t *testing.T) {
		// At a rate of one request in a quarter of an hour (a burst of
		// one), so that what the test sees does not depend on how fast a
		// busy machine makes pages (a quarter of a megabyte each).
		e := newAttackEnv(t, httpapi.Config{Sources: os.DirFS("../data/stockton/sources"), RateAnonymous: 1.0 / 900})
		const page = "/sources/cabinet-2023-06-15-agenda-pack.txt"
		// From one address, up to 1,200 pages, until twenty are refused.
		var ok, limited atomic.Int64
		var last atomic.Value
		enough := func() bool { return limited.Load() >= 20 || ok.Load()+limited.Load() >= 1200 }
		one := func() {
			r, _ := getFrom(t, e.h, "192.0.2.50:7000", page)
			switch r.status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				limited.Add(1)
				last.Store(r)
			default:
				t.Errorf("a source page answered %d", r.status)
			}
		}
		e.underAttackUntil(t, 4, func(int) bool {
			if enough() {
				return false
			}
			one()
			return true
		})
		for !enough() {
			one()
		}
		if limited.Load() == 0 || ok.Load() > 1 {
			t.Fatalf("source pages from one address at one a quarter of an hour: %d served, %d refused", ok.Load(), limited.Load())
		}
		r := last.Load().(result)
		refused(t, r, "RATE_LIMITED", "rate limit exceeded")
		small(t, r)
		if r.header.Get("Retry-After") == "" {
			t.Error("a refused source page has no Retry-After")
		}
		// One bucket for every door: the same address's query is refused
		// too, while another address reads the page.
		if q := do(t, e.h, "", "192.0.2.50:7000", doc(`{ __typename }`)); q.status != http.StatusTooManyRequests {
			t.Errorf("the same address's query after its pages: %d, want 429", q.status)
		}
		if other, body := getFrom(t, e.h, anon(30), page); other.status != http.StatusOK || !strings.Contains(string(body), "<pre>") {
			t.Errorf("another address's source page: %d", other.status)
		}
	})
}
