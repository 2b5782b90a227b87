package moderngov_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/moderngov"
	"councilgraph/moderngov/mgtest"
)

// sleeps records the waits a client asks for instead of waiting, so that
// retry tests take no time and depend on none.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func client(t *testing.T, site *mgtest.Site, opt moderngov.Options) (*moderngov.Client, *sleeps) {
	t.Helper()
	srv := site.Start(t)
	sl := &sleeps{}
	if opt.Rate == 0 {
		opt.Rate = -1
	}
	if opt.Sleep == nil {
		opt.Sleep = sl.sleep
	}
	c, err := moderngov.New(srv.URL, opt)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestReadsTheRecordedResponses reads each recorded Manchester response
// through the client and checks every field the sync uses.
func TestReadsTheRecordedResponses(t *testing.T) {
	c, _ := client(t, mgtest.Recorded(), moderngov.Options{})
	ctx := context.Background()

	committees, err := c.Committees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCommittees := []moderngov.Committee{
		{ID: 312, Title: "Appointment Sub Committee for Director of Adult Social Services", Category: "Governance and Decision Making Committees", Expired: true},
		{ID: 163, Title: "Art Galleries Committee", Category: "Governance and Decision Making Committees"},
		{ID: 144, Title: "Audit Committee", Category: "Governance and Decision Making Committees"},
	}
	if d := cmp.Diff(wantCommittees, committees); d != "" {
		t.Errorf("committees (-want +got):\n%s", d)
	}

	refs, err := c.Meetings(ctx, 144, day("2026-01-01"), day("2026-02-28"))
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []moderngov.MeetingRef{
		{ID: 4966, CommitteeID: 144, Date: "2026-01-13", Time: "10:00", Status: "Cancelled"},
		{ID: 4967, CommitteeID: 144, Date: "2026-02-10", Time: "10:00", Status: "Confirmed"},
	}
	if d := cmp.Diff(wantRefs, refs); d != "" {
		t.Errorf("meetings (-want +got):\n%s", d)
	}

	m, err := c.Meeting(ctx, 4967)
	if err != nil {
		t.Fatal(err)
	}
	want := &moderngov.Meeting{
		ID: 4967, Date: "2026-02-10", Time: "10:00", FinishTime: "14:00", Status: "Confirmed",
		Location: "Council Antechamber, Level 2, Town Hall Extension", AgendaPublished: true, MinutesPublished: true,
		Items: []moderngov.AgendaItem{{
			ID: 18831, Title: "Minutes", Number: "1", Order: 1, MinuteNumber: "1",
			AgendaText:  "To approve as a correct record the minutes of the meeting held on 25 November 2025.",
			MinutesText: "To approve the minutes of the meeting held on 25 November 2025 as a correct record.",
			Documents: []moderngov.Document{{ID: 60860, Title: "6 - CHAIR APPROVED  Minutes Audit Committee 25 Nov 2025",
				URL: "https://democracy.manchester.gov.uk/mgConvert2PDF.aspx?ID=60860", PublishedOn: "2026-02-02"}},
		}, {
			ID: 18833, Title: "Work Programme", Number: "9", Order: 2, MinuteNumber: "9",
			AgendaText:  "The report of the Governance and Scrutiny Support Unit, attached.",
			MinutesText: "The Committee considered a report of the Governance and Scrutiny Support Unit which set out its future Work Programme for the remainder of 2025/26 municipal year.",
			Documents: []moderngov.Document{{ID: 60909, Title: "DRAFT WP  FEBRUARY 2026",
				URL: "https://democracy.manchester.gov.uk/mgConvert2PDF.aspx?ID=60909", PublishedOn: "2026-02-02"}},
		}},
		Attendees: []moderngov.Attendee{{MemberID: 192, MemberType: "U", Name: "Councillor Basil Curley", Role: "Committee Member",
			Attendance: "Expected", Party: "LAB", Ward: "Charlestown", URL: "https://democracy.manchester.gov.uk/mgUserInfo.aspx?UID=192"}},
	}
	ignoreHTML := cmp.FilterPath(func(p cmp.Path) bool {
		s := p.String()
		return strings.HasSuffix(s, "AgendaHTML") || strings.HasSuffix(s, "MinutesHTML")
	}, cmp.Ignore())
	if d := cmp.Diff(want, m, ignoreHTML); d != "" {
		t.Errorf("meeting 4967 (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(m.Items[0].MinutesHTML, `<div class="WordSection1">`) {
		t.Errorf("the minutes' HTML is not kept: %q", m.Items[0].MinutesHTML)
	}

	cancelled, err := c.Meeting(ctx, 4966)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != "Cancelled" || len(cancelled.Items) != 0 || cancelled.AgendaPublished ||
		len(cancelled.Attendees) != 1 || cancelled.Attendees[0].KeyPosts != "Chair of Health Scrutiny Committee" {
		t.Errorf("meeting 4966 = %+v", cancelled)
	}

	wards, err := c.CouncillorsByWard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]moderngov.Ward{{Title: "Charlestown", Councillors: []moderngov.Councillor{{ID: 192, Name: "Councillor Basil Curley", Party: "LAB"}}}}, wards); d != "" {
		t.Errorf("wards (-want +got):\n%s", d)
	}
}

// TestTheServerListsMeetingsAsRecorded holds the test server's GetMeetings
// to the recorded answer, so that what it makes up for other windows and
// generated sites has the real shape.
func TestTheServerListsMeetingsAsRecorded(t *testing.T) {
	site := mgtest.Recorded()
	srv := site.Start(t)
	recorded, err := mgtest.RecordedFile("meetings.xml")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/mgWebService.asmx/GetMeetings?" + moderngov.MeetingsParams(144, day("2026-01-01"), day("2026-02-28")).Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	got.ReadFrom(resp.Body)
	if d := cmp.Diff(string(recorded), got.String()); d != "" {
		t.Errorf("GetMeetings differs from the recording (-recorded +served):\n%s", d)
	}
}

// TestDatesGoAsTheServiceReadsThem: the service ignores an ISO date and
// answers every meeting, so the client must send dd/mm/yyyy.
func TestDatesGoAsTheServiceReadsThem(t *testing.T) {
	site := mgtest.Recorded()
	c, _ := client(t, site, moderngov.Options{})
	refs, err := c.Meetings(context.Background(), 144, day("2026-02-01"), day("2026-02-28"))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].ID != 4967 {
		t.Errorf("February's meetings = %+v, want 4967 alone", refs)
	}
	reqs := site.Requests()
	if q := reqs[len(reqs)-1].Query; q.Get("sFromDate") != "01/02/2026" || q.Get("sToDate") != "28/02/2026" || q.Get("lCommitteeId") != "144" {
		t.Errorf("GetMeetings was sent %v", q)
	}
	srv := site.Start(t)
	resp, err := http.Get(srv.URL + "/mgWebService.asmx/GetMeetings?lCommitteeId=144&sFromDate=2026-02-01&sToDate=2026-02-28")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if !strings.Contains(body.String(), "<meetingid>4966</meetingid>") {
		t.Errorf("the test server does not ignore ISO dates as the service does:\n%s", body.String())
	}
}

// TestPolite: every request names the client, and a second read of an
// unchanged answer is a conditional request answered 304.
func TestPolite(t *testing.T) {
	site := mgtest.Recorded()
	c, _ := client(t, site, moderngov.Options{UserAgent: "councilgraph-test/1"})
	ctx := context.Background()
	first, err := c.Committees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Committees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(first, second); d != "" {
		t.Errorf("the 304's answer differs:\n%s", d)
	}
	reqs := site.Requests()
	for _, r := range reqs {
		if r.UserAgent != "councilgraph-test/1" {
			t.Errorf("%s sent User-Agent %q", r.Op, r.UserAgent)
		}
	}
	if len(reqs) != 2 || reqs[0].IfNoneMatch != "" || reqs[1].IfNoneMatch == "" {
		t.Errorf("requests = %+v, want a plain one then a conditional one", reqs)
	}
	if s := c.Stats(); s.Requests != 2 || s.NotModified != 1 {
		t.Errorf("stats = %+v", s)
	}
}

// TestAddresses: the site's address may be given with or without the
// service's path, and one that is not an http(s) address is refused.
func TestAddresses(t *testing.T) {
	c, err := moderngov.New("https://moderngov.example.gov.uk/mgWebService.asmx/", moderngov.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.OperationURL("GetMeeting", moderngov.MeetingParams(7)); got != "https://moderngov.example.gov.uk/mgWebService.asmx/GetMeeting?lMeetingId=7" {
		t.Errorf("operation URL = %s", got)
	}
	if got := c.Page("mgAi.aspx", "ID", 18831); got != "https://moderngov.example.gov.uk/mgAi.aspx?ID=18831" {
		t.Errorf("page = %s", got)
	}
	for _, bad := range []string{"", "moderngov.example.gov.uk", "ftp://x", "https://"} {
		if _, err := moderngov.New(bad, moderngov.Options{}); err == nil || !strings.Contains(err.Error(), "site address") {
			t.Errorf("New(%q) = %v, want an error naming the site address", bad, err)
		}
	}
}

// TestFailures: each way a real site fails is reported by kind, with what
// to try, retried only where trying again can help, and honouring
// Retry-After.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   mgtest.Fault
		kind    moderngov.Kind
		tries   int
		says    string
		waits   []time.Duration
		succeed bool
	}{
		{name: "503 twice then answers", fault: mgtest.Fault{Status: 503, RetryAfter: "7", Times: 2}, tries: 3, succeed: true, waits: []time.Duration{7 * time.Second, 7 * time.Second}},
		{name: "500 always", fault: mgtest.Fault{Status: 500}, kind: moderngov.Unavailable, tries: 3, says: "500 Internal Server Error (after 3 tries)"},
		{name: "429 asking for an hour", fault: mgtest.Fault{Status: 429, RetryAfter: "3600"}, kind: moderngov.Unavailable, tries: 1, says: "wait 1h0m0s"},
		{name: "HTML page", fault: mgtest.Fault{HTML: true}, kind: moderngov.NotXML, tries: 1, says: "HTML page"},
		{name: "bot shield", fault: mgtest.Fault{Status: 403}, kind: moderngov.Forbidden, tries: 1, says: "bot shield"},
		{name: "switched off", fault: mgtest.Fault{Status: 404}, kind: moderngov.NotFound, tries: 1, says: "no web service at this address"},
		{name: "hangs", fault: mgtest.Fault{Hang: true}, kind: moderngov.Timeout, tries: 3, says: "no answer within"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := mgtest.Recorded()
			site.Fail("GetMeeting", 4967, tc.fault)
			c, sl := client(t, site, moderngov.Options{Retries: 2, Timeout: 50 * time.Millisecond})
			m, err := c.Meeting(context.Background(), 4967)
			if got := len(site.Requests()); got != tc.tries {
				t.Errorf("%d requests, want %d", got, tc.tries)
			}
			if tc.succeed {
				if err != nil || m.ID != 4967 {
					t.Fatalf("Meeting = %v, %v", m, err)
				}
				if d := cmp.Diff(tc.waits, sl.d); d != "" {
					t.Errorf("waits (-want +got):\n%s", d)
				}
				return
			}
			var e *moderngov.Error
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want a *moderngov.Error", err)
			}
			if e.Kind != tc.kind || e.Op != "GetMeeting" || e.Params != "lMeetingId=4967" || !strings.Contains(e.Error(), tc.says) || e.Hint == "" {
				t.Errorf("error = %v (kind %v), want kind %v saying %q with a hint", e, e.Kind, tc.kind, tc.says)
			}
			if len(sl.d) != tc.tries-1 {
				t.Errorf("waited %d times for %d tries", len(sl.d), tc.tries)
			}
		})
	}
}

// TestAnOperationASiteLacks is reported as unsupported, and not retried.
func TestAnOperationASiteLacks(t *testing.T) {
	site := mgtest.Recorded()
	site.Lack("GetCouncillorsByWard")
	c, _ := client(t, site, moderngov.Options{})
	_, err := c.CouncillorsByWard(context.Background())
	var e *moderngov.Error
	if !errors.As(err, &e) || e.Kind != moderngov.Unsupported || !strings.Contains(err.Error(), "does not offer GetCouncillorsByWard") {
		t.Fatalf("error = %v, want unsupported", err)
	}
	if n := len(site.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestHostileXML: answers that could cost without bound are refused with
// a clear error, within bounded memory.
func TestHostileXML(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><meeting><meetingid>&lol3;</meetingid></meeting>`
	deep := `<?xml version="1.0"?><meeting>` + strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000) + `</meeting>`
	external := `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><meeting><meetingid>&x;</meetingid></meeting>`
	for _, tc := range []struct {
		name, body, says string
		kind             moderngov.Kind
	}{
		{"entity expansion", laughs, "DOCTYPE", moderngov.Malformed},
		{"external entity", external, "DOCTYPE", moderngov.Malformed},
		{"deep nesting", deep, "nest deeper than", moderngov.Malformed},
		{"huge", `<?xml version="1.0"?><meeting><meetingid>1</meetingid><x>` + strings.Repeat("A", 3<<20) + `</x></meeting>`, "larger than", moderngov.TooLarge},
		{"wrong encoding", `<?xml version="1.0" encoding="UTF-16"?><meeting></meeting>`, "UTF-16", moderngov.Malformed},
		{"not closed", `<?xml version="1.0"?><meeting><meetingid>4967</meetingid>`, "unexpected EOF", moderngov.Malformed},
		{"another root", `<?xml version="1.0"?><committees></committees>`, "root element is <committees>", moderngov.Malformed},
		{"bad date", `<?xml version="1.0"?><meeting><meetingid>4967</meetingid><meetingdate>2026-02-10</meetingdate></meeting>`, `<meetingdate> is "2026-02-10"`, moderngov.Malformed},
		{"another meeting", `<?xml version="1.0"?><meeting><meetingid>1</meetingid><meetingdate>10/02/2026</meetingdate></meeting>`, "asked for meeting 4967", moderngov.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := mgtest.Recorded()
			site.Fail("GetMeeting", 4967, mgtest.Fault{Body: []byte(tc.body)})
			c, _ := client(t, site, moderngov.Options{MaxBytes: 2 << 20})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := c.Meeting(context.Background(), 4967)
			runtime.ReadMemStats(&after)
			var e *moderngov.Error
			if !errors.As(err, &e) || e.Kind != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error = %v, want kind %v saying %q", err, tc.kind, tc.says)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("refusing it allocated %d MiB", n>>20)
			}
		})
	}
}

// TestLatin1 reads a response in an encoding modern.gov sites declare.
func TestLatin1(t *testing.T) {
	body := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><committees><committee><committeeid>1</committeeid><committeetitle>Caf\xe9 Committee</committeetitle></committee></committees>")
	site := mgtest.Recorded()
	site.Fail("GetCommittees", 0, mgtest.Fault{Body: body})
	c, _ := client(t, site, moderngov.Options{})
	got, err := c.Committees(context.Background())
	if err != nil || len(got) != 1 || got[0].Title != "Café Committee" {
		t.Fatalf("Committees = %+v, %v", got, err)
	}
}

// TestGeneratedSite reads a generated site whole: every listed meeting
// reads, and the numbers are what Generate promises.
func TestGeneratedSite(t *testing.T) {
	c, _ := client(t, mgtest.Generate(40), moderngov.Options{})
	ctx := context.Background()
	committees, err := c.Committees(ctx)
	if err != nil || len(committees) != 10 {
		t.Fatalf("committees = %d, %v", len(committees), err)
	}
	read, restricted := 0, 0
	for _, cm := range committees {
		refs, err := c.Meetings(ctx, cm.ID, day("2025-01-01"), day("2025-12-31"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			m, err := c.Meeting(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Items) < 4 || len(m.Attendees) != 6 || m.Date != r.Date {
				t.Errorf("meeting %d: %d items, %d attendees, date %s (listed %s)", m.ID, len(m.Items), len(m.Attendees), m.Date, r.Date)
			}
			for _, it := range m.Items {
				if it.Restricted {
					restricted++
				}
				if it.MinutesText == "" || len(it.Documents) == 0 {
					t.Errorf("item %d has no minutes or documents", it.ID)
				}
			}
			read++
		}
	}
	if read != 40 || restricted == 0 {
		t.Errorf("read %d meetings (%d restricted items), want 40 and some restricted", read, restricted)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ html, want string }{
		{"", ""},
		{`<div class="WordSection1"><p class="MsoNormal"><span style="">To approve as a correct
record.</span></p></div>`, "To approve as a correct record."},
		{"<p>One</p><p>Two&nbsp;&amp; three</p>", "One\nTwo & three"},
		{"<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"<table><tr><td>Name</td><td>Party</td></tr><tr><td>A</td><td>LAB</td></tr></table>", "Name | Party\nA | LAB"},
		{"<p>Kept</p><script>alert(1)</script><style>p{}</style><p>too</p>", "Kept\ntoo"},
		{"line<br>break", "line\nbreak"},
	} {
		if got := moderngov.Text(tc.html); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.html, got, tc.want)
		}
	}
}

func ExampleError() {
	e := &moderngov.Error{Op: "GetMeeting", Params: "lMeetingId=4967", Status: 403, Kind: moderngov.Forbidden,
		Reason: "the site refused the request (403 Forbidden)", Hint: "try later"}
	fmt.Println(e)
	// Output: GetMeeting lMeetingId=4967: the site refused the request (403 Forbidden); try later
}
