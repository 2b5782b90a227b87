package graph_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/graph"
	"councilgraph/store"
)

// TestKindsMatchTheSchema checks the store's table of kinds against the
// served schema: each kind is a type of that name; Node kinds implement Node
// and are federation entities, and every Node type is a Node kind; each
// reference field has its relation field (bodyId: body, priorityIds:
// priorities) of the referred kind's type; searchable kinds are exactly the
// members of SearchHit; every kind has an id and is a member of
// ChangeRecord.
func TestKindsMatchTheSchema(t *testing.T) {
	t.Parallel()
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	kinds := map[string]*store.Kind{}
	for _, k := range store.Kinds() {
		kinds[k.Name] = k
		def := served.Types[k.Name]
		if def == nil {
			t.Errorf("kind %s has no type in the schema", k.Name)
			continue
		}
		isNode := slices.Contains(def.Interfaces, "Node")
		if isNode != k.Node {
			t.Errorf("kind %s: Node is %v in the table, %v in the schema", k.Name, k.Node, isNode)
		}
		if k.Node && def.Directives.ForName("key") == nil {
			t.Errorf("kind %s is a Node but not a federation entity (@key)", k.Name)
		}
		for _, r := range k.Refs {
			name := relationField(r)
			f := def.Fields.ForName(name)
			if f == nil {
				t.Errorf("kind %s: reference %s has no field %s", k.Name, r.Field, name)
				continue
			}
			if got := namedType(f.Type); got != r.To {
				t.Errorf("kind %s: %s.%s is a %s, the table says %s", k.Name, k.Name, name, got, r.To)
			}
			if (f.Type.Elem != nil) != r.Many() {
				t.Errorf("kind %s: %s.%s is %s, but %s holds %s", k.Name, k.Name, name, f.Type, r.Field, map[bool]string{true: "a list", false: "one ID"}[r.Many()])
			}
		}
		if store.KindOfID(k.Prefix+":x") != k {
			t.Errorf("kind %s: prefix %s does not lead back to it", k.Name, k.Prefix)
		}
	}
	for name, def := range served.Types {
		if slices.Contains(def.Interfaces, "Node") && kinds[name] == nil {
			t.Errorf("type %s implements Node but is not a kind in the store's table", name)
		}
	}
	var searchable []string
	for _, k := range store.Kinds() {
		if k.Searchable() {
			searchable = append(searchable, k.Name)
		}
	}
	hits := slices.Clone(served.Types["SearchHit"].Types)
	slices.Sort(hits)
	slices.Sort(searchable)
	if !slices.Equal(hits, searchable) {
		t.Errorf("SearchHit has %v; the searchable kinds are %v", hits, searchable)
	}
	// The change feed carries every kind: its types are ChangeRecord's.
	var all []string
	for _, k := range store.Kinds() {
		all = append(all, k.Name)
		if f := served.Types[k.Name].Fields.ForName("id"); f == nil {
			t.Errorf("kind %s has no id field: a change to it cannot be named", k.Name)
		}
	}
	changes := slices.Clone(served.Types["ChangeRecord"].Types)
	slices.Sort(changes)
	slices.Sort(all)
	if !slices.Equal(changes, all) {
		t.Errorf("ChangeRecord has %v; the kinds are %v", changes, all)
	}
}

// relationField is the schema field a reference resolves through.
func relationField(r store.Ref) string {
	if base, ok := strings.CutSuffix(r.Field, "Ids"); ok {
		if s, ok := strings.CutSuffix(base, "y"); ok {
			return s + "ies"
		}
		return base + "s"
	}
	return strings.TrimSuffix(r.Field, "Id")
}

func namedType(t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	return t.NamedType
}
