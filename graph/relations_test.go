package graph_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// world is a small fixture with one or two records of every type and every
// relation between them.
func world(t *testing.T, s *store.Store) {
	starts := time.Date(2023, 6, 15, 15, 30, 0, 0, time.UTC)
	put(t, s,
		&store.Organisation{Record: rec("organisation:council"), Name: "Borough Council", Kind: "LOCAL_AUTHORITY"},
		&store.Organisation{Record: rec("organisation:police"), Name: "Police", Kind: "POLICE"},
		&store.Person{Record: rec("person:alice"), Name: "Alice Able", Honorific: ptr("Cllr"), OrganisationID: ptr("organisation:council"), Email: ptr("alice@example.org")},
		&store.Person{Record: rec("person:bob"), Name: "Bob Brown", OrganisationID: ptr("organisation:police")},
		&store.Person{Record: rec("person:carol"), Name: "Carol Clay", JobTitle: ptr("Director"), OrganisationID: ptr("organisation:council")},
		&store.Body{Record: rec("body:stockton-on-tees/council"), Name: "Council", Kind: "COUNCIL", OrganisationID: ptr("organisation:council")},
		&store.Body{Record: rec("body:stockton-on-tees/cabinet"), Name: "Cabinet", Kind: "CABINET", MinutePrefix: ptr("CAB"), OrganisationID: ptr("organisation:council"), ParentID: ptr("body:stockton-on-tees/council")},
		&store.Membership{Record: rec("membership:cabinet:alice"), PersonID: ptr("person:alice"), BodyID: "body:stockton-on-tees/cabinet", Role: "CHAIR", StartDate: ptr("2023-05-01")},
		&store.Membership{Record: rec("membership:cabinet:bob"), PersonID: ptr("person:bob"), BodyID: "body:stockton-on-tees/cabinet", Role: "REPRESENTATIVE", RepresentingID: ptr("organisation:police"), EndDate: ptr("2023-01-01")},
		&store.Membership{Record: rec("membership:cabinet:roads"), BodyID: "body:stockton-on-tees/cabinet", Role: "MEMBER", Post: ptr("Cabinet Member for Roads")},
		&store.Meeting{Record: rec("meeting:stockton-on-tees/cabinet/2023-03-16"), BodyID: "body:stockton-on-tees/cabinet", Title: "Cabinet", Date: "2023-03-16", Status: "HELD"},
		&store.Meeting{Record: rec("meeting:stockton-on-tees/cabinet/2023-06-15"), BodyID: "body:stockton-on-tees/cabinet", Title: "Cabinet", Date: "2023-06-15", Status: "SCHEDULED", StartsAt: &starts, Venue: ptr("Town Hall")},
		&store.Attendance{Record: rec("attendance:cabinet:2023-03-16:alice"), MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", PersonID: "person:alice", Status: "PRESENT", Capacity: ptr("Chair")},
		&store.Attendance{Record: rec("attendance:cabinet:2023-03-16:bob"), MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", PersonID: "person:bob", Status: "APOLOGIES", RepresentingID: ptr("organisation:police")},
		&store.AgendaItem{Record: rec("agendaItem:cabinet:2023-03-16:cab-10-22"), MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", MinuteRef: ptr("CAB 10/22"), Title: "Roads Policy", PresenterID: ptr("person:carol"), Minutes: ptr("Members considered the policy."), Decision: ptr("RESOLVED that the policy be approved."), Outcome: ptr("APPROVED")},
		&store.AgendaItem{Record: rec("agendaItem:cabinet:2023-03-16:cab-9-22"), MeetingID: "meeting:stockton-on-tees/cabinet/2023-03-16", MinuteRef: ptr("CAB 9/22"), Title: "Declarations of Interest"},
		&store.Report{Record: rec("report:cabinet:2023-03-16:roads"), Title: "Roads Policy", MeetingID: ptr("meeting:stockton-on-tees/cabinet/2023-03-16"), AgendaItemID: ptr("agendaItem:cabinet:2023-03-16:cab-10-22"), AuthorID: ptr("person:carol"), LeadMemberID: ptr("person:alice"), Recommendations: []string{"Approve the policy."}, PriorityIDs: []string{"priority:plan:1"}, IndicatorIDs: []string{"indicator:roads"}},
		&store.Declaration{Record: rec("declaration:cabinet:2023-03-16:alice"), PersonID: "person:alice", AgendaItemID: "agendaItem:cabinet:2023-03-16:cab-10-22", Kind: "NON_REGISTERABLE", Text: ptr("Lives on the road.")},
		&store.Plan{Record: rec("plan:plan"), Title: "The Plan", OwnerID: ptr("body:stockton-on-tees/cabinet"), Themes: []string{"Places", "People"}},
		&store.Priority{Record: rec("priority:plan:2"), PlanID: "plan:plan", Number: ptr("2"), Title: "Happy people", Theme: ptr("People")},
		&store.Priority{Record: rec("priority:plan:10"), PlanID: "plan:plan", Number: ptr("10"), Title: "Late priority", Theme: ptr("People")},
		&store.Priority{Record: rec("priority:plan:1"), PlanID: "plan:plan", Number: ptr("1"), Title: "Good roads", Theme: ptr("Places"),
			IndicatorIDs: []string{"indicator:roads"}, LeadIDs: []string{"body:stockton-on-tees/cabinet"},
			Updates: []store.ProgressUpdate{{Period: ptr("2022/23"), Text: "On track.", Rag: ptr("GREEN"), ReportID: ptr("report:cabinet:2023-03-16:roads"), Sources: src("lines 3-4")}}},
		&store.Action{Record: rec("action:plan:1"), Title: "Fill potholes", OwnerID: ptr("person:carol"), OwnerBodyID: ptr("body:stockton-on-tees/cabinet"), OwnerText: ptr("Carol Clay, Director"), DueDate: ptr("2023-12-01"), DueText: ptr("December 2023"), Status: ptr("AMBER"), PriorityID: ptr("priority:plan:1"), PlanID: ptr("plan:plan"), AgendaItemID: ptr("agendaItem:cabinet:2023-03-16:cab-10-22")},
		&store.Indicator{Record: rec("indicator:roads"), Name: "Roads in good repair", Unit: "PERCENT", Polarity: "HIGHER_IS_BETTER"},
		&store.Area{Record: rec("area:borough"), Name: "Borough", Kind: "LOCAL_AUTHORITY", Code: ptr("E06000004")},
		&store.Area{Record: rec("area:E92000001"), Name: "England", Kind: "COUNTRY"},
		&store.Observation{Record: rec("observation:roads:borough:2021-22"), IndicatorID: "indicator:roads", AreaID: "area:borough", Period: "2021/22", PeriodStart: ptr("2021-04-01"), PeriodEnd: ptr("2022-03-31"), Value: 80},
		&store.Observation{Record: rec("observation:roads:england:2021-22"), IndicatorID: "indicator:roads", AreaID: "area:E92000001", Period: "2021/22", PeriodStart: ptr("2021-04-01"), PeriodEnd: ptr("2022-03-31"), Value: 75.5},
		&store.Observation{Record: rec("observation:roads:borough:2022-23"), IndicatorID: "indicator:roads", AreaID: "area:borough", Period: "2022/23", PeriodStart: ptr("2022-04-01"), PeriodEnd: ptr("2023-03-31"), Value: 82},
	)
}

func TestRelations(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	world(t, s)
	h := server(s)
	tests := []struct {
		name, query, want string
	}{
		{"organisation to people and bodies",
			`{ organisation(id: "organisation:council") { name kind people { totalCount edges { node { id } } } bodies { id } } }`,
			`{"organisation":{"name":"Borough Council","kind":"LOCAL_AUTHORITY","people":{"totalCount":2,"edges":[{"node":{"id":"person:alice"}},{"node":{"id":"person:carol"}}]},"bodies":[{"id":"body:stockton-on-tees/cabinet"},{"id":"body:stockton-on-tees/council"}]}}`},
		{"person to organisation, memberships, attendance, reports, actions, declarations",
			`{ person(id: "person:alice") { honorific organisation { id } memberships { id body { id } } current: memberships(current: true) { role }
			   attendance { totalCount edges { node { status capacity meeting { id } person { id } } } } reports { id } actions { id } declarations { kind text agendaItem { id } person { id } } } }`,
			`{"person":{"honorific":"Cllr","organisation":{"id":"organisation:council"},"memberships":[{"id":"membership:cabinet:alice","body":{"id":"body:stockton-on-tees/cabinet"}}],"current":[{"role":"CHAIR"}],
			  "attendance":{"totalCount":1,"edges":[{"node":{"status":"PRESENT","capacity":"Chair","meeting":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"},"person":{"id":"person:alice"}}}]},
			  "reports":[{"id":"report:cabinet:2023-03-16:roads"}],"actions":[],"declarations":[{"kind":"NON_REGISTERABLE","text":"Lives on the road.","agendaItem":{"id":"agendaItem:cabinet:2023-03-16:cab-10-22"},"person":{"id":"person:alice"}}]}}`},
		{"body to organisation, parent, children, memberships, meetings, plans",
			`{ body(id: "body:stockton-on-tees/cabinet") { minutePrefix organisation { id } parent { id children { id } } children { id }
			   memberships { id } current: memberships(current: true) { person { id } } reps: memberships(role: REPRESENTATIVE) { person { id } representing { id } }
			   posts: memberships(role: MEMBER) { person { id } post }
			   meetings(first: 1) { totalCount pageInfo { hasNextPage } edges { node { id } } } held: meetings(status: HELD) { totalCount } june: meetings(from: "2023-06-01", to: "2023-06-30") { edges { node { id } } }
			   plans { id } } }`,
			`{"body":{"minutePrefix":"CAB","organisation":{"id":"organisation:council"},"parent":{"id":"body:stockton-on-tees/council","children":[{"id":"body:stockton-on-tees/cabinet"}]},"children":[],
			  "memberships":[{"id":"membership:cabinet:alice"},{"id":"membership:cabinet:bob"},{"id":"membership:cabinet:roads"}],"current":[{"person":{"id":"person:alice"}},{"person":null}],
			  "reps":[{"person":{"id":"person:bob"},"representing":{"id":"organisation:police"}}],"posts":[{"person":null,"post":"Cabinet Member for Roads"}],
			  "meetings":{"totalCount":2,"pageInfo":{"hasNextPage":true},"edges":[{"node":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"}}]},"held":{"totalCount":1},"june":{"edges":[{"node":{"id":"meeting:stockton-on-tees/cabinet/2023-06-15"}}]},
			  "plans":[{"id":"plan:plan"}]}}`},
		{"meeting to body, agenda in order, attendance, reports, neighbours",
			`{ meeting(id: "meeting:stockton-on-tees/cabinet/2023-03-16") { body { id } agendaItems { minuteRef } attendance { person { id } } apologies: attendance(status: APOLOGIES) { person { id } representing { id } }
			   reports { id } previous { id } next { id startsAt venue status next { id } } } }`,
			`{"meeting":{"body":{"id":"body:stockton-on-tees/cabinet"},"agendaItems":[{"minuteRef":"CAB 9/22"},{"minuteRef":"CAB 10/22"}],"attendance":[{"person":{"id":"person:alice"}},{"person":{"id":"person:bob"}}],
			  "apologies":[{"person":{"id":"person:bob"},"representing":{"id":"organisation:police"}}],"reports":[{"id":"report:cabinet:2023-03-16:roads"}],"previous":null,
			  "next":{"id":"meeting:stockton-on-tees/cabinet/2023-06-15","startsAt":"2023-06-15T16:30:00+01:00","venue":"Town Hall","status":"SCHEDULED","next":null}}}`},
		{"agenda item to meeting, presenter, reports, declarations, actions",
			`{ agendaItem(id: "agendaItem:cabinet:2023-03-16:cab-10-22") { meeting { id } presenter { id } exempt decision outcome reports { id } declarations { id } actions { id } } }`,
			`{"agendaItem":{"meeting":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"},"presenter":{"id":"person:carol"},"exempt":false,"decision":"RESOLVED that the policy be approved.","outcome":"APPROVED",
			  "reports":[{"id":"report:cabinet:2023-03-16:roads"}],"declarations":[{"id":"declaration:cabinet:2023-03-16:alice"}],"actions":[{"id":"action:plan:1"}]}}`},
		{"report to meeting, item, author, lead member, priorities, indicators",
			`{ report(id: "report:cabinet:2023-03-16:roads") { meeting { id } agendaItem { id } author { id organisation { name } } leadMember { id } recommendations priorities { id } indicators { id } } }`,
			`{"report":{"meeting":{"id":"meeting:stockton-on-tees/cabinet/2023-03-16"},"agendaItem":{"id":"agendaItem:cabinet:2023-03-16:cab-10-22"},"author":{"id":"person:carol","organisation":{"name":"Borough Council"}},
			  "leadMember":{"id":"person:alice"},"recommendations":["Approve the policy."],"priorities":[{"id":"priority:plan:1"}],"indicators":[{"id":"indicator:roads"}]}}`},
		{"plan to owner and priorities in order, priority to everything",
			`{ plan(id: "plan:plan") { owner { id } themes priorities { number } people: priorities(theme: "People") { id }
			   first: priorities(theme: "Places") { plan { id } updates { period text rag report { id } sources { locator } } actions { id } indicators { id } leads { id } reports { id } } } }`,
			`{"plan":{"owner":{"id":"body:stockton-on-tees/cabinet"},"themes":["Places","People"],"priorities":[{"number":"1"},{"number":"2"},{"number":"10"}],"people":[{"id":"priority:plan:2"},{"id":"priority:plan:10"}],
			  "first":[{"plan":{"id":"plan:plan"},"updates":[{"period":"2022/23","text":"On track.","rag":"GREEN","report":{"id":"report:cabinet:2023-03-16:roads"},"sources":[{"locator":"lines 3-4"}]}],
			  "actions":[{"id":"action:plan:1"}],"indicators":[{"id":"indicator:roads"}],"leads":[{"id":"body:stockton-on-tees/cabinet"}],"reports":[{"id":"report:cabinet:2023-03-16:roads"}]}]}}`},
		{"action to owner, owner body, priority, plan, agenda item; carol owns it",
			`{ action(id: "action:plan:1") { owner { id actions { id } } ownerBody { id } ownerText dueDate dueText status priority { id } plan { id } agendaItem { id } } }`,
			`{"action":{"owner":{"id":"person:carol","actions":[{"id":"action:plan:1"}]},"ownerBody":{"id":"body:stockton-on-tees/cabinet"},"ownerText":"Carol Clay, Director","dueDate":"2023-12-01","dueText":"December 2023","status":"AMBER",
			  "priority":{"id":"priority:plan:1"},"plan":{"id":"plan:plan"},"agendaItem":{"id":"agendaItem:cabinet:2023-03-16:cab-10-22"}}}`},
		{"indicator to observations, comparators, areas, latest, priorities",
			`{ indicator(id: "indicator:roads") { unit polarity priorities { id } observations { id } borough: observations(area: "area:borough") { period value comparators { area { name code kind } value indicator { id } } }
			   recent: observations(from: "2022-06-01") { id } latest { id } latestEngland: latest(area: "area:E92000001") { value } } }`,
			`{"indicator":{"unit":"PERCENT","polarity":"HIGHER_IS_BETTER","priorities":[{"id":"priority:plan:1"}],
			  "observations":[{"id":"observation:roads:borough:2021-22"},{"id":"observation:roads:borough:2022-23"},{"id":"observation:roads:england:2021-22"}],
			  "borough":[{"period":"2021/22","value":80,"comparators":[{"area":{"name":"England","code":null,"kind":"COUNTRY"},"value":75.5,"indicator":{"id":"indicator:roads"}}]},{"period":"2022/23","value":82,"comparators":[]}],
			  "recent":[{"id":"observation:roads:borough:2022-23"}],"latest":{"id":"observation:roads:borough:2022-23"},"latestEngland":{"value":75.5}}}`},
		{"node and nodes resolve any type, null for unknown",
			`{ node(id: "area:borough") { id ... on Area { name } } nodes(ids: ["person:bob", "nope:x", "priority:plan:9", "meeting:stockton-on-tees/cabinet/2023-06-15"]) { id } }`,
			`{"node":{"id":"area:borough","name":"Borough"},"nodes":[{"id":"person:bob"},null,null,{"id":"meeting:stockton-on-tees/cabinet/2023-06-15"}]}`},
		{"unknown IDs are null without error",
			`{ person(id: "person:nobody") { id } meeting(id: "meeting:x:2020-01-01") { id } }`,
			`{"person":null,"meeting":null}`},
		{"lists filter and count",
			`{ people(organisation: "organisation:council") { totalCount edges { node { id } } } named: people(name: "CLAY") { edges { node { id } } }
			   organisations(kind: POLICE) { edges { node { id } } } bodies(kind: CABINET) { totalCount } meetings(body: "body:stockton-on-tees/cabinet", status: SCHEDULED) { edges { node { id } } }
			   reports(body: "body:stockton-on-tees/cabinet") { totalCount } plans { totalCount } actions(status: AMBER, owner: "person:carol", dueBefore: "2024-01-01") { totalCount }
			   late: actions(dueBefore: "2023-01-01") { totalCount } indicators { totalCount } areas { id } }`,
			`{"people":{"totalCount":2,"edges":[{"node":{"id":"person:alice"}},{"node":{"id":"person:carol"}}]},"named":{"edges":[{"node":{"id":"person:carol"}}]},
			  "organisations":{"edges":[{"node":{"id":"organisation:police"}}]},"bodies":{"totalCount":1},"meetings":{"edges":[{"node":{"id":"meeting:stockton-on-tees/cabinet/2023-06-15"}}]},
			  "reports":{"totalCount":1},"plans":{"totalCount":1},"actions":{"totalCount":1},"late":{"totalCount":0},"indicators":{"totalCount":1},"areas":[{"id":"area:borough"},{"id":"area:E92000001"}]}`},
		{"updatedSince keeps records changed since then",
			`{ before: people(updatedSince: "2023-06-15T12:00:00Z") { totalCount } after: people(updatedSince: "2023-06-15T13:00:01+01:00") { totalCount } }`,
			`{"before":{"totalCount":3},"after":{"totalCount":0}}`},
		{"search finds any type by name, title or alias, names that start with the words first",
			`{ search(query: "roads") { __typename ... on Report { id } ... on AgendaItem { id } ... on Indicator { id } ... on Priority { id } } }`,
			`{"search":[{"__typename":"AgendaItem","id":"agendaItem:cabinet:2023-03-16:cab-10-22"},{"__typename":"Report","id":"report:cabinet:2023-03-16:roads"},{"__typename":"Indicator","id":"indicator:roads"},{"__typename":"Priority","id":"priority:plan:1"}]}`},
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
