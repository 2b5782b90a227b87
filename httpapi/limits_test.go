package httpapi_test

import (
	"bytes"
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

	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store/storetest"
)

type result struct {
	status int
	header http.Header
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

func do(t testing.TB, h http.Handler, key, remote string, body []byte) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := result{status: rec.Code, header: rec.Header()}
	_ = json.Unmarshal(rec.Body.Bytes(), &r)
	return r
}

func doc(q string) []byte {
	b, _ := json.Marshal(map[string]any{"query": q})
	return b
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestLimits(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(context.Background(), s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1}, quiet())
	deep := `{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { body { meetings { edges { node { body { meetings { edges { node { body { meetings { edges { node { id } } } } } } } } } } } } } }`
	var aliases []string
	for i := range 20 {
		aliases = append(aliases, fmt.Sprintf(`s%d: search(query: "pa", first: 100) { __typename }`, i))
	}
	wide := "{ " + strings.Join(aliases, " ") + " }" // each search: 10 finds of up to 101 records
	tests := []struct {
		name, query, wantMsg, wantCode string
	}{
		{"deep", deep, "operation has depth 14, which exceeds the limit of 12", "BAD_USER_INPUT"},
		{"wide", wide, "operation has cost", "BAD_USER_INPUT"},
		{"wide names the limit", wide, "which exceeds the limit of 10000 for public callers", "BAD_USER_INPUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, "", "", doc(tt.query))
			if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, tt.wantMsg) || r.Errors[0].Extensions["code"] != tt.wantCode {
				t.Fatalf("got %d %+v, want %s %q", r.status, r.Errors, tt.wantCode, tt.wantMsg)
			}
		})
	}
	t.Run("deep enough passes, a chain of ofType counts as one level", func(t *testing.T) {
		r := do(t, h, "", "", doc(`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }`))
		if len(r.Errors) > 0 {
			t.Fatalf("introspection refused: %+v", r.Errors)
		}
	})
	t.Run("an officer may spend more", func(t *testing.T) {
		key, _, err := auth.CreateKey(context.Background(), s, "officer", "", []string{"officer"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		q := wide
		if r := do(t, h, "", "", doc(q)); len(r.Errors) != 1 {
			t.Fatalf("public ran a 20k query: %+v", r.Errors)
		}
		if r := do(t, h, key, "", doc(q)); len(r.Errors) != 0 {
			t.Fatalf("officer refused: %+v", r.Errors)
		}
	})
	t.Run("oversized token stream", func(t *testing.T) {
		q := "{ " + strings.Repeat("areas { id } ", 4000) + "}"
		r := do(t, h, "", "", doc(q))
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "token limit") {
			t.Fatalf("got %+v, want a token limit error", r.Errors)
		}
	})
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(context.Background(), s, protected, importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{Timeout: time.Nanosecond, RateAnonymous: -1}, quiet())
	r := do(t, h, "", "", doc(`{ people { totalCount } }`))
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" || !strings.Contains(r.Errors[0].Message, "took too long") {
		t.Fatalf("got %d %+v %s, want SERVICE_UNAVAILABLE took too long", r.status, r.Errors, r.Data)
	}
	ok := httpapitest.New(s, httpapi.Config{RateAnonymous: -1}, quiet())
	if r := do(t, ok, "", "", doc(`{ people { totalCount } }`)); len(r.Errors) > 0 {
		t.Fatalf("the service did not answer after a timeout: %+v", r.Errors)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	// At a hundredth of a request a second the burst is one and the next
	// token 100 s away: the second request is refused however slowly the
	// machine runs them.
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: 0.01, RateKeyed: 5}, quiet())
	q := doc(`{ areas { id } }`)
	var limited *result
	for range 10 {
		r := do(t, h, "", "192.0.2.1:1234", q)
		if r.status == http.StatusTooManyRequests {
			limited = &r
			break
		}
	}
	if limited == nil {
		t.Fatal("a burst of 10 at 0.01/s was never limited")
	}
	if limited.header.Get("Retry-After") == "" || len(limited.Errors) != 1 || limited.Errors[0].Extensions["code"] != "RATE_LIMITED" {
		t.Errorf("429 without Retry-After or RATE_LIMITED: %+v %v", limited.Errors, limited.header)
	}
	if r := do(t, h, "", "192.0.2.2:1234", q); r.status != http.StatusOK {
		t.Errorf("another caller got %d while the first was limited", r.status)
	}
	key, _, err := auth.CreateKey(context.Background(), s, "partner", "", []string{"partner"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := do(t, h, key, "192.0.2.1:1234", q); r.status != http.StatusOK {
		t.Errorf("a keyed client from the limited address got %d", r.status)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1}, quiet())
	key, c, err := auth.CreateKey(ctx, s, "Trust", "NHS", []string{"partner"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(key) < 4+22 { // prefix + at least 128 bits in base64
		t.Fatalf("key %q is too short", key)
	}
	q := doc(`{ areas { id } }`)
	if r := do(t, h, key, "", q); r.status != http.StatusOK {
		t.Fatalf("new key refused: %d %+v", r.status, r.Errors)
	}

	// The stored record holds no usable key.
	var raw bson.M
	if err := storetest.Raw(t, s).Collection("clients").FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	stored, _ := bson.MarshalExtJSON(raw, false, false)
	if strings.Contains(string(stored), strings.TrimPrefix(key, "cgk_")) {
		t.Fatal("the clients collection holds the key")
	}
	if r := do(t, h, raw["keyHash"].(string), "", q); r.status != http.StatusUnauthorized {
		t.Errorf("the stored hash works as a key: %d", r.status)
	}

	if ok, err := s.RevokeClient(ctx, c.ID, time.Now()); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	for name, k := range map[string]string{"revoked": key, "unknown": "cgk_" + strings.Repeat("A", 43), "malformed": "letmein"} {
		r := do(t, h, k, "", q)
		if r.status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("%s key: %d %+v, want 401 UNAUTHENTICATED", name, r.status, r.Errors)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(q))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("Basic credentials: %d, want 401", rec.Code)
	}
}

func TestIntrospectionForAuthenticatedOnly(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{Introspection: "authenticated", RateAnonymous: -1, RateKeyed: -1}, quiet())
	key, _, err := auth.CreateKey(context.Background(), s, "p", "", []string{"partner"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	q := doc(`{ __schema { queryType { name } } }`)
	if r := do(t, h, "", "", q); len(r.Errors) == 0 {
		t.Error("an anonymous caller introspected")
	}
	if r := do(t, h, key, "", q); len(r.Errors) != 0 {
		t.Errorf("a partner could not introspect: %+v", r.Errors)
	}
}

func TestTrustedDocuments(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	allowed := `{ areas { id } }`
	manifest := t.TempDir() + "/manifest.json"
	m, _ := json.Marshal(map[string]any{"scopes": []string{"public"}, "operations": []map[string]string{{"id": hash(allowed), "name": "Areas", "body": allowed}}})
	if err := writeFile(manifest, m); err != nil {
		t.Fatal(err)
	}
	trusted, err := httpapi.LoadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{Trusted: trusted, RateAnonymous: -1, RateKeyed: -1}, quiet())
	if r := do(t, h, "", "", doc(allowed)); len(r.Errors) > 0 {
		t.Errorf("a trusted document was refused: %+v", r.Errors)
	}
	byHash, _ := json.Marshal(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash(allowed)}}})
	if r := do(t, h, "", "", byHash); len(r.Errors) > 0 {
		t.Errorf("a trusted document sent by hash was refused: %+v", r.Errors)
	}
	r := do(t, h, "", "", doc(`{ people { totalCount } }`))
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "FORBIDDEN" {
		t.Errorf("an untrusted document ran for public: %+v", r.Errors)
	}
	key, _, _ := auth.CreateKey(context.Background(), s, "o", "", []string{"officer"}, time.Now())
	if r := do(t, h, key, "", doc(`{ people { totalCount } }`)); len(r.Errors) > 0 {
		t.Errorf("an officer, not held to the manifest, was refused: %+v", r.Errors)
	}
}

func TestAutomaticPersistedQueries(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1}, quiet())
	q := `{ areas { id name } }`
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash(q)}}
	byHash, _ := json.Marshal(map[string]any{"extensions": ext})
	r := do(t, h, "", "", byHash)
	if len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v, want PersistedQueryNotFound", r.Errors)
	}
	full, _ := json.Marshal(map[string]any{"query": q, "extensions": ext})
	if r := do(t, h, "", "", full); len(r.Errors) > 0 {
		t.Fatalf("registering the query: %+v", r.Errors)
	}
	if r := do(t, h, "", "", byHash); len(r.Errors) > 0 || string(r.Data) != `{"areas":[]}` {
		t.Fatalf("by hash after registering: %s %+v", r.Data, r.Errors)
	}
}

// TestADownloadIsNotHeldToAnOperationsBudget: MaxRecords bounds what one
// GraphQL operation may read; a download reads its whole file, and its
// request carries no such budget.
func TestADownloadIsNotHeldToAnOperationsBudget(t *testing.T) {
	s, _ := sharedStockton(t, nil)
	h := httpapitest.New(s, httpapi.Config{MaxRecords: 10, RateAnonymous: -1, RateAddress: -1}, quiet())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export/meetings.ndjson", nil))
	if n := strings.Count(rec.Body.String(), "\n"); rec.Code != http.StatusOK || n <= 10 {
		t.Fatalf("/export/meetings.ndjson with MaxRecords 10: %d, %d lines: %.300s", rec.Code, n, rec.Body)
	}
	r := do(t, h, "", "", doc(`{ meetings(first: 50) { edges { node { id } } } }`))
	if len(r.Errors) == 0 {
		t.Errorf("an operation reading 50 meetings passed MaxRecords 10: %.200s", r.Data)
	}
}
