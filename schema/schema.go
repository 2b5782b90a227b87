// Package schema holds the GraphQL schema's text, for the packages that need
// facts from it without the executable schema gqlgen builds from it: the
// command prints it, the importer checks enum values against it.
//
// SDL is generated from ../schema.graphqls by `go generate ./...`; CI fails
// when it is stale.
package schema

//go:generate go run gen.go

import (
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// parsed is the schema document, parsed once on first use.
var parsed = sync.OnceValue(func() *ast.SchemaDocument {
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: SDL})
	if err != nil {
		panic("schema: schema.graphqls does not parse: " + err.Error()) // gqlgen would have refused it
	}
	return doc
})

// Enums returns the values of every enum the schema defines, by enum name.
func Enums() map[string][]string {
	out := map[string][]string{}
	doc := parsed()
	for _, defs := range [][]*ast.Definition{doc.Definitions, doc.Extensions} {
		for _, d := range defs {
			if d.Kind != ast.Enum {
				continue
			}
			for _, v := range d.EnumValues {
				out[d.Name] = append(out[d.Name], v.Name)
			}
		}
	}
	return out
}
