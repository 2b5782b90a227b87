package graph_test

import (
	"os"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"councilgraph/graph"
)

// restOfTheRecord is the block "the rest of the record" of the contract's
// additions (../shared/contract/next.graphqls), as built here.
const restOfTheRecord = `# ------------------------------------------------------------ the rest of the record

"An inspection of an organisation's services, as the published report gives it."
type Inspection implements Node {
  id: ID!
  "Who inspected, e.g. Ofsted."
  inspectorate: Organisation!
  "What was inspected: a council's children's services, a trust, a school."
  subject: Organisation!
  "As published, e.g. 'ILACS', 'focused visit', 'SEND local area inspection'."
  framework: String!
  startDate: Date
  endDate: Date
  "As published where no exact dates are given, e.g. 'May 2019'."
  period: String
  leadInspector: Person
  judgements: [Judgement!]!
  sources: [Source!]!
  updatedAt: DateTime!
}

"One graded judgement of an inspection."
type Judgement {
  "As published, e.g. 'Overall effectiveness'."
  area: String!
  "As published, e.g. 'Requires improvement to be good'."
  grade: String!
  sources: [Source!]!
}

type InspectionEdge { cursor: String! node: Inspection! }
type InspectionConnection { edges: [InspectionEdge!]! pageInfo: PageInfo! totalCount: Int! }

"An organisation's attendance at a meeting where the record counts organisations, not people (an attendance matrix)."
type OrganisationAttendance {
  organisation: Organisation!
  meeting: Meeting!
  "How many of its representatives attended, as recorded."
  attendees: Int!
  sources: [Source!]!
}

extend type Meeting {
  organisationAttendance: [OrganisationAttendance!]!
}

extend type Organisation {
  inspections: [Inspection!]!
}

extend type Membership {
  "The term as published, e.g. '2023 - 2027'."
  term: String
}

`

// TestSchemaBuildsTheRestOfTheRecord checks that the served schema has every
// type, field and argument of the contract block "the rest of the record",
// with the same types, and that the block here is the shared one.
func TestSchemaBuildsTheRestOfTheRecord(t *testing.T) {
	if shared, err := os.ReadFile("../../shared/contract/next.graphqls"); err == nil && !strings.Contains(string(shared), restOfTheRecord) {
		t.Fatal("the block 'the rest of the record' of ../shared/contract/next.graphqls has changed: copy it in")
	}
	doc, err := parser.ParseSchema(&ast.Source{Name: "next.graphqls", Input: restOfTheRecord})
	if err != nil {
		t.Fatalf("parse the block: %v", err)
	}
	served := graph.NewExecutableSchema(graph.Config{}).Schema()
	for _, want := range append(doc.Definitions, doc.Extensions...) {
		got := served.Types[want.Name]
		if got == nil {
			t.Errorf("type %s is missing", want.Name)
			continue
		}
		if got.Kind != want.Kind {
			t.Errorf("%s is a %s, the block says %s", want.Name, got.Kind, want.Kind)
		}
		for _, iface := range want.Interfaces {
			if !contains(got.Interfaces, iface) {
				t.Errorf("%s does not implement %s", want.Name, iface)
			}
		}
		for _, wf := range want.Fields {
			gf := got.Fields.ForName(wf.Name)
			if gf == nil {
				t.Errorf("%s.%s is missing", want.Name, wf.Name)
				continue
			}
			if gf.Type.String() != wf.Type.String() {
				t.Errorf("%s.%s is %s, the block says %s", want.Name, wf.Name, gf.Type, wf.Type)
			}
			for _, wa := range wf.Arguments {
				if ga := gf.Arguments.ForName(wa.Name); ga == nil || ga.Type.String() != wa.Type.String() {
					t.Errorf("%s.%s(%s: %s) is missing or of another type", want.Name, wf.Name, wa.Name, wa.Type)
				}
			}
		}
	}
	// The block's entry points are printed with the partners' block, in the
	// one extension of Query at the end of the file.
	for field, args := range map[string]string{
		"inspection":  "Inspection (id: ID!)",
		"inspections": "InspectionConnection! (subject: ID, framework: String, updatedSince: DateTime, first: Int, after: String)",
	} {
		f := served.Query.Fields.ForName(field)
		if f == nil {
			t.Errorf("Query.%s is missing", field)
			continue
		}
		var parts []string
		for _, a := range f.Arguments {
			parts = append(parts, a.Name+": "+a.Type.String())
		}
		if got := f.Type.String() + " (" + strings.Join(parts, ", ") + ")"; got != args {
			t.Errorf("Query.%s is %s, the contract says %s", field, got, args)
		}
	}
	// The block's Inspection is a federation entity keyed by id.
	if d := served.Types["Inspection"].Directives.ForName("key"); d == nil || d.Arguments.ForName("fields").Value.Raw != "id" {
		t.Error(`Inspection is not an entity with @key(fields: "id")`)
	}
}
