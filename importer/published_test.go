package importer_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer"
)

// withSource adds a source document a.txt and an indicator and area to base,
// for figures to cite.
func withSource() fstest.MapFS {
	fsys := with(base(), "sources/a.txt", "Cabinet report\nSo far in 2020/21 the rate fell to 12.\nOver 300 people now have jobs\nthrough the hub.\nThe term is 2023 - 2027.\n")
	fsys = with(fsys, "indicators.yaml", `
- id: indicator:x
  name: X
  unit: COUNT
  polarity: NO_JUDGEMENT
  sources: [{document: a.txt, locator: lines 2-2}]
`)
	return with(fsys, "areas.yaml", `
- id: area:borough
  name: Borough
  kind: LOCAL_AUTHORITY
  sources: [{document: a.txt, locator: lines 1-1}]
`)
}

// TestPublishedTextIsChecked holds figures, terms and inspections to what
// their sources print.
func TestPublishedTextIsChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string
	}{
		{"figures as published pass", with(withSource(), "observations.yaml", `
- id: observation:stockton-on-tees/x/borough/2020-21
  indicatorId: indicator:x
  areaId: area:borough
  period: 2020/21
  value: 12
  sources: [{document: a.txt, locator: lines 2-2}]
- id: observation:stockton-on-tees/x/borough/now
  indicatorId: indicator:x
  areaId: area:borough
  period: now
  value: 300
  valueText: over 300
  approximate: true
  publishedOn: 2023-06-15
  sources: [{document: a.txt, locator: lines 3-4}]
- id: observation:stockton-on-tees/x/borough/none
  indicatorId: indicator:x
  areaId: area:borough
  period: ''
  value: 300
  publishedOn: 2023-06-15
  sources: [{document: a.txt, locator: lines 3-4}]
`), nil},
		{"a period, valueText or term the cited lines do not print", with(with(withSource(), "observations.yaml", `
- id: observation:stockton-on-tees/x/borough/june-2023
  indicatorId: indicator:x
  areaId: area:borough
  period: June 2023
  value: 300
  valueText: about 300
  approximate: true
  sources: [{document: a.txt, locator: lines 3-3}]
`), "memberships.yaml", `
- id: membership:stockton-on-tees/cabinet/ann-able
  personId: person:stockton-on-tees/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: MEMBER
  term: 2023 - 2026
  sources: [{document: a.txt, locator: lines 5-5}]
`), []string{
			`memberships.yaml:6: membership:stockton-on-tees/cabinet/ann-able: term: "2023 - 2026" is not in the lines its sources name; copy it as published or cite the lines that state it`,
			`observations.yaml:5: observation:stockton-on-tees/x/borough/june-2023: period: "June 2023" is not in the lines its sources name; copy it as published or cite the lines that state it`,
			`observations.yaml:7: observation:stockton-on-tees/x/borough/june-2023: valueText: "about 300" is not in the lines its sources name; copy it as published or cite the lines that state it`,
		}},
		{"a progress update's period the cited lines do not print", with(with(withSource(), "plans.yaml", `
- id: plan:stockton-on-tees/p
  title: P
  sources: [{document: a.txt, locator: lines 1-1}]
`), "priorities.yaml", `
- id: priority:stockton-on-tees/p/1
  planId: plan:stockton-on-tees/p
  title: One
  updates:
  - period: 2020/21
    text: Fell.
    sources: [{document: a.txt, locator: lines 2-2}]
  - period: 2022/23
    text: Rose.
    sources: [{document: a.txt, locator: lines 2-2}]
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			`priorities.yaml:5: priority:stockton-on-tees/p/1: updates[1].period: "2022/23" is not in the lines its sources name; copy it as published or cite the lines that state it`,
		}},
		{"a figure without its value, an approximation without its words, no period and no date", with(withSource(), "observations.yaml", `
- id: observation:stockton-on-tees/x/borough/a
  indicatorId: indicator:x
  areaId: area:borough
  period: now
  approximate: true
  sources: [{document: a.txt, locator: lines 3-3}]
- id: observation:stockton-on-tees/x/borough/b
  indicatorId: indicator:x
  areaId: area:borough
  period: ''
  value: 300
  sources: [{document: a.txt, locator: lines 3-3}]
`), []string{
			"observations.yaml:2: observation:stockton-on-tees/x/borough/a: value: is required: the number the text states",
			"observations.yaml:2: observation:stockton-on-tees/x/borough/a: valueText: an approximate value needs the published words ('over 300', 'around 11%')",
			"observations.yaml:11: observation:stockton-on-tees/x/borough/b: period: is required: the period as published, or empty with publishedOn (or, where the source is undated, notes saying so) when the source prints none",
		}},
		{"inspections and organisation attendance", with(with(withSource(), "inspections.yaml", `
- id: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023
  inspectorateId: organisation:ofsted
  subjectId: organisation:council
  framework: ''
  startDate: 2023-03-17
  endDate: 2023-03-06
  leadInspectorId: person:stockton-on-tees/ann-able
  judgements:
  - area: Overall effectiveness
    grade: Good
    sources: [{document: a.txt, locator: lines 1-1}]
  - area: ''
    grade: ''
    sources: []
  sources: [{document: a.txt, locator: lines 1-1}]
`), "organisationAttendance.yaml", `
- id: organisationAttendance:stockton-on-tees/cabinet/2023-03-16/council
  organisationId: organisation:council
  meetingId: meeting:stockton-on-tees/cabinet/2023-03-16
  sources: [{document: a.txt, locator: lines 1-1}]
- id: organisationAttendance:stockton-on-tees/cabinet/2023-03-16/police
  organisationId: organisation:police
  meetingId: meeting:stockton-on-tees/cabinet/2023-03-16
  attendees: -1
  sources: [{document: a.txt, locator: lines 1-1}]
`), []string{
			`inspections.yaml:3: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: inspectorateId: no record in organisations has ID "organisation:ofsted"`,
			"inspections.yaml:5: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: framework: is required",
			"inspections.yaml:7: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: endDate: 2023-03-06 is before 2023-03-17",
			`inspections.yaml:9: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: judgements[0].grade: "Good" is not in the lines its sources name; copy it as published or cite the lines that state it`,
			"inspections.yaml:9: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: judgements[1].area: is required",
			"inspections.yaml:9: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: judgements[1].grade: is required",
			"inspections.yaml:9: inspection:stockton-on-tees/stockton-on-tees-borough-council/ofsted-ilacs-2023: judgements[1].sources: every record needs at least one source",
			"organisationAttendance.yaml:2: organisationAttendance:stockton-on-tees/cabinet/2023-03-16/council: attendees: is required: the number recorded",
			`organisationAttendance.yaml:7: organisationAttendance:stockton-on-tees/cabinet/2023-03-16/police: organisationId: no record in organisations has ID "organisation:police"`,
			"organisationAttendance.yaml:9: organisationAttendance:stockton-on-tees/cabinet/2023-03-16/police: attendees: cannot be negative",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, problems := importer.Load(tt.fsys)
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
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
