package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestSnapshotAnswersAsTheServer: on every server, a store answering from
// its snapshot and one asking the server answer every record read the
// store offers (lookups and relations by every reference, every list with
// every filter, page by page, counts, the calendar, search) with the same
// records, fields and cursors, at every level, on the Stockton set and the
// marked set, before and after an import moves records across levels; the
// snapshot sends none of them to the server, and a read between a write and
// the snapshot of its generation sees the write.
func TestSnapshotAnswersAsTheServer(t *testing.T) {
	t.Parallel()
	for _, sv := range storetest.Servers() {
		t.Run(sv.Name, func(t *testing.T) {
			ctx := context.Background()
			monitor, sent := countSent()
			kept := stocktonAndMarkedCopy(t, sv, monitor)
			asked, err := store.Open(ctx, store.Options{URI: sv.URI(), Database: kept.DatabaseName()})
			if err != nil {
				t.Fatal(err)
			}
			defer asked.Close(ctx)
			kept.WatchGeneration(20 * time.Millisecond)
			kept.KeepSnapshot(1<<30, nil)

			compare := func(phase string) {
				t.Helper()
				if !kept.WaitSnapshot(ctx) {
					t.Fatalf("%s: no snapshot", phase)
				}
				in := readInputs(t, asked)
				want := everyRead(t, asked, in)
				sent.Store(0)
				got := everyRead(t, kept, in)
				if n := sent.Load(); n != 0 {
					t.Errorf("%s: the snapshot sent %d reads to the server", phase, n)
				}
				if len(want) < 1000 {
					t.Fatalf("%s: only %d reads", phase, len(want))
				}
				for k := range got {
					if _, ok := want[k]; !ok {
						t.Errorf("%s, %s: read from the snapshot only", phase, k)
					}
				}
				for k, w := range want {
					if g := got[k]; g != w {
						t.Errorf("%s, %s:\nsnapshot %.600s\n  server %.600s", phase, k, g, w)
					}
				}
			}
			compare("before")

			// A read after a write, before the new generation's snapshot:
			// the moved set raises a record to PARTNER, which a public
			// caller must stop seeing at once.
			if _, err := importer.ImportFS(ctx, kept, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
				t.Fatal(err)
			}
			for _, k := range store.Kinds() {
				ids := allIDs(t, asked, k)
				for _, l := range []store.Level{store.Public, store.Partner} {
					// A find by IDs has no order (the server's is its
					// storage's): compare the records by ID.
					g := mustJSON(t)(byID(kept.FindByIDs(store.WithLevel(ctx, l), k, ids)))
					w := mustJSON(t)(byID(asked.FindByIDs(store.WithLevel(ctx, l), k, ids)))
					if g != w {
						t.Errorf("right after the write, %s at level %d: the store answered from an older generation", k.Name, l)
					}
				}
			}
			compare("after the moved set")
		})
	}
}

// TestSnapshotTooLargeIsNotKept: a data set larger than the snapshot may
// hold is read from the server, and the bound can change while serving.
func TestSnapshotTooLargeIsNotKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	counter := &storetest.Counter{}
	s := importertest.Stockton(t, counter.Monitor())
	s.WatchGeneration(20 * time.Millisecond)
	s.KeepSnapshot(64<<10, nil)
	if s.WaitSnapshot(ctx) {
		t.Fatal("a snapshot of the Stockton set was kept within 64 KiB")
	}
	counter.Reset()
	people, err := s.FindByIDs(ctx, store.KindNamed("Person"), allIDs(t, s, store.KindNamed("Person"))[:1])
	if err != nil || len(people) != 1 {
		t.Fatalf("lookup: %v %v", people, err)
	}
	if counter.Count("find") == 0 {
		t.Error("the lookup was not sent to the server")
	}
	if st := s.SnapshotStats(); st.Records != 0 {
		t.Errorf("stats %+v, want none kept", st)
	}
	// A larger bound keeps it; a smaller one again stops its use at once.
	s.KeepSnapshot(64<<20, nil)
	if !s.WaitSnapshot(ctx) {
		t.Fatal("no snapshot within 64 MiB")
	}
	if st := s.SnapshotStats(); st.Records < 1000 || st.Bytes > 64<<20 || st.Generation != s.SeenGeneration() {
		t.Errorf("stats %+v", st)
	}
	s.KeepSnapshot(64<<10, nil)
	if st := s.SnapshotStats(); st.Records != 0 {
		t.Errorf("stats %+v under a bound it exceeds, want none in use", st)
	}
}

func mustJSON(t *testing.T) func(v any, err error) string {
	return func(v any, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// allIDs is every ID of kind k, read unscoped from the server.
func allIDs(t *testing.T, s *store.Store, k *store.Kind) []string {
	t.Helper()
	return append(storetest.IDs(t, s, k.Collection), k.Prefix+":no-such-record")
}

// inputs are what everyRead asks for: every ID, every value of every
// reference, the observations' indicator periods, and the latest update.
type inputs struct {
	ids, refVals map[string][]string
	pairs        []store.IndicatorPeriod
	stamp        time.Time
}

// readInputs draws everyRead's inputs from the data, unscoped.
func readInputs(t *testing.T, ref *store.Store) inputs {
	t.Helper()
	in := inputs{ids: map[string][]string{}, refVals: map[string][]string{}}
	officer := store.WithLevel(context.Background(), store.Officer)
	for _, k := range store.Kinds() {
		in.ids[k.Name] = allIDs(t, ref, k)
		docs, err := ref.FindByIDs(officer, k, in.ids[k.Name])
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			for _, r := range k.Refs {
				in.refVals[k.Name+"."+r.Field] = append(in.refVals[k.Name+"."+r.Field], store.RefValues(d, r.Field)...)
			}
			if u := d.Base().UpdatedAt; u.After(in.stamp) {
				in.stamp = u
			}
			if o, ok := d.(*store.Observation); ok && len(in.pairs) < 40 {
				in.pairs = append(in.pairs, store.IndicatorPeriod{IndicatorID: o.IndicatorID, Period: o.Period})
			}
		}
	}
	for key, v := range in.refVals {
		slices.Sort(v)
		in.refVals[key] = append(slices.Compact(v), "no-such-key")
	}
	return in
}

// everyRead runs every record read the store offers through st, at every
// level at once, and returns each answer as JSON by a name for the read.
func everyRead(t *testing.T, st *store.Store, in inputs) map[string]string {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]string{}
	levels := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}
	for lname, l := range levels {
		wg.Go(func() {
			readLevel(st, in, l, func(name string, v any, err error) {
				b, jerr := json.Marshal(v)
				if err != nil || jerr != nil {
					t.Errorf("%s %s: %v %v", lname, name, err, jerr)
				}
				mu.Lock()
				out[lname+" "+name] = string(b)
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	return out
}

// strs is nil (no condition) and each of vs.
func strs(vs ...string) []*string {
	out := []*string{nil}
	for _, v := range vs {
		out = append(out, &v)
	}
	return out
}

// readLevel is everyRead at level l, each answer given to put.
func readLevel(st *store.Store, in inputs, l store.Level, put func(string, any, error)) {
	ids, refVals := in.ids, in.refVals
	times := []*time.Time{nil, &in.stamp}
	bodies := strs(ids["Body"][:2]...)
	ctx := store.WithLevel(context.Background(), l)
	for _, k := range store.Kinds() {
		docs, err := st.FindByIDs(ctx, k, ids[k.Name])
		put("ids "+k.Name, sortedByID(docs), err)
		for i, id := range ids[k.Name][:min(3, len(ids[k.Name]))] {
			docs, err := st.FindByIDs(ctx, k, ids[k.Name][i:i+1])
			put("id "+id, docs, err)
		}
		for _, r := range k.Refs {
			vals := refVals[k.Name+"."+r.Field]
			docs, err := st.FindByRef(ctx, k, r.Field, vals)
			put("ref "+k.Name+"."+r.Field, docs, err)
			for _, v := range vals[:min(2, len(vals))] {
				docs, err := st.FindByRef(ctx, k, r.Field, []string{v})
				put("ref "+k.Name+"."+r.Field+" "+v, docs, err)
			}
		}
	}
	meetings := []store.MeetingFilter{{}, {To: new("2022-12-31")}, {From: new("2024-06-30"), Status: new("held")}}
	for _, body := range bodies {
		meetings = append(meetings, store.MeetingFilter{BodyID: body}, store.MeetingFilter{BodyID: body, From: new("2023-01-01"), To: new("2025-03-31")},
			store.MeetingFilter{BodyID: body, Status: new("scheduled")})
	}
	for _, f := range meetings {
		name := fmt.Sprintf("meetings %v", describe(f.BodyID, f.From, f.To, f.Status))
		pages(put, ""+name, func(p store.Page) (any, []string, bool, error) {
			return unpage(st.FindMeetings(ctx, f, p))
		})
		n, err := st.CountMeetings(ctx, f)
		put("count "+name, n, err)
	}
	for _, u := range times {
		name := fmt.Sprintf("since %v", u)
		pages(put, "meetings "+name, func(p store.Page) (any, []string, bool, error) {
			return unpage(st.FindMeetings(ctx, store.MeetingFilter{UpdatedSince: u}, p))
		})
		for _, kind := range strs("committee", "partnership") {
			f := store.BodyFilter{Kind: kind, UpdatedSince: u}
			pages(put, "bodies "+name+describe(kind), func(p store.Page) (any, []string, bool, error) {
				return unpage(st.FindBodies(ctx, f, p))
			})
			n, err := st.CountBodies(ctx, f)
			put("count bodies "+name+describe(kind), n, err)
		}
		for _, kind := range strs("council", "nhs") {
			f := store.OrganisationFilter{Kind: kind, UpdatedSince: u}
			pages(put, "organisations "+name+describe(kind), func(p store.Page) (any, []string, bool, error) {
				return unpage(st.FindOrganisations(ctx, f, p))
			})
			n, err := st.CountOrganisations(ctx, f)
			put("count organisations "+name+describe(kind), n, err)
		}
		for _, theme := range strs("children") {
			f := store.IndicatorFilter{Theme: theme, UpdatedSince: u}
			pages(put, "indicators "+name+describe(theme), func(p store.Page) (any, []string, bool, error) {
				return unpage(st.FindIndicators(ctx, f, p))
			})
			n, err := st.CountIndicators(ctx, f)
			put("count indicators "+name+describe(theme), n, err)
		}
		for _, status := range strs("completed") {
			for _, due := range strs("2025-01-01") {
				f := store.ActionFilter{Status: status, DueBefore: due, UpdatedSince: u}
				pages(put, "actions "+name+describe(status, due), func(p store.Page) (any, []string, bool, error) {
					return unpage(st.FindActions(ctx, f, p))
				})
				n, err := st.CountActions(ctx, f)
				put("count actions "+name+describe(status, due), n, err)
			}
		}
		pages(put, "plans "+name, func(p store.Page) (any, []string, bool, error) {
			return unpage(st.FindPlans(ctx, store.PlanFilter{UpdatedSince: u}, p))
		})
		n, err := st.CountPlans(ctx, store.PlanFilter{UpdatedSince: u})
		put("count plans "+name, n, err)
		for _, subject := range strs(refVals["Inspection.subjectId"][:1]...) {
			for _, fw := range strs("ILACS") {
				f := store.InspectionFilter{SubjectID: subject, Framework: fw, UpdatedSince: u}
				pages(put, "inspections "+name+describe(subject, fw), func(p store.Page) (any, []string, bool, error) {
					return unpage(st.FindInspections(ctx, f, p))
				})
				n, err := st.CountInspections(ctx, f)
				put("count inspections "+name+describe(subject, fw), n, err)
			}
		}
		for _, person := range strs("cook", "an") {
			for _, org := range strs(refVals["Person.organisationId"][:1]...) {
				f := store.PersonFilter{Name: person, OrganisationID: org, UpdatedSince: u}
				pages(put, "people "+name+describe(person, org), func(p store.Page) (any, []string, bool, error) {
					return unpage(st.FindPeople(ctx, f, p))
				})
				n, err := st.CountPeople(ctx, f)
				put("count people "+name+describe(person, org), n, err)
			}
		}
		for _, meetings := range [][]string{nil, {}, refVals["Report.meetingId"][:3]} {
			f := store.ReportFilter{MeetingIDs: meetings, UpdatedSince: u}
			pages(put, "reports "+name+fmt.Sprint(meetings), func(p store.Page) (any, []string, bool, error) {
				return unpage(st.FindReports(ctx, f, p))
			})
			n, err := st.CountReports(ctx, f)
			put("count reports "+name+fmt.Sprint(meetings), n, err)
		}
	}
	areas, err := st.FindAreas(ctx)
	put("areas", areas, err)
	dates, err := st.FindMeetingDatesByBodyIDs(ctx, ids["Body"])
	put("meeting dates", dates, err)
	for _, body := range ids["Body"][:6] {
		m, err := st.MeetingIDsOfBody(ctx, body)
		slices.Sort(m)
		put("meeting ids of "+body, m, err)
	}
	reports, err := st.FindReportsByPersonIDs(ctx, ids["Person"])
	put("reports by people", reports, err)
	found, err := st.FindObservationsByIndicatorPeriods(ctx, in.pairs)
	put("observations by indicator and period", found, err)
	for _, q := range []string{"council", "an", "zzmovex"} {
		hits, err := st.Search(ctx, q, 50, nil)
		put("search "+q, hits, err)
	}
}

func describe(vs ...*string) string {
	var b strings.Builder
	for _, v := range vs {
		if v == nil {
			b.WriteString(" -")
		} else {
			b.WriteString(" " + *v)
		}
	}
	return b.String()
}

func sortedByID(docs []store.Doc) []store.Doc {
	slices.SortFunc(docs, func(a, b store.Doc) int { return strings.Compare(a.Base().ID, b.Base().ID) })
	return docs
}

func unpage[T any](r *store.Result[T], err error) (any, []string, bool, error) {
	if err != nil {
		return nil, nil, false, err
	}
	return r.Nodes, r.Cursors, r.HasNext, nil
}

// pages walks a list page by page, giving each page to put.
func pages(put func(string, any, error), name string, page func(store.Page) (any, []string, bool, error)) {
	// Small pages first, to cross cursors early in a list; then larger
	// ones, since every edge's cursor is compared anyway and each page the
	// server answers decodes its whole collection on the embedded store.
	sizes := []int{7, 7, 30}
	p := store.Page{First: 7}
	for i := 0; ; i++ {
		if i < len(sizes) {
			p.First = sizes[i]
		} else {
			p.First = 100
		}
		nodes, cursors, next, err := page(p)
		put(fmt.Sprintf("%s page %d", name, i), struct {
			Nodes   any
			Cursors []string
			Next    bool
		}{nodes, cursors, next}, err)
		if err != nil || !next || len(cursors) == 0 || i == 50 {
			return
		}
		p.After = cursors[len(cursors)-1]
	}
}

// TestSnapshotOutlivesKeyChanges: a key change raises the generation (the
// response cache must forget), not the records', so the snapshot stays in
// use without a rebuild; a raise of the generation alone by a writer that
// counts no key changes (an older version's import) is a change of the
// records, and retires it.
func TestSnapshotOutlivesKeyChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := importertest.StocktonCopy(t, nil)
	keepSnapshot(t, s, 1<<30)
	before, records := s.SnapshotStats(), s.SeenRecordsGeneration()
	gen := s.SeenGeneration()
	if err := s.InsertClient(ctx, &store.Client{ID: "client:test", Name: "test", KeyHash: "hash", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeClient(ctx, "client:test", time.Now()); err != nil {
		t.Fatal(err)
	}
	if s.SeenGeneration() != gen+2 || s.SeenRecordsGeneration() != records {
		t.Fatalf("after two key changes: generation %d (was %d), records' %d (was %d)", s.SeenGeneration(), gen, s.SeenRecordsGeneration(), records)
	}
	if after := s.SnapshotStats(); after.Generation != before.Generation || after.Records == 0 || after.BuildTime != before.BuildTime {
		t.Errorf("the snapshot after key changes: %+v, before %+v", after, before)
	}

	client, err := mongo.Connect(options.Client().ApplyURI(storetest.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	if _, err := client.Database(s.DatabaseName()).Collection("meta").UpdateOne(ctx, bson.D{{Key: "_id", Value: "generation"}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Generation(ctx); err != nil {
		t.Fatal(err)
	}
	if s.SeenRecordsGeneration() != records+1 {
		t.Fatalf("records' generation %d after a raise of n alone, want %d", s.SeenRecordsGeneration(), records+1)
	}
	if st := s.SnapshotStats(); st.Records != 0 {
		t.Errorf("the snapshot of the older records is still in use: %+v", st)
	}
}

// byID puts the records a find by IDs returned in ID order.
func byID(docs []store.Doc, err error) ([]store.Doc, error) {
	slices.SortFunc(docs, func(a, b store.Doc) int { return strings.Compare(a.Base().ID, b.Base().ID) })
	return docs, err
}

// TestStatsFromTheSnapshot: the sizes queries are priced by, reckoned from
// the snapshot's maps, are those a read of every document gives, with no
// read of the database.
func TestStatsFromTheSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	monitor, sent := countSent()
	s := importertest.Shared(t, "stockton and marked", fillStocktonAndMarked, monitor)
	want, err := s.FindStats(store.FromDatabase(ctx))
	if err != nil {
		t.Fatal(err)
	}
	keepSnapshot(t, s, 1<<30)
	sent.Store(0)
	got, err := s.FindStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := sent.Load(); n != 0 {
		t.Errorf("the stats sent %d commands to the database", n)
	}
	if want.Counts["Meeting"] == 0 || want.Fanout["Attendance.meetingId"] == 0 {
		t.Fatalf("the database's stats are empty: %+v", want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats from the snapshot\n%+v\nfrom the database\n%+v", got, want)
	}
}

// countSent counts the commands a store sends, but for the generation
// watcher's reads of the meta document, which run beside a test at any
// moment.
func countSent() (*event.CommandMonitor, *atomic.Int64) {
	var sent atomic.Int64
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if coll, _ := e.Command.Lookup(e.CommandName).StringValueOK(); coll != "meta" {
			sent.Add(1)
		}
	}}, &sent
}

// fillStocktonAndMarked imports the Stockton set and the marked set, whose
// records sit at every level: the shared database "stockton and marked"
// of the tests that only read both.
func fillStocktonAndMarked(ctx context.Context, s *store.Store) error {
	for _, set := range []struct{ name, dir string }{{"stockton", "../data/stockton"}, {"protected", visibilitytest.Protected()}} {
		if _, err := importer.ImportFS(ctx, s, os.DirFS(set.dir), importer.Options{Dataset: set.name}); err != nil {
			return err
		}
	}
	return nil
}

// stocktonAndMarkedCopy is a database of t's own on sv holding the
// Stockton set and the marked set: a copy of the shared one on the
// default server, imported afresh on another.
func stocktonAndMarkedCopy(t *testing.T, sv storetest.Server, monitor *event.CommandMonitor) *store.Store {
	t.Helper()
	if sv.URI() == storetest.URI() {
		return importertest.Copy(t, "stockton and marked", fillStocktonAndMarked, monitor)
	}
	s := sv.New(t, monitor)
	if err := fillStocktonAndMarked(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}
