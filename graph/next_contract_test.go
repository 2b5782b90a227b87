package graph_test

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/graph"
)

// built names the blocks of the contract's additions
// (../shared/contract/next.graphqls) that this service has built, and the
// entry points of theirs that the file prints together at its end.
var built = struct {
	blocks []string
	roots  map[string][]string
}{
	blocks: []string{"many councils", "modern.gov"},
	roots:  map[string][]string{"Query": {"council", "councils"}},
}

// entities names the built blocks' types that implement Node, which are
// federation entities keyed by id.
var entities = []string{"Council", "Document"}

// TestSchemaBuildsTheNextContract checks that the served schema has every
// type, field, argument, enum value and union member of each built block of
// the contract's additions, with the same types, and every built entry
// point; and that graph/testdata's copy of the additions is the shared one.
func TestSchemaBuildsTheNextContract(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/next.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	if shared, err := os.ReadFile("../../shared/contract/next.graphqls"); err == nil && !bytes.Equal(shared, src) {
		t.Fatal("graph/testdata/next.graphqls differs from ../shared/contract: copy the new one in")
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "next.graphqls", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	// Each definition belongs to the block whose heading comes before it.
	type heading struct {
		line int
		name string
	}
	var headings []heading
	for i, line := range bytes.Split(src, []byte("\n")) {
		if m := regexp.MustCompile(`^# -+ (.+)$`).FindSubmatch(line); m != nil {
			headings = append(headings, heading{i + 1, string(m[1])})
		}
	}
	blockOf := func(d *ast.Definition) string {
		name := ""
		for _, h := range headings {
			if h.line <= d.Position.Line {
				name = h.name
			}
		}
		return name
	}
	for _, b := range built.blocks {
		if !slices.ContainsFunc(headings, func(h heading) bool { return h.name == b }) {
			t.Errorf("block %q is not in next.graphqls any more: it has joined the contract; take it off the built list", b)
		}
	}
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, want := range append(doc.Definitions, doc.Extensions...) {
		roots, isRoot := built.roots[want.Name]
		if !isRoot && !slices.Contains(built.blocks, blockOf(want)) {
			continue
		}
		got := served.Types[want.Name]
		if got == nil {
			t.Errorf("type %s is missing", want.Name)
			continue
		}
		if got.Kind != want.Kind {
			t.Errorf("%s is a %s, the contract says %s", want.Name, got.Kind, want.Kind)
		}
		for _, iface := range want.Interfaces {
			if !slices.Contains(got.Interfaces, iface) {
				t.Errorf("%s does not implement %s", want.Name, iface)
			}
		}
		for _, ty := range want.Types {
			if !slices.Contains(got.Types, ty) {
				t.Errorf("union %s lacks %s", want.Name, ty)
			}
		}
		for _, v := range want.EnumValues {
			if got.EnumValues.ForName(v.Name) == nil {
				t.Errorf("enum %s lacks %s", want.Name, v.Name)
			}
		}
		for _, wf := range want.Fields {
			if isRoot && !slices.Contains(roots, wf.Name) {
				continue
			}
			gf := got.Fields.ForName(wf.Name)
			if gf == nil {
				t.Errorf("%s.%s is missing", want.Name, wf.Name)
				continue
			}
			if gf.Type.String() != wf.Type.String() {
				t.Errorf("%s.%s is %s, the contract says %s", want.Name, wf.Name, gf.Type, wf.Type)
			}
			for _, wa := range wf.Arguments {
				if ga := gf.Arguments.ForName(wa.Name); ga == nil || ga.Type.String() != wa.Type.String() {
					t.Errorf("%s.%s(%s: %s) is missing or of another type", want.Name, wf.Name, wa.Name, wa.Type)
				}
			}
		}
	}
	for _, name := range entities {
		if d := served.Types[name].Directives.ForName("key"); d == nil || d.Arguments.ForName("fields").Value.Raw != "id" {
			t.Errorf(`%s is not an entity with @key(fields: "id")`, name)
		}
	}
}
