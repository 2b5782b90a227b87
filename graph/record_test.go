package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// recordWorld adds to world an inspection with judgements, an attendance
// matrix, a membership with a published term and dates, and figures as
// published.
func recordWorld(t *testing.T, s *store.Store) {
	world(t, s)
	put(t, s,
		&store.Organisation{Record: rec("organisation:inspectorate"), Name: "Inspectorate", Kind: "REGULATOR"},
		&store.Person{Record: rec("person:dora"), Name: "Dora Dean", OrganisationID: ptr("organisation:inspectorate")},
		&store.Inspection{Record: rec("inspection:inspectorate:full:2023"), InspectorateID: "organisation:inspectorate", SubjectID: "organisation:council",
			Framework: "full inspection", StartDate: ptr("2023-03-06"), EndDate: ptr("2023-03-17"), LeadInspectorID: ptr("person:dora"),
			Judgements: []store.Judgement{{Area: "Overall effectiveness", Grade: "Good", Sources: src("lines 5-5")}}, Findings: []string{"Plans are not specific enough."}},
		&store.Inspection{Record: rec("inspection:inspectorate:visit:2022"), InspectorateID: "organisation:inspectorate", SubjectID: "organisation:council", Framework: "focused visit", Period: ptr("September 2022")},
		&store.Inspection{Record: rec("inspection:inspectorate:visit:police"), InspectorateID: "organisation:inspectorate", SubjectID: "organisation:police", Framework: "focused visit"},
		&store.OrganisationAttendance{Record: rec("organisationAttendance:cabinet:2023-03-16:police"), OrganisationID: "organisation:police", MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", Attendees: 2},
		&store.OrganisationAttendance{Record: rec("organisationAttendance:cabinet:2023-03-16:council"), OrganisationID: "organisation:council", MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", Attendees: 0},
		&store.Membership{Record: rec("membership:cabinet:carol:2023"), PersonID: ptr("person:carol"), BodyID: "body:stockton-on-tees/cabinet", Role: "REPRESENTATIVE", Term: ptr("2023 - 2027")},
		&store.Observation{Record: rec("observation:roads:borough:now"), IndicatorID: "indicator:roads", AreaID: "area:borough", Period: "now", Value: 300, ValueText: ptr("over 300"), Approximate: true, PublishedOn: ptr("2023-06-15")},
	)
}

func TestRecordsOfTheRest(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	recordWorld(t, s)
	h := server(s)
	tests := []struct {
		name, query, want string
	}{
		{"inspection with inspectorate, subject, lead inspector and judgements",
			`{ inspection(id: "inspection:inspectorate:full:2023") { framework startDate endDate period inspectorate { id } subject { id } leadInspector { name } judgements { area grade sources { locator } } findings } }`,
			`{"inspection":{"framework":"full inspection","startDate":"2023-03-06","endDate":"2023-03-17","period":null,"inspectorate":{"id":"organisation:inspectorate"},"subject":{"id":"organisation:council"},
			  "leadInspector":{"name":"Dora Dean"},"judgements":[{"area":"Overall effectiveness","grade":"Good","sources":[{"locator":"lines 5-5"}]}],"findings":["Plans are not specific enough."]}}`},
		{"inspections list filters by subject and framework, and pages",
			`{ all: inspections { totalCount } council: inspections(subject: "organisation:council") { totalCount edges { node { id } } }
			   visits: inspections(framework: "focused visit", first: 1) { totalCount pageInfo { hasNextPage } edges { node { id period } } } }`,
			`{"all":{"totalCount":3},"council":{"totalCount":2,"edges":[{"node":{"id":"inspection:inspectorate:full:2023"}},{"node":{"id":"inspection:inspectorate:visit:2022"}}]},
			  "visits":{"totalCount":2,"pageInfo":{"hasNextPage":true},"edges":[{"node":{"id":"inspection:inspectorate:visit:2022","period":"September 2022"}}]}}`},
		{"organisation to its inspections; node and entities find an inspection",
			`{ organisation(id: "organisation:police") { inspections { id } } node(id: "inspection:inspectorate:visit:2022") { id ... on Inspection { framework } } }`,
			`{"organisation":{"inspections":[{"id":"inspection:inspectorate:visit:police"}]},"node":{"id":"inspection:inspectorate:visit:2022","framework":"focused visit"}}`},
		{"meeting to attendance counted by organisation",
			`{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { organisationAttendance { attendees organisation { id } meeting { id } } } other: meeting(id: "meeting:stockton-on-tees/cabinet/2023-06-15") { organisationAttendance { attendees } } }`,
			`{"meeting":{"organisationAttendance":[{"attendees":0,"organisation":{"id":"organisation:council"},"meeting":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"}},{"attendees":2,"organisation":{"id":"organisation:police"},"meeting":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"}}]},
			  "other":{"organisationAttendance":[]}}`},
		{"memberships held on a day: known dates include it, a term alone does not exclude",
			`{ body(id: "body:stockton-on-tees/cabinet") { early: memberships(on: "2022-06-01") { id term } late: memberships(on: "2023-06-01") { id } reps: memberships(on: "2023-06-01", role: REPRESENTATIVE) { id } }
			   person(id: "person:bob") { held: memberships(on: "2022-12-31") { id } gone: memberships(on: "2023-01-02") { id } } }`,
			`{"body":{"early":[{"id":"membership:cabinet:bob","term":null},{"id":"membership:cabinet:carol:2023","term":"2023 - 2027"},{"id":"membership:cabinet:roads","term":null}],
			  "late":[{"id":"membership:cabinet:alice"},{"id":"membership:cabinet:carol:2023"},{"id":"membership:cabinet:roads"}],"reps":[{"id":"membership:cabinet:carol:2023"}]},
			  "person":{"held":[{"id":"membership:cabinet:bob"}],"gone":[]}}`},
		{"figures keep their published words, approximation and publication date",
			`{ indicator(id: "indicator:roads") { observations(area: "area:borough") { period value valueText approximate publishedOn } } }`,
			`{"indicator":{"observations":[{"period":"2021/22","value":80,"valueText":null,"approximate":false,"publishedOn":null},{"period":"2022/23","value":82,"valueText":null,"approximate":false,"publishedOn":null},
			  {"period":"now","value":300,"valueText":"over 300","approximate":true,"publishedOn":"2023-06-15"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want any
			data(t, h, tt.query, nil, &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestInspectionsAreEntities resolves inspections for a federation gateway,
// in the order asked, null for an unknown ID.
func TestInspectionsAreEntities(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	recordWorld(t, s)
	var got any
	data(t, server(s), `query($r: [_Any!]!) { _entities(representations: $r) { ... on Inspection { id framework } } }`,
		map[string]any{"r": []map[string]any{
			{"__typename": "Inspection", "id": "inspection:inspectorate:visit:police"},
			{"__typename": "Inspection", "id": "inspection:none"},
			{"__typename": "Inspection", "id": "inspection:inspectorate:full:2023"},
		}}, &got)
	want := map[string]any{"_entities": []any{
		map[string]any{"id": "inspection:inspectorate:visit:police", "framework": "focused visit"},
		nil,
		map[string]any{"id": "inspection:inspectorate:full:2023", "framework": "full inspection"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRecordsOfTheRestBatch holds the new relations to one find per level:
// meetings → attendance by organisation → organisations → inspections →
// lead inspectors.
func TestRecordsOfTheRestBatch(t *testing.T) {
	t.Parallel()
	var counter storetest.Counter
	s := storetest.New(t, counter.Monitor())
	var docs []store.Doc
	docs = append(docs, &store.Organisation{Record: rec("organisation:inspectorate"), Name: "Inspectorate", Kind: "REGULATOR"},
		&store.Body{Record: rec("body:board"), Name: "Board", Kind: "BOARD"})
	for o := range 3 {
		org := fmt.Sprintf("organisation:o%d", o)
		docs = append(docs, &store.Organisation{Record: rec(org), Name: fmt.Sprintf("Org %d", o), Kind: "OTHER"})
		for i := range 4 {
			lead := fmt.Sprintf("person:lead-%d-%d", o, i)
			docs = append(docs, &store.Person{Record: rec(lead), Name: fmt.Sprintf("Lead %d %d", o, i)},
				&store.Inspection{Record: rec(fmt.Sprintf("inspection:i:%d:%d", o, i)), InspectorateID: "organisation:inspectorate", SubjectID: org, Framework: "visit", LeadInspectorID: ptr(lead)})
		}
	}
	for m := range 10 {
		meeting := fmt.Sprintf("meeting:board:2023-01-%02d", m+1)
		docs = append(docs, &store.Meeting{Record: rec(meeting), BodyID: "body:board", Title: "Board", Date: fmt.Sprintf("2023-01-%02d", m+1), Status: "HELD"})
		for o := range 3 {
			docs = append(docs, &store.OrganisationAttendance{Record: rec(fmt.Sprintf("organisationAttendance:board:2023-01-%02d:o%d", m+1, o)),
				OrganisationID: fmt.Sprintf("organisation:o%d", o), MeetingID: meeting, Attendees: o})
		}
	}
	put(t, s, docs...)
	h := server(s)
	counter.Reset()
	var d map[string]any
	data(t, h, `{ meetings(first: 10) { edges { node { organisationAttendance { attendees organisation { inspections { leadInspector { name } } } } } } } }`, nil, &d)
	// meetings (a page), attendance, organisations, inspections, people: one
	// batch each, in the store's shape (store.Shape.Finds)
	levels := []level{{"page", 1}, {"meetingId", 10}, {"_id", 3}, {"subjectId", 3}, {"_id", 12}}
	if got, want := counter.Count("find"), budget(s, levels); got != want {
		t.Errorf("ran %d finds, want %d (meetings, attendance, organisations, inspections, people)", got, want)
	}
	var leads int
	for _, m := range d["meetings"].(map[string]any)["edges"].([]any) {
		for _, a := range m.(map[string]any)["node"].(map[string]any)["organisationAttendance"].([]any) {
			for _, i := range a.(map[string]any)["organisation"].(map[string]any)["inspections"].([]any) {
				if i.(map[string]any)["leadInspector"].(map[string]any)["name"] != nil {
					leads++
				}
			}
		}
	}
	if leads != 10*3*4 {
		t.Errorf("walked to %d lead inspectors, want 120", leads)
	}
}
