package graph_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/graph"
)

// TestSchemaKeepsTheContract checks that the served schema has every type,
// field, argument and enum value of the public contract, with the same
// types: clients and partners are written against it.
func TestSchemaKeepsTheContract(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/schema-contract.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	// The contract lives in the shared folder beside the repository, where
	// there is one; the copy here must match it.
	if shared, err := os.ReadFile("../../shared/contract/schema-contract.graphqls"); err == nil && !bytes.Equal(shared, src) {
		t.Fatal("graph/testdata/schema-contract.graphqls differs from ../shared/contract: copy the new contract in")
	}
	contract := parseContract(t, string(src))
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	for name, want := range contract {
		got := served.Types[name]
		if got == nil {
			t.Errorf("type %s is missing", name)
			continue
		}
		if got.Kind != want.Kind {
			t.Errorf("%s is a %s, the contract says %s", name, got.Kind, want.Kind)
		}
		for _, iface := range want.Interfaces {
			if !contains(got.Interfaces, iface) {
				t.Errorf("%s does not implement %s", name, iface)
			}
		}
		for _, ty := range want.Types {
			if !contains(got.Types, ty) {
				t.Errorf("union %s lacks %s", name, ty)
			}
		}
		for _, v := range want.EnumValues {
			if got.EnumValues.ForName(v.Name) == nil {
				t.Errorf("enum %s lacks %s", name, v.Name)
			}
		}
		for _, wf := range want.Fields {
			gf := got.Fields.ForName(wf.Name)
			if gf == nil {
				t.Errorf("%s.%s is missing", name, wf.Name)
				continue
			}
			if gf.Type.String() != wf.Type.String() {
				t.Errorf("%s.%s is %s, the contract says %s", name, wf.Name, gf.Type, wf.Type)
			}
			for _, wa := range wf.Arguments {
				ga := gf.Arguments.ForName(wa.Name)
				if ga == nil {
					t.Errorf("%s.%s(%s) is missing", name, wf.Name, wa.Name)
				} else if ga.Type.String() != wa.Type.String() {
					t.Errorf("%s.%s(%s) is %s, the contract says %s", name, wf.Name, wa.Name, ga.Type, wa.Type)
				}
			}
			for _, ga := range gf.Arguments {
				if wf.Arguments.ForName(ga.Name) == nil && ga.Type.NonNull && ga.DefaultValue == nil {
					t.Errorf("%s.%s has a required argument %s the contract lacks", name, wf.Name, ga.Name)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseContract(t *testing.T, src string) map[string]*ast.Definition {
	t.Helper()
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema-contract.graphqls", Input: src})
	if err != nil {
		t.Fatalf("parse contract: %v", err)
	}
	out := map[string]*ast.Definition{}
	for _, d := range doc.Definitions {
		out[d.Name] = d
	}
	return out
}

// TestEveryTypeAndFieldIsDescribed keeps the schema readable by someone who
// has never seen a council agenda: every type, field and enum value of ours
// carries a description.
func TestEveryTypeAndFieldIsDescribed(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doc.Definitions {
		if d.Description == "" {
			t.Errorf("type %s has no description", d.Name)
		}
		for _, f := range d.Fields {
			if f.Description == "" {
				t.Errorf("%s.%s has no description", d.Name, f.Name)
			}
		}
		for _, v := range d.EnumValues {
			if v.Description == "" {
				t.Errorf("%s.%s has no description", d.Name, v.Name)
			}
		}
	}
}
