package graph

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/plugin/federation/fedruntime"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/store"
)

// Demand control for routers. Federation 2.9's @cost and @listSize let a
// router (Apollo Router, Cosmo, Hive Gateway) estimate an operation's cost
// before it sends anything to a subgraph, by the IBM cost specification as
// Apollo implements it:
//
//	cost(field) = n × (weight + cost of what is selected under it) + Σ weight of the arguments given
//
// where n is 1 for a field that is not a list, and for a list the value of
// its slicing argument (`first`) when given, else its assumedSize; a field
// named in sizedFields (a connection's `edges`) takes its parent's n; and
// weight is the field's @cost, else its object type's @cost, else 1 for an
// object, interface or union and 0 for a scalar or an enum.
//
// The graph's own limit is Cost, whose rules (listRules) and store stats
// change as the data do, so the directives are not written by hand into
// schema.graphqls: the subgraph schema the service serves (`_service {
// sdl }`, which composition reads) carries them, worked out by
// ServiceSDL from those same rules and the stats Cost uses at the time.
// The directives are chosen so that a router's estimate is never below
// Cost's: equal for a single record, a page of records (its connection,
// edges and nodes) and search; above it by the records' count less one
// for a list that is not a page, where Cost counts one command for the
// list and the router can only count per record.

// CountedFields lists the fields ("Type.field") Cost has a rule for: the
// lists and single records whose cost depends on the data. ServiceSDL
// gives each of them its directives.
func CountedFields() []string {
	out := make([]string, 0, len(listRules))
	for k := range listRules {
		out = append(out, k)
	}
	return out
}

// withDirectives is the answer of `_service` with the demand-control
// directives ServiceSDL adds, reckoned with the stats that stats returns.
func withDirectives(ctx context.Context, res any, stats func(context.Context) (*store.Stats, error)) (any, error) {
	svc, ok := res.(fedruntime.Service)
	if !ok {
		return res, nil
	}
	st, err := stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the store's stats for the schema's cost directives: %w", err)
	}
	if svc.SDL, err = ServiceSDL(svc.SDL, parsedSchema, st); err != nil {
		return nil, err
	}
	return svc, nil
}

// ServiceSDL returns sdl, the subgraph schema's text, with @cost and
// @listSize on the fields, arguments and object types that need them for
// a router's estimate to bound Cost's with stats st. schema is the
// executable schema sdl is part of.
func ServiceSDL(sdl string, schema *ast.Schema, st *store.Stats) (string, error) {
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: sdl})
	if err != nil {
		return "", fmt.Errorf("parsing the subgraph schema: %w", err)
	}
	d := demand{w: &walk{c: Cost{Schema: schema, Stats: st}, vars: map[string]any{}}, edgeWeight: map[string]int{}}
	for _, defs := range []ast.DefinitionList{doc.Definitions, doc.Extensions} {
		for _, def := range defs {
			if def.Kind != ast.Object {
				continue
			}
			for _, f := range def.Fields {
				d.field(schema.Types[def.Name], f)
			}
		}
	}
	for _, def := range doc.Definitions {
		if def.Kind != ast.Object {
			continue
		}
		t := schema.Types[def.Name]
		switch {
		case t == nil || t == schema.Query || t == schema.Mutation || t == schema.Subscription:
		case isRecord(t):
			// One command and one record: what Cost counts for a field that
			// leads to one record.
			def.Directives = append(def.Directives, costDirective(2))
		default:
			// Embedded in a record (Source, PageInfo, an edge): nothing of
			// its own to read, but an edge of a page costs the record the
			// store reads for it.
			def.Directives = append(def.Directives, costDirective(d.edgeWeight[def.Name]))
		}
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchemaDocument(doc)
	return b.String(), nil
}

type demand struct {
	w *walk
	// edgeWeight is the weight of each page's edge type: what each record
	// on a page adds to the store's reads beyond the record itself.
	edgeWeight map[string]int
}

// field adds f's directives (f is a field of t).
func (d demand) field(t *ast.Definition, f *ast.FieldDefinition) {
	if t == nil || strings.HasPrefix(f.Name, "__") {
		return
	}
	schema := d.w.c.Schema
	ft := schema.Types[f.Type.Name()]
	if ft == nil {
		return
	}
	list := f.Type.Elem != nil
	key := t.Name + "." + f.Name
	rule, counted := listRules[key]
	switch {
	case counted && f.Arguments.ForName("first") != nil:
		d.page(f, ft, rule)
	case counted:
		load, shown := rule(d.w, d.synthetic(f, 0))
		if !list {
			// One record or value found through a relation: its reads, a
			// command and what is selected under it.
			f.Directives = append(f.Directives, costDirective(add(1, load)))
			return
		}
		n := max(1, shown)
		f.Directives = append(f.Directives, listSize(n, nil, nil), costDirective(ceilDiv(add(1, load), n)))
	case f.Name == "totalCount" && strings.HasSuffix(t.Name, "Connection"):
		// A count, which scans the collection where no index serves it.
		f.Directives = append(f.Directives, costDirective(1+d.w.c.Stats.Max()/100))
	case ft.Kind == ast.Scalar || ft.Kind == ast.Enum:
	case isRecord(ft) && !list && t == schema.Query && f.Arguments.ForName("id") != nil:
		// A lookup by an ID the caller gives: the record, and what an ID
		// that names none adds (the moved IDs' table).
		f.Directives = append(f.Directives, costDirective(2+movedLookup))
	case isRecord(ft):
		if list { // Cost has a rule for every list of records; this is its fallback
			f.Directives = append(f.Directives, listSize(d.w.c.Stats.Max(), nil, nil), costDirective(2))
		} else if ft.Kind != ast.Object {
			// An interface or a union cannot carry @cost itself.
			f.Directives = append(f.Directives, costDirective(2))
		}
	case list && !strings.HasSuffix(t.Name, "Connection"):
		// Records embedded in a record (sources, updates, judgements): as
		// many as the longest such list the store holds.
		f.Directives = append(f.Directives, listSize(d.w.embedded(key), nil, nil))
	}
}

// page adds the directives of a list sliced by `first`: a connection, or
// search. Cost reckons it as a command, the records it reads (linear in
// first: a×first + b, b including what its other arguments add) and
// first records shown, each costing what is selected under it.
func (d demand) page(f *ast.FieldDefinition, ft *ast.Definition, rule func(*walk, *ast.Field) (int, int)) {
	load := func(first int, extra ...string) int {
		l, _ := rule(d.w, d.synthetic(f, first, extra...))
		return l
	}
	a := 0
	for first := 2; first <= maxFirst; first++ {
		a = max(a, ceilDiv(load(first)-load(1), first-1))
	}
	b := max(0, load(1)-a)
	_, shown := rule(d.w, d.synthetic(f, 0))
	// What an optional argument adds (the body whose meetings are read
	// first) is that argument's weight, counted only when it is given.
	for _, arg := range f.Arguments {
		if arg.Name == "first" || arg.Name == "after" || arg.Type.NonNull {
			continue
		}
		if extra := load(1, arg.Name) - load(1); extra > 0 {
			arg.Directives = append(arg.Directives, costDirective(extra))
		}
	}
	if strings.HasSuffix(ft.Name, "Connection") {
		// The connection: a command and b; each edge (sized by first): a,
		// then its node's record.
		f.Directives = append(f.Directives,
			listSize(shown, []string{"first"}, []string{"edges"}), costDirective(add(1, b)))
		if edges := ft.Fields.ForName("edges"); edges != nil {
			e := edges.Type.Name()
			d.edgeWeight[e] = max(d.edgeWeight[e], a)
		}
		return
	}
	// A plain list (search): each element a; the command and b go on an
	// argument every call gives, or else on each element.
	weight := a
	for _, arg := range f.Arguments {
		if arg.Type.NonNull && arg.DefaultValue == nil {
			arg.Directives = append(arg.Directives, costDirective(add(1, b)))
			b = -1
			break
		}
	}
	if b >= 0 {
		weight = add(weight, add(1, b))
	}
	f.Directives = append(f.Directives, listSize(shown, []string{"first"}, nil), costDirective(weight))
}

// synthetic is a field f as an operation would select it with first
// (omitted when 0) and each argument named in extra, so that a rule can be
// asked what it counts. A list argument (nodes' ids) holds defaultFirst
// values: a router cannot size it, and a page's default is the assumed
// size of every list a router cannot size otherwise.
func (d demand) synthetic(f *ast.FieldDefinition, first int, extra ...string) *ast.Field {
	sel := &ast.Field{Name: f.Name}
	if first > 0 {
		sel.Arguments = append(sel.Arguments, &ast.Argument{Name: "first", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(first)}})
	}
	for _, arg := range f.Arguments {
		v := &ast.Value{Kind: ast.StringValue, Raw: "x"}
		switch {
		case arg.Type.Elem != nil && arg.Type.NonNull:
			v = &ast.Value{Kind: ast.ListValue}
			for range defaultFirst {
				v.Children = append(v.Children, &ast.ChildValue{Value: &ast.Value{Kind: ast.StringValue, Raw: "x"}})
			}
		case arg.Type.NonNull:
		case contains(extra, arg.Name):
		default:
			continue
		}
		sel.Arguments = append(sel.Arguments, &ast.Argument{Name: arg.Name, Value: v})
	}
	return sel
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func ceilDiv(a, b int) int {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

func costDirective(weight int) *ast.Directive {
	return &ast.Directive{Name: "cost", Arguments: ast.ArgumentList{
		{Name: "weight", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(weight)}},
	}}
}

// listSize is @listSize with assumedSize n and, when slicing is not nil,
// the slicing arguments (none of which a call must give: each has a
// default) and the sized fields.
func listSize(n int, slicing, sized []string) *ast.Directive {
	args := ast.ArgumentList{{Name: "assumedSize", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(n)}}}
	strs := func(ss []string) *ast.Value {
		v := &ast.Value{Kind: ast.ListValue}
		for _, s := range ss {
			v.Children = append(v.Children, &ast.ChildValue{Value: &ast.Value{Kind: ast.StringValue, Raw: s}})
		}
		return v
	}
	if slicing != nil {
		args = append(args, &ast.Argument{Name: "slicingArguments", Value: strs(slicing)})
		if sized != nil {
			args = append(args, &ast.Argument{Name: "sizedFields", Value: strs(sized)})
		}
		args = append(args, &ast.Argument{Name: "requireOneSlicingArgument", Value: &ast.Value{Kind: ast.BooleanValue, Raw: "false"}})
	}
	return &ast.Directive{Name: "listSize", Arguments: args}
}
