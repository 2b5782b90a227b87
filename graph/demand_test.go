package graph_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/graph"
	"councilgraph/importer/importertest"
	"councilgraph/schema"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// stocktonSDL is the subgraph schema the service serves on the Stockton
// set, with the stats Cost is given there.
func stocktonSDL(t *testing.T) (string, *ast.Schema, *store.Stats) {
	t.Helper()
	s := importertest.Stockton(t, nil)
	ctx := context.Background()
	st, err := s.FindStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s}}).Schema()
	sdl, err := graph.ServiceSDL(schema.SDL, exec, st)
	if err != nil {
		t.Fatal(err)
	}
	return sdl, exec, st
}

// routerSchema is a served subgraph schema as a router reads it: each
// type's fields (its extensions' included) and directives.
type routerSchema struct {
	fields     map[string]map[string]*ast.FieldDefinition
	directives map[string]ast.DirectiveList
	kinds      map[string]ast.DefinitionKind
}

func readRouterSchema(t *testing.T, sdl string) routerSchema {
	t.Helper()
	doc, err := parser.ParseSchema(&ast.Source{Input: sdl})
	if err != nil {
		t.Fatalf("the served schema does not parse: %v", err)
	}
	rs := routerSchema{fields: map[string]map[string]*ast.FieldDefinition{}, directives: map[string]ast.DirectiveList{}, kinds: map[string]ast.DefinitionKind{}}
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, d := range defs {
			if rs.fields[d.Name] == nil {
				rs.fields[d.Name] = map[string]*ast.FieldDefinition{}
			}
			for _, f := range d.Fields {
				rs.fields[d.Name][f.Name] = f
			}
			rs.directives[d.Name] = append(rs.directives[d.Name], d.Directives...)
			if d.Kind != "" {
				rs.kinds[d.Name] = d.Kind
			}
		}
	}
	return rs
}

func intArg(d *ast.Directive, name string) (int, bool) {
	if d == nil {
		return 0, false
	}
	a := d.Arguments.ForName(name)
	if a == nil {
		return 0, false
	}
	n, err := strconv.Atoi(a.Value.Raw)
	return n, err == nil
}

func strsArg(d *ast.Directive, name string) []string {
	if d == nil || d.Arguments.ForName(name) == nil {
		return nil
	}
	var out []string
	for _, c := range d.Arguments.ForName(name).Value.Children {
		out = append(out, c.Value.Raw)
	}
	return out
}

// routerDefaultListSize is the list size a router assumes for a list with
// no @listSize (Apollo Router's static_estimated.list_size); every list
// the graph counts has one, so it only matters when one is missing.
const routerDefaultListSize = 10

// estimate is a router's static estimate of a selection on type typ, as
// Apollo Router's demand control reckons it from @cost and @listSize (the
// IBM cost specification): for each field, n × (weight + what is selected
// under it) plus the weights of the arguments given. sized holds the
// fields the enclosing field's @listSize sizes, at size.
func (rs routerSchema) estimate(doc *ast.QueryDocument, typ string, sels ast.SelectionSet, vars map[string]any, sized []string, size int) int {
	total := 0
	for _, sel := range sels {
		switch x := sel.(type) {
		case *ast.InlineFragment:
			on := typ
			if x.TypeCondition != "" {
				on = x.TypeCondition
			}
			total += rs.estimate(doc, on, x.SelectionSet, vars, sized, size)
		case *ast.FragmentSpread:
			f := doc.Fragments.ForName(x.Name)
			total += rs.estimate(doc, f.TypeCondition, f.SelectionSet, vars, sized, size)
		case *ast.Field:
			if strings.HasPrefix(x.Name, "__") {
				continue
			}
			def := rs.fields[typ][x.Name]
			if def == nil {
				for name, k := range rs.kinds { // a field of a union member
					if k == ast.Object && rs.fields[name][x.Name] != nil && typ != name {
						def = rs.fields[name][x.Name]
						break
					}
				}
			}
			ft := def.Type.Name()
			ls := def.Directives.ForName("listSize")
			n := 1
			if def.Type.Elem != nil {
				n = routerDefaultListSize
				if v, ok := intArg(ls, "assumedSize"); ok {
					n = v
				}
				for _, arg := range strsArg(ls, "slicingArguments") {
					if a := x.Arguments.ForName(arg); a != nil {
						n = argInt(a.Value, vars)
					}
				}
				if slices.Contains(sized, x.Name) {
					n = size
				}
			}
			weight := 0
			if c, ok := intArg(def.Directives.ForName("cost"), "weight"); ok {
				weight = c
			} else if c, ok := intArg(rs.directives[ft].ForName("cost"), "weight"); ok {
				weight = c
			} else if k := rs.kinds[ft]; k == ast.Object || k == ast.Interface || k == ast.Union {
				weight = 1
			}
			// The size a @listSize with sizedFields passes to those fields.
			childSize := 0
			if v, ok := intArg(ls, "assumedSize"); ok {
				childSize = v
			}
			for _, arg := range strsArg(ls, "slicingArguments") {
				if a := x.Arguments.ForName(arg); a != nil {
					childSize = argInt(a.Value, vars)
				}
			}
			child := rs.estimate(doc, ft, x.SelectionSet, vars, strsArg(ls, "sizedFields"), childSize)
			args := 0
			for _, a := range x.Arguments {
				if c, ok := intArg(def.Arguments.ForName(a.Name).Directives.ForName("cost"), "weight"); ok {
					args += c
				}
			}
			total += n*(weight+child) + args
		}
	}
	return total
}

func argInt(v *ast.Value, vars map[string]any) int {
	raw := v.Raw
	if v.Kind == ast.Variable {
		switch x := vars[raw].(type) {
		case int:
			return x
		case float64:
			return int(x)
		}
	}
	n, _ := strconv.Atoi(raw)
	return n
}

// TestServedSchemaCostsEveryCountedField checks that the served schema
// gives a router what it needs for every field Cost counts by a rule, for
// every list whose elements cost anything, and for every page's count: a
// list added without them fails here.
func TestServedSchemaCostsEveryCountedField(t *testing.T) {
	t.Parallel()
	sdl, exec, _ := stocktonSDL(t)
	if os.Getenv("SERVED_SDL") != "" {
		_ = os.WriteFile(os.Getenv("SERVED_SDL"), []byte(sdl), 0o644)
	}
	rs := readRouterSchema(t, sdl)
	link := regexp.MustCompile(`@link\(url: "https://specs\.apollo\.dev/federation/v2\.9", import: \[[^\]]*\]\)`).FindString(sdl)
	if !strings.Contains(link, `"@cost"`) || !strings.Contains(link, `"@listSize"`) {
		t.Errorf("the served schema does not import @cost from Federation 2.9:\n%.600s", sdl)
	}
	for _, key := range graph.CountedFields() {
		typ, field, _ := strings.Cut(key, ".")
		if key == "Query._entities" {
			continue // gqlgen's, for routers' own use: no client asks it
		}
		def := rs.fields[typ][field]
		if def == nil {
			t.Errorf("%s: counted but not in the served schema", key)
			continue
		}
		if def.Directives.ForName("cost") == nil {
			t.Errorf("%s: counted, but has no @cost", key)
		}
		if def.Type.Elem != nil && def.Directives.ForName("listSize") == nil {
			t.Errorf("%s: a counted list without @listSize", key)
		}
	}
	for _, typ := range exec.Types {
		if typ.Kind != ast.Object || rs.fields[typ.Name] == nil {
			continue // not the schema's own (gqlgen's Entity, _Service)
		}
		for _, f := range typ.Fields {
			ft := exec.Types[f.Type.Name()]
			if strings.HasPrefix(f.Name, "_") || ft == nil || ft.Kind == ast.Scalar || ft.Kind == ast.Enum {
				continue
			}
			def := rs.fields[typ.Name][f.Name]
			key := typ.Name + "." + f.Name
			switch {
			case def == nil:
				t.Errorf("%s: not in the served schema", key)
			case f.Type.Elem != nil && f.Name == "edges" && strings.HasSuffix(typ.Name, "Connection"):
				// sized by the field that returns the connection
			case f.Type.Elem != nil && def.Directives.ForName("listSize") == nil:
				t.Errorf("%s: a list of %s without @listSize", key, ft.Name)
			case strings.HasSuffix(ft.Name, "Connection") && def.Directives.ForName("listSize") == nil:
				t.Errorf("%s: a page without @listSize", key)
			}
		}
		if strings.HasSuffix(typ.Name, "Connection") {
			if def := rs.fields[typ.Name]["totalCount"]; def != nil && def.Directives.ForName("cost") == nil {
				t.Errorf("%s.totalCount: a count without @cost", typ.Name)
			}
		}
	}
}

// TestRouterEstimateBoundsCost reckons each README example, and a query of
// each kind of list, as a router would from the served schema, and as the
// graph's cost limit does: the router's estimate is never below the
// graph's cost (so a router with the same ceiling never sends what the
// graph refuses), and equals it wherever a query reads single records and
// pages only, or searches for fewer than three characters. A router does
// not know the query: it reckons a search as one the model's search index
// cannot narrow, which a longer query costs the graph less than.
func TestRouterEstimateBoundsCost(t *testing.T) {
	t.Parallel()
	sdl, exec, st := stocktonSDL(t)
	rs := readRouterSchema(t, sdl)
	type example struct {
		query string
		exact bool
	}
	var examples []example
	for _, q := range readmeExamples(t) {
		examples = append(examples, example{q, false})
	}
	examples = append(examples,
		example{`{ person(id: "person:x") { name organisation { name } } }`, true},
		example{`{ people(first: 7) { totalCount pageInfo { hasNextPage } edges { cursor node { name organisation { name } } } } }`, true},
		example{`{ meetings { edges { node { title body { name } } } } }`, true},
		example{`{ reports(body: "body:stockton-on-tees/cabinet", first: 3) { edges { node { title } } } }`, true},
		example{`{ search(query: "ca", first: 5) { ... on Person { name } ... on Body { name organisation { name } } } }`, true},
		example{`{ search(query: "cabinet", first: 5) { ... on Person { name } ... on Body { name organisation { name } } } }`, false},
		example{`{ node(id: "body:stockton-on-tees/cabinet") { id ... on Body { name } } }`, true},
		example{`{ changes(first: 4) { edges { node { id record { ... on Person { name } } } } } }`, true},
		example{`{ meeting(id: "m") { previous { title } next { title } attendance { person { name } } } }`, false},
		example{`{ indicator(id: "i") { latest { value } trend { direction area { name } } observations { value comparisons { comparator { value } } } } }`, false},
		example{`{ organisation(id: "o") { people(first: 5) { edges { node { name } } } sources { document } } }`, false},
		example{`{ areas { name sources { document } } nodes(ids: ["a", "b"]) { id } }`, false},
	)
	for _, ex := range examples {
		doc, err := parser.ParseQuery(&ast.Source{Input: ex.query})
		if err != nil {
			t.Fatalf("%s: %v", ex.query, err)
		}
		cost, _, err := graph.Cost{Schema: exec, Stats: st}.Of(doc, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		est := rs.estimate(doc, "Query", doc.Operations[0].SelectionSet, nil, nil, 0)
		name := strings.Join(strings.Fields(ex.query), " ")
		t.Logf("router %6d, graph %6d: %.90s", est, cost, name)
		if est < cost {
			t.Errorf("a router would estimate %d for what the graph reckons %d: %s", est, cost, name)
		}
		if ex.exact && est != cost {
			t.Errorf("a router would estimate %d, the graph %d: %s", est, cost, name)
		}
	}
}

// readmeExamples are the queries of README.md § Example queries.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	start := strings.Index(section, "## Example queries")
	if start < 0 {
		t.Fatal("README.md has no Example queries section")
	}
	section = section[start+len("## Example queries"):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) < 5 {
		t.Fatalf("found %d examples, want at least 5", len(out))
	}
	return out
}

// TestAreaByCode resolves areas as a partner's subgraph refers to them, by
// GSS code, beside references by ID: the codes of one request take one
// find, an unknown code is null, and a reference with neither key is
// refused naming both.
func TestAreaByCode(t *testing.T) {
	t.Parallel()
	var counter storetest.Counter
	s := importertest.Stockton(t, counter.Monitor())
	h := server(s)
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Area { id name code } } }`
	reps := []any{
		map[string]any{"__typename": "Area", "code": "E06000004"},
		map[string]any{"__typename": "Area", "id": "area:E92000001"},
		map[string]any{"__typename": "Area", "code": "E99999999"},
		map[string]any{"__typename": "Area", "code": "E12000001"},
	}
	counter.Reset()
	var d struct {
		Entities []*struct{ ID, Name, Code string } `json:"_entities"`
	}
	data(t, h, q, map[string]any{"r": reps}, &d)
	if len(d.Entities) != 4 || d.Entities[0] == nil || d.Entities[0].ID != "area:E06000004" ||
		d.Entities[1] == nil || d.Entities[1].Code != "E92000001" || d.Entities[2] != nil ||
		d.Entities[3] == nil || d.Entities[3].ID != "area:E12000001" {
		t.Fatalf("entities: %+v", d.Entities)
	}
	if got := counter.Count("find"); got != 2 {
		t.Errorf("%d finds, want 2: one for the codes, one for the IDs", got)
	}
	r := query(t, h, q, map[string]any{"r": []any{map[string]any{"__typename": "Area", "name": "England"}}})
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "an Area needs its id or its code") {
		t.Errorf("an area with neither key: %+v", r.Errors)
	}
}
