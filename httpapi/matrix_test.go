package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestVisibilityMatrixOnEveryPath runs on the marked data sets of package
// visibilitytest. For every scope it asks for every field of every record by every path —
// lookups, node, nodes, _entities, every list with totalCount, search, and
// the relations two levels down from each — and checks that the answers
// (cursors decoded) hold no marker above the caller's level, every marker
// of the caller's level, no errors, and a totalCount equal to the records
// shown. Leaking one field, record or count on one path fails it.
func TestVisibilityMatrixOnEveryPath(t *testing.T) {
	t.Parallel()
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
	markers := visibilitytest.Markers(t)
	var ids []string
	for _, items := range set.Items {
		for _, it := range items {
			ids = append(ids, it.Doc.Base().ID)
		}
	}
	sort.Strings(ids)

	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30 // cost is not what this test is about
	}
	cfg := httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, CostCeilings: lenient, LoaderWait: time.Millisecond}
	h := httpapitest.New(s, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Admin sees as officer does (only its cost ceiling differs).
	callers := map[string]string{"public": ""}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	battery := queries(ids)

	// The snapshot pass's service has no response cache, so that its
	// answers come from the snapshot, not from the answers of the database
	// pass. (Both services share the store, whose snapshot each pass turns
	// on or off.)
	noCache := cfg
	noCache.ResponseCacheSize = -1
	hs := httpapitest.New(s, noCache, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check := func(t *testing.T, phase string, h http.Handler) {
		for scope, key := range callers {
			allowed := visibilitytest.Allowed(phase, scope)
			t.Run(phase+"/"+scope, func(t *testing.T) {
				t.Parallel()
				got := map[string]bool{}
				for _, q := range battery {
					body := ask(t, h, key, q.query)
					for _, m := range visibilitytest.Marker.FindAllStringSubmatch(withCursorsDecoded(body), -1) {
						got[m[0]] = true
						if !slices.Contains(allowed, m[1]) {
							t.Errorf("%s sees %s through %s", scope, m[0], q.name)
						}
					}
					checkTotals(t, q.name, body)
				}
				for m := range markers {
					if slices.Contains(allowed, visibilitytest.Marker.FindStringSubmatch(m)[1]) && !got[m] {
						t.Errorf("%s never sees %s, which it may: a path or field is missing from the battery or wrongly hidden", scope, m)
					}
				}
			})
		}
	}
	// The warm pass asks each query of the battery, on a service with a
	// cache of its own, as a partner and an officer and then the public,
	// so that their answers are cached before each public call, then
	// again, all three answered from the cache; every answer is checked
	// as the cold pass checks it.
	warm := func(t *testing.T, phase string) {
		rec := &logRecorder{}
		hw := httpapitest.New(s, cfg, slog.New(rec))
		for round := range 2 {
			for _, q := range battery {
				for _, scope := range []string{"partner", "officer", "public"} {
					body := ask(t, hw, callers[scope], q.query)
					for _, m := range visibilitytest.Marker.FindAllStringSubmatch(withCursorsDecoded(body), -1) {
						if !slices.Contains(visibilitytest.Allowed(phase, scope), m[1]) {
							t.Errorf("%s sees %s through %s (round %d)", scope, m[0], q.name, round)
						}
					}
					checkTotals(t, q.name, body)
				}
			}
		}
		if n, want := rec.count("request", "cache", "hit"), 3*len(battery); n != want {
			t.Errorf("the warm pass had %d cache hits, want %d", n, want)
		}
	}
	// Every phase is checked on the database and from the store's
	// snapshot of the same data.
	paths := func(phase string) {
		s.KeepSnapshot(-1, nil)
		t.Run(phase+"/database", func(t *testing.T) { check(t, phase, h) })
		s.KeepSnapshot(store.DefaultSnapshotSize, nil)
		if !s.WaitSnapshot(ctx) {
			t.Fatal("no snapshot of the marked sets")
		}
		t.Run(phase+"/snapshot", func(t *testing.T) { check(t, phase, hs) })
	}
	paths("before")
	t.Run("before/warm", func(t *testing.T) { warm(t, "before") })
	if _, err := importer.ImportFS(ctx, s, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	// h's cache holds the answers of before: the import's generation must
	// retire every one of them.
	paths("after")
	t.Run("after/warm", func(t *testing.T) { warm(t, "after") })

	// An exempt item shows others than officers all that the public
	// minutes print of it; what belongs to it (its report, action and
	// declaration) is officers' only.
	item := ask(t, h, "", `{ agendaItem(id: "agendaItem:testshire/cabinet/2023-03-16/3") { number title exempt exemptionParagraph minuteRef pages minutes decision outcome notes presenter { id } sources { document } reports { id } actions { id } declarations { id } } }`)
	want := `{"data":{"agendaItem":{"number":"3","title":"Land sale zzpublic24","exempt":true,"exemptionParagraph":3,"minuteRef":"CAB 3/22 zzpublic51","pages":"20 - 29 zzpublic52","minutes":"The price zzpublic53","decision":"RESOLVED zzpublic54","outcome":"APPROVED","notes":"exempt notes zzpublic55","presenter":{"id":"person:testshire/pat-public"},"sources":[{"document":"zzpublic56.txt"}],"reports":[],"actions":[],"declarations":[]}}}`
	if string(item) != want {
		t.Errorf("the exempt item as the public sees it:\n got %s\nwant %s", item, want)
	}
}

type probe struct{ name, query string }

var schemaOnce = sync.OnceValue(func() *ast.Schema { return graph.NewExecutableSchema(graph.Config{}).Schema() })

// queries builds the battery: every path to every record, every field.
func queries(ids []string) []probe {
	sch := schemaOnce()
	var out []probe
	byType := map[string][]string{}
	for _, id := range ids {
		if k := store.KindOfID(id); k != nil {
			byType[k.Name] = append(byType[k.Name], id)
		}
	}
	q := sch.Query
	for _, f := range q.Fields {
		t := sch.Types[f.Type.Name()]
		switch {
		case strings.HasPrefix(f.Name, "__") || f.Name == "_service":
		case len(f.Arguments) == 1 && f.Arguments[0].Name == "id" && t != nil && t.Kind == ast.Object:
			// Every record of the type in one query, an alias each, so that
			// the loaders batch them as a page would.
			var roots []string
			for i, id := range byType[t.Name] {
				roots = append(roots, fmt.Sprintf(`r%d: %s(id: %q) { %s }`, i, f.Name, id, selection(sch, t, 2)))
			}
			if len(roots) > 0 {
				out = append(out, probe{f.Name, "{ " + strings.Join(roots, " ") + " }"})
			}
		case strings.HasSuffix(f.Type.Name(), "Connection") && !hasRequiredArgs(f):
			out = append(out, probe{f.Name, fmt.Sprintf(`{ %s(first: 100) { %s } }`, f.Name, selection(sch, t, 2))})
		case f.Type.Elem != nil && len(f.Arguments) == 0 && t.Kind == ast.Object:
			out = append(out, probe{f.Name, fmt.Sprintf(`{ %s { %s } }`, f.Name, selection(sch, t, 2))})
		}
	}
	node := sch.Types["Node"]
	for _, typ := range slices.Sorted(maps.Keys(byType)) {
		if k := store.KindNamed(typ); k.Node {
			id := byType[typ][len(byType[typ])-1]
			out = append(out, probe{"node(" + id + ")", fmt.Sprintf(`{ node(id: %q) { %s } }`, id, selection(sch, node, 1))})
		}
	}
	quoted := make([]string, len(ids))
	var reps []string
	for i, id := range ids {
		quoted[i] = fmt.Sprintf("%q", id)
		if k := store.KindOfID(id); k != nil && k.Node {
			reps = append(reps, fmt.Sprintf(`{__typename: %q, id: %q}`, k.Name, id))
		}
	}
	out = append(out,
		probe{"nodes", fmt.Sprintf(`{ nodes(ids: [%s]) { %s } }`, strings.Join(quoted, ", "), selection(sch, node, 1))},
		probe{"_entities", fmt.Sprintf(`{ _entities(representations: [%s]) { %s } }`, strings.Join(reps, ", "), selection(sch, sch.Types["_Entity"], 1))},
		probe{"search", fmt.Sprintf(`{ search(query: "zz", first: 100) { %s } }`, selection(sch, sch.Types["SearchHit"], 1))},
	)
	return out
}

// selection selects every field of t that needs no argument, and the
// fields of the objects it leads to, depth levels down.
func selection(sch *ast.Schema, t *ast.Definition, depth int) string {
	if t.Kind == ast.Union || t.Kind == ast.Interface {
		// Each type's fields under an alias of its own, since fields of one
		// name differ in type across them.
		parts := []string{"__typename"}
		for _, pt := range sch.GetPossibleTypes(t) {
			parts = append(parts, "... on "+pt.Name+" { "+fields(sch, pt, depth, pt.Name+"_")+" }")
		}
		return strings.Join(parts, " ")
	}
	return fields(sch, t, depth, "")
}

// fields is selection for an object type, each field aliased with prefix.
func fields(sch *ast.Schema, t *ast.Definition, depth int, prefix string) string {
	alias := func(name string) string {
		if prefix == "" {
			return name
		}
		return prefix + name + ": " + name
	}
	var parts []string
	for _, f := range t.Fields {
		if strings.HasPrefix(f.Name, "__") || hasRequiredArgs(f) {
			continue
		}
		ft := sch.Types[f.Type.Name()]
		if ft.Kind == ast.Scalar || ft.Kind == ast.Enum {
			parts = append(parts, alias(f.Name))
			continue
		}
		if depth > 0 || strings.HasSuffix(t.Name, "Connection") || strings.HasSuffix(t.Name, "Edge") || ft.Name == "Source" || ft.Name == "PageInfo" {
			d := depth - 1
			if strings.HasSuffix(ft.Name, "Connection") || strings.HasSuffix(ft.Name, "Edge") || ft.Name == "ProgressUpdate" {
				d = depth // the edges of a page are the same level as the page
			}
			if d < 0 {
				d = 0
			}
			parts = append(parts, alias(f.Name)+" { "+selection(sch, ft, d)+" }")
		}
	}
	return strings.Join(parts, " ")
}

func hasRequiredArgs(f *ast.FieldDefinition) bool {
	for _, a := range f.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			return true
		}
	}
	return false
}

// postAs posts a query to /graphql as the caller with key ("" for none).
func postAs(h http.Handler, key, query string) *httptest.ResponseRecorder {
	body, _ := json.Marshal(map[string]any{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// ask runs a query as the caller with key ("" for none) and returns the
// whole response, failing on any error in it.
func ask(t *testing.T, h http.Handler, key, query string) []byte {
	t.Helper()
	rec := postAs(h, key, query)
	if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
		t.Fatalf("%.200s: status %d: %.2000s", query, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// withCursorsDecoded adds the decoded text of every cursor in body to it,
// so that a marker inside a cursor's sort key is found too.
func withCursorsDecoded(body []byte) string {
	var b strings.Builder
	b.Write(body)
	for _, m := range regexp.MustCompile(`"(?:cursor|endCursor)":"([A-Za-z0-9_-]+)"`).FindAllSubmatch(body, -1) {
		if dec, err := base64.RawURLEncoding.DecodeString(string(m[1])); err == nil {
			b.WriteString("\n")
			b.Write(dec)
		}
	}
	return b.String()
}

// checkTotals fails where a page that holds its whole list counts more (or
// fewer) records than it shows.
func checkTotals(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if total, ok := x["totalCount"].(float64); ok {
				edges, _ := x["edges"].([]any)
				info, _ := x["pageInfo"].(map[string]any)
				if next, _ := info["hasNextPage"].(bool); !next && int(total) != len(edges) {
					t.Errorf("%s: totalCount %v but %d records shown", name, total, len(edges))
				}
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}
