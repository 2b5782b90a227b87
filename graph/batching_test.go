package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/loaders"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// countedServer is server with the request's loaders in the test's hands:
// it fails t when an operation was not counted to the end (a field the
// dispatcher missed, or a batch the ceiling had to send).
func countedServer(t *testing.T, s *store.Store) http.Handler {
	h := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s, Now: today}}))
	h.AddTransport(transport.POST{})
	graph.Configure(h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), graph.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A ceiling no scheduling delay reaches, however loaded the
		// machine: only a batch the count never sent waits for it.
		ctx := graph.Requests{Store: s, LoaderWait: 30 * time.Second}.New(r.Context(), "", auth.Anonymous)
		l := loaders.For(ctx)
		h.ServeHTTP(w, r.WithContext(ctx))
		if !l.Counted() {
			t.Errorf("the operation was not counted to the end: some batch waited for the ceiling")
		}
	})
}

// level is one level of relations: the field its batch looks up and how
// many keys it holds.
type level struct {
	field string
	keys  int
}

// budget is how many finds the levels cost in the store's shape: one per
// level for $in, one per key where the shape sends equalities.
func budget(s *store.Store, levels []level) int {
	n := 0
	for _, l := range levels {
		n += s.Shape().Finds(l.field, l.keys)
	}
	return n
}

// machines are the conditions batching must not depend on: the machine as
// it is, one processor, and one processor shared with a goroutine that
// never blocks.
var machines = []struct {
	name  string
	procs int
	hog   bool
}{{"as is", 0, false}, {"GOMAXPROCS=1", 1, false}, {"GOMAXPROCS=1 beside a busy goroutine", 1, true}, {"beside a busy goroutine", 0, true}}

// onMachine runs f under machine m's conditions.
func onMachine(t *testing.T, procs int, hog bool, f func(t *testing.T)) {
	if procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	}
	if hog {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for ctx.Err() == nil {
				for range 1_000_000 {
					x++
				}
			}
			_ = x
		}()
		defer wg.Wait()
		defer cancel()
	}
	f(t)
}

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

// TestBatchingBudget holds the graph to one batch per level of relations a
// query walks, however many records each level holds and however busy the
// machine: one find per level where the store sends $in, one per key where
// its shape sends equalities (store.Shape.Finds), on every server at hand.
func TestBatchingBudget(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		levels []level
		check  func(t *testing.T, data map[string]any)
	}{
		{
			name: "bodies → meetings → agenda items → reports → author → organisation",
			query: `{ bodies(first: 3) { edges { node { meetings(first: 10) { edges { node { agendaItems {
				reports { author { organisation { name } } } } } } } } } } }`,
			// bodies (a page), meetings, agendaItems, reports, people, organisations
			levels: []level{{"page", 1}, {"bodyId", 3}, {"meetingId", 30}, {"agendaItemId", 150}, {"_id", 12}, {"_id", 3}},
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
			name:  "people → memberships → body → meetings",
			query: `{ people(first: 12) { edges { node { memberships { body { meetings(first: 10) { edges { node { id } } } } } } } } }`,
			// people (a page), memberships, bodies, meetings
			levels: []level{{"page", 1}, {"personId", 12}, {"_id", 3}, {"bodyId", 3}},
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
	for _, sv := range storetest.Servers() {
		var counter storetest.Counter
		s := sv.New(t, counter.Monitor())
		budgetFixture(t, s)
		h := countedServer(t, s)
		for _, m := range machines {
			for _, tt := range tests {
				t.Run(sv.Name+"/"+string(s.Shape())+"/"+m.name+"/"+tt.name, func(t *testing.T) {
					onMachine(t, m.procs, m.hog, func(t *testing.T) {
						counter.Reset()
						var d map[string]any
						data(t, h, tt.query, nil, &d)
						if got, want := counter.Count("find"), budget(s, tt.levels); got != want {
							t.Errorf("ran %d finds, want %d (one batch per level: %v)", got, want, tt.levels)
						}
						if got := counter.Count("count") + counter.Count("aggregate"); got != 0 {
							t.Errorf("ran %d counts nobody asked for", got)
						}
						tt.check(t, d)
					})
				})
			}
		}
	}
}

// TestEntitiesBatchPerType resolves a federation gateway's mixed
// representations with one find per entity type, in the order given (and
// one of the moved IDs' table for the IDs no record has), on every store
// and machine the budget test uses, several times each: gqlgen
// resolves each type in a goroutine of its own, so a batch sent before
// every type had added its keys showed only now and then.
func TestEntitiesBatchPerType(t *testing.T) {
	for _, sv := range storetest.Servers() {
		var counter findCounter
		s := sv.New(t, counter.Monitor())
		budgetFixture(t, s)
		h := countedServer(t, s)
		for _, m := range machines {
			t.Run(sv.Name+"/"+m.name, func(t *testing.T) {
				onMachine(t, m.procs, m.hog, func(t *testing.T) {
					for range 5 {
						entitiesOnce(t, s, h, &counter)
					}
				})
			})
		}
	}
}

func entitiesOnce(t *testing.T, s *store.Store, h http.Handler, counter *findCounter) {
	t.Helper()

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
	perType := map[string]map[string]bool{}
	for _, r := range reps {
		typ := r["__typename"].(string)
		if perType[typ] == nil {
			perType[typ] = map[string]bool{}
		}
		perType[typ][r["id"].(string)] = true
	}
	// One batch per type; the bodies, which are not there, are looked up
	// once more in the table of moved IDs (and found nowhere).
	wantFinds := map[string]int{movedCollection: 1}
	for typ, ids := range perType {
		wantFinds[store.KindNamed(typ).Collection] = s.Shape().Finds("_id", len(ids))
	}
	if diff := cmp.Diff(wantFinds, counter.Counts()); diff != "" {
		t.Errorf("finds by collection for 4 entity types, one batch per type (-want +got):\n%s", diff)
	}
}

// movedCollection is the storage schema's table of moved IDs.
const movedCollection = "moved"

// findCounter counts the finds a client sends, by collection, and the work
// its reads make the database do: each read command, and each record its
// answers hold.
type findCounter struct {
	mu   sync.Mutex
	n    map[string]int
	work int
}

// reads are the commands that read records.
var reads = map[string]bool{"find": true, "getMore": true, "aggregate": true, "count": true, "distinct": true}

// Monitor is the command monitor that feeds the counter.
func (c *findCounter) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: func(_ context.Context, e *event.CommandStartedEvent) {
			if !reads[e.CommandName] {
				return
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.work++
			if e.CommandName != "find" {
				return
			}
			coll, _ := e.Command.Lookup("find").StringValueOK()
			if c.n == nil {
				c.n = map[string]int{}
			}
			c.n[coll]++
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			if !reads[e.CommandName] {
				return
			}
			cur, ok := e.Reply.Lookup("cursor").DocumentOK()
			if !ok {
				return
			}
			for _, batch := range []string{"firstBatch", "nextBatch"} {
				if docs, ok := cur.Lookup(batch).ArrayOK(); ok {
					vals, _ := docs.Values()
					c.mu.Lock()
					c.work += len(vals)
					c.mu.Unlock()
				}
			}
		},
	}
}

// Work is how many read commands were sent, and records read, since the
// last Reset.
func (c *findCounter) Work() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.work
}

// Reset forgets every count.
func (c *findCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n, c.work = nil, 0
}

// Counts is how many finds each collection was sent since the last Reset.
func (c *findCounter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// TestComparatorsCostNoRoundTrip: an indicator's observations already hold
// every area's figures, so walking to their comparators sends no query.
func TestComparatorsCostNoRoundTrip(t *testing.T) {
	var counter storetest.Counter
	s := storetest.New(t, counter.Monitor())
	world(t, s)
	h := countedServer(t, s)
	counter.Reset()
	var d map[string]any
	data(t, h, `{ indicator(id: "indicator:roads") { observations { area { id } comparators { value area { id } } } } }`, nil, &d)
	obs := d["indicator"].(map[string]any)["observations"].([]any)
	areas := map[any]bool{}
	for _, o := range obs {
		areas[o.(map[string]any)["area"].(map[string]any)["id"]] = true
	}
	// indicator, observations, areas
	if got, want := counter.Count("find"), budget(s, []level{{"_id", 1}, {"indicatorId", 1}, {"_id", len(areas)}}); got != want {
		t.Errorf("ran %d finds, want %d", got, want)
	}
	if n := len(obs[0].(map[string]any)["comparators"].([]any)); n != 1 {
		t.Errorf("first observation has %d comparators, want 1", n)
	}
}

// TestDispatchCountsEveryField: whatever an operation asks (interfaces,
// unions, fragments, directives, introspection, nulls, errors, several root
// fields), the dispatcher sees every field gqlgen resolves, so that no batch
// is left to the ceiling.
func TestDispatchCountsEveryField(t *testing.T) {
	s := storetest.New(t, nil)
	budgetFixture(t, s)
	for _, q := range []string{
		`{ node(id: "person:p01") { id ... on Person { name organisation { name } } } }`,
		`{ nodes(ids: ["person:p01", "body:b0", "meeting:b0:2023-01-01", "person:missing", "nothing"]) { __typename id ... on Body { meetings(first: 2) { edges { cursor node { title agendaItems { title } } } pageInfo { hasNextPage } } } } }`,
		`{ search(query: "Person") { __typename ... on Person { name memberships { body { name } } } ... on Body { name } } }`,
		`{ a: body(id: "body:b0") { name } b: body(id: "body:b1") { ...B } c: person(id: "person:missing") { name } } fragment B on Body { name memberships { person { name organisation { name } } } }`,
		`query($x: Boolean!) { people(first: 3) { edges { node { name organisation @include(if: $x) { name } memberships @skip(if: $x) { role } } } } }`,
		`{ __schema { types { name fields { name type { name ofType { name } } } } } people(first: 2) { totalCount edges { node { id } } } }`,
		`{ __type(name: "Meeting") { name interfaces { name } } __typename }`,
		`{ _service { sdl } }`,
		`{ body(id: "body:b0") { meetings(first: 3, from: "not a date") { edges { node { id } } } name } person(id: "person:p02") { name } }`,
	} {
		t.Run(q, func(t *testing.T) {
			h := countedServer(t, s)
			onMachine(t, 0, false, func(t *testing.T) {
				query(t, h, q, map[string]any{"x": true})
			})
		})
	}
}

// TestLoadsFromMemoryAreAnsweredAtOnce: while the store's model is current,
// an operation's lookups are answered as they are asked, with no batch
// sent (none waits for its level, nor for the ceiling), and the answer is
// the one the database path gives, which batches as before.
func TestLoadsFromMemoryAreAnsweredAtOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t, nil)
	budgetFixture(t, s)
	asked, err := store.Open(ctx, store.Options{URI: storetest.URI(), Database: s.DatabaseName()})
	if err != nil {
		t.Fatal(err)
	}
	defer asked.Close(ctx)
	s.KeepCurrent(time.Hour, 1<<30, nil)
	if !s.WaitSnapshot(ctx) {
		t.Fatal("no model")
	}
	q := `{ bodies(first: 3) { edges { node { name memberships { person { name organisation { name } } }
		meetings(first: 10) { edges { node { agendaItems { reports { author { name } } } } } } } } } }`
	answer := func(st *store.Store) (string, int64, bool) {
		h := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: st, Now: today}}))
		h.AddTransport(transport.POST{})
		graph.Configure(h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), graph.Options{})
		// A ceiling no test run reaches: a batch waiting for it would
		// hang the test, not pass it.
		var batches atomic.Int64
		rctx := loaders.WithBatchObserver(graph.Requests{Store: st, LoaderWait: time.Hour}.New(ctx, "", auth.Anonymous), func(ctx context.Context, _ string, _ int) (context.Context, func(error)) {
			batches.Add(1)
			return ctx, func(error) {}
		})
		r := query(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(rctx))
		}), q, nil)
		if len(r.Errors) > 0 || len(r.Data) < 1000 {
			t.Fatalf("answer: %s %+v", r.Data, r.Errors)
		}
		return string(r.Data), batches.Load(), loaders.For(rctx).Counted()
	}
	fromMemory, memBatches, _ := answer(s)
	fromDatabase, dbBatches, counted := answer(asked)
	if memBatches != 0 {
		t.Errorf("answered from memory, the operation sent %d batches, want none", memBatches)
	}
	if dbBatches == 0 || !counted {
		t.Errorf("on the database the operation sent %d batches (counted: %v), want its levels' batches", dbBatches, counted)
	}
	if fromMemory != fromDatabase {
		t.Errorf("from memory:\n%.800s\nfrom the database:\n%.800s", fromMemory, fromDatabase)
	}
}
