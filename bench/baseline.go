package bench

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"councilgraph/store"
)

// The baselines are plain driver code, on a client of their own (Env.DB):
// they read the collections directly, around the store, because what they
// measure is the graph against the database itself. They keep to the public
// level by hand (public below), as the store does for anonymous callers.
//
// The baselines are what an expert would write against the driver for each
// operation: one find per level of relations, `$in` over the keys of the
// level above (an equality when there is one key), projecting only the
// fields the answer needs, asking for the whole result in the first reply
// (no getMore), then the same JSON the GraphQL endpoint answers.

// fetch runs one find and decodes every document into T.
func fetch[T any](ctx context.Context, c *mongo.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]*T, error) {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", c.Name(), err)
	}
	var out []*T
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("find %s: %w", c.Name(), err)
	}
	return out, nil
}

// keyed is the filter for public documents whose field holds one of keys.
func keyed(field string, keys []string) bson.D {
	if len(keys) == 1 {
		return public(bson.D{{Key: field, Value: keys[0]}})
	}
	return public(bson.D{{Key: field, Value: bson.D{{Key: "$in", Value: keys}}}})
}

// public keeps filter to the records an anonymous caller may see, as the
// graph does for the requests the benchmarks send.
func public(filter bson.D) bson.D {
	return append(filter, bson.E{Key: "visibility", Value: store.VisibilityPublic})
}

// project builds find options projecting fields, sorted by sort (none when
// empty).
func project(sort []string, fields ...string) *options.FindOptionsBuilder {
	p := bson.D{}
	for _, f := range fields {
		p = append(p, bson.E{Key: f, Value: 1})
	}
	o := options.Find().SetProjection(p).SetBatchSize(oneReply)
	if len(sort) > 0 {
		s := bson.D{}
		for _, f := range sort {
			s = append(s, bson.E{Key: f, Value: 1})
		}
		o.SetSort(s)
	}
	return o
}

var byID = []string{"_id"}

// oneReply is a batch size large enough that a find's whole result comes
// in its first reply, as the store asks for (the server still caps a reply
// at 16 MiB).
const oneReply = 1 << 20

// unique lists the distinct non-empty keys in order of first appearance.
func unique(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

type named struct {
	ID   string `bson:"_id" json:"id"`
	Name string `bson:"name" json:"name"`
}

// ---- (a) a body's next 20 meetings with agenda items, reports, authors and
// their organisations.

type aPerson struct {
	ID             string  `bson:"_id" json:"id"`
	Name           string  `bson:"name" json:"name"`
	OrganisationID *string `bson:"organisationId" json:"-"`
	Organisation   *named  `bson:"-" json:"organisation"`
}

type aReport struct {
	ID           string   `bson:"_id" json:"id"`
	Title        string   `bson:"title" json:"title"`
	AgendaItemID *string  `bson:"agendaItemId" json:"-"`
	AuthorID     *string  `bson:"authorId" json:"-"`
	Author       *aPerson `bson:"-" json:"author"`
}

type aItem struct {
	ID        string     `bson:"_id" json:"id"`
	MeetingID string     `bson:"meetingId" json:"-"`
	Number    *string    `bson:"number" json:"number"`
	MinuteRef *string    `bson:"minuteRef" json:"-"`
	Title     string     `bson:"title" json:"title"`
	Reports   []*aReport `bson:"-" json:"reports"`
}

type aMeeting struct {
	ID          string   `bson:"_id" json:"id"`
	Date        string   `bson:"date" json:"date"`
	Title       string   `bson:"title" json:"title"`
	AgendaItems []*aItem `bson:"-" json:"agendaItems"`
}

type edge[T any] struct {
	Node T `json:"node"`
}

type connection[T any] struct {
	Edges []edge[T] `json:"edges"`
}

type aBody struct {
	ID       string                `bson:"_id" json:"id"`
	Name     string                `bson:"name" json:"name"`
	Meetings connection[*aMeeting] `bson:"-" json:"meetings"`
}

func baselineBodyMeetings(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error) {
	bodies, err := fetch[aBody](ctx, db.Collection("bodies"), keyed("_id", []string{str(vars, "id")}), project(nil, "name"))
	if err != nil || len(bodies) == 0 {
		return encode(map[string]any{"body": nil})
	}
	body := bodies[0]
	meetings, err := fetch[aMeeting](ctx, db.Collection("meetings"),
		public(bson.D{{Key: "bodyId", Value: body.ID}, {Key: "date", Value: bson.D{{Key: "$gte", Value: str(vars, "from")}}}}),
		project([]string{"date", "_id"}, "date", "title").SetLimit(20))
	if err != nil {
		return nil, err
	}
	body.Meetings.Edges = make([]edge[*aMeeting], len(meetings))
	byMeeting := map[string]*aMeeting{}
	meetingIDs := make([]string, len(meetings))
	for i, m := range meetings {
		body.Meetings.Edges[i].Node = m
		m.AgendaItems = []*aItem{}
		byMeeting[m.ID] = m
		meetingIDs[i] = m.ID
	}
	if len(meetingIDs) == 0 {
		return encode(map[string]any{"body": body})
	}
	items, err := fetch[aItem](ctx, db.Collection("agendaItems"), keyed("meetingId", meetingIDs), project(nil, "meetingId", "number", "minuteRef", "title"))
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(items, func(a, b *aItem) int { return store.Natural(itemKey(a), itemKey(b)) })
	byItem := map[string]*aItem{}
	itemIDs := make([]string, len(items))
	for i, it := range items {
		it.Reports = []*aReport{}
		byMeeting[it.MeetingID].AgendaItems = append(byMeeting[it.MeetingID].AgendaItems, it)
		byItem[it.ID] = it
		itemIDs[i] = it.ID
	}
	if len(itemIDs) == 0 {
		return encode(map[string]any{"body": body})
	}
	reports, err := fetch[aReport](ctx, db.Collection("reports"), keyed("agendaItemId", itemIDs), project(byID, "title", "agendaItemId", "authorId"))
	if err != nil {
		return nil, err
	}
	var authorIDs []string
	for _, r := range reports {
		it := byItem[deref(r.AgendaItemID)]
		it.Reports = append(it.Reports, r)
		authorIDs = append(authorIDs, deref(r.AuthorID))
	}
	authorIDs = unique(authorIDs)
	if len(authorIDs) == 0 {
		return encode(map[string]any{"body": body})
	}
	people, err := fetch[aPerson](ctx, db.Collection("people"), keyed("_id", authorIDs), project(nil, "name", "organisationId"))
	if err != nil {
		return nil, err
	}
	byPerson := map[string]*aPerson{}
	var orgIDs []string
	for _, p := range people {
		byPerson[p.ID] = p
		orgIDs = append(orgIDs, deref(p.OrganisationID))
	}
	for _, r := range reports {
		r.Author = byPerson[deref(r.AuthorID)]
	}
	if orgIDs = unique(orgIDs); len(orgIDs) > 0 {
		orgs, err := fetch[named](ctx, db.Collection("organisations"), keyed("_id", orgIDs), project(nil, "name"))
		if err != nil {
			return nil, err
		}
		byOrg := map[string]*named{}
		for _, o := range orgs {
			byOrg[o.ID] = o
		}
		for _, p := range people {
			p.Organisation = byOrg[deref(p.OrganisationID)]
		}
	}
	return encode(map[string]any{"body": body})
}

// itemKey orders agenda items as printed, as the graph does.
func itemKey(a *aItem) string {
	switch {
	case a.Number != nil:
		return *a.Number
	case a.MinuteRef != nil:
		return *a.MinuteRef
	}
	return a.ID
}

// ---- (b) a person with memberships, bodies and the bodies' last 10
// meetings' attendance.

type bAttendance struct {
	MeetingID string `bson:"meetingId" json:"-"`
	PersonID  string `bson:"personId" json:"-"`
	Status    string `bson:"status" json:"status"`
	Person    *named `bson:"-" json:"person"`
}

type bMeeting struct {
	ID         string         `bson:"_id" json:"id"`
	BodyID     string         `bson:"bodyId" json:"-"`
	Date       string         `bson:"date" json:"date"`
	Attendance []*bAttendance `bson:"-" json:"attendance"`
}

type bBody struct {
	ID       string                `bson:"_id" json:"id"`
	Name     string                `bson:"name" json:"name"`
	Meetings connection[*bMeeting] `bson:"-" json:"meetings"`
}

type bMembership struct {
	Role   string `bson:"role" json:"role"`
	BodyID string `bson:"bodyId" json:"-"`
	Body   *bBody `bson:"-" json:"body"`
}

type bPerson struct {
	ID          string         `bson:"_id" json:"id"`
	Name        string         `bson:"name" json:"name"`
	Memberships []*bMembership `bson:"-" json:"memberships"`
}

func baselinePersonAttendance(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error) {
	people, err := fetch[bPerson](ctx, db.Collection("people"), keyed("_id", []string{str(vars, "id")}), project(nil, "name"))
	if err != nil || len(people) == 0 {
		return encode(map[string]any{"person": nil})
	}
	person := people[0]
	ms, err := fetch[bMembership](ctx, db.Collection("memberships"), keyed("personId", []string{person.ID}), project(byID, "role", "bodyId"))
	if err != nil {
		return nil, err
	}
	person.Memberships = ms
	bodyIDs := make([]string, len(ms))
	for i, m := range ms {
		bodyIDs[i] = m.BodyID
	}
	if bodyIDs = unique(bodyIDs); len(bodyIDs) == 0 {
		return encode(map[string]any{"person": person})
	}
	bodies, err := fetch[bBody](ctx, db.Collection("bodies"), keyed("_id", bodyIDs), project(nil, "name"))
	if err != nil {
		return nil, err
	}
	byBody := map[string]*bBody{}
	for _, b := range bodies {
		b.Meetings.Edges = []edge[*bMeeting]{}
		byBody[b.ID] = b
	}
	for _, m := range ms {
		m.Body = byBody[m.BodyID]
	}
	dates := bson.D{{Key: "$gte", Value: str(vars, "from")}, {Key: "$lte", Value: str(vars, "to")}}
	meetings, err := fetch[bMeeting](ctx, db.Collection("meetings"), append(keyed("bodyId", bodyIDs), bson.E{Key: "date", Value: dates}),
		project([]string{"date", "_id"}, "bodyId", "date"))
	if err != nil {
		return nil, err
	}
	byMeeting := map[string]*bMeeting{}
	var meetingIDs []string
	for _, m := range meetings {
		b := byBody[m.BodyID]
		if len(b.Meetings.Edges) == 10 {
			continue
		}
		m.Attendance = []*bAttendance{}
		b.Meetings.Edges = append(b.Meetings.Edges, edge[*bMeeting]{Node: m})
		byMeeting[m.ID] = m
		meetingIDs = append(meetingIDs, m.ID)
	}
	if len(meetingIDs) == 0 {
		return encode(map[string]any{"person": person})
	}
	att, err := fetch[bAttendance](ctx, db.Collection("attendance"), keyed("meetingId", meetingIDs), project(byID, "meetingId", "personId", "status"))
	if err != nil {
		return nil, err
	}
	var personIDs []string
	for _, a := range att {
		m := byMeeting[a.MeetingID]
		m.Attendance = append(m.Attendance, a)
		personIDs = append(personIDs, a.PersonID)
	}
	if personIDs = unique(personIDs); len(personIDs) > 0 {
		ps, err := fetch[named](ctx, db.Collection("people"), keyed("_id", personIDs), project(nil, "name"))
		if err != nil {
			return nil, err
		}
		byPerson := map[string]*named{}
		for _, p := range ps {
			byPerson[p.ID] = p
		}
		for _, a := range att {
			a.Person = byPerson[a.PersonID]
		}
	}
	return encode(map[string]any{"person": person})
}

// ---- (c) an indicator with its observations for every area and each
// observation's comparators (the other areas' figures for its period).

type cComparator struct {
	Value float64 `json:"value"`
	Area  *named  `json:"area"`
}

type cObservation struct {
	ID          string         `bson:"_id" json:"-"`
	AreaID      string         `bson:"areaId" json:"-"`
	Period      string         `bson:"period" json:"period"`
	Value       float64        `bson:"value" json:"value"`
	Area        *named         `bson:"-" json:"area"`
	Comparators []*cComparator `bson:"-" json:"comparators"`
}

type cIndicator struct {
	ID           string          `bson:"_id" json:"id"`
	Name         string          `bson:"name" json:"name"`
	Unit         string          `bson:"unit" json:"unit"`
	Observations []*cObservation `bson:"-" json:"observations"`
}

func baselineIndicator(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error) {
	inds, err := fetch[cIndicator](ctx, db.Collection("indicators"), keyed("_id", []string{str(vars, "id")}), project(nil, "name", "unit"))
	if err != nil || len(inds) == 0 {
		return encode(map[string]any{"indicator": nil})
	}
	ind := inds[0]
	obs, err := fetch[cObservation](ctx, db.Collection("observations"), keyed("indicatorId", []string{ind.ID}), project(byID, "areaId", "period", "value"))
	if err != nil {
		return nil, err
	}
	ind.Observations = obs
	if obs == nil {
		ind.Observations = []*cObservation{}
	}
	areaIDs := make([]string, len(obs))
	for i, o := range obs {
		areaIDs[i] = o.AreaID
	}
	byArea := map[string]*named{}
	if areaIDs = unique(areaIDs); len(areaIDs) > 0 {
		areas, err := fetch[named](ctx, db.Collection("areas"), keyed("_id", areaIDs), project(nil, "name"))
		if err != nil {
			return nil, err
		}
		for _, a := range areas {
			byArea[a.ID] = a
		}
	}
	// The comparators are the same indicator's observations for the same
	// period: already fetched, so no further find.
	byPeriod := map[string][]*cObservation{}
	for _, o := range obs {
		o.Area = byArea[o.AreaID]
		byPeriod[o.Period] = append(byPeriod[o.Period], o)
	}
	for _, o := range obs {
		o.Comparators = []*cComparator{}
		for _, p := range byPeriod[o.Period] {
			if p.ID != o.ID {
				o.Comparators = append(o.Comparators, &cComparator{Value: p.Value, Area: p.Area})
			}
		}
	}
	return encode(map[string]any{"indicator": ind})
}

// ---- (d) search for a common word: one regex find per searchable type, in
// parallel (FerretDB has no $text), ranked as the graph ranks.

type dHit struct {
	Typename string  `bson:"-" json:"__typename"`
	ID       string  `bson:"_id" json:"id"`
	Name     *string `bson:"name,omitempty" json:"name,omitempty"`
	Title    *string `bson:"title,omitempty" json:"title,omitempty"`
	Date     *string `bson:"date,omitempty" json:"date,omitempty"`
	Search   string  `bson:"search" json:"-"`
	rank     int
}

type searchType struct {
	typename string
	coll     string
	fields   []string
}

// searchTypes are the searchable types in the order the graph merges them,
// with the collection each lives in and the fields the query asks for.
var searchTypes = []searchType{
	{"Person", "people", []string{"name"}},
	{"Organisation", "organisations", []string{"name"}},
	{"Body", "bodies", []string{"name"}},
	{"Meeting", "meetings", []string{"title", "date"}},
	{"AgendaItem", "agendaItems", []string{"title"}},
	{"Report", "reports", []string{"title"}},
	{"Plan", "plans", []string{"title"}},
	{"Priority", "priorities", []string{"title"}},
	{"Action", "actions", []string{"title"}},
	{"Indicator", "indicators", []string{"name"}},
}

func baselineSearch(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error) {
	const first = 20
	q := store.Fold(str(vars, "q"))
	filter := public(bson.D{{Key: "search", Value: bson.Regex{Pattern: regexp.QuoteMeta(q)}}})
	found := make([][]*dHit, len(searchTypes))
	g, gctx := errgroup.WithContext(ctx)
	for i, t := range searchTypes {
		g.Go(func() (err error) {
			found[i], err = fetch[dHit](gctx, db.Collection(t.coll), filter, project(byID, append(t.fields, "search")...).SetLimit(first))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var hits []*dHit
	for i, list := range found {
		for _, h := range list {
			h.Typename, h.rank = searchTypes[i].typename, store.Rank(h.Search, q)
			hits = append(hits, h)
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].rank < hits[j].rank })
	hits = hits[:min(first, len(hits))]
	if hits == nil {
		hits = []*dHit{}
	}
	return encode(map[string]any{"search": hits})
}

// ---- (e) _entities with 100 representations of mixed types: one find per
// type, in parallel.

func baselineEntities(ctx context.Context, db *mongo.Database, vars map[string]any) ([]byte, error) {
	reps := representationsOf(vars["r"])
	byType := map[string][]string{}
	var types []string
	for _, r := range reps {
		if _, ok := byType[r[0]]; !ok {
			types = append(types, r[0])
		}
		byType[r[0]] = append(byType[r[0]], r[1])
	}
	found := make([]map[string]*dHit, len(types))
	g, gctx := errgroup.WithContext(ctx)
	for i, typ := range types {
		t := searchTypes[slices.IndexFunc(searchTypes, func(s searchType) bool { return s.typename == typ })]
		g.Go(func() error {
			hits, err := fetch[dHit](gctx, db.Collection(t.coll), keyed("_id", unique(byType[typ])), project(nil, t.fields...))
			found[i] = make(map[string]*dHit, len(hits))
			for _, h := range hits {
				h.Typename = typ
				found[i][h.ID] = h
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]*dHit, len(reps))
	for i, r := range reps {
		out[i] = found[slices.Index(types, r[0])][r[1]]
	}
	return encode(map[string]any{"_entities": out})
}

// representationsOf reads representations as [typename, id] pairs, whether
// they are still Go values or decoded JSON.
func representationsOf(v any) [][2]string {
	var out [][2]string
	switch reps := v.(type) {
	case []map[string]any:
		for _, r := range reps {
			out = append(out, [2]string{r["__typename"].(string), r["id"].(string)})
		}
	case []any:
		for _, r := range reps {
			m := r.(map[string]any)
			out = append(out, [2]string{m["__typename"].(string), m["id"].(string)})
		}
	}
	return out
}
