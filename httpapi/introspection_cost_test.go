package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/graph"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store/storetest"
)

// elements counts the list elements of a decoded JSON answer.
func elements(v any) int {
	n := 0
	switch x := v.(type) {
	case []any:
		n += len(x)
		for _, e := range x {
			n += elements(e)
		}
	case map[string]any:
		for _, e := range x {
			n += elements(e)
		}
	}
	return n
}

// TestIntrospectionCostIsItsSize: introspection costs the list elements
// its answer holds, counted from the served schema: never fewer, and no
// more than the deprecated ones it may leave out.
func TestIntrospectionCostIsItsSize(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateAddress: -1}, quiet())
	st, err := s.FindStats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sch := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
	for _, q := range []string{
		introspectionQuery,
		`{ __schema { types { name fields { name args { name } type { name fields { name } } } } } }`,
		`{ __type(name: "Query") { fields { name args { name type { kind ofType { kind ofType { name inputFields { name } enumValues { name } } } } } } } }`,
		`{ a: __type(name: "Node") { possibleTypes { name interfaces { name } } } b: __type(name: "Nope") { name } }`,
		`{ __schema { directives { name locations args { name } } queryType { fields { name } } } }`,
	} {
		d, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			t.Fatal(err)
		}
		cost, _, _ := graph.Cost{Schema: sch, Stats: st}.Of(d, "", nil)
		r := do(t, h, "", "", doc(q))
		if len(r.Errors) > 0 {
			t.Fatalf("%.80s: %+v", q, r.Errors)
		}
		var data any
		if err := json.Unmarshal(r.Data, &data); err != nil {
			t.Fatal(err)
		}
		if n := elements(data); cost < n || cost > n+n/10 {
			t.Errorf("%.80s: cost %d for an answer of %d list elements", q, cost, n)
		} else {
			t.Logf("%.60s: cost %d, %d list elements, %d bytes", q, cost, n, len(r.Data))
		}
	}
}
