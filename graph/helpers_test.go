package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/importer/importertest"
	"councilgraph/loaders"
	"councilgraph/store"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

var (
	now   = time.Date(2023, 6, 15, 12, 0, 0, 0, time.UTC)
	today = func() time.Time { return time.Date(2023, 7, 1, 9, 0, 0, 0, time.UTC) }
)

// server serves the graph over s the way the service does, each request
// made by graph.Requests; a level or budget the test set on the request's
// context stays.
func server(s *store.Store) http.Handler {
	h := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s, Now: today}}))
	h.AddTransport(transport.POST{})
	graph.Configure(h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), graph.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := graph.Requests{Store: s}.New(r.Context(), "", auth.Anonymous)
		if set := store.RequestOf(r.Context()); set != nil {
			req := *set
			req.Loaders = loaders.For(ctx)
			ctx = store.WithRequest(ctx, &req)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// query posts a query with variables and returns the response.
func query(t *testing.T, h http.Handler, q string, vars map[string]any) response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, rec.Body.String())
	}
	return r
}

// data posts a query that must succeed and decodes its data into v.
func data(t *testing.T, h http.Handler, q string, vars map[string]any, v any) {
	t.Helper()
	r := query(t, h, q, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("query failed: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode data: %v\n%s", err, r.Data)
	}
}

func put(t *testing.T, s *store.Store, docs ...store.Doc) {
	t.Helper()
	if err := s.Put(context.Background(), now, docs...); err != nil {
		t.Fatal(err)
	}
}

func src(lines string) []store.Source {
	return []store.Source{{Document: "fixture.txt", Locator: &lines}}
}

func ptr[T any](v T) *T { return &v }

func rec(id string) store.Record { return store.Record{ID: id, Sources: src("lines 1-2")} }
