package bench

import (
	"context"
	"encoding/json"
	"fmt"

	"councilgraph/bench/gen"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Op is one operation the benchmarks and the load tool run: a GraphQL
// query with the variables of its i-th run, and a hand-written baseline that
// fetches the same data with the driver and encodes the same JSON.
type Op struct {
	// Name is short and stable: it names the benchmark.
	Name string
	// Query is the GraphQL document.
	Query string
	// Vars gives the variables of the i-th run; runs rotate over councils
	// and records so that no run is served from one hot page.
	Vars func(i int) map[string]any
	// Baseline fetches the same data through the driver, one find per
	// level, and returns the JSON the GraphQL endpoint answers.
	Baseline func(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error)
}

// Request is the JSON body of a GraphQL POST.
type Request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Body encodes the i-th run's request body.
func (o Op) Body(i int) []byte {
	b, _ := json.Marshal(Request{Query: o.Query, Variables: o.Vars(i)})
	return b
}

// The dates operations ask for, relative to gen.RefDate.
const (
	// nextFrom is where "a body's next 20 meetings" start.
	nextFrom = gen.RefDate
	// lastFrom and lastTo bound "the last 10 meetings" before RefDate.
	lastFrom = "2022-03-01"
	lastTo   = "2022-12-31"
	// SearchWord is the common word searched for.
	SearchWord = "children"
)

// Ops lists the operations over a set of councils councils (at least 1).
func Ops(councils int) []Op {
	councils = max(councils, 1)
	// members are the councillors who sit on two or more bodies.
	var members []int
	seats := map[int]int{}
	for b := range gen.BodiesPerCouncil {
		for k := range gen.MembersPerBody - 2 {
			seats[gen.MemberOf(b, k)]++
		}
	}
	for p := range gen.PeoplePerCouncil {
		if seats[p] >= 2 {
			members = append(members, p)
		}
	}
	return []Op{
		{
			Name:  "a-body-next-meetings",
			Query: queryBodyMeetings,
			Vars: func(i int) map[string]any {
				return map[string]any{"id": gen.BodyID(i%councils, i%gen.BodiesPerCouncil), "from": nextFrom}
			},
			Baseline: baselineBodyMeetings,
		},
		{
			Name:  "b-person-bodies-attendance",
			Query: queryPersonAttendance,
			Vars: func(i int) map[string]any {
				return map[string]any{"id": gen.PersonID(i%councils, members[i%len(members)]), "from": lastFrom, "to": lastTo}
			},
			Baseline: baselinePersonAttendance,
		},
		{
			Name:  "c-indicator-observations",
			Query: queryIndicator,
			Vars: func(i int) map[string]any {
				return map[string]any{"id": gen.IndicatorID(i%councils, i%gen.IndicatorsPerCouncil)}
			},
			Baseline: baselineIndicator,
		},
		{
			Name:     "d-search",
			Query:    querySearch,
			Vars:     func(int) map[string]any { return map[string]any{"q": SearchWord} },
			Baseline: baselineSearch,
		},
		{
			Name:  "e-entities-100",
			Query: queryEntities,
			Vars: func(i int) map[string]any {
				return map[string]any{"r": representations(councils, i)}
			},
			Baseline: baselineEntities,
		},
	}
}

// representations are 100 federation representations of six types, spread
// over the councils.
func representations(councils, run int) []map[string]any {
	reps := make([]map[string]any, 0, 100)
	for i := range 100 {
		c := (run + i) % councils
		b, m := i%gen.BodiesPerCouncil, (i*7+run)%gen.MeetingsPerBody
		var typ, id string
		switch i % 6 {
		case 0:
			typ, id = "Person", gen.PersonID(c, (i*13+run)%gen.PeoplePerCouncil)
		case 1:
			typ, id = "Meeting", gen.MeetingID(c, b, m)
		case 2:
			typ, id = "Report", gen.ReportID(c, b, m, 2)
		case 3:
			typ, id = "AgendaItem", gen.AgendaItemID(c, b, m, 1+i%gen.ItemsPerMeeting)
		case 4:
			typ, id = "Body", gen.BodyID(c, b)
		case 5:
			typ, id = "Organisation", gen.PartnerID(c, i%gen.PartnersPerCouncil)
		}
		reps = append(reps, map[string]any{"__typename": typ, "id": id})
	}
	return reps
}

const queryBodyMeetings = `query BodyNextMeetings($id: ID!, $from: Date!) {
  body(id: $id) {
    id
    name
    meetings(from: $from, first: 20) {
      edges { node {
        id
        date
        title
        agendaItems {
          id
          number
          title
          reports { id title author { id name organisation { id name } } }
        }
      } }
    }
  }
}`

const queryPersonAttendance = `query PersonAttendance($id: ID!, $from: Date!, $to: Date!) {
  person(id: $id) {
    id
    name
    memberships {
      role
      body {
        id
        name
        meetings(from: $from, to: $to, first: 10) {
          edges { node { id date attendance { status person { id name } } } }
        }
      }
    }
  }
}`

const queryIndicator = `query IndicatorFigures($id: ID!) {
  indicator(id: $id) {
    id
    name
    unit
    observations {
      period
      value
      area { id name }
      comparators { value area { id name } }
    }
  }
}`

const querySearch = `query Search($q: String!) {
  search(query: $q, first: 20) {
    __typename
    ... on Person { id name }
    ... on Organisation { id name }
    ... on Body { id name }
    ... on Meeting { id title date }
    ... on AgendaItem { id title }
    ... on Report { id title }
    ... on Plan { id title }
    ... on Priority { id title }
    ... on Action { id title }
    ... on Indicator { id name }
  }
}`

const queryEntities = `query Entities($r: [_Any!]!) {
  _entities(representations: $r) {
    __typename
    ... on Person { id name }
    ... on Meeting { id title date }
    ... on Report { id title }
    ... on AgendaItem { id title }
    ... on Body { id name }
    ... on Organisation { id name }
  }
}`

func str(vars map[string]any, key string) string {
	s, _ := vars[key].(string)
	return s
}

func encode(data any) ([]byte, error) {
	b, err := json.Marshal(struct {
		Data any `json:"data"`
	}{data})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}
