package graph_test

import (
	"fmt"
	"testing"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// budgetFixture is 3 bodies × 10 meetings × 5 agenda items × 2 reports, the
// reports written by 12 people of 3 organisations, who also sit on the bodies.
func budgetFixture(t *testing.T, s *store.Store) {
	var docs []store.Doc
	for o := range 3 {
		docs = append(docs, &store.Organisation{Record: rec(fmt.Sprintf("organisation:o%d", o)), Name: fmt.Sprintf("Org %d", o), Kind: "OTHER"})
	}
	for p := range 12 {
		docs = append(docs, &store.Person{Record: rec(fmt.Sprintf("person:p%02d", p)), Name: fmt.Sprintf("Person %02d", p), OrganisationID: ptr(fmt.Sprintf("organisation:o%d", p%3))})
	}
	for b := range 3 {
		body := fmt.Sprintf("body:b%d", b)
		docs = append(docs, &store.Body{Record: rec(body), Name: fmt.Sprintf("Body %d", b), Kind: "COMMITTEE"})
		for p := range 12 {
			docs = append(docs, &store.Membership{Record: rec(fmt.Sprintf("membership:b%d:p%02d", b, p)), PersonID: ptr(fmt.Sprintf("person:p%02d", p)), BodyID: body, Role: "MEMBER"})
		}
		for m := range 10 {
			meeting := fmt.Sprintf("meeting:b%d:2023-01-%02d", b, m+1)
			docs = append(docs, &store.Meeting{Record: rec(meeting), BodyID: body, Title: "Meeting", Date: fmt.Sprintf("2023-01-%02d", m+1), Status: "HELD"})
			for a := range 5 {
				item := fmt.Sprintf("agendaItem:b%d:2023-01-%02d:%d", b, m+1, a+1)
				docs = append(docs, &store.AgendaItem{Record: rec(item), MeetingID: meeting, Number: ptr(fmt.Sprint(a + 1)), Title: "Item"})
				for r := range 2 {
					docs = append(docs, &store.Report{Record: rec(fmt.Sprintf("report:b%d:2023-01-%02d:%d-%d", b, m+1, a+1, r)), Title: "Report",
						AgendaItemID: ptr(item), MeetingID: ptr(meeting), AuthorID: ptr(fmt.Sprintf("person:p%02d", (b*10+m+a+r)%12))})
				}
			}
		}
	}
	put(t, s, docs...)
}

// TestBatchingBudget holds the graph to one find per level of relations a
// query walks, however many records each level holds.
func TestBatchingBudget(t *testing.T) {
	var counter storetest.Counter
	s := storetest.New(t, counter.Monitor())
	budgetFixture(t, s)
	h := server(s)

	tests := []struct {
		name   string
		query  string
		levels int
		check  func(t *testing.T, data map[string]any)
	}{
		{
			name: "bodies → meetings → agenda items → reports → author → organisation",
			query: `{ bodies(first: 3) { edges { node { meetings(first: 10) { edges { node { agendaItems {
				reports { author { organisation { name } } } } } } } } } } }`,
			levels: 6, // bodies, meetings, agendaItems, reports, people, organisations
			check: func(t *testing.T, d map[string]any) {
				var orgs int
				for _, b := range d["bodies"].(map[string]any)["edges"].([]any) {
					for _, m := range b.(map[string]any)["node"].(map[string]any)["meetings"].(map[string]any)["edges"].([]any) {
						for _, a := range m.(map[string]any)["node"].(map[string]any)["agendaItems"].([]any) {
							for _, r := range a.(map[string]any)["reports"].([]any) {
								if r.(map[string]any)["author"].(map[string]any)["organisation"].(map[string]any)["name"] != nil {
									orgs++
								}
							}
						}
					}
				}
				if orgs != 300 {
					t.Errorf("walked to %d organisations, want 300 (one per report)", orgs)
				}
			},
		},
		{
			name:   "people → memberships → body → meetings",
			query:  `{ people(first: 12) { edges { node { memberships { body { meetings(first: 10) { edges { node { id } } } } } } } } }`,
			levels: 4, // people, memberships, bodies, meetings
			check: func(t *testing.T, d map[string]any) {
				var meetings int
				for _, p := range d["people"].(map[string]any)["edges"].([]any) {
					for _, m := range p.(map[string]any)["node"].(map[string]any)["memberships"].([]any) {
						meetings += len(m.(map[string]any)["body"].(map[string]any)["meetings"].(map[string]any)["edges"].([]any))
					}
				}
				if meetings != 12*3*10 {
					t.Errorf("walked to %d meetings, want 360", meetings)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter.Reset()
			var d map[string]any
			data(t, h, tt.query, nil, &d)
			if got := counter.Count("find"); got != tt.levels {
				t.Errorf("ran %d finds, want %d (one per level)", got, tt.levels)
			}
			if got := counter.Count("count") + counter.Count("aggregate"); got != 0 {
				t.Errorf("ran %d counts nobody asked for", got)
			}
			tt.check(t, d)
		})
	}
}

// TestEntitiesBatchPerType resolves a federation gateway's mixed
// representations with one find per entity type, in the order given.
func TestEntitiesBatchPerType(t *testing.T) {
	var counter storetest.Counter
	s := storetest.New(t, counter.Monitor())
	budgetFixture(t, s)
	h := server(s)

	var reps []map[string]any
	var want []string
	for i := range 200 {
		switch i % 4 {
		case 0:
			id := fmt.Sprintf("person:p%02d", i%12)
			reps, want = append(reps, map[string]any{"__typename": "Person", "id": id}), append(want, id)
		case 1:
			id := fmt.Sprintf("meeting:b%d:2023-01-%02d", i%3, i%10+1)
			reps, want = append(reps, map[string]any{"__typename": "Meeting", "id": id}), append(want, id)
		case 2:
			id := fmt.Sprintf("agendaItem:b%d:2023-01-%02d:%d", i%3, i%10+1, i%5+1)
			reps, want = append(reps, map[string]any{"__typename": "AgendaItem", "id": id}), append(want, id)
		case 3:
			reps, want = append(reps, map[string]any{"__typename": "Body", "id": fmt.Sprintf("body:missing-%d", i)}), append(want, "")
		}
	}
	counter.Reset()
	var d struct {
		Entities []*struct{ ID string } `json:"_entities"`
	}
	data(t, h, `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { id } ... on Meeting { id } ... on AgendaItem { id } ... on Body { id } } }`,
		map[string]any{"r": reps}, &d)
	if len(d.Entities) != len(want) {
		t.Fatalf("got %d entities, want %d", len(d.Entities), len(want))
	}
	for i, e := range d.Entities {
		switch {
		case want[i] == "" && e != nil:
			t.Errorf("entity %d = %v, want null", i, e.ID)
		case want[i] != "" && (e == nil || e.ID != want[i]):
			t.Errorf("entity %d = %v, want %s", i, e, want[i])
		}
	}
	if got := counter.Count("find"); got != 4 {
		t.Errorf("ran %d finds for 4 entity types, want 4", got)
	}
}

// TestComparatorsCostNoRoundTrip: an indicator's observations already hold
// every area's figures, so walking to their comparators sends no query.
func TestComparatorsCostNoRoundTrip(t *testing.T) {
	var counter storetest.Counter
	s := storetest.New(t, counter.Monitor())
	world(t, s)
	h := server(s)
	counter.Reset()
	var d map[string]any
	data(t, h, `{ indicator(id: "indicator:roads") { observations { area { name } comparators { value area { name } } } } }`, nil, &d)
	if got := counter.Count("find"); got != 3 { // indicator, observations, areas
		t.Errorf("ran %d finds, want 3", got)
	}
	obs := d["indicator"].(map[string]any)["observations"].([]any)
	if n := len(obs[0].(map[string]any)["comparators"].([]any)); n != 1 {
		t.Errorf("first observation has %d comparators, want 1", n)
	}
}
