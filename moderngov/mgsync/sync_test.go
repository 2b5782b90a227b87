package mgsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/moderngov"
	"councilgraph/moderngov/mgsync"
	"councilgraph/moderngov/mgtest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// now is when the tests' syncs run: after both recorded meetings.
var now = func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// env is a recorded site served on loopback and a store to sync it into.
type env struct {
	site   *mgtest.Site
	srv    *httptest.Server
	st     *store.Store
	client *moderngov.Client
	opt    mgsync.Options
}

func newEnv(t *testing.T, site *mgtest.Site) *env {
	t.Helper()
	e := &env{site: site, srv: site.Start(t), st: storetest.New(t, nil)}
	var err error
	// No retries and a short timeout: the failures are the site's, on
	// purpose, and waiting them out teaches nothing here.
	e.client, err = moderngov.New(e.srv.URL, moderngov.Options{Rate: -1, Retries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.opt = mgsync.Options{Council: "council:manchester", Name: "Manchester City Council", Code: "E08000003",
		From: day("2025-06-01"), To: day("2026-06-30"), Now: now}
	return e
}

// sync runs a sync and returns its report.
func (e *env) sync(t *testing.T) *mgsync.Report {
	t.Helper()
	r, err := mgsync.Run(context.Background(), e.st, e.client, e.opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustSync runs a sync that must not fail.
func (e *env) mustSync(t *testing.T) *mgsync.Report {
	t.Helper()
	r := e.sync(t)
	if r.Failed() {
		var b bytes.Buffer
		r.Write(&b)
		t.Fatalf("sync failed:\n%s", b.String())
	}
	return r
}

// last is the change log's last sequence number.
func (e *env) last(t *testing.T) int64 {
	t.Helper()
	n, err := e.st.LastChange(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// changes are the change log's entries after since, as "TYPE id".
func (e *env) changes(t *testing.T, since int64) []string {
	t.Helper()
	ctx := store.WithLevel(context.Background(), store.Officer)
	got, _, _, err := e.st.Changes(ctx, since, nil, nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range got {
		out = append(out, c.Kind+" "+c.ID)
	}
	slices.Sort(out)
	return out
}

// graphAt serves the graph over the store to callers of level l.
func (e *env) graphAt(l store.Level) http.Handler {
	h := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: e.st, Now: now}}))
	h.AddTransport(transport.POST{})
	graph.Configure(h, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), graph.Options{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(store.WithLevel(graph.Requests{Store: e.st}.New(r.Context(), "", auth.Anonymous), l)))
	})
}

// query runs a query that must succeed and decodes its data into v.
func query(t *testing.T, h http.Handler, q string, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || len(r.Errors) > 0 {
		t.Fatalf("query failed: %v %s", err, rec.Body.String())
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatal(err)
	}
}

const meetingQuery = `{ meeting(id: "meeting:manchester/mg-meeting-4967") {
  title date startsAt venue status body { id name kind } council { id name code feeds { kind name records status lastRead } }
  sources { document title url }
  agendaItems { id number minuteRef title exempt agendaText minutes decision
    documents { id title url publishedOn restricted agendaItem { id } meeting { id } sources { document url } } }
  attendance { status capacity person { id name honorific party memberships { body { id } area { id name kind } } } }
  documents { id }
} }`

type meetingData struct {
	Meeting *struct {
		Title, Date, Status string
		StartsAt, Venue     *string
		Body                struct{ ID, Name, Kind string }
		Council             struct {
			ID, Name string
			Code     *string
			Feeds    []struct {
				Kind, Name, Status string
				Records            int
				LastRead           *string
			}
		}
		Sources []struct {
			Document   string
			Title, URL *string
		}
		AgendaItems []struct {
			ID, Title                     string
			Number, MinuteRef             *string
			Exempt                        bool
			AgendaText, Minutes, Decision *string
			Documents                     []document
		}
		Attendance []struct {
			Status   string
			Capacity *string
			Person   struct {
				ID, Name         string
				Honorific, Party *string
				Memberships      []struct {
					Body struct{ ID string }
					Area *struct{ ID, Name, Kind string }
				}
			}
		}
		Documents []struct{ ID string }
	}
}

type document struct {
	ID, Title        string
	URL, PublishedOn *string
	Restricted       bool
	AgendaItem       *struct{ ID string }
	Meeting          *struct{ ID string }
	Sources          []struct {
		Document string
		URL      *string
	}
}

// TestSyncsTheRecordedSite runs a full sync of the recorded Manchester
// answers and reads them back through the graph: the meetings with their
// time, venue and status, agenda items with minutes as clean text,
// documents, attendance with status and party, councillors with wards,
// every record citing the operation and the public page; then a re-sync
// is a no-op in the change feed.
func TestSyncsTheRecordedSite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	r := e.mustSync(t)
	if r.Committees != 3 || r.Meetings != 2 {
		t.Errorf("read %d committees and %d meetings, want 3 and 2", r.Committees, r.Meetings)
	}
	counts := map[string]int{}
	for _, c := range r.Summary {
		counts[c.Collection] = c.Inserted
	}
	for coll, want := range map[string]int{"bodies": 4, "meetings": 2, "agendaItems": 2, "documents": 2, "attendance": 2, "people": 1, "areas": 1, "memberships": 1, "councils": 1, "organisations": 1} {
		if counts[coll] != want {
			t.Errorf("%s: inserted %d, want %d", coll, counts[coll], want)
		}
	}

	var d meetingData
	query(t, e.graphAt(store.Public), meetingQuery, &d)
	m := d.Meeting
	if m == nil {
		t.Fatal("meeting 4967 is not in the graph")
	}
	if m.Title != "Audit Committee" || m.Date != "2026-02-10" || m.Status != "HELD" || m.StartsAt == nil || *m.StartsAt != "2026-02-10T10:00:00Z" ||
		m.Venue == nil || *m.Venue != "Council Antechamber, Level 2, Town Hall Extension" {
		t.Errorf("meeting = %+v", m)
	}
	if m.Body.ID != "body:manchester/mg-committee-144" || m.Body.Name != "Audit Committee" || m.Body.Kind != "COMMITTEE" {
		t.Errorf("body = %+v", m.Body)
	}
	if m.Council.ID != "council:manchester" || m.Council.Name != "Manchester City Council" || len(m.Council.Feeds) != 1 ||
		m.Council.Feeds[0].Kind != "moderngov" || m.Council.Feeds[0].Name != e.srv.URL || m.Council.Feeds[0].Status != "ok" || m.Council.Feeds[0].LastRead == nil {
		t.Errorf("council = %+v", m.Council)
	}
	if len(m.Sources) != 2 || m.Sources[0].Document != "mgWebService.asmx/GetMeeting?lMeetingId=4967" ||
		*m.Sources[0].URL != e.srv.URL+"/mgWebService.asmx/GetMeeting?lMeetingId=4967" ||
		!strings.Contains(*m.Sources[1].URL, "ieListDocuments.aspx?CId=144&MId=4967") {
		t.Errorf("meeting sources = %+v", m.Sources)
	}
	if len(m.AgendaItems) != 2 {
		t.Fatalf("agenda items = %+v", m.AgendaItems)
	}
	first := m.AgendaItems[0]
	if first.ID != "agendaItem:manchester/mg-meeting-4967/mg-item-18831" || *first.Number != "1" || *first.MinuteRef != "1" || first.Title != "Minutes" ||
		*first.Minutes != "To approve the minutes of the meeting held on 25 November 2025 as a correct record." ||
		*first.AgendaText != "To approve as a correct record the minutes of the meeting held on 25 November 2025." {
		t.Errorf("first item = %+v", first)
	}
	if *m.AgendaItems[1].Number != "9" {
		t.Errorf("second item's number = %v", *m.AgendaItems[1].Number)
	}
	doc := first.Documents[0]
	if doc.ID != "document:manchester/mg-meeting-4967/mg-attachment-60860" || doc.Title != "6 - CHAIR APPROVED  Minutes Audit Committee 25 Nov 2025" ||
		doc.URL == nil || *doc.URL != "https://democracy.manchester.gov.uk/mgConvert2PDF.aspx?ID=60860" || *doc.PublishedOn != "2026-02-02" ||
		doc.Restricted || doc.AgendaItem.ID != first.ID || doc.Meeting.ID != "meeting:manchester/mg-meeting-4967" {
		t.Errorf("document = %+v", doc)
	}
	if len(m.Documents) != 2 {
		t.Errorf("meeting documents = %+v", m.Documents)
	}
	if len(m.Attendance) != 1 {
		t.Fatalf("attendance = %+v", m.Attendance)
	}
	a := m.Attendance[0]
	if a.Status != "EXPECTED" || *a.Capacity != "Committee Member" || a.Person.ID != "person:manchester/mg-member-192" ||
		a.Person.Name != "Basil Curley" || *a.Person.Honorific != "Councillor" || *a.Person.Party != "LAB" {
		t.Errorf("attendance = %+v", a)
	}
	if len(a.Person.Memberships) != 1 || a.Person.Memberships[0].Area == nil || a.Person.Memberships[0].Area.Name != "Charlestown" ||
		a.Person.Memberships[0].Area.Kind != "WARD" || a.Person.Memberships[0].Area.ID != "area:manchester-ward-charlestown" ||
		a.Person.Memberships[0].Body.ID != "body:manchester/mg-council" {
		t.Errorf("memberships = %+v", a.Person.Memberships)
	}
	var cancelled struct {
		Meeting struct {
			Status     string
			Attendance []struct{ Status string }
		}
	}
	query(t, e.graphAt(store.Public), `{ meeting(id: "meeting:manchester/mg-meeting-4966") { status attendance { status } } }`, &cancelled)
	if cancelled.Meeting.Status != "CANCELLED" || len(cancelled.Meeting.Attendance) != 1 {
		t.Errorf("meeting 4966 = %+v", cancelled.Meeting)
	}
	var expired struct{ Body struct{ Description *string } }
	query(t, e.graphAt(store.Public), `{ body(id: "body:manchester/mg-committee-312") { description } }`, &expired)
	if expired.Body.Description == nil || !strings.Contains(*expired.Body.Description, "expired") {
		t.Errorf("expired committee = %+v", expired.Body)
	}

	before := e.last(t)
	again := e.mustSync(t)
	if n := again.Summary.Changed(); n != 0 {
		t.Errorf("a re-sync of unchanged answers changed %d records", n)
	}
	if got := e.changes(t, before); len(got) != 0 {
		t.Errorf("a re-sync of unchanged answers logged %v", got)
	}
}

// TestAChangedMinuteIsOneUpsert: an edited minute is one UPSERT of its
// agenda item, and the graph serves the new text.
func TestAChangedMinuteIsOneUpsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	e.mustSync(t)
	before := e.last(t)
	e.site.Edit(4967, func(b []byte) []byte {
		return bytes.Replace(b, []byte("25 November 2025 as a correct record."), []byte("25 November 2025 as a correct record, subject to one amendment."), 1)
	})
	e.mustSync(t)
	if got, want := e.changes(t, before), []string{"UPSERT agendaItem:manchester/mg-meeting-4967/mg-item-18831"}; !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	var d struct{ AgendaItem struct{ Minutes string } }
	query(t, e.graphAt(store.Public), `{ agendaItem(id: "agendaItem:manchester/mg-meeting-4967/mg-item-18831") { minutes } }`, &d)
	if !strings.HasSuffix(d.AgendaItem.Minutes, "subject to one amendment.") {
		t.Errorf("minutes = %q", d.AgendaItem.Minutes)
	}
}

// TestAVanishedMeetingIsDeleted: a meeting gone from a window the sync
// read is deleted with its records (tombstones in the feed); one outside
// the window read is left alone.
func TestAVanishedMeetingIsDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	e.mustSync(t)
	e.site.Remove(4966)

	// A window after 13 January 2026 does not hold meeting 4966: it stays.
	before := e.last(t)
	narrow := e.opt
	narrow.From = day("2026-02-01")
	e.opt, narrow = narrow, e.opt
	e.mustSync(t)
	if got := e.changes(t, before); len(got) != 0 {
		t.Errorf("a sync of a window without the vanished meeting logged %v", got)
	}
	e.opt = narrow

	e.mustSync(t)
	want := []string{"DELETE attendance:manchester/mg-meeting-4966/mg-member-192", "DELETE meeting:manchester/mg-meeting-4966"}
	if got := e.changes(t, before); !slices.Equal(got, want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	var d struct{ Meeting *struct{ ID string } }
	query(t, e.graphAt(store.Officer), `{ meeting(id: "meeting:manchester/mg-meeting-4966") { id } }`, &d)
	if d.Meeting != nil {
		t.Errorf("the vanished meeting is still served: %+v", d.Meeting)
	}
}

// TestFailuresLeaveRecordsAsTheyWere: each way a read fails leaves the
// records it would have replaced as they were (an edit the site made is
// not half-applied, and nothing is deleted), is reported with the
// operation and what to try, and fails the sync; the other meetings are
// still synchronised.
func TestFailuresLeaveRecordsAsTheyWere(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><meeting><meetingid>&lol2;</meetingid></meeting>`
	for _, tc := range []struct {
		name  string
		op    string
		id    int
		fault mgtest.Fault
		lack  bool
		says  string
	}{
		{"5xx", "GetMeeting", 4967, mgtest.Fault{Status: 503, RetryAfter: "1"}, false, "503"},
		{"HTML page", "GetMeeting", 4967, mgtest.Fault{HTML: true}, false, "HTML"},
		{"bot shield", "GetMeeting", 4967, mgtest.Fault{Status: 403}, false, "403"},
		{"timeout", "GetMeeting", 4967, mgtest.Fault{Hang: true}, false, "GetMeeting lMeetingId=4967"},
		{"switched off", "GetMeeting", 0, mgtest.Fault{}, true, "GetMeeting"},
		{"hostile XML", "GetMeeting", 4967, mgtest.Fault{Body: []byte(laughs)}, false, "DOCTYPE"},
		{"meetings list", "GetMeetings", 144, mgtest.Fault{Status: 500}, false, "GetMeetings lCommitteeId=144"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, mgtest.Recorded())
			e.mustSync(t)
			before := e.last(t)
			// The site changes a minute and drops a meeting, then fails.
			e.site.Edit(4967, func(b []byte) []byte {
				return bytes.Replace(b, []byte("as a correct record."), []byte("as amended."), 1)
			})
			if tc.op == "GetMeetings" {
				e.site.Remove(4966)
			}
			if tc.lack {
				e.site.Lack(tc.op)
			} else {
				e.site.Fail(tc.op, tc.id, tc.fault)
			}
			r := e.sync(t)
			if !r.Failed() {
				t.Fatal("the sync did not report the failure")
			}
			var out bytes.Buffer
			r.Write(&out)
			if !strings.Contains(out.String(), tc.says) || !strings.Contains(out.String(), "as they were") {
				t.Errorf("report does not say %q:\n%s", tc.says, out.String())
			}
			if got := e.changes(t, before); len(got) != 0 {
				t.Errorf("a failed read changed %v", got)
			}
			var d struct {
				Meeting struct {
					Council     struct{ Feeds []struct{ Status string } }
					AgendaItems []struct{ Minutes string }
				}
			}
			query(t, e.graphAt(store.Public), `{ meeting(id: "meeting:manchester/mg-meeting-4967") { council { feeds { status } } agendaItems { minutes } } }`, &d)
			if len(d.Meeting.AgendaItems) != 2 || strings.Contains(d.Meeting.AgendaItems[0].Minutes, "as amended") {
				t.Errorf("the meeting's records are not as they were: %+v", d.Meeting.AgendaItems)
			}
			if fs := d.Meeting.Council.Feeds; len(fs) != 1 || !strings.Contains(fs[0].Status, tc.says) {
				t.Errorf("the feed's status does not say what failed: %+v", fs)
			}

			// Once the site answers again, the sync completes.
			e.site.Heal()
			if tc.lack {
				return // the site does not offer the operation
			}
			e.mustSync(t)
			if got := e.changes(t, before); !slices.Contains(got, "UPSERT agendaItem:manchester/mg-meeting-4967/mg-item-18831") {
				t.Errorf("the healed sync changed %v", got)
			}
		})
	}
}

// TestCommitteesFailing: without the committees nothing can be read, and
// nothing is written; the feed says why.
func TestCommitteesFailing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	e.mustSync(t)
	before := e.last(t)
	e.site.Fail("GetCommittees", 0, mgtest.Fault{Status: 403})
	r := e.sync(t)
	if !r.Failed() || r.Failures[0].What != "GetCommittees" {
		t.Fatalf("failures = %+v", r.Failures)
	}
	if got := e.changes(t, before); len(got) != 0 {
		t.Errorf("changes = %v", got)
	}
	var d struct {
		Council struct {
			Feeds []struct {
				Status   string
				LastRead *string
				Records  int
			}
		}
	}
	query(t, e.graphAt(store.Public), `{ council(id: "council:manchester") { feeds { status lastRead records } } }`, &d)
	if f := d.Council.Feeds; len(f) != 1 || !strings.Contains(f[0].Status, "GetCommittees") || f[0].LastRead == nil || f[0].Records == 0 {
		t.Errorf("feeds = %+v", f)
	}
}

// TestHostileXMLIsRefusedWithinBoundedMemory: an answer far over the
// size bound is refused, reported, and costs bounded memory.
func TestHostileXMLIsRefusedWithinBoundedMemory(t *testing.T) {
	e := newEnv(t, mgtest.Recorded())
	huge := []byte(`<?xml version="1.0"?><meeting><meetingid>4967</meetingid><x>` + strings.Repeat("A", 40<<20) + `</x></meeting>`)
	e.site.Fail("GetMeeting", 4967, mgtest.Fault{Body: huge})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := e.sync(t)
	runtime.ReadMemStats(&after)
	if !r.Failed() || !strings.Contains(r.Failures[0].Msg, "larger than") {
		t.Fatalf("failures = %+v", r.Failures)
	}
	// The site's 40 MiB answer is read up to the client's 16 MiB bound;
	// the sync itself is a small fraction of that.
	if n := after.TotalAlloc - before.TotalAlloc; n > 160<<20 {
		t.Errorf("refusing it allocated %d MiB", n>>20)
	}
	var d struct{ Meeting *struct{ ID string } }
	query(t, e.graphAt(store.Public), `{ meeting(id: "meeting:manchester/mg-meeting-4966") { id } }`, &d)
	if d.Meeting == nil {
		t.Error("the meeting that read well was not written")
	}
}

// TestRestrictedDocumentsAndExemptItems: a restricted document is listed,
// its address shown to officers only (in its sources too); a restricted
// agenda item is exempt business, and its documents are officers' only.
func TestRestrictedDocumentsAndExemptItems(t *testing.T) {
	t.Parallel()
	site := mgtest.Recorded()
	site.Edit(4967, func(b []byte) []byte {
		// The work programme (60909) restricted; item 18833 (9) too.
		i := bytes.Index(b, []byte("<attachmentid>60909</attachmentid>"))
		j := i + bytes.Index(b[i:], []byte("<isrestricted>False</isrestricted>"))
		b = append(b[:j:j], append([]byte("<isrestricted>True</isrestricted>"), b[j+len("<isrestricted>False</isrestricted>"):]...)...)
		return b
	})
	e := newEnv(t, site)
	e.mustSync(t)
	q := `{ document(id: "document:manchester/mg-meeting-4967/mg-attachment-60909") { restricted url sources { document url } } }`
	var pub, off struct {
		Document *struct {
			Restricted bool
			URL        *string
			Sources    []struct {
				Document string
				URL      *string
			}
		}
	}
	query(t, e.graphAt(store.Public), q, &pub)
	query(t, e.graphAt(store.Officer), q, &off)
	if pub.Document == nil || !pub.Document.Restricted || pub.Document.URL != nil {
		t.Fatalf("public sees %+v", pub.Document)
	}
	for _, s := range pub.Document.Sources {
		if strings.Contains(s.Document+ptrS(s.URL), "60909") && strings.Contains(ptrS(s.URL), "mgConvert2PDF") {
			t.Errorf("a source gives the restricted address away: %+v", s)
		}
	}
	if off.Document == nil || off.Document.URL == nil || !strings.Contains(*off.Document.URL, "ID=60909") {
		t.Errorf("officer sees %+v", off.Document)
	}

	e.site.Edit(4967, func(b []byte) []byte {
		i := bytes.Index(b, []byte("<agendaitemid>18833</agendaitemid>"))
		j := i + bytes.Index(b[i:], []byte("<isrestricted>False</isrestricted>"))
		return append(b[:j:j], append([]byte("<isrestricted>True</isrestricted>"), b[j+len("<isrestricted>False</isrestricted>"):]...)...)
	})
	e.mustSync(t)
	var item struct {
		AgendaItem *struct {
			Exempt    bool
			Title     string
			Documents []struct{ ID string }
		}
	}
	query(t, e.graphAt(store.Public), `{ agendaItem(id: "agendaItem:manchester/mg-meeting-4967/mg-item-18833") { exempt title documents { id } } }`, &item)
	if item.AgendaItem == nil || !item.AgendaItem.Exempt || len(item.AgendaItem.Documents) != 0 {
		t.Errorf("public sees the exempt item as %+v", item.AgendaItem)
	}
	query(t, e.graphAt(store.Public), q, &pub)
	if pub.Document != nil {
		t.Errorf("public sees the exempt item's document: %+v", pub.Document)
	}
	query(t, e.graphAt(store.Officer), `{ agendaItem(id: "agendaItem:manchester/mg-meeting-4967/mg-item-18833") { exempt title documents { id } } }`, &item)
	if item.AgendaItem == nil || len(item.AgendaItem.Documents) != 1 {
		t.Errorf("officer sees the exempt item as %+v", item.AgendaItem)
	}
}

func ptrS(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestCuratedMeetingsStand: a committee whose title is a curated body's
// name is that body, a meeting of it on a day the curated set holds one
// is the curated meeting (reported, with what they disagree on, and not
// written), and the sync never changes what the curated set owns.
func TestCuratedMeetingsStand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	ctx := context.Background()
	src := func(doc string) []store.Source { return []store.Source{{Document: doc}} }
	curated := []store.Doc{
		&store.Organisation{Record: store.Record{ID: "organisation:manchester", Sources: src("council.txt")}, Name: "Manchester City Council", Kind: "LOCAL_AUTHORITY"},
		&store.Council{Record: store.Record{ID: "council:manchester", Sources: src("council.txt")}, Name: "Manchester City Council", OrganisationID: "organisation:manchester"},
		&store.Body{Record: store.Record{ID: "body:manchester/audit", Sources: src("audit.txt")}, Name: "Audit", Aliases: []string{"Audit Committee"}, Kind: "COMMITTEE"},
		&store.Meeting{Record: store.Record{ID: "meeting:manchester/audit/2026-02-10", Sources: src("audit.txt")}, BodyID: "body:manchester/audit",
			Title: "Audit Committee", Date: "2026-02-10", Status: "CANCELLED"},
	}
	for _, d := range curated {
		d.Base().Dataset = "manchester-curated"
		if err := store.Prepare(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.Put(ctx, now(), curated...); err != nil {
		t.Fatal(err)
	}
	r := e.mustSync(t)
	if len(r.Matches) != 1 || r.Matches[0].MeetingID != 4967 || r.Matches[0].Curated != "meeting:manchester/audit/2026-02-10" ||
		!strings.Contains(r.Matches[0].Conflict, "modern.gov says HELD, the curated record CANCELLED") {
		t.Errorf("matches = %+v", r.Matches)
	}
	var d struct {
		Body struct {
			Meetings struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		Synced *struct{ ID string }
	}
	query(t, e.graphAt(store.Officer), `{ body(id: "body:manchester/audit") { meetings { edges { node { id } } } }
	  synced: meeting(id: "meeting:manchester/mg-meeting-4967") { id } }`, &d)
	var ids []string
	for _, ed := range d.Body.Meetings.Edges {
		ids = append(ids, ed.Node.ID)
	}
	if !slices.Equal(ids, []string{"meeting:manchester/mg-meeting-4966", "meeting:manchester/audit/2026-02-10"}) || d.Synced != nil {
		t.Errorf("the curated body's meetings = %v, synced 4967 = %+v", ids, d.Synced)
	}
	docs, err := e.st.FindOwn(ctx, store.KindFor[store.Meeting](), []string{"meeting:manchester/audit/2026-02-10"})
	if err != nil || len(docs) != 1 || docs[0].Base().Dataset != "manchester-curated" || docs[0].(*store.Meeting).Status != "CANCELLED" {
		t.Errorf("the curated meeting changed: %+v %v", docs, err)
	}
	var out bytes.Buffer
	r.Write(&out)
	if !strings.Contains(out.String(), "meeting 4967 is the curated meeting:manchester/audit/2026-02-10: not written; conflict:") {
		t.Errorf("the report does not name the match:\n%s", out.String())
	}
}

// TestAnIDAnotherSetOwnsIsAConflict: where the sync would write a record
// another set owns, it writes nothing of the meeting that holds it (the
// refusal names the owner) and carries on with the others.
func TestAnIDAnotherSetOwnsIsAConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mgtest.Recorded())
	ctx := context.Background()
	taken := &store.AgendaItem{Record: store.Record{ID: "agendaItem:manchester/mg-meeting-4967/mg-item-18831", Sources: []store.Source{{Document: "minutes.txt"}}, Dataset: "manchester-curated"},
		MeetingID: "meeting:manchester/elsewhere", Title: "Minutes"}
	if err := e.st.Put(ctx, now(), taken); err != nil {
		t.Fatal(err)
	}
	r := e.sync(t)
	if !r.Failed() {
		t.Fatal("the sync wrote over another set's record")
	}
	var out bytes.Buffer
	r.Write(&out)
	if !strings.Contains(out.String(), "GetMeeting lMeetingId=4967: agendaItem:manchester/mg-meeting-4967/mg-item-18831: owned by manchester-curated") {
		t.Errorf("the report does not name the conflict:\n%s", out.String())
	}
	docs, err := e.st.FindOwn(ctx, store.KindFor[store.AgendaItem](), []string{taken.ID})
	if err != nil || len(docs) != 1 || docs[0].Base().Dataset != "manchester-curated" {
		t.Errorf("the curated record changed: %+v %v", docs, err)
	}
	var d struct{ A, B *struct{ ID string } }
	query(t, e.graphAt(store.Officer), `{ a: meeting(id: "meeting:manchester/mg-meeting-4966") { id } b: meeting(id: "meeting:manchester/mg-meeting-4967") { id } }`, &d)
	if d.A == nil || d.B != nil {
		t.Errorf("meeting 4966 = %+v (want written), 4967 = %+v (want not)", d.A, d.B)
	}
}
