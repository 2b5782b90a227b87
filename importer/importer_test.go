package importer_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

// base is a small valid data set the broken fixtures start from.
func base() fstest.MapFS {
	return fstest.MapFS{
		"organisations.yaml": {Data: []byte(`
- id: organisation:council
  name: Borough Council
  kind: LOCAL_AUTHORITY
  sources: [{document: a.txt, locator: lines 1-2}]
`)},
		"people.yaml": {Data: []byte(`
- id: person:stockton-on-tees/ann-able
  name: Ann Able
  honorific: Cllr
  aliases: [Cllr Anne Able]
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 3-3}]
- id: person:stockton-on-tees/bob-brown
  name: Bob Brown
  sources: [{document: a.txt, locator: lines 4-4}]
`)},
		"bodies.yaml": {Data: []byte(`
- id: body:stockton-on-tees/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 5-5}]
`)},
		"meetings.yaml": {Data: []byte(`
- id: meeting:stockton-on-tees/cabinet/2023-03-16
  bodyId: body:stockton-on-tees/cabinet
  title: Cabinet
  date: 2023-03-16
  startsAt: 2023-03-16T16:30:00+00:00
  status: HELD
  sources: [{document: a.txt, locator: lines 6-9}]
`)},
	}
}

func with(fsys fstest.MapFS, name, data string) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range fsys {
		out[k] = v
	}
	out[name] = &fstest.MapFile{Data: []byte(data)}
	return out
}

// dump reads every document of every collection, to tell whether an import
// changed anything at all.
func dump(t *testing.T, s *store.Store) map[string][]bson.M { return storetest.Dump(t, s) }

func TestBrokenFilesWriteNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string // problems, as printed
	}{
		{"unknown field", with(base(), "areas.yaml", `
- id: area:borough
  name: Borough
  kind: LOCAL_AUTHORITY
  colour: blue
  sources: [{document: a.txt, locator: lines 1-1, page: 3}]
`), []string{
			"areas.yaml:5: area:borough: colour: unknown field",
			"areas.yaml:6: area:borough: sources[0].page: unknown field",
		}},
		{"bad enum", with(base(), "areas.yaml", `
- id: area:borough
  name: Borough
  kind: TOWN
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			`areas.yaml:4: area:borough: kind: "TOWN" is not a AreaKind; expected one of [LOCAL_AUTHORITY SUB_REGION REGION COUNTRY COMPARATOR_GROUP WARD]`,
		}},
		{"bad date", with(base(), "meetings.yaml", `
- id: meeting:stockton-on-tees/cabinet/2023-02-30
  bodyId: body:stockton-on-tees/cabinet
  title: Cabinet
  date: 2023-02-30
  status: HELD
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			`meetings.yaml:5: meeting:stockton-on-tees/cabinet/2023-02-30: date: "2023-02-30" is not a date in the form YYYY-MM-DD`,
		}},
		{"wrong type", with(base(), "observations.yaml", `
- id: observation:stockton-on-tees/x/borough/2021
  indicatorId: indicator:x
  areaId: area:borough
  period: '2021'
  value: about ten
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			"observations.yaml:6: observation:stockton-on-tees/x/borough/2021: wrong type: cannot unmarshal !!str `about ten` into float64",
		}},
		{"duplicate ID", with(base(), "bodies.yaml", `
- id: body:stockton-on-tees/cabinet
  name: Cabinet
  kind: CABINET
  sources: [{document: a.txt, locator: lines 1-1}]
- id: body:stockton-on-tees/cabinet
  name: Cabinet again
  kind: CABINET
  sources: [{document: a.txt, locator: lines 2-2}]
`), []string{
			"bodies.yaml:6: body:stockton-on-tees/cabinet: id: duplicate ID: another record in bodies has it",
		}},
		{"dangling reference", with(base(), "memberships.yaml", `
- id: membership:stockton-on-tees/cabinet/carol
  personId: person:stockton-on-tees/carol-clark
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			`memberships.yaml:3: membership:stockton-on-tees/cabinet/carol: personId: no record in people has ID "person:stockton-on-tees/carol-clark"`,
		}},
		{"bad ID and missing fields", with(base(), "plans.yaml", `
- id: Plan:The Plan
  sources: []
`), []string{
			`plans.yaml:2: Plan:The Plan: id: "Plan:The Plan" is not an ID of the form plan:<council slug>/<key>[/<key>…], with a-z, 0-9 and - between the separators`,
			"plans.yaml:2: Plan:The Plan: title: is required",
			"plans.yaml:3: Plan:The Plan: sources: every record needs at least one source",
		}},
		{"bad locator", with(base(), "areas.yaml", `
- id: area:borough
  name: Borough
  kind: REGION
  sources: [{document: a.txt, locator: page 4}]
`), []string{
			`areas.yaml:5: area:borough: sources[0].locator: "page 4" is not of the form 'lines A-B'`,
		}},
		{"malformed file", with(base(), "areas.yaml", "- id: area:x\n  name: [unclosed\n"), []string{
			"areas.yaml:1: malformed YAML: yaml: line 1: did not find expected ',' or ']'",
		}},
		{"not a list", with(base(), "areas.yaml", "id: area:x\n"), []string{
			"areas.yaml:1: the file must be a list of records (a YAML sequence)",
		}},
		// One run reports everything, in file and line order: the files'
		// problems (unknown fields, a wrong type) beside the records'
		// (a reference to no record); a record with a wrong type still
		// counts as there for the references to it.
		{"unknown fields and references together", with(with(base(), "bodies.yaml", `
- id: body:stockton-on-tees/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 5-5}]
- id: body:stockton-on-tees/scrutiny
  name: [Scrutiny]
  kind: SCRUTINY_COMMITTEE
  sources: [{document: a.txt, locator: lines 6-6}]
`), "memberships.yaml", `
- id: membership:stockton-on-tees/cabinet/carol
  personId: person:stockton-on-tees/carol-clark
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  sources: [{document: a.txt, locator: lines 1-1}]
- id: membership:stockton-on-tees/cabinet/ann
  personId: person:stockton-on-tees/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: MEMBER
  tenure: 2023
  sources: [{document: a.txt, locator: lines 2-2}]
- id: membership:stockton-on-tees/scrutiny/bob
  personId: person:stockton-on-tees/bob-brown
  bodyId: body:stockton-on-tees/scrutiny
  role: CHAIRMAN
  sources: [{document: a.txt, locator: lines 3-3}]
`), []string{
			"bodies.yaml:8: body:stockton-on-tees/scrutiny: wrong type: cannot unmarshal !!seq into string",
			`memberships.yaml:3: membership:stockton-on-tees/cabinet/carol: personId: no record in people has ID "person:stockton-on-tees/carol-clark"`,
			"memberships.yaml:11: membership:stockton-on-tees/cabinet/ann: tenure: unknown field",
			`memberships.yaml:16: membership:stockton-on-tees/scrutiny/bob: role: "CHAIRMAN" is not a MembershipRole; expected one of [CHAIR VICE_CHAIR MEMBER SUBSTITUTE LEAD_MEMBER INDEPENDENT_CHAIR REPRESENTATIVE OFFICER ADVISER]`,
		}},
		{"stray file", with(base(), "councillors.yaml", "[]\n"), []string{
			"councillors.yaml:1: not a collection file; expected one of people, organisations, bodies, memberships, meetings, attendance, agendaItems, reports, declarations, plans, priorities, actions, indicators, areas, observations, inspections, organisationAttendance, councils, documents (.yaml)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.New(t, nil)
			if _, err := importer.ImportFS(ctx, s, base(), importer.Options{Dataset: "test"}); err != nil {
				t.Fatalf("base set: %v", err)
			}
			before := dump(t, s)
			_, err := importer.ImportFS(ctx, s, tt.fsys, importer.Options{Dataset: "test", Prune: true})
			var problems importer.Problems
			if !errors.As(err, &problems) {
				t.Fatalf("err = %v, want Problems", err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, dump(t, s)); diff != "" {
				t.Errorf("a failed import changed the database:\n%s", diff)
			}
		})
	}
}

func TestReimportChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	first, err := importer.ImportFS(ctx, s, base(), importer.Options{Dataset: "test", Now: func() time.Time { return time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if first.Changed() != 5 {
		t.Errorf("first import changed %d records, want 5", first.Changed())
	}
	before := dump(t, s)
	again, err := importer.ImportFS(ctx, s, base(), importer.Options{Dataset: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() != 0 {
		t.Errorf("re-import changed %d records, want 0:\n%+v", again.Changed(), again)
	}
	if diff := cmp.Diff(before, dump(t, s)); diff != "" {
		t.Errorf("re-import changed documents (updatedAt included):\n%s", diff)
	}

	// A changed record is updated and gets a new updatedAt; the rest stay.
	changed := with(base(), "bodies.yaml", `
- id: body:stockton-on-tees/cabinet
  name: The Cabinet
  kind: CABINET
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 5-5}]
`)
	sum, err := importer.ImportFS(ctx, s, changed, importer.Options{Dataset: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := importer.Counts{Collection: "bodies", Updated: 1}
	if got := find(sum, "bodies"); got != want {
		t.Errorf("bodies: %+v, want %+v", got, want)
	}
	found, err := s.FindByIDs(ctx, store.KindFor[store.Body](), []string{"body:stockton-on-tees/cabinet"})
	if err != nil || len(found) != 1 {
		t.Fatal(err)
	}
	if b := found[0].(*store.Body); b.Name != "The Cabinet" || !b.UpdatedAt.After(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("body after update: %q updated %s", b.Name, b.UpdatedAt)
	}
}

func find(s importer.Summary, coll string) importer.Counts {
	for _, c := range s {
		if c.Collection == coll {
			return c
		}
	}
	return importer.Counts{}
}

func TestPruneRemovesOnlyThisSetsDroppedRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, base(), importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	other := fstest.MapFS{"areas.yaml": {Data: []byte("- {id: 'area:E92000001', name: England, kind: COUNTRY, sources: [{document: b.txt}]}\n")}}
	if _, err := importer.ImportFS(ctx, s, other, importer.Options{Dataset: "other"}); err != nil {
		t.Fatal(err)
	}
	smaller := base()
	smaller["people.yaml"] = &fstest.MapFile{Data: []byte(`
- id: person:stockton-on-tees/ann-able
  name: Ann Able
  honorific: Cllr
  aliases: [Cllr Anne Able]
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 3-3}]
`)}

	// Without --prune the dropped person stays; a dry run with it deletes nothing.
	for _, o := range []importer.Options{{Dataset: "test"}, {Dataset: "test", Prune: true, DryRun: true}} {
		sum, err := importer.ImportFS(ctx, s, smaller, o)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := find(sum, "people").Deleted, map[bool]int{false: 0, true: 1}[o.Prune]; got != want {
			t.Errorf("%+v: reported %d deleted, want %d", o, got, want)
		}
		if n := storetest.Count(t, s, "people"); n != 2 {
			t.Errorf("%+v: %d people left, want 2", o, n)
		}
	}
	sum, err := importer.ImportFS(ctx, s, smaller, importer.Options{Dataset: "test", Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := find(sum, "people"); got.Deleted != 1 || got.Unchanged != 1 {
		t.Errorf("people: %+v, want 1 deleted, 1 unchanged", got)
	}
	if n := storetest.Count(t, s, "people"); n != 1 {
		t.Errorf("%d people left, want 1", n)
	}
	if n := storetest.Count(t, s, "areas"); n != 1 {
		t.Errorf("prune of set test removed set other's area")
	}
}

func TestReferencesMayPointIntoTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, base(), importer.Options{Dataset: "test"}); err != nil {
		t.Fatal(err)
	}
	more := fstest.MapFS{"memberships.yaml": {Data: []byte(`
- id: membership:stockton-on-tees/cabinet/ann-able
  personId: person:stockton-on-tees/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  sources: [{document: a.txt, locator: lines 1-1}]
`)}}
	if _, err := importer.ImportFS(ctx, s, more, importer.Options{Dataset: "more"}); err != nil {
		t.Fatalf("reference to records already stored: %v", err)
	}
}

func TestProblemsFormat(t *testing.T) {
	t.Parallel()
	p := importer.Problem{File: "people.yaml", Line: 12, ID: "person:stockton-on-tees/x", Field: "name", Msg: "is required"}
	if got, want := p.String(), "people.yaml:12: person:stockton-on-tees/x: name: is required"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.Contains(importer.Problems{p}.Error(), "1 problem(s)") {
		t.Error("Problems.Error does not count")
	}
}
