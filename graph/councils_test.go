package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"go.mongodb.org/mongo-driver/v2/bson"
	"gopkg.in/yaml.v3"

	"councilgraph/graph"
	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// The Stockton set's three publishers.
const (
	stocktonCouncil = "council:stockton-on-tees"
	tvcaCouncil     = "council:tees-valley-combined-authority"
	tsabCouncil     = "council:teeswide-safeguarding-adults-board"
	// northbyCouncil publishes the small second set in testdata/northby.
	northbyCouncil = "council:northby"
)

// northby imports testdata/northby beside whatever s holds: a second
// council's set whose local keys are Stockton's, stating Stockton's area
// again with the same facts.
func northby(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := importer.ImportFS(context.Background(), s, os.DirFS("testdata/northby"), importer.Options{RequireManifest: true}); err != nil {
		t.Fatalf("import testdata/northby: %v", err)
	}
}

// stocktonMoves are the entries of the Stockton set's moved.yaml: the IDs
// it published before, and the records they name now.
func stocktonMoves(t *testing.T) []store.Move {
	t.Helper()
	b, err := os.ReadFile("../data/stockton/moved.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var moves []store.Move
	if err := yaml.Unmarshal(b, &moves); err != nil {
		t.Fatalf("moved.yaml: %v", err)
	}
	if len(moves) == 0 {
		t.Fatal("moved.yaml lists no moves")
	}
	return moves
}

// setRecords reads every record file of the set in dir (each YAML file but
// the manifest and the moves) as a list of records.
func setRecords(t *testing.T, dir string) map[string][]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	for _, f := range files {
		name := filepath.Base(f)
		if name == importer.ManifestFile || name == importer.MovedFile {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := yaml.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(name, ".yaml")] = recs
	}
	return out
}

// connectionIDs pages through a list (a connection) called with args, 100
// at a time, and returns its records' IDs in the order served.
func connectionIDs(t *testing.T, h http.Handler, field, args string) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		a := args + " first: 100"
		if after != "" {
			a += fmt.Sprintf(" after: %q", after)
		}
		var d struct {
			List struct {
				Edges []struct {
					Node struct{ ID string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		data(t, h, fmt.Sprintf(`{ list: %s(%s) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, field, a), nil, &d)
		for _, e := range d.List.Edges {
			out = append(out, e.Node.ID)
		}
		if !d.List.PageInfo.HasNextPage {
			return out
		}
		after = d.List.PageInfo.EndCursor
	}
}

// changeIDs reads the change feed called with args from its start to its
// end, and returns each change's record ID in the feed's order.
func changeIDs(t *testing.T, h http.Handler, args string) []string {
	t.Helper()
	var out []string
	since := ""
	for {
		a := args + " first: 100"
		if since != "" {
			a += fmt.Sprintf(" since: %q", since)
		}
		var d struct {
			Changes struct {
				Edges []struct {
					Node struct{ ID string }
				}
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		data(t, h, fmt.Sprintf(`{ changes(%s) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`, a), nil, &d)
		for _, e := range d.Changes.Edges {
			out = append(out, e.Node.ID)
		}
		// A page may be empty (the log's next 100 entries are all of other
		// councils) and still be followed by another.
		if !d.Changes.PageInfo.HasNextPage {
			return out
		}
		if d.Changes.PageInfo.EndCursor == since {
			t.Fatalf("changes(%s) stays at %q", a, since)
		}
		since = d.Changes.PageInfo.EndCursor
	}
}

// ofCouncil keeps the IDs in council's namespace and, with shared, those of
// the shared registries (which belong to no council).
func ofCouncil(ids []string, council string, shared bool) []string {
	out := []string{}
	for _, id := range ids {
		if c := store.CouncilOf(id); c == council || shared && c == "" {
			out = append(out, id)
		}
	}
	return out
}

// public is the IDs of the records in dump (storetest.Dump) that a caller
// of the lowest level sees: those whose effective visibility is PUBLIC.
func public(dump map[string][]bson.M) map[string]bool {
	out := map[string]bool{}
	for _, docs := range dump {
		for _, d := range docs {
			if v, _ := d["visibility"].(string); v == "" || v == store.VisibilityPublic {
				out[d["_id"].(string)] = true
			}
		}
	}
	return out
}

// fieldOf is the Query field that looks a record of kind k up by ID: the
// kind's ID prefix (body(id:), agendaItem(id:)).
func fieldOf(k *store.Kind) string { return k.Prefix }

// TestOldIDsResolve: every ID the Stockton set published before its
// re-keying (moved.yaml's from) finds the record it names now, through
// the type's own lookup, node, nodes (in one batch) and _entities; an ID
// that never existed is null everywhere.
func TestOldIDsResolve(t *testing.T) {
	t.Parallel()
	var counter findCounter
	s := importertest.Stockton(t, counter.Monitor())
	h := server(s)

	// The moves of records that are nodes (a membership, an attendance or
	// an observation is reached through its parent, never by ID). An old
	// ID of a record the caller may not see (an exempt item's report) is
	// as null as the new one.
	seen := public(storetest.Dump(t, s))
	var moves []store.Move
	byKind := map[*store.Kind]int{}
	hidden := 0
	for _, m := range stocktonMoves(t) {
		k := store.KindOfID(m.From)
		if k == nil {
			t.Fatalf("moved.yaml: %s is no kind's ID", m.From)
		}
		if store.KindOfID(m.To) != k {
			t.Fatalf("moved.yaml: %s moved to %s, a record of another kind", m.From, m.To)
		}
		if k.Node {
			if !seen[m.To] {
				m.To = ""
				hidden++
			}
			moves = append(moves, m)
			byKind[k]++
		}
	}
	if hidden == len(moves) {
		t.Fatalf("all %d old IDs name records hidden from the public: nothing to resolve", hidden)
	}
	// is says whether a record answered for an old ID is the one it names
	// now (null for a hidden one).
	is := func(got *struct{ ID string }, m store.Move) bool {
		if m.To == "" {
			return got == nil
		}
		return got != nil && got.ID == m.To
	}
	if len(byKind) < 10 {
		t.Fatalf("moved.yaml moves records of %d node kinds, want the ten or more the set has", len(byKind))
	}

	t.Run("the example", func(t *testing.T) {
		var d struct{ Body struct{ ID string } }
		data(t, h, `{ body(id: "body:cyp-select-committee") { id } }`, nil, &d)
		if d.Body.ID != "body:stockton-on-tees/cyp-select-committee" {
			t.Errorf(`body(id: "body:cyp-select-committee") answered %q, want body:stockton-on-tees/cyp-select-committee`, d.Body.ID)
		}
	})

	t.Run("the type's own lookup", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("{")
		for i, m := range moves {
			fmt.Fprintf(&q, " q%d: %s(id: %q) { id }", i, fieldOf(store.KindOfID(m.From)), m.From)
		}
		q.WriteString(" }")
		var d map[string]*struct{ ID string }
		data(t, h, q.String(), nil, &d)
		for i, m := range moves {
			if got := d[fmt.Sprintf("q%d", i)]; !is(got, m) {
				t.Errorf("%s(id: %q) = %+v, want %q", fieldOf(store.KindOfID(m.From)), m.From, got, m.To)
			}
		}
	})

	t.Run("node", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("{")
		for i, m := range moves {
			fmt.Fprintf(&q, " q%d: node(id: %q) { id }", i, m.From)
		}
		q.WriteString(" }")
		var d map[string]*struct{ ID string }
		data(t, h, q.String(), nil, &d)
		for i, m := range moves {
			if got := d[fmt.Sprintf("q%d", i)]; !is(got, m) {
				t.Errorf("node(id: %q) = %+v, want %q", m.From, got, m.To)
			}
		}
	})

	t.Run("nodes, in one batch", func(t *testing.T) {
		ids := make([]string, len(moves))
		for i, m := range moves {
			ids[i] = m.From
		}
		counter.Reset()
		var d struct{ Nodes []*struct{ ID string } }
		data(t, h, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, &d)
		finds := counter.Counts()
		if len(d.Nodes) != len(moves) {
			t.Fatalf("nodes answered %d records for %d IDs", len(d.Nodes), len(moves))
		}
		for i, m := range moves {
			if got := d.Nodes[i]; !is(got, m) {
				t.Errorf("nodes: %s = %+v, want %q", m.From, got, m.To)
			}
		}
		// Each kind's old IDs in one batch, which finds nothing; the
		// moved IDs' table once for each kind's (each kind's loader
		// looks up the IDs it did not find); each kind's new IDs in one
		// batch.
		want := map[string]int{movedCollection: len(byKind)}
		for k, n := range byKind {
			want[k.Collection] = 2 * s.Shape().Finds("_id", n)
		}
		if diff := cmp.Diff(want, finds); diff != "" {
			t.Errorf("finds by collection for %d old IDs of %d kinds (-want +got):\n%s", len(moves), len(byKind), diff)
		}
	})

	t.Run("_entities", func(t *testing.T) {
		var reps []map[string]any
		var frags strings.Builder
		for k := range byKind {
			fmt.Fprintf(&frags, " ... on %s { id }", k.Name)
		}
		for _, m := range moves {
			reps = append(reps, map[string]any{"__typename": store.KindOfID(m.From).Name, "id": m.From})
		}
		var d struct {
			Entities []*struct{ ID string } `json:"_entities"`
		}
		data(t, h, `query($r: [_Any!]!) { _entities(representations: $r) {`+frags.String()+` } }`, map[string]any{"r": reps}, &d)
		if len(d.Entities) != len(moves) {
			t.Fatalf("_entities answered %d for %d representations", len(d.Entities), len(moves))
		}
		for i, m := range moves {
			if got := d.Entities[i]; !is(got, m) {
				t.Errorf("_entities: %s = %+v, want %q", m.From, got, m.To)
			}
		}
	})

	t.Run("an ID that never existed", func(t *testing.T) {
		for _, id := range []string{"body:never-existed", "body:stockton-on-tees/never-existed", "person:never-existed"} {
			typ := store.KindOfID(id).Name
			r := query(t, h, fmt.Sprintf(`query($r: [_Any!]!) { one: %s(id: %q) { id } node(id: %q) { id } nodes(ids: [%q, "body:stockton-on-tees/cabinet"]) { id }
				_entities(representations: $r) { ... on %s { id } } }`, fieldOf(store.KindOfID(id)), id, id, id, typ),
				map[string]any{"r": []map[string]any{{"__typename": typ, "id": id}}})
			if len(r.Errors) > 0 {
				t.Errorf("%s: %+v", id, r.Errors)
				continue
			}
			want := `{"one":null,"node":null,"nodes":[null,{"id":"body:stockton-on-tees/cabinet"}],"_entities":[null]}`
			var got, w any
			_ = json.Unmarshal(r.Data, &got)
			_ = json.Unmarshal([]byte(want), &w)
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("within its cost", func(t *testing.T) {
		// An old ID's lookup reads no more than its cost admits, as the
		// service holds every operation to (store.WithBudget of
		// graph.Cost).
		c := newCosted(t, s, &counter)
		first := map[*store.Kind]store.Move{}
		for _, m := range moves {
			if _, ok := first[store.KindOfID(m.From)]; !ok && m.To != "" {
				first[store.KindOfID(m.From)] = m
			}
		}
		for k, m := range first {
			for _, q := range []string{
				fmt.Sprintf(`{ %s(id: %q) { id } }`, fieldOf(k), m.From),
				fmt.Sprintf(`{ node(id: %q) { id } }`, m.From),
				fmt.Sprintf(`{ nodes(ids: [%q, %q]) { id } }`, m.From, m.To),
				fmt.Sprintf(`{ _entities(representations: [{__typename: %q, id: %q}]) { ... on %s { id } } }`, k.Name, m.From, k.Name),
			} {
				if d := c.check(t, q); !strings.Contains(string(d), m.To) {
					t.Errorf("%s answered %s, want %s", q, d, m.To)
				}
			}
		}
	})
}

// costed serves the graph over s as the service does, each operation
// held to a store budget of the cost graph.Cost reckons for it, and checks
// that an operation's reads, as the database counts them (commands and
// records, counter.Work), are within that cost.
type costed struct {
	t       *testing.T
	counter *findCounter
	exec    *ast.Schema
	stats   *store.Stats
	next    http.Handler
}

func newCosted(t *testing.T, s *store.Store, counter *findCounter) *costed {
	t.Helper()
	st, err := s.FindStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &costed{t, counter, graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s}}).Schema(), st, server(s)}
}

// check runs q within its cost and returns its data; every failure names q.
func (c *costed) check(t *testing.T, q string) json.RawMessage {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: q})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	cost, _, err := graph.Cost{Schema: c.exec, Stats: c.stats}.Of(doc, "", nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	body, _ := json.Marshal(map[string]any{"query": q})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(store.WithBudget(req.Context(), cost))
	rec := httptest.NewRecorder()
	c.counter.Reset()
	c.next.ServeHTTP(rec, req)
	work := c.counter.Work()
	var r response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%s: the answer is not JSON: %v\n%s", q, err, rec.Body)
	}
	if len(r.Errors) > 0 {
		t.Errorf("%s: %s", q, r.Errors[0].Message)
	}
	if work > cost {
		t.Errorf("%s: read %d (commands and records) from the database, over its cost of %d", q, work, cost)
	}
	return r.Data
}

// TestCouncils: the Stockton set's three publishers as records, each with
// its feed, and the council of every record a council publishes.
func TestCouncils(t *testing.T) {
	t.Parallel()
	var counter findCounter
	s := storetest.New(t, counter.Monitor())
	started := time.Now().Truncate(time.Second) // as a DateTime prints it
	stockton(t, s)
	imported := time.Now()
	h := server(s)

	// How many of each council's records the set holds, from its files,
	// that the public (this test's caller) may see: a feed tells a caller
	// the count it may see.
	records := map[string]int{}
	public := store.WithLevel(context.Background(), store.Public)
	for coll, recs := range setRecords(t, "../data/stockton") {
		var ids []string
		for _, r := range recs {
			id, _ := r["id"].(string)
			if store.CouncilOf(id) != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		found, err := s.FindByIDs(public, store.KindNamed(coll), ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range found {
			records[store.CouncilOf(d.Base().ID)]++
		}
	}

	type feed struct {
		Kind, Name, Status string
		Records            int
		LastRead           *time.Time
	}
	type council struct {
		ID, Name     string
		Code         *string
		Organisation struct{ ID string }
		Area         *struct{ ID string }
		Feeds        []feed
	}
	const fields = `id name code organisation { id } area { id } feeds { kind name records status lastRead }`
	want := []council{
		{ID: stocktonCouncil, Name: "Stockton-on-Tees Borough Council", Code: ptr("E06000004"),
			Organisation: struct{ ID string }{"organisation:stockton-on-tees-borough-council"}, Area: &struct{ ID string }{"area:E06000004"}},
		{ID: tvcaCouncil, Name: "Tees Valley Combined Authority", Organisation: struct{ ID string }{"organisation:tees-valley-combined-authority"}},
		{ID: tsabCouncil, Name: "Teeswide Safeguarding Adults Board", Organisation: struct{ ID string }{"organisation:teeswide-safeguarding-adults-board"}},
	}
	for i := range want {
		want[i].Feeds = []feed{{Kind: "dataset", Name: "stockton", Status: "ok", Records: records[want[i].ID]}}
		if records[want[i].ID] == 0 {
			t.Fatalf("the set holds no record of %s", want[i].ID)
		}
	}
	// lastRead is when the import read the set to the end, which was
	// while it ran; read checks it and leaves the rest to compare.
	read := func(c council) council {
		t.Helper()
		for j, f := range c.Feeds {
			if f.LastRead == nil || f.LastRead.Before(started) || f.LastRead.After(imported) {
				t.Errorf("%s's feed %s: lastRead = %v, want a time between %v and %v, while the import ran", c.ID, f.Name, f.LastRead, started, imported)
			}
			c.Feeds[j].LastRead = nil
		}
		return c
	}

	t.Run("council(id:)", func(t *testing.T) {
		for _, w := range want {
			var d struct{ Council *council }
			data(t, h, fmt.Sprintf(`{ council(id: %q) { %s } }`, w.ID, fields), nil, &d)
			if d.Council == nil {
				t.Errorf("council(id: %q) is null", w.ID)
				continue
			}
			if diff := cmp.Diff(w, read(*d.Council)); diff != "" {
				t.Errorf("council(id: %q) (-want +got):\n%s", w.ID, diff)
			}
		}
		var d struct{ Council *council }
		data(t, h, `{ council(id: "council:atlantis") { id } }`, nil, &d)
		if d.Council != nil {
			t.Errorf(`council(id: "council:atlantis") = %+v, want null`, d.Council)
		}
	})

	t.Run("councils", func(t *testing.T) {
		var d struct {
			Councils struct {
				TotalCount int
				Edges      []struct{ Node council }
			}
		}
		data(t, h, fmt.Sprintf(`{ councils { totalCount edges { node { %s } } } }`, fields), nil, &d)
		var got []council
		for _, e := range d.Councils.Edges {
			got = append(got, read(e.Node))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("councils, by name (-want +got):\n%s", diff)
		}
		if d.Councils.TotalCount != len(want) {
			t.Errorf("councils' totalCount = %d, want %d", d.Councils.TotalCount, len(want))
		}
	})

	t.Run("every record's council", func(t *testing.T) {
		councilOfRecords(t, s, h)
	})

	t.Run("within its cost", func(t *testing.T) {
		c := newCosted(t, s, &counter)
		for _, q := range []string{
			`{ council(id: "council:stockton-on-tees") { name organisation { name } area { name } } }`,
			`{ council(id: "council:stockton-on-tees") { name feeds { name records } } }`,
			`{ councils { totalCount edges { node { name feeds { name records } } } } }`,
			`{ body(id: "body:stockton-on-tees/cabinet") { council { name feeds { name } } } }`,
			`{ bodies(first: 20) { edges { node { council { name } } } } }`,
			`{ meetings(council: "council:teeswide-safeguarding-adults-board", first: 5) { totalCount edges { node { council { id } } } } }`,
		} {
			c.check(t, q)
		}
	})
}

// councilOfRecords walks every record of each type a council publishes, as
// s stores them, and checks that its council is the one its ID names.
func councilOfRecords(t *testing.T, s *store.Store, h http.Handler) {
	t.Helper()
	dump := storetest.Dump(t, s)
	seen := public(dump)
	// stored is the IDs of kind's records the caller may see.
	stored := func(kind string) []string {
		var ids []string
		for _, d := range dump[store.KindNamed(kind).Collection] {
			if id := d["_id"].(string); seen[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			t.Fatalf("no %s is stored", kind)
		}
		return ids
	}
	// An attendance has no ID of its own in the graph: it is its meeting's
	// and its person's.
	attendanceIDs := map[string]string{}
	for _, d := range dump[store.KindNamed("Attendance").Collection] {
		attendanceIDs[fmt.Sprint(d["meetingId"], " ", d["personId"])] = d["_id"].(string)
	}
	type ref struct {
		ID      string
		Council *struct{ ID string }
		Person  *struct{ ID string }
		Meeting *struct{ ID string }
	}
	walked := map[string][]ref{}
	// nodes of kind, with sel under each.
	walk := func(kind, sel string, each func(node map[string]json.RawMessage)) {
		ids := stored(kind)
		var d struct{ Nodes []map[string]json.RawMessage }
		data(t, h, fmt.Sprintf(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on %s { %s } } }`, kind, sel), map[string]any{"ids": ids}, &d)
		if len(d.Nodes) != len(ids) {
			t.Fatalf("nodes answered %d %s for %d", len(d.Nodes), kind, len(ids))
		}
		for _, n := range d.Nodes {
			each(n)
		}
	}
	decode := func(raw json.RawMessage, v any) {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	const own = `id council { id }`
	for _, kind := range []string{"Person", "Body", "Meeting", "AgendaItem", "Report", "Plan", "Priority", "Action", "Inspection"} {
		walk(kind, own, func(n map[string]json.RawMessage) {
			var r ref
			decode(n["id"], &r.ID)
			decode(n["council"], &r.Council)
			walked[kind] = append(walked[kind], r)
		})
	}
	walk("Body", `memberships { `+own+` }`, func(n map[string]json.RawMessage) {
		var rs []ref
		decode(n["memberships"], &rs)
		walked["Membership"] = append(walked["Membership"], rs...)
	})
	walk("Meeting", `id attendance { person { id } council { id } } organisationAttendance { `+own+` }`, func(n map[string]json.RawMessage) {
		var meeting string
		var att, org []ref
		decode(n["id"], &meeting)
		decode(n["attendance"], &att)
		decode(n["organisationAttendance"], &org)
		for _, a := range att {
			a.ID = attendanceIDs[meeting+" "+a.Person.ID]
			walked["Attendance"] = append(walked["Attendance"], a)
		}
		walked["OrganisationAttendance"] = append(walked["OrganisationAttendance"], org...)
	})
	walk("AgendaItem", `declarations { `+own+` }`, func(n map[string]json.RawMessage) {
		var rs []ref
		decode(n["declarations"], &rs)
		walked["Declaration"] = append(walked["Declaration"], rs...)
	})
	walk("Indicator", `observations { `+own+` }`, func(n map[string]json.RawMessage) {
		var rs []ref
		decode(n["observations"], &rs)
		walked["Observation"] = append(walked["Observation"], rs...)
	})
	for _, kind := range []string{"Person", "Body", "Membership", "Meeting", "Attendance", "AgendaItem", "Report", "Declaration", "Plan", "Priority", "Action", "Observation", "Inspection", "OrganisationAttendance"} {
		var got []string
		for _, r := range walked[kind] {
			got = append(got, r.ID)
			want := store.CouncilOf(r.ID)
			switch {
			case want == "":
				t.Errorf("%s %s names no council", kind, r.ID)
			case r.Council == nil || r.Council.ID != want:
				t.Errorf("%s %s: council = %+v, want %s", kind, r.ID, r.Council, want)
			}
		}
		slices.Sort(got)
		all := stored(kind)
		slices.Sort(all)
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("the walk did not reach every %s exactly once (-stored +walked):\n%s", kind, diff)
		}
	}
}

// TestCouncilArgument: with a council, each list, search and the change
// feed keep exactly that council's records (search the shared registries'
// too), beside a second council's set whose local keys are Stockton's.
func TestCouncilArgument(t *testing.T) {
	t.Parallel()
	s := importertest.Shared(t, "stockton and northby", func(ctx context.Context, s *store.Store) error {
		if _, err := importer.ImportFS(ctx, s, os.DirFS(importertest.StocktonDir()), importer.Options{Dataset: "stockton"}); err != nil {
			return err
		}
		_, err := importer.ImportFS(ctx, s, os.DirFS("testdata/northby"), importer.Options{RequireManifest: true})
		return err
	}, nil)
	h := server(s)
	councils := []string{stocktonCouncil, tvcaCouncil, tsabCouncil, northbyCouncil}

	for _, list := range []string{"people", "bodies", "meetings", "reports", "plans", "actions", "inspections"} {
		t.Run(list, func(t *testing.T) {
			all := connectionIDs(t, h, list, "")
			for _, c := range []string{stocktonCouncil, northbyCouncil} {
				if len(ofCouncil(all, c, false)) == 0 {
					t.Fatalf("%s holds nothing of %s: nothing to keep", list, c)
				}
			}
			for _, c := range append(councils, "council:atlantis") {
				got := connectionIDs(t, h, list, fmt.Sprintf("council: %q", c))
				if diff := cmp.Diff(ofCouncil(all, c, false), got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s(council: %q) (-want +got):\n%s", list, c, diff)
				}
			}
		})
	}

	t.Run("search", func(t *testing.T) {
		hits := func(args string) []string {
			var d struct {
				Search []struct{ ID string }
			}
			const sel = `... on Person { id } ... on Organisation { id } ... on Body { id } ... on Meeting { id } ... on AgendaItem { id }
				... on Report { id } ... on Plan { id } ... on Priority { id } ... on Action { id } ... on Indicator { id }`
			data(t, h, fmt.Sprintf(`{ search(query: "council", first: 100%s) { %s } }`, args, sel), nil, &d)
			var ids []string
			for _, hit := range d.Search {
				ids = append(ids, hit.ID)
			}
			slices.Sort(ids)
			return ids
		}
		all := hits("")
		if len(all) >= 100 {
			t.Fatalf("search found %d hits: a page may have cut some off", len(all))
		}
		for _, c := range []string{stocktonCouncil, northbyCouncil, ""} {
			if len(ofCouncil(all, c, false)) == 0 {
				t.Fatalf("search found nothing of %q: nothing to keep or leave out", c)
			}
		}
		for _, c := range councils {
			got := hits(fmt.Sprintf(", council: %q", c))
			if diff := cmp.Diff(ofCouncil(all, c, true), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("search(council: %q): (-want +got):\n%s", c, diff)
			}
		}
	})

	t.Run("changes", func(t *testing.T) {
		all := changeIDs(t, h, "")
		for _, c := range councils {
			want := ofCouncil(all, c, false)
			if len(want) == 0 {
				t.Fatalf("the change feed holds nothing of %s", c)
			}
			if diff := cmp.Diff(want, changeIDs(t, h, fmt.Sprintf("council: %q", c))); diff != "" {
				t.Errorf("changes(council: %q) (-want +got):\n%s", c, diff)
			}
		}
	})

	t.Run("every record's council", func(t *testing.T) {
		councilOfRecords(t, s, h)
	})
}

// TestSharedRecordsKeepEverySetsSources: a second set stating Stockton's
// area with the same facts adds its sources to the record's, after the
// owner's, and changes none of its facts.
func TestSharedRecordsKeepEverySetsSources(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	stockton(t, s)
	h := server(s)
	const q = `{ area(id: "area:E06000004") { id name kind code sources { document locator } } }`
	var before, after struct {
		Area struct {
			ID, Name, Kind, Code string
			Sources              []map[string]string
		}
	}
	data(t, h, q, nil, &before)
	northby(t, s)
	data(t, h, q, nil, &after)

	sourcesOf := func(dir string) []map[string]string {
		for _, r := range setRecords(t, dir)["areas"] {
			if r["id"] != "area:E06000004" {
				continue
			}
			var out []map[string]string
			for _, src := range r["sources"].([]any) {
				m := map[string]string{}
				for k, v := range src.(map[string]any) {
					m[k] = fmt.Sprint(v)
				}
				out = append(out, m)
			}
			return out
		}
		t.Fatalf("%s does not state area:E06000004", dir)
		return nil
	}
	stockton, second := sourcesOf("../data/stockton"), sourcesOf("testdata/northby")
	if diff := cmp.Diff(stockton, before.Area.Sources); diff != "" {
		t.Errorf("area:E06000004's sources from Stockton's set alone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(append(slices.Clone(stockton), second...), after.Area.Sources); diff != "" {
		t.Errorf("area:E06000004's sources once a second set states it (-want +got):\n%s", diff)
	}
	before.Area.Sources, after.Area.Sources = nil, nil
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a second set's statement changed area:E06000004's facts (-before +after):\n%s", diff)
	}
	// The record is still Stockton's set's.
	var owner struct {
		Dataset string `bson:"dataset"`
	}
	if err := storetest.Raw(t, s).Collection("areas").FindOne(context.Background(), bson.D{{Key: "_id", Value: "area:E06000004"}}).Decode(&owner); err != nil {
		t.Fatal(err)
	}
	if owner.Dataset != "stockton" {
		t.Errorf("area:E06000004 is owned by %q after a second set stated it, want stockton", owner.Dataset)
	}
}
