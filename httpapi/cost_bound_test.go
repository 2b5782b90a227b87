package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
)

// randomDoc builds a document from the schema: random fields to depth 4,
// random pages, aliases and fragments, the IDs of real records as arguments.
func randomDoc(r *rand.Rand, sch *ast.Schema, ids []string) string {
	var frags []string
	var sel func(t *ast.Definition, depth int) string
	sel = func(t *ast.Definition, depth int) string {
		if t.Kind == ast.Union || t.Kind == ast.Interface {
			parts := []string{"__typename"}
			for _, pt := range sch.GetPossibleTypes(t) {
				if r.IntN(3) == 0 {
					parts = append(parts, "... on "+pt.Name+" { "+sel(pt, depth)+" }")
				}
			}
			return strings.Join(parts, " ")
		}
		var parts []string
		for i, f := range t.Fields {
			if strings.HasPrefix(f.Name, "__") || r.IntN(3) == 0 && i > 0 {
				continue
			}
			ft := sch.Types[f.Type.Name()]
			args := arguments(r, f, ids)
			if args == "-" {
				continue
			}
			name := f.Name
			if r.IntN(6) == 0 {
				name = fmt.Sprintf("a%d: %s", r.IntN(1000), f.Name)
			}
			if ft.Kind == ast.Scalar || ft.Kind == ast.Enum {
				parts = append(parts, name+args)
				continue
			}
			if depth == 0 && !strings.HasSuffix(ft.Name, "Connection") && !strings.HasSuffix(ft.Name, "Edge") {
				continue
			}
			inner := sel(ft, max(0, depth-1))
			if inner == "" {
				inner = "__typename"
			}
			if r.IntN(8) == 0 && ft.Kind == ast.Object {
				fname := fmt.Sprintf("F%d", len(frags))
				frags = append(frags, "fragment "+fname+" on "+ft.Name+" { "+inner+" }")
				inner = "..." + fname + " ..." + fname
			}
			parts = append(parts, name+args+" { "+inner+" }")
		}
		if len(parts) == 0 {
			return "__typename"
		}
		return strings.Join(parts, " ")
	}
	q := "{ " + sel(sch.Query, 2) + " }"
	return q + " " + strings.Join(frags, " ")
}

// randomPath builds a document that walks one relation per level from a
// root field, depth levels down: little for one field's misreckoning to
// hide behind.
func randomPath(r *rand.Rand, sch *ast.Schema, ids []string, depth int) string {
	var walk func(t *ast.Definition, depth int) string
	walk = func(t *ast.Definition, depth int) string {
		if t.Kind == ast.Union || t.Kind == ast.Interface {
			pts := sch.GetPossibleTypes(t)
			pt := pts[r.IntN(len(pts))]
			return "__typename ... on " + pt.Name + " { " + walk(pt, depth) + " }"
		}
		var rels []*ast.FieldDefinition
		for _, f := range t.Fields {
			ft := sch.Types[f.Type.Name()]
			if !strings.HasPrefix(f.Name, "__") && ft.Kind != ast.Scalar && ft.Kind != ast.Enum && arguments(r, f, ids) != "-" {
				rels = append(rels, f)
			}
		}
		if depth == 0 || len(rels) == 0 {
			return "__typename"
		}
		f := rels[r.IntN(len(rels))]
		return f.Name + arguments(r, f, ids) + " { " + walk(sch.Types[f.Type.Name()], depth-1) + " }"
	}
	return "{ " + walk(sch.Query, depth) + " }"
}

// arguments picks arguments for f: "-" when it cannot be given any.
func arguments(r *rand.Rand, f *ast.FieldDefinition, ids []string) string {
	var args []string
	for _, a := range f.Arguments {
		switch {
		case a.Name == "first":
			if r.IntN(2) == 0 {
				args = append(args, fmt.Sprintf("first: %d", 1+r.IntN(25)))
			}
		case a.Name == "id" && a.Type.NonNull:
			args = append(args, fmt.Sprintf("id: %q", pick(r, ids, f.Type.Name())))
		case a.Name == "ids":
			var list []string
			for range 1 + r.IntN(30) {
				list = append(list, fmt.Sprintf("%q", ids[r.IntN(len(ids))]))
			}
			args = append(args, "ids: ["+strings.Join(list, ", ")+"]")
		case a.Name == "query":
			args = append(args, fmt.Sprintf("query: %q", []string{"an", "cab", "children", "stockton", "plan"}[r.IntN(5)]))
		case a.Name == "representations":
			var list []string
			for range 1 + r.IntN(30) {
				id := ids[r.IntN(len(ids))]
				list = append(list, fmt.Sprintf(`{__typename: %q, id: %q}`, typeOfID(id), id))
			}
			args = append(args, "representations: ["+strings.Join(list, ", ")+"]")
		case a.Type.NonNull && a.DefaultValue == nil:
			return "-"
		}
	}
	if len(args) == 0 {
		return ""
	}
	return "(" + strings.Join(args, ", ") + ")"
}

// pick is a random ID of a record of type typ (any, if none is).
func pick(r *rand.Rand, ids []string, typ string) string {
	var of []string
	for _, id := range ids {
		if typeOfID(id) == typ {
			of = append(of, id)
		}
	}
	if len(of) == 0 {
		return ids[r.IntN(len(ids))]
	}
	return of[r.IntN(len(of))]
}

func typeOfID(id string) string {
	prefix, _, _ := strings.Cut(id, ":")
	return strings.ToUpper(prefix[:1]) + prefix[1:]
}

// TestCostBoundsTheWork runs random documents on the Stockton set, each
// within a store budget of exactly its cost, and fails if any reads more
// than its cost admitted: the cost must be an upper bound of the work.
func TestCostBoundsTheWork(t *testing.T) {
	t.Parallel()
	s, _ := sharedStockton(t, nil)
	set, problems := importer.Load(os.DirFS("../data/stockton"))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var ids []string
	for _, items := range set.Items {
		for _, it := range items {
			ids = append(ids, it.Doc.Base().ID)
		}
	}
	// The IDs the set published before it was re-keyed: a lookup by one
	// finds nothing, then the moved ID, then the record under its ID now.
	for _, m := range set.Moves {
		ids = append(ids, m.From)
	}
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, CostCeilings: lenient, MaxRecords: 1 << 30, MaxFields: 1 << 20, LoaderWait: time.Millisecond}, quiet())
	sch := schemaOnce()
	r := rand.New(rand.NewPCG(1, 2))
	var docs []string
	for range 20 {
		docs = append(docs, randomDoc(r, sch, ids))
	}
	for range 150 {
		docs = append(docs, randomPath(r, sch, ids, 2+r.IntN(5)))
	}
	for i, q := range docs {
		res := do(t, h, "", "", doc(q))
		for _, e := range res.Errors {
			if strings.Contains(e.Message, "than its cost admits") {
				t.Errorf("document %d read more than its cost: %s\n%s", i, e.Message, q)
			}
		}
	}
}

// TestListCostsHoldTheLongestList checks each plain list of records the
// schema has against the data: on the Stockton set, no record's list is
// longer than the length its cost is reckoned with.
func TestListCostsHoldTheLongestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, keys := sharedStockton(t, nil)
	set, _ := importer.Load(os.DirFS("../data/stockton"))
	st, err := s.FindStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := keys[auth.ScopeOfficer]
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, CostCeilings: lenient, MaxRecords: 1 << 30, MaxFields: 1 << 20, LoaderWait: time.Millisecond}, quiet())
	sch := schemaOnce()
	checked := 0
	for _, k := range store.Kinds() {
		if !k.Node {
			continue
		}
		var ids []string
		for _, it := range set.Items[k.Collection] {
			ids = append(ids, fmt.Sprintf("%q", it.Doc.Base().ID))
		}
		for _, f := range sch.Types[k.Name].Fields {
			ft := sch.Types[f.Type.Name()]
			if f.Type.Elem == nil || ft.Kind != ast.Object || hasRequiredArgs(f) || store.KindNamed(ft.Name) == nil {
				continue
			}
			one := fmt.Sprintf(`{ node(id: "x") { ... on %s { %s { __typename } } } }`, k.Name, f.Name)
			d, _ := parser.ParseQuery(&ast.Source{Input: one})
			cost, _, _ := graph.Cost{Schema: sch, Stats: st}.Of(d, "", nil)
			reckoned := cost - 3 // the node: a find and a record; the list: a find
			body := ask(t, h, key, fmt.Sprintf(`{ nodes(ids: [%s]) { ... on %s { %s { __typename } } } }`, strings.Join(ids, ", "), k.Name, f.Name))
			var res struct {
				Data struct{ Nodes []map[string][]any }
			}
			if err := json.Unmarshal(body, &res); err != nil {
				t.Fatal(err)
			}
			longest := 0
			for _, n := range res.Data.Nodes {
				longest = max(longest, len(n[f.Name]))
			}
			if longest > reckoned {
				t.Errorf("%s.%s: a record holds %d, the cost reckons with %d", k.Name, f.Name, longest, reckoned)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d lists", checked)
	}
}

// FuzzCostBoundsTheWork runs any document within a budget of exactly its
// cost: none may read more than its cost admitted. go test runs the seeds;
// go test -fuzz FuzzCostBoundsTheWork ./httpapi looks for more.
func FuzzCostBoundsTheWork(f *testing.F) {
	for _, seed := range []string{
		`{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { agendaItems { reports { priorities { reports { title } } } } attendance { person { memberships { body { name } } } } next { previous { id } } } }`,
		`{ plans(first: 3) { edges { node { priorities { updates { report { title } } actions { owner { name } } indicators { observations { comparators { area { name } } } } } } } } }`,
		`{ search(query: "children", first: 5) { ... on Person { reports { title } } ... on Body { meetings(first: 2) { totalCount edges { node { id } } } } } }`,
		`{ nodes(ids: ["body:stockton-on-tees/cabinet", "person:anne-mccoy", "plan:stockton-on-tees/council-plan-2022-25"]) { ... on Body { children { name } } } reports(body: "body:stockton-on-tees/cabinet", first: 2) { totalCount } }`,
		`query Q($n: Int) { indicators(first: $n) { edges { node { latest { comparators { id } } priorities { reports { id } } } } } }`,
	} {
		f.Add(seed)
	}
	s, _ := sharedStockton(f, nil)
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, MaxRecords: 1 << 30, LoaderWait: time.Millisecond}, quiet())
	f.Fuzz(func(t *testing.T, q string) {
		body, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"n": 7}})
		for _, e := range do(t, h, "", "", body).Errors {
			if strings.Contains(e.Message, "than its cost admits") {
				t.Errorf("read more than its cost: %s\n%s", e.Message, q)
			}
		}
	})
}
