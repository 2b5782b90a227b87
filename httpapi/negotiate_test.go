package httpapi

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	tests := []struct{ accept, want string }{
		{"", mediaJSON},
		{"*/*", mediaJSON},
		{"application/*", mediaJSON},
		{"application/json", mediaJSON},
		{"application/graphql-response+json", mediaGraphQLResponse},
		{"application/graphql-response+json, application/json", mediaGraphQLResponse},
		{"application/json, application/graphql-response+json;q=0.9", mediaJSON},
		{"application/json;q=0.5, application/graphql-response+json", mediaGraphQLResponse},
		{"text/html", mediaJSON},
		{"application/graphql-response+json;q=0", mediaJSON},
		{"application/graphql-response+json;q=nonsense", mediaJSON},
		{";;;, ,", mediaJSON},
	}
	for _, tt := range tests {
		if got := negotiate(tt.accept); got != tt.want {
			t.Errorf("negotiate(%q) = %s, want %s", tt.accept, got, tt.want)
		}
	}
}

func TestSelectionDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		doc  string
		want int
	}{
		{`{ a }`, 1},
		{`{ a { b { c } } }`, 3},
		{`{ a { b } c { d { e } } }`, 3},
		{`{ __schema { types { fields { type { ofType { name } } } } } }`, 6},
		{`{ __type(name: "X") { ofType { ofType { ofType { ...R } } } } } fragment R on __Type { ofType { name } }`, 3},
		{`{ a { ...F } } fragment F on T { b { c } }`, 3},
		{`{ a { ... on T { b { c { d } } } } }`, 4},
		{`{ a { ...F } } fragment F on T { ...G } fragment G on T { b }`, 2},
	}
	for _, tt := range tests {
		doc, err := parser.ParseQuery(&ast.Source{Input: tt.doc})
		if err != nil {
			t.Fatalf("%s: %v", tt.doc, err)
		}
		if got := selectionDepth(doc.Operations[0].SelectionSet, doc.Fragments, 0, false); got != tt.want {
			t.Errorf("depth of %s = %d, want %d", tt.doc, got, tt.want)
		}
	}
}
