package importer_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer"
)

// problemsOf validates fsys on its own and returns its problems as printed.
func problemsOf(t *testing.T, fsys fstest.MapFS) []string {
	t.Helper()
	set, problems := importer.Load(fsys)
	if len(problems) > 0 {
		t.Fatalf("load: %v", problems)
	}
	problems, err := importer.Validate(context.Background(), set, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	return got
}

// figures cites a source whose lines print figures the way the Stockton
// documents do: approximately, as a change, at a scale, and one period in
// a heading.
func figures(observations string) fstest.MapFS {
	fsys := with(withSource(), "sources/b.txt", "Light goods vehicles around 11% higher than pre-covid levels.\n"+
		"Children will increase also, by some 5% by 2037.\n"+
		"An allocation of £20million and £6.5m.\n"+
		"Q3 Performance Report\n"+
		"Safeguarding action was taken in 94% of enquiries.\n"+
		"Rates are 33/1000 against 41/10000.\n"+
		"Three new notifications are being worked through.\n")
	return with(fsys, "observations.yaml", observations)
}

// TestFiguresKeepTheNumberTheyPrint holds a figure to the number its lines
// and its published words print, approximate where the words are rough,
// and one printed period to one reading.
func TestFiguresKeepTheNumberTheyPrint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, observations string
		want               []string
	}{
		{"printed numbers, scales and rough words pass", `
- {id: 'observation:stockton-on-tees/x/a', indicatorId: 'indicator:x', areaId: 'area:borough', period: '', publishedOn: 2023-06-15, value: 11, valueText: around 11% higher than pre-covid levels, approximate: true, sources: [{document: b.txt, locator: lines 1-1}]}
- {id: 'observation:stockton-on-tees/x/b', indicatorId: 'indicator:x', areaId: 'area:borough', period: by 2037, value: 5, valueText: by some 5% by 2037, approximate: true, sources: [{document: b.txt, locator: lines 2-2}]}
- {id: 'observation:stockton-on-tees/x/c', indicatorId: 'indicator:x', areaId: 'area:borough', period: '', publishedOn: 2023-06-15, value: 20000000, valueText: £20million, sources: [{document: b.txt, locator: lines 3-3}]}
- {id: 'observation:stockton-on-tees/x/d', indicatorId: 'indicator:x', areaId: 'area:borough', period: '', publishedOn: 2023-06-15, value: 6500000, valueText: £6.5m, sources: [{document: b.txt, locator: lines 3-3}]}
- {id: 'observation:stockton-on-tees/x/e', indicatorId: 'indicator:x', areaId: 'area:borough', period: '', publishedOn: 2023-06-15, value: 33, valueText: 33/1000, sources: [{document: b.txt, locator: lines 6-6}]}
`, nil},
		{"a value derived from the words, and rough words not marked approximate", `
- id: observation:stockton-on-tees/x/a
  indicatorId: indicator:x
  areaId: area:borough
  period: ''
  publishedOn: 2023-06-15
  value: 111
  valueText: around 11% higher than pre-covid levels
  approximate: true
  sources: [{document: b.txt, locator: lines 1-1}]
- id: observation:stockton-on-tees/x/b
  indicatorId: indicator:x
  areaId: area:borough
  period: by 2037
  value: 5
  valueText: by some 5% by 2037
  sources: [{document: b.txt, locator: lines 2-2}]
- id: observation:stockton-on-tees/x/c
  indicatorId: indicator:x
  areaId: area:borough
  period: ''
  publishedOn: 2023-06-15
  value: 20
  valueText: £20million
  sources: [{document: b.txt, locator: lines 3-3}]
`, []string{
			`observations.yaml:7: observation:stockton-on-tees/x/a: value: 111 is not a number valueText "around 11% higher than pre-covid levels" prints; the value is the number the words state, never one derived from them`,
			`observations.yaml:11: observation:stockton-on-tees/x/b: approximate: valueText "by some 5% by 2037" gives the figure only roughly ("some"): set approximate: true`,
			`observations.yaml:23: observation:stockton-on-tees/x/c: value: 20 is not a number valueText "£20million" prints; the value is the number the words state, never one derived from them`,
		}},
		{"a value its lines do not print, and one they print in words", `
- id: observation:stockton-on-tees/x/a
  indicatorId: indicator:x
  areaId: area:borough
  period: ''
  publishedOn: 2023-06-15
  value: 111
  sources: [{document: b.txt, locator: lines 1-1}]
- {id: 'observation:stockton-on-tees/x/b', indicatorId: 'indicator:x', areaId: 'area:borough', period: '', publishedOn: 2023-03-07, value: 3, sources: [{document: b.txt, locator: lines 7-7}]}
`, []string{
			"observations.yaml:7: observation:stockton-on-tees/x/a: value: 111 is not a number the lines its sources name print; the value is the number the text states, never one derived from it",
		}},
		{"one printed period read two ways", `
- id: observation:stockton-on-tees/x/a
  indicatorId: indicator:x
  areaId: area:borough
  period: Q3
  periodStart: 2022-10-01
  periodEnd: 2022-12-31
  value: 94
  sources: [{document: b.txt, locator: lines 4-5}]
- id: observation:stockton-on-tees/x/b
  indicatorId: indicator:x
  areaId: area:borough
  period: Q3
  value: 94
  sources: [{document: b.txt, locator: lines 4-5}]
- id: observation:stockton-on-tees/x/c
  indicatorId: indicator:x
  areaId: area:borough
  period: Q3
  periodStart: 2022-10-01
  periodEnd: 2022-12-31
  value: 94
  sources: [{document: b.txt, locator: lines 4-5}]
`, []string{
			`observations.yaml:10: observation:stockton-on-tees/x/b: periodStart: period "Q3" of b.txt runs with no dates here and 2022-10-01 to 2022-12-31 in observation:stockton-on-tees/x/a; one printed period has one reading`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, problemsOf(t, figures(tt.observations))); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDueDatesFollowTheirTimescales holds an action's dueDate to its
// printed timescale: within the day or month it names, present wherever it
// names one; where it names neither, a note says why there is no dueDate
// unless the cited lines give one.
func TestDueDatesFollowTheirTimescales(t *testing.T) {
	t.Parallel()
	fsys := with(base(), "actions.yaml", `
- {id: 'action:stockton-on-tees/p/1', title: Day, dueText: 15/04/2023, dueDate: 2023-04-15, sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/p/2', title: Month, dueText: May 23, dueDate: 2023-05-31, sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/p/3', title: Month in full, dueText: Sept 2023, dueDate: 2023-09-30, sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/p/4', title: Ongoing, dueText: Ongoing, notes: Ongoing names no month., sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/p/5', title: No timescale, sources: [{document: a.txt}]}
- id: action:stockton-on-tees/p/6
  title: Outside its month
  dueText: Jul 23
  dueDate: 2023-08-01
  sources: [{document: a.txt}]
- id: action:stockton-on-tees/p/7
  title: Not the day printed
  dueText: 13/09/2023
  dueDate: 2023-09-30
  sources: [{document: a.txt}]
- id: action:stockton-on-tees/p/8
  title: A month left as text
  dueText: November 2023
  sources: [{document: a.txt}]
- id: action:stockton-on-tees/p/9
  title: A day stated elsewhere in its lines
  dueText: Ongoing
  dueDate: 2023-08-16
  sources: [{document: a.txt}]
- id: action:stockton-on-tees/p/10
  title: No reason given
  dueText: TBA
  sources: [{document: a.txt}]
`)
	want := []string{
		"actions.yaml:10: action:stockton-on-tees/p/6: dueDate: 2023-08-01 is not in 2023-07-01 to 2023-07-31, which dueText \"Jul 23\" names",
		"actions.yaml:15: action:stockton-on-tees/p/7: dueDate: 2023-09-30 is not in 2023-09-13, which dueText \"13/09/2023\" names",
		`actions.yaml:17: action:stockton-on-tees/p/8: dueDate: is required where dueText names a day or a month: "November 2023" gives 2023-11-01 to 2023-11-30`,
		`actions.yaml:28: action:stockton-on-tees/p/10: dueText: "TBA" names no single day or month: say in notes why the action has no dueDate`,
	}
	if diff := cmp.Diff(want, problemsOf(t, fsys)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestSeatRolesSayWhatTheSeatIs holds memberships to the roles FORMAT.md
// gives: a seat held for an organisation is not a plain MEMBER, nor is a
// post that names a portfolio.
func TestSeatRolesSayWhatTheSeatIs(t *testing.T) {
	t.Parallel()
	fsys := with(base(), "memberships.yaml", `
- {id: 'membership:stockton-on-tees/cabinet/ann-able', personId: 'person:stockton-on-tees/ann-able', bodyId: 'body:stockton-on-tees/cabinet', role: LEAD_MEMBER, post: Cabinet Member for Children and Young People, sources: [{document: a.txt}]}
- {id: 'membership:stockton-on-tees/cabinet/bob-brown', personId: 'person:stockton-on-tees/bob-brown', bodyId: 'body:stockton-on-tees/cabinet', role: REPRESENTATIVE, representingId: 'organisation:council', sources: [{document: a.txt}]}
- {id: 'membership:stockton-on-tees/cabinet/chair', personId: 'person:stockton-on-tees/bob-brown', bodyId: 'body:stockton-on-tees/cabinet', role: CHAIR, representingId: 'organisation:council', sources: [{document: a.txt}]}
- {id: 'membership:stockton-on-tees/cabinet/member', personId: 'person:stockton-on-tees/bob-brown', bodyId: 'body:stockton-on-tees/cabinet', role: MEMBER, sources: [{document: a.txt}]}
- id: membership:stockton-on-tees/cabinet/portfolio
  bodyId: body:stockton-on-tees/cabinet
  role: MEMBER
  post: Cabinet Member for Adult Social Care
  sources: [{document: a.txt}]
- id: membership:stockton-on-tees/cabinet/partner
  personId: person:stockton-on-tees/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: MEMBER
  representingId: organisation:council
  sources: [{document: a.txt}]
`)
	want := []string{
		`memberships.yaml:8: membership:stockton-on-tees/cabinet/portfolio: role: the post "Cabinet Member for Adult Social Care" names a portfolio: its holder is LEAD_MEMBER, not MEMBER`,
		"memberships.yaml:14: membership:stockton-on-tees/cabinet/partner: role: a seat held for organisation:council (representingId) is REPRESENTATIVE, or the chair's, lead member's, officer's or substitute's role the document prints, not MEMBER",
	}
	if diff := cmp.Diff(want, problemsOf(t, fsys)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestOwnersNamedAreLinked holds an action's owner fields to the people and
// bodies its printed owner names: one named person or body must be linked;
// two people sharing the action leave ownerId out.
func TestOwnersNamedAreLinked(t *testing.T) {
	t.Parallel()
	fsys := with(with(base(), "bodies.yaml", `
- {id: 'body:stockton-on-tees/cabinet', name: Cabinet, kind: CABINET, sources: [{document: a.txt}]}
- {id: 'body:stockton-on-tees/sar-sub-group', name: SAR Sub-Group, aliases: [SAR Sub Group], kind: SUB_GROUP, sources: [{document: a.txt}]}
`), "actions.yaml", `
- {id: 'action:stockton-on-tees/m/1', title: Linked, ownerText: Ann Able, ownerId: 'person:stockton-on-tees/ann-able', sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/m/2', title: Two people, ownerText: Cllr Anne Able / Bob Brown, sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/m/3', title: A person and someone unnamed, ownerText: Bob Brown / Admin, ownerId: 'person:stockton-on-tees/bob-brown', sources: [{document: a.txt}]}
- {id: 'action:stockton-on-tees/m/4', title: Initials, ownerText: JP, sources: [{document: a.txt}]}
- id: action:stockton-on-tees/m/5
  title: A body left unlinked
  ownerText: SAR Sub Group / Admin
  sources: [{document: a.txt}]
- id: action:stockton-on-tees/m/6
  title: A person left unlinked
  ownerText: Cllr Anne Able
  sources: [{document: a.txt}]
`)
	want := []string{
		`actions.yaml:6: action:stockton-on-tees/m/5: ownerBodyId: ownerText "SAR Sub Group / Admin" names body:stockton-on-tees/sar-sub-group: set ownerBodyId`,
		`actions.yaml:10: action:stockton-on-tees/m/6: ownerId: ownerText "Cllr Anne Able" names person:stockton-on-tees/ann-able: set ownerId`,
	}
	if diff := cmp.Diff(want, problemsOf(t, fsys)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestDueTextIsAsPrinted holds an action's printed timescale to the lines it
// cites.
func TestDueTextIsAsPrinted(t *testing.T) {
	t.Parallel()
	fsys := with(withSource(), "actions.yaml", `
- {id: 'action:stockton-on-tees/t/1', title: As printed, dueText: 2023 - 2027, dueDate: 2023-01-01, notes: A term., sources: [{document: a.txt, locator: lines 5-5}]}
- id: action:stockton-on-tees/t/2
  title: Not printed
  dueText: May 23
  dueDate: 2023-05-31
  sources: [{document: a.txt, locator: lines 5-5}]
`)
	want := []string{
		`actions.yaml:5: action:stockton-on-tees/t/2: dueText: "May 23" is not in the lines its sources name; copy it as published or cite the lines that state it`,
	}
	if diff := cmp.Diff(want, problemsOf(t, fsys)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
