package graph_test

import (
	"encoding/json"
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
		&store.OrganisationAttendance{Record: rec("organisationAttendance:cabinet:2023-03-16:police"), OrganisationID: "organisation:police", MeetingID: "meeting:cabinet:2023-03-16", Attendees: 2},
		&store.OrganisationAttendance{Record: rec("organisationAttendance:cabinet:2023-03-16:council"), OrganisationID: "organisation:council", MeetingID: "meeting:cabinet:2023-03-16", Attendees: 0},
		&store.Membership{Record: rec("membership:cabinet:carol:2023"), PersonID: ptr("person:carol"), BodyID: "body:cabinet", Role: "REPRESENTATIVE", Term: ptr("2023 - 2027")},
		&store.Observation{Record: rec("observation:roads:borough:now"), IndicatorID: "indicator:roads", AreaID: "area:borough", Period: "now", Value: 300, ValueText: ptr("over 300"), Approximate: true, PublishedOn: ptr("2023-06-15")},
	)
}

func TestRecordsOfTheRest(t *testing.T) {
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
			`{ meeting(id: "meeting:cabinet:2023-03-16") { organisationAttendance { attendees organisation { id } meeting { id } } } other: meeting(id: "meeting:cabinet:2023-06-15") { organisationAttendance { attendees } } }`,
			`{"meeting":{"organisationAttendance":[{"attendees":0,"organisation":{"id":"organisation:council"},"meeting":{"id":"meeting:cabinet:2023-03-16"}},{"attendees":2,"organisation":{"id":"organisation:police"},"meeting":{"id":"meeting:cabinet:2023-03-16"}}]},
			  "other":{"organisationAttendance":[]}}`},
		{"memberships held on a day: known dates include it, a term alone does not exclude",
			`{ body(id: "body:cabinet") { early: memberships(on: "2022-06-01") { id term } late: memberships(on: "2023-06-01") { id } reps: memberships(on: "2023-06-01", role: REPRESENTATIVE) { id } }
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
