// Package mgtest is a modern.gov web service for tests: it answers
// GetCommittees, GetMeetings, GetMeeting and GetCouncillorsByWard on a
// loopback port, from real recorded responses (Manchester City Council's,
// in testdata/) or from a generated site of any size, and fails on demand
// in the ways real sites fail (5xx with Retry-After, HTML pages, 403 bot
// shields, hangs, hostile XML).
package mgtest

import (
	"cmp"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed testdata/manchester/*.xml
var recorded embed.FS

// Committee is a committee of the site.
type Committee struct {
	ID               int
	Title, Category  string
	Deleted, Expired bool
}

// Meeting is a meeting of the site: what GetMeetings lists, and the
// GetMeeting answer as bytes.
type Meeting struct {
	ID, CommitteeID int
	Date            time.Time
	Time, Status    string
	Body            []byte
}

// Councillor is a councillor of the site, listed by GetCouncillorsByWard.
type Councillor struct {
	ID                int
	Name, Party, Ward string
}

// Request is one request the server received.
type Request struct {
	Op          string
	Query       url.Values
	UserAgent   string
	IfNoneMatch string
}

// Fault is a failure the server answers with instead of the operation's
// answer.
type Fault struct {
	// Status, with Body (or a short text) and RetryAfter, when not 0.
	Status     int
	RetryAfter string
	// HTML answers 200 with an HTML page, as a switched-off service or a
	// captive page does.
	HTML bool
	// Hang holds the request until the client gives up.
	Hang bool
	// Body answers 200 text/xml with these bytes (hostile XML).
	Body []byte
	// Times is how many requests fail before the real answer is given
	// again; 0 fails every one.
	Times int
}

// Site is a modern.gov site the server answers for. Its methods are safe
// for concurrent use with the server.
type Site struct {
	mu          sync.Mutex
	committees  []Committee
	meetings    map[int]*Meeting
	councillors []Councillor
	// committeesXML, when set, is answered for GetCommittees as is.
	committeesXML []byte
	faults        map[string]*Fault
	lacks         map[string]bool
	requests      []Request
}

// Recorded returns the site of the recorded Manchester responses: three
// committees, and the Audit Committee's meetings 4966 (cancelled, no
// agenda) and 4967 (two agenda items with minutes and documents), whose
// GetCommittees and GetMeeting answers are served byte for byte; its one
// councillor is the meetings' attendee.
func Recorded() *Site {
	read := func(name string) []byte {
		b, err := RecordedFile(name)
		if err != nil {
			panic(err)
		}
		return b
	}
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	return &Site{
		committeesXML: read("committees.xml"),
		committees: []Committee{
			{ID: 312, Title: "Appointment Sub Committee for Director of Adult Social Services", Category: "Governance and Decision Making Committees", Expired: true},
			{ID: 163, Title: "Art Galleries Committee", Category: "Governance and Decision Making Committees"},
			{ID: 144, Title: "Audit Committee", Category: "Governance and Decision Making Committees"},
		},
		meetings: map[int]*Meeting{
			4966: {ID: 4966, CommitteeID: 144, Date: day("2026-01-13"), Time: "10.00 am", Status: "Cancelled", Body: read("meeting_no_minutes.xml")},
			4967: {ID: 4967, CommitteeID: 144, Date: day("2026-02-10"), Time: "10.00 am", Status: "Confirmed", Body: read("meeting_with_minutes.xml")},
		},
		councillors: []Councillor{{ID: 192, Name: "Councillor Basil Curley", Party: "LAB", Ward: "Charlestown"}},
		faults:      map[string]*Fault{},
	}
}

// Start serves the site on a loopback port until the test ends.
func (s *Site) Start(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// Fail makes requests for op fail; with id, only those for that committee
// or meeting (GetMeetings' lCommitteeId, GetMeeting's lMeetingId).
func (s *Site) Fail(op string, id int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[faultKey(op, id)] = &f
}

// Lack makes the site answer op as a site without it does.
func (s *Site) Lack(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lacks == nil {
		s.lacks = map[string]bool{}
	}
	s.lacks[op] = true
}

// RecordedFile returns one of the recorded responses by its file name.
func RecordedFile(name string) ([]byte, error) {
	return recorded.ReadFile("testdata/manchester/" + name)
}

// Heal ends every failure.
func (s *Site) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// Edit changes a meeting's GetMeeting answer.
func (s *Site) Edit(id int, change func([]byte) []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meetings[id]
	m.Body = change(m.Body)
}

// Remove takes a meeting off the site.
func (s *Site) Remove(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.meetings, id)
}

// Requests returns the requests received so far.
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func faultKey(op string, id int) string {
	if id == 0 {
		return op
	}
	return op + "/" + strconv.Itoa(id)
}

// ServeHTTP answers GET /mgWebService.asmx/<operation>.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, "/mgWebService.asmx/")
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.requests = append(s.requests, Request{Op: op, Query: q, UserAgent: r.UserAgent(), IfNoneMatch: r.Header.Get("If-None-Match")})
	id, _ := strconv.Atoi(q.Get(map[string]string{"GetMeetings": "lCommitteeId", "GetMeeting": "lMeetingId"}[op]))
	f := s.faults[faultKey(op, id)]
	if f == nil {
		f = s.faults[op]
	}
	if f != nil && f.Times > 0 {
		if f.Times--; f.Times == 0 {
			delete(s.faults, faultKey(op, id))
			delete(s.faults, op)
		}
	}
	var body []byte
	if f == nil {
		body, ok = s.answer(op, q)
	}
	s.mu.Unlock()
	switch {
	case f != nil && f.Hang:
		<-r.Context().Done()
		return
	case f != nil && f.HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>This service is not available</h1></body></html>")
		return
	case f != nil && f.Body != nil:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.Write(f.Body)
		return
	case f != nil:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(w, http.StatusText(f.Status), f.Status)
		return
	case !ok:
		// ASP.NET's answer to an operation a site does not offer.
		http.Error(w, "System.InvalidOperationException: Request format is unrecognized for URL unexpectedly ending in '/"+op+"'. (soap)", http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(body)
}

// answer makes an operation's answer; false for an operation it lacks.
func (s *Site) answer(op string, q url.Values) ([]byte, bool) {
	if s.lacks[op] {
		return nil, false
	}
	switch op {
	case "GetCommittees":
		if s.committeesXML != nil {
			return s.committeesXML, true
		}
		return s.renderCommittees(), true
	case "GetMeetings":
		return s.renderMeetings(q), true
	case "GetMeeting":
		id, _ := strconv.Atoi(q.Get("lMeetingId"))
		if m := s.meetings[id]; m != nil {
			return m.Body, true
		}
		// modern.gov answers an unknown meeting with an empty one.
		return []byte("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<meeting>\n  <meetingid>0</meetingid>\n</meeting>\n"), true
	case "GetCouncillorsByWard":
		return s.renderWards(), true
	}
	return nil, false
}

// renderMeetings answers GetMeetings in the recorded shape. Like the real
// service, it reads the dates only as dd/mm/yyyy: any other form (an ISO
// date) is ignored and every meeting is listed.
func (s *Site) renderMeetings(q url.Values) []byte {
	committee, _ := strconv.Atoi(q.Get("lCommitteeId"))
	from, errFrom := time.Parse("02/01/2006", q.Get("sFromDate"))
	to, errTo := time.Parse("02/01/2006", q.Get("sToDate"))
	var list []*Meeting
	for _, m := range s.meetings {
		if m.CommitteeID != committee {
			continue
		}
		if errFrom == nil && errTo == nil && (m.Date.Before(from) || m.Date.After(to)) {
			continue
		}
		list = append(list, m)
	}
	slices.SortFunc(list, func(a, b *Meeting) int { return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.ID, b.ID)) })
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<getmeetings>\n")
	fmt.Fprintf(&b, "  <meetingscount> %d</meetingscount>\n", len(list))
	title := ""
	for _, c := range s.committees {
		if c.ID == committee {
			title = c.Title
		}
	}
	if title == "" {
		b.WriteString("  <committeescount> 0</committeescount>\n</getmeetings>\n")
		return []byte(b.String())
	}
	b.WriteString("  <committeescount> 1</committeescount>\n  <committee>\n")
	fmt.Fprintf(&b, "    <committeeid>%d</committeeid>\n    <committeetitle>%s</committeetitle>\n", committee, Escape(title))
	fmt.Fprintf(&b, "    <committeemeetingcount> %d</committeemeetingcount>\n    <committeemeetings>\n", len(list))
	for _, m := range list {
		fmt.Fprintf(&b, "      <meeting>\n        <meetingid>%d</meetingid>\n        <meetingdate>%s</meetingdate>\n        <meetingstatus>%s</meetingstatus>\n        <meetingtime>%s</meetingtime>\n        <iswebcast>False</iswebcast>\n      </meeting>\n",
			m.ID, m.Date.Format("02/01/2006"), Escape(m.Status), Escape(m.Time))
	}
	b.WriteString("    </committeemeetings>\n  </committee>\n</getmeetings>\n")
	return []byte(b.String())
}

func (s *Site) renderCommittees() []byte {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<committees>\n")
	fmt.Fprintf(&b, "  <committeescount> %d</committeescount>\n", len(s.committees))
	for _, c := range s.committees {
		fmt.Fprintf(&b, "  <committee>\n    <committeeid>%d</committeeid>\n    <committeetitle>%s</committeetitle>\n    <committeedeleted>%s</committeedeleted>\n    <committeeexpired>%s</committeeexpired>\n    <committeecategory>%s</committeecategory>\n  </committee>\n",
			c.ID, Escape(c.Title), flag(c.Deleted), flag(c.Expired), Escape(c.Category))
	}
	b.WriteString("</committees>\n")
	return []byte(b.String())
}

// renderWards answers GetCouncillorsByWard in the shape modern.gov
// documents (no recorded answer of it is public): wards in order of
// title, each with its councillors.
func (s *Site) renderWards() []byte {
	wards := map[string][]Councillor{}
	for _, c := range s.councillors {
		wards[c.Ward] = append(wards[c.Ward], c)
	}
	titles := make([]string, 0, len(wards))
	for w := range wards {
		titles = append(titles, w)
	}
	slices.Sort(titles)
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<councillorsbyward>\n  <wards>\n")
	for _, w := range titles {
		fmt.Fprintf(&b, "    <ward>\n      <wardtitle>%s</wardtitle>\n      <councillors>\n        <councillorcount>%d</councillorcount>\n", Escape(w), len(wards[w]))
		for _, c := range wards[w] {
			fmt.Fprintf(&b, "        <councillor>\n          <councillorid>%d</councillorid>\n          <fullusername>%s</fullusername>\n          <politicalpartytitle>%s</politicalpartytitle>\n        </councillor>\n",
				c.ID, Escape(c.Name), Escape(c.Party))
		}
		b.WriteString("      </councillors>\n    </ward>\n")
	}
	b.WriteString("  </wards>\n</councillorsbyward>\n")
	return []byte(b.String())
}

func flag(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
