package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/httpapi"
)

// TestCostLimitExposed gives a partner the graph's own reckoning of an
// admitted operation beside its router's estimate: with ExposeCost each
// answer carries extensions.costLimit, the cost graph.Cost reckons for the
// operation and the caller's ceiling.
func TestCostLimitExposed(t *testing.T) {
	t.Parallel()
	s, h, _ := cacheEnv(t, httpapi.Config{ExposeCost: true, SnapshotSize: -1})
	q := `{ people(first: 3) { totalCount edges { node { name organisation { name } } } } }`
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(doc(q))))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var resp struct {
		Extensions struct {
			CostLimit struct{ Reckoned, Ceiling int } `json:"costLimit"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	st, err := s.FindStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatal(err)
	}
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s}}).Schema()
	want, _, err := graph.Cost{Schema: schema, Stats: st}.Of(parsed, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := resp.Extensions.CostLimit
	if got.Reckoned != want || got.Ceiling != httpapi.DefaultCostCeilings()[auth.ScopePublic] {
		t.Errorf("costLimit %+v, want reckoned %d and ceiling %d: %s", got, want, httpapi.DefaultCostCeilings()[auth.ScopePublic], w.Body)
	}
}
