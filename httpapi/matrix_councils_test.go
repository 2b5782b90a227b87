package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"gopkg.in/yaml.v3"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// markedCouncils are the councils of the marked set: Testshire's records
// are at every level, the board's partners' only, the inquiry's officers'
// only.
var markedCouncils = []string{"council:testshire", "council:board-zzpartner17", "council:inquiry-zzofficer31"}

// councilEnv is the marked set imported, a service on it with lenient cost
// ceilings, a key per scope and the set's IDs.
type councilEnv struct {
	s       *store.Store
	h       http.Handler
	callers map[string]string
	levels  map[string]store.Level
	ids     []string
}

func newCouncilEnv(t *testing.T) *councilEnv {
	t.Helper()
	ctx := context.Background()
	s := storetest.New(t, nil)
	protected := os.DirFS(visibilitytest.Protected())
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	set, problems := importer.Load(protected)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	e := &councilEnv{s: s, callers: map[string]string{"public": ""},
		levels: map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}}
	for _, items := range set.Items {
		for _, it := range items {
			e.ids = append(e.ids, it.Doc.Base().ID)
		}
	}
	sort.Strings(e.ids)
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	e.h = httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, LoaderWait: time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		e.callers[scope] = key
	}
	return e
}

// want is the IDs of council's records of kind (any kind when nil) that
// scope may see, sorted.
func (e *councilEnv) want(t *testing.T, scope, council string, kind *store.Kind) []string {
	t.Helper()
	visible := visibleIDs(t, e.s, e.levels[scope], e.ids)
	var out []string
	for _, id := range e.ids {
		if visible[id] && store.CouncilOf(id) == council && (kind == nil || store.KindOfID(id) == kind) {
			out = append(out, id)
		}
	}
	return out
}

// councilLists are the Query fields that take a council argument.
func councilLists(t *testing.T) []*ast.FieldDefinition {
	t.Helper()
	var out []*ast.FieldDefinition
	for _, f := range schemaOnce().Query.Fields {
		if f.Arguments.ForName("council") != nil {
			out = append(out, f)
		}
	}
	names := make([]string, len(out))
	for i, f := range out {
		names[i] = f.Name
	}
	for _, must := range []string{"people", "bodies", "meetings", "reports", "plans", "actions", "inspections", "search", "changes"} {
		if !slices.Contains(names, must) {
			t.Errorf("Query.%s takes no council argument (those that do: %v)", must, names)
		}
	}
	return out
}

// councilProbe is the query of list f for one council, every field of its
// records two levels down, and where to find the records' IDs in the
// answer.
func councilProbe(f *ast.FieldDefinition, council string) (query string, records func(data map[string]any) []string) {
	sch := schemaOnce()
	t := sch.Types[f.Type.Name()]
	switch f.Name {
	case "search":
		return fmt.Sprintf(`{ search(query: "zz", first: 100, council: %q) { %s } }`, council, selection(sch, t, 1)),
			func(data map[string]any) []string {
				var ids []string
				for _, h := range data["search"].([]any) {
					for k, v := range h.(map[string]any) {
						if id, ok := v.(string); ok && strings.HasSuffix(k, "_id") {
							ids = append(ids, id)
						}
					}
				}
				return ids
			}
	case "changes":
		return fmt.Sprintf(`{ changes(council: %q, first: 100) { edges { node { kind type id record { %s } } } pageInfo { hasNextPage endCursor } } }`,
				council, selection(sch, sch.Types["ChangeRecord"], 1)),
			func(data map[string]any) []string {
				var ids []string
				for _, e := range data["changes"].(map[string]any)["edges"].([]any) {
					n := e.(map[string]any)["node"].(map[string]any)
					if n["kind"] == "UPSERT" {
						ids = append(ids, n["id"].(string))
					}
				}
				return ids
			}
	}
	return fmt.Sprintf(`{ %s(council: %q, first: 100) { %s } }`, f.Name, council, selection(sch, t, 2)),
		func(data map[string]any) []string {
			var ids []string
			for _, e := range data[f.Name].(map[string]any)["edges"].([]any) {
				ids = append(ids, e.(map[string]any)["node"].(map[string]any)["id"].(string))
			}
			return ids
		}
}

// listKind is the kind of record a connection field lists.
func listKind(f *ast.FieldDefinition) *store.Kind {
	return store.KindNamed(strings.TrimSuffix(f.Type.Name(), "Connection"))
}

// TestCouncilArgumentMatrix: every list, search and the change feed asked
// for one council, at every level, answers exactly that council's records
// the caller may see (each with its council), every field two levels down
// holds no marker above the caller's level, and a council the caller may
// not see answers as one that does not exist: nothing.
func TestCouncilArgumentMatrix(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	lists := councilLists(t)
	compared := 0
	defer func() {
		if compared == 0 {
			t.Error("no list by council held a record: the test proves nothing")
		}
	}()
	for scope, key := range e.callers {
		allowed := visibilitytest.Allowed("before", scope)
		t.Run(scope, func(t *testing.T) {
			for _, council := range append(slices.Clone(markedCouncils), "council:no-such-council") {
				for _, f := range lists {
					query, records := councilProbe(f, council)
					body := ask(t, e.h, key, query)
					text := withCursorsDecoded(body)
					for _, m := range visibilitytest.Marker.FindAllStringSubmatch(text, -1) {
						if !slices.Contains(allowed, m[1]) {
							t.Errorf("%s sees %s through %s(council: %s)", scope, m[0], f.Name, council)
						}
					}
					checkTotals(t, f.Name, body)
					var res struct{ Data map[string]any }
					if err := json.Unmarshal(body, &res); err != nil {
						t.Fatal(err)
					}
					got := records(res.Data)
					for _, id := range got {
						// search keeps the shared registries' records too,
						// as its argument says.
						if c := store.CouncilOf(id); c != council && !(f.Name == "search" && c == "" && store.KindOfID(id).Shared) {
							t.Errorf("%s(council: %s) as %s answers %s, of %q", f.Name, council, scope, id, c)
						}
					}
					// Each record's own council field names the council asked for.
					if f.Name != "search" && f.Name != "changes" {
						for _, edge := range res.Data[f.Name].(map[string]any)["edges"].([]any) {
							node := edge.(map[string]any)["node"].(map[string]any)
							if c, _ := node["council"].(map[string]any); c == nil || c["id"] != council {
								t.Errorf("%s(council: %s) as %s: %s's council is %v", f.Name, council, scope, node["id"], node["council"])
							}
						}
					}
					var want []string
					switch f.Name {
					case "search":
						// A search finds by words; its hits are checked above.
						continue
					case "changes":
						want = e.want(t, scope, council, nil)
					default:
						want = e.want(t, scope, council, listKind(f))
					}
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Errorf("%s(council: %s) as %s:\n got %q\nwant %q", f.Name, council, scope, got, want)
					}
					compared += len(got)
				}
			}
		})
	}
}

// movedIDs reads the marked set's moved.yaml: each old ID and the ID of
// its record now.
func movedIDs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(visibilitytest.Protected(), importer.MovedFile))
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct{ From, To string }
	if err := yaml.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range entries {
		out[m.From] = m.To
	}
	if len(out) == 0 {
		t.Fatal("the marked set moves no IDs")
	}
	return out
}

// TestMovedIDsOfHiddenRecords: an old ID answers, through node, nodes,
// the type's own lookup and _entities, exactly as the record's ID now
// does for a caller who may see the record, and exactly as an ID that
// names nothing for one who may not: whether an old ID was ever published
// for a hidden record is not for them to learn. A list filtered by the
// old ID of a hidden record answers as one filtered by an ID naming
// nothing.
func TestMovedIDsOfHiddenRecords(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	sch := schemaOnce()
	lookup := map[string]string{} // type name -> Query field looking it up by id
	for _, f := range sch.Query.Fields {
		if len(f.Arguments) == 1 && f.Arguments[0].Name == "id" && sch.Types[f.Type.Name()].Kind == ast.Object {
			lookup[f.Type.Name()] = f.Name
		}
	}
	node := sch.Types["Node"]
	probes := func(k *store.Kind, id string) map[string]string {
		t := sch.Types[k.Name]
		out := map[string]string{}
		if lookup[k.Name] != "" {
			out["lookup"] = fmt.Sprintf(`{ %s(id: %q) { %s } }`, lookup[k.Name], id, selection(sch, t, 1))
		}
		if k.Node {
			out["node"] = fmt.Sprintf(`{ node(id: %q) { %s } }`, id, selection(sch, node, 1))
			out["nodes"] = fmt.Sprintf(`{ nodes(ids: [%q, %q]) { %s } }`, id, id, selection(sch, node, 1))
			out["_entities"] = fmt.Sprintf(`{ _entities(representations: [{__typename: %q, id: %q}]) { %s } }`, k.Name, id, selection(sch, sch.Types["_Entity"], 1))
		}
		switch k.Name {
		case "Body":
			out["meetings(body:)"] = fmt.Sprintf(`{ meetings(body: %q, first: 100) { totalCount edges { node { id title } } } }`, id)
			out["reports(body:)"] = fmt.Sprintf(`{ reports(body: %q, first: 100) { totalCount edges { node { id title } } } }`, id)
		case "Person":
			out["actions(owner:)"] = fmt.Sprintf(`{ actions(owner: %q, first: 100) { totalCount edges { node { id title } } } }`, id)
		}
		return out
	}
	hidden := 0
	for from, to := range movedIDs(t) {
		k := store.KindOfID(to)
		if k == nil {
			t.Fatalf("moved.yaml: %s moves to %s, of no kind", from, to)
		}
		nothing := k.Prefix + ":testshire/no-such-record"
		for scope, key := range e.callers {
			sees := visibleIDs(t, e.s, e.levels[scope], []string{to})[to]
			if !sees {
				hidden++
			}
			old, now, none := probes(k, from), probes(k, to), probes(k, nothing)
			for path, q := range old {
				got := string(ask(t, e.h, key, q))
				// An answer names the ID it was asked for only where it
				// echoes it; the record's fields are what must agree.
				switch {
				case sees && !strings.HasSuffix(path, ":)"):
					if want := string(ask(t, e.h, key, now[path])); got != want {
						t.Errorf("%s by the old ID %s as %s:\n got %s\nwant %s (as by %s)", path, from, scope, got, want, to)
					}
				case !sees:
					if want := string(ask(t, e.h, key, none[path])); got != want {
						t.Errorf("%s by the old ID %s of a record %s may not see:\n got %s\nwant %s (as by %s, which names nothing)", path, from, scope, got, want, nothing)
					}
				}
			}
		}
	}
	if hidden == 0 {
		t.Fatal("no moved ID names a record hidden from some caller: the test proves nothing")
	}
}

// TestRecordOfAHiddenCouncil: a record that declares no level of its own,
// in the namespace of a council the caller may not see, is not shown to
// the caller by any path (its council, which every record names, is not
// theirs to see), and no answer errs for it. A set may be refused such a
// record instead; either way the caller sees nothing of it.
func TestRecordOfAHiddenCouncil(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	const id = "person:board-zzpartner17/open-record"
	set := fstest.MapFS{"people.yaml": &fstest.MapFile{Data: []byte(`- id: ` + id + `
  name: Open record zzpartner98
  sources: [{document: zzpartner99.txt, locator: lines 1-2}]
`)}}
	if _, err := importer.ImportFS(context.Background(), e.s, set, importer.Options{Dataset: "open"}); err != nil {
		t.Logf("the set was refused: %v", err)
	}
	for _, q := range []string{
		`{ person(id: "` + id + `") { id name council { id name } } }`,
		`{ node(id: "` + id + `") { id ... on Person { name council { id } } } }`,
		`{ people(council: "council:board-zzpartner17", first: 100) { totalCount edges { node { id name } } } }`,
		`{ people(first: 100) { totalCount edges { node { id name council { id name } } } } }`,
		`{ search(query: "open record", first: 100) { ... on Person { id name council { id } } } }`,
		`{ changes(first: 100) { edges { node { id record { ... on Person { id name council { id } } } } } } }`,
	} {
		body := ask(t, e.h, "", q) // fails on any error
		if bytes.Contains(body, []byte("zzpartner")) {
			t.Errorf("the public sees a record of a council it may not see: %s\n%.500s", q, body)
		}
		checkTotals(t, q, body)
	}
}

// TestFeedRecordsKeepToTheCaller: a council's feed says how many of the
// council's records it holds as the caller may count them, like every
// totalCount: a count that took in hidden records would tell the public
// that records it may not see exist. Re-importing part of a set (without
// pruning) leaves the set holding all it held, and the count says so.
func TestFeedRecordsKeepToTheCaller(t *testing.T) {
	t.Parallel()
	e := newCouncilEnv(t)
	check := func(phase string) {
		for scope, key := range e.callers {
			var res struct {
				Data struct {
					Council *struct {
						Feeds []struct {
							Kind, Name string
							Records    int
						}
					}
				}
			}
			if err := json.Unmarshal(ask(t, e.h, key, `{ council(id: "council:testshire") { feeds { kind name records } } }`), &res); err != nil {
				t.Fatal(err)
			}
			want := len(e.want(t, scope, "council:testshire", nil))
			if res.Data.Council == nil || len(res.Data.Council.Feeds) != 1 {
				t.Fatalf("%s: %s sees the feeds %+v, want the protected set's", phase, scope, res.Data.Council)
			}
			if f := res.Data.Council.Feeds[0]; f.Name != "protected" || f.Records != want {
				t.Errorf("%s: %s is told the feed %s holds %d records; it may see %d", phase, scope, f.Name, f.Records, want)
			}
		}
	}
	check("after the import")
	if _, err := importer.ImportFS(context.Background(), e.s, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	check("after a partial import")
}
