package webhooks

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/graph"
)

// feedOperation is the change feed's operation a delivery runs: the
// changes after $since of $types (and of $council's records, where the
// endpoint names one), at most $first, each with its record's
// own fields (selection). Members of a union may not select one name with
// two types (Meeting's status and Attendance's are different enums), so
// each record field is aliased Type__field; unalias takes the aliases off
// again, and the record reads as the feed answers it.
func feedOperation(schema *ast.Schema) string {
	var b strings.Builder
	b.WriteString("query Deliver($since: String, $types: [String!], $council: ID, $first: Int) {\n")
	b.WriteString("  changes(since: $since, types: $types, council: $council, first: $first) {\n")
	b.WriteString("    pageInfo { hasNextPage endCursor }\n")
	b.WriteString("    edges { node { cursor at kind type id record {\n      __typename\n")
	for _, t := range graph.ChangeRecordTypes() {
		fmt.Fprintf(&b, "      ... on %s %s\n", t, selection(schema, schema.Types[t], t+aliasSep, 0))
	}
	b.WriteString("    } } }\n  }\n}\n")
	return b.String()
}

// selection selects a record's own fields: every scalar and enum field
// (and list of them) that needs no argument; another record it refers to
// as { id }; value objects it holds (sources, updates) with their own
// fields. Lists of other records and connections are left out: they are
// other records, each with changes of its own, and unbounded.
func selection(schema *ast.Schema, def *ast.Definition, alias string, depth int) string {
	var fields []string
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || slices.ContainsFunc(f.Arguments, func(a *ast.ArgumentDefinition) bool {
			return a.Type.NonNull && a.DefaultValue == nil
		}) {
			continue
		}
		t := schema.Types[f.Type.Name()]
		if t == nil {
			continue
		}
		list := f.Type.Elem != nil
		switch {
		case t.Kind == ast.Scalar || t.Kind == ast.Enum:
			fields = append(fields, f.Name)
		case t.Kind != ast.Object:
			// interfaces and unions: other records
		case t.Fields.ForName("id") != nil:
			if !list {
				fields = append(fields, f.Name+" { id }")
			}
		case strings.HasSuffix(t.Name, "Connection"):
		case depth < 2:
			if sub := selection(schema, t, "", depth+1); sub != "" {
				fields = append(fields, f.Name+" "+sub)
			}
		}
	}
	if len(fields) == 0 {
		return ""
	}
	if alias != "" {
		for i, f := range fields {
			name, _, _ := strings.Cut(f, " ")
			fields[i] = alias + name + ": " + f
		}
	}
	return "{ " + strings.Join(fields, " ") + " }"
}

// aliasSep ends the type's name in a field's alias.
const aliasSep = "__"

// unalias takes feedOperation's aliases off a record's fields.
func unalias(record json.RawMessage) (json.RawMessage, error) {
	if len(record) == 0 || string(record) == "null" {
		return record, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(record, &fields); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(fields))
	for k, v := range fields {
		if _, name, ok := strings.Cut(k, aliasSep); ok && k != "__typename" {
			k = name
		}
		out[k] = v
	}
	return json.Marshal(out)
}
