// Package mgsync synchronises one council's records from its modern.gov
// web service: it reads committees, the meetings of a date window, each
// meeting's agenda items, minutes, documents and attendees, and the
// councillors by ward (package moderngov), turns them into records, and
// writes them as the council's feed through the importer's validation,
// ownership rules and idempotent writes.
//
// The records' IDs are the council's, from modern.gov's own identifiers:
// body:<slug>/mg-committee-<id>, meeting:<slug>/mg-meeting-<id>,
// agendaItem:<slug>/mg-meeting-<id>/mg-item-<id>,
// document:<slug>/mg-meeting-<id>/mg-attachment-<id>,
// attendance:<slug>/mg-meeting-<id>/mg-member-<id>,
// person:<slug>/mg-member-<id>, membership:<slug>/mg-councillor-<id>, and
// wards as areas of kind WARD, area:<slug>-ward-<ward>. A meeting's
// records carry its ID in theirs, so that what a meeting no longer lists
// is found without reading the store. Their owner is
// moderngov:<site address>.
//
// A curated data set and the sync coexist by these rules: the sync never
// writes a record another set owns (the importer refuses it, naming the
// owner); a committee whose title is the name or an alias of one of the
// council's curated bodies is that body (the sync's meetings refer to it,
// and it writes no body of its own); and a meeting of such a body on a day
// the curated set has a meeting of it is the curated meeting: the sync
// writes nothing of it, and reports the match, with what the two disagree
// on (status, start time) as a conflict.
package mgsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // Europe/London wherever the binary runs

	"councilgraph/importer"
	"councilgraph/moderngov"
	"councilgraph/store"
)

// Kind is the Feed.kind of a modern.gov sync.
const Kind = "moderngov"

// Options say which council a sync writes and what it reads.
type Options struct {
	// Council is the council's ID (council:<slug>): the namespace the
	// records are written in.
	Council string
	// Name and Code make the Council record (and the organisation it is)
	// when the store has none.
	Name, Code string
	// From and To bound the meetings read, both inclusive (dates; the
	// time of day is ignored).
	From, To time.Time
	// Now is the time a meeting is held or still to come against, and the
	// write's time (time.Now when nil).
	Now func() time.Time
	// Progress, when set, receives a line per committee and per meeting
	// read.
	Progress io.Writer
	// KeepChanges is how long the change log keeps its entries (see
	// importer.Options).
	KeepChanges time.Duration
}

// Failure is one read or record that failed: what was asked, and what
// happened (with what to try).
type Failure struct {
	// What names the operation and its parameters, or the record.
	What string
	Msg  string
}

// Match is a meeting modern.gov lists that the council's curated set
// already holds.
type Match struct {
	// MeetingID is modern.gov's meeting ID; Curated the curated record's.
	MeetingID int
	Curated   string
	// Conflict says what the two disagree on; empty when they agree.
	Conflict string
}

// Report is what a sync did.
type Report struct {
	// Dataset is the records' owner: moderngov:<site address>.
	Dataset string
	// Summary counts what was written to each collection.
	Summary importer.Summary
	// Committees and Meetings count what was read.
	Committees, Meetings int
	Failures             []Failure
	Matches              []Match
	// Requests is what the client sent.
	Requests moderngov.Stats
}

// Failed reports whether anything failed.
func (r *Report) Failed() bool { return len(r.Failures) > 0 }

// Write prints the summary table, the curated matches and the failures.
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "read %d committees and %d meetings in %d requests (%d retried, %d not modified)\n",
		r.Committees, r.Meetings, r.Requests.Requests, r.Requests.Retries, r.Requests.NotModified)
	if r.Summary != nil {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "collection\tinserted\tupdated\tunchanged\tdeleted\t")
		for _, c := range r.Summary {
			if c.Inserted+c.Updated+c.Unchanged+c.Deleted == 0 {
				continue
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Collection, c.Inserted, c.Updated, c.Unchanged, c.Deleted)
		}
		_ = tw.Flush()
	}
	for _, m := range r.Matches {
		fmt.Fprintf(w, "meeting %d is the curated %s: not written", m.MeetingID, m.Curated)
		if m.Conflict != "" {
			fmt.Fprintf(w, "; conflict: %s", m.Conflict)
		}
		fmt.Fprintln(w)
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(w, "%d failure(s); the records they would have replaced are as they were:\n", len(r.Failures))
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s: %s\n", f.What, f.Msg)
		}
	}
}

// Dataset is the owner a sync of the site at base gives its records.
func Dataset(base string) string { return Kind + ":" + base }

// councilID is a council's ID, council:<slug>.
var councilID = regexp.MustCompile(`^council:([a-z0-9][a-z0-9-]*)$`)

// Run reads the site through c and writes what it read as o.Council's
// feed. Failures of reads and of records are in the report (and leave the
// records they would have replaced as they were); the error is for what
// stopped the sync as a whole (the store).
func Run(ctx context.Context, st *store.Store, c *moderngov.Client, o Options) (*Report, error) {
	m := councilID.FindStringSubmatch(o.Council)
	if m == nil {
		return nil, fmt.Errorf("the council %q is not a council ID such as council:stockton-on-tees", o.Council)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	from, to := o.From.Format(time.DateOnly), o.To.Format(time.DateOnly)
	if to < from {
		return nil, fmt.Errorf("the window ends (%s) before it starts (%s)", to, from)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, err
	}
	s := &syncer{
		st: st, c: c, o: o, slug: m[1], council: o.Council, base: c.Base(), london: london,
		from: from, to: to,
		rep:   &Report{Dataset: Dataset(c.Base())},
		items: map[string][]importer.Item{}, ids: map[string]bool{},
		people: map[int]*person{}, okCommittees: map[int]bool{}, listed: map[string]bool{},
		done: map[string]bool{}, failedFiles: map[string]bool{},
	}
	s.rep.Dataset = Dataset(s.base)
	defer func() { s.rep.Requests = c.Stats() }()
	if err := s.read(ctx); err != nil {
		return s.rep, err
	}
	return s.rep, s.write(ctx)
}

// syncer is one sync's state.
type syncer struct {
	st                        *store.Store
	c                         *moderngov.Client
	o                         Options
	slug, council, base, from string
	to                        string
	london                    *time.Location
	rep                       *Report

	// items are the records built, by collection; ids those built.
	items map[string][]importer.Item
	ids   map[string]bool
	// people are the members met, by modern.gov member ID.
	people map[int]*person
	// okCommittees are the committees whose meetings were listed;
	// listed the meetings listed, done those read.
	okCommittees map[int]bool
	listed, done map[string]bool
	// bodyOf is each committee's body ID; curated the council's bodies
	// that another set owns, by folded name and alias.
	bodyOf      map[int]string
	curated     map[string]*store.Body
	councilBody string
	orgID       string
	// name is the council's name.
	name string
	// stored are the council's stored meetings in the window.
	stored []*store.Meeting
	// failedFiles are the reads whose records were dropped.
	failedFiles map[string]bool
	fatal       bool
}

// person is a member as the reads give them.
type person struct {
	id                    int
	name, party           string
	partyAt               string // the date of the meeting the party was read at
	file                  string
	fromWards, councillor bool
	element               string
	op                    string
	params                url.Values
}

func (s *syncer) progress(format string, args ...any) {
	if s.o.Progress != nil {
		fmt.Fprintf(s.o.Progress, format+"\n", args...)
	}
}

func (s *syncer) fail(what string, err error) {
	s.rep.Failures = append(s.rep.Failures, Failure{What: what, Msg: strings.TrimPrefix(err.Error(), what+": ")})
}

// add puts a record in the set, read by file; a second record with the
// same ID (a document linked twice) is left out.
func (s *syncer) add(file string, d store.Doc) {
	id := d.Base().ID
	if s.ids[id] {
		return
	}
	s.ids[id] = true
	k := store.KindOf(d)
	s.items[k.Collection] = append(s.items[k.Collection], importer.Item{File: file, Doc: d})
}

// what names an operation's read: "GetMeeting lMeetingId=4967".
func what(op string, params url.Values) string {
	if p := params.Encode(); p != "" {
		return op + " " + p
	}
	return op
}

// sources cite the web service's answer (operation, parameters and
// element) and, where there is one, the public page that shows the record.
func (s *syncer) sources(op string, params url.Values, element, page string) []store.Source {
	doc := "mgWebService.asmx/" + op
	if p := params.Encode(); p != "" {
		doc += "?" + p
	}
	addr := s.c.OperationURL(op, params)
	el := "element " + element
	out := []store.Source{{Document: doc, Title: &el, URL: &addr}}
	if page != "" {
		name := strings.TrimPrefix(page, s.base+"/")
		title := "public page"
		out = append(out, store.Source{Document: name, Title: &title, URL: &page})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func nonEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// fold is a name as compared: lowercase, runs of space and punctuation as
// one space.
func fold(v string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(v), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}), " ")
}

// slugify makes an ID segment of a name.
func slugify(v string) string { return strings.ReplaceAll(fold(v), " ", "-") }

// read reads the site and builds the records.
func (s *syncer) read(ctx context.Context) error {
	if err := s.loadCouncil(ctx); err != nil {
		return err
	}
	committees, err := s.c.Committees(ctx)
	if err != nil {
		s.fail("GetCommittees", err)
		s.fatal = true
		return nil
	}
	s.rep.Committees = len(committees)
	if err := s.loadCurated(ctx); err != nil {
		return err
	}
	s.bodyOf = map[int]string{}
	for _, cm := range committees {
		s.body(cm)
	}
	s.councilBodyFor(committees)
	from, _ := time.Parse(time.DateOnly, s.from)
	to, _ := time.Parse(time.DateOnly, s.to)
	var refs []moderngov.MeetingRef
	title := map[int]string{}
	for i, cm := range committees {
		title[cm.ID] = cm.Title
		list, err := s.c.Meetings(ctx, cm.ID, from, to)
		if err != nil {
			s.fail(what("GetMeetings", moderngov.MeetingsParams(cm.ID, from, to)), err)
			continue
		}
		s.okCommittees[cm.ID] = true
		for _, r := range list {
			// A site that ignored the window lists every meeting: keep
			// to the window asked for.
			if r.Date < s.from || r.Date > s.to || r.CommitteeID != cm.ID {
				continue
			}
			refs = append(refs, r)
			s.listed[s.meetingID(r.ID)] = true
		}
		s.progress("GetMeetings: committee %d of %d (%s): %d meetings", i+1, len(committees), cm.Title, len(list))
	}
	if err := s.loadStored(ctx); err != nil {
		return err
	}
	for i, r := range refs {
		m, err := s.c.Meeting(ctx, r.ID)
		if err != nil {
			s.fail(what("GetMeeting", moderngov.MeetingParams(r.ID)), err)
			continue
		}
		s.rep.Meetings++
		s.meeting(r, title[r.CommitteeID], m)
		s.progress("GetMeeting: %d of %d read (meeting %d, %s %s)", i+1, len(refs), r.ID, title[r.CommitteeID], r.Date)
	}
	wards, err := s.c.CouncillorsByWard(ctx)
	if err != nil {
		s.fail("GetCouncillorsByWard", err)
	} else {
		s.wards(wards)
		s.progress("GetCouncillorsByWard: %d wards", len(wards))
	}
	s.addPeople()
	return nil
}

// loadCouncil finds the Council record, or makes it (and the organisation
// it is) when the store has none.
func (s *syncer) loadCouncil(ctx context.Context) error {
	dataset := s.rep.Dataset
	docs, err := s.st.FindOwn(ctx, store.KindFor[store.Council](), []string{s.council})
	if err != nil {
		return err
	}
	if len(docs) > 0 {
		have := docs[0].(*store.Council)
		s.orgID, s.name = have.OrganisationID, have.Name
		if have.Dataset != dataset {
			return nil
		}
		// The sync made it: it keeps it, as the flags say now.
		s.o.Name = cmp.Or(s.o.Name, have.Name)
		if s.o.Code == "" && have.Code != nil {
			s.o.Code = *have.Code
		}
	}
	s.name = cmp.Or(s.o.Name, s.name)
	if s.o.Name == "" {
		return fmt.Errorf("the store has no %s: give its name (--name) to create it", s.council)
	}
	s.orgID = "organisation:" + s.slug
	src := []store.Source{{Document: "mgWebService.asmx", Title: ptr("the council's modern.gov site, named when its sync was set up"), URL: ptr(s.base)}}
	orgs, err := s.st.FindOwn(ctx, store.KindFor[store.Organisation](), []string{s.orgID})
	if err != nil {
		return err
	}
	if len(orgs) == 0 || orgs[0].Base().Dataset == dataset {
		s.add("council", &store.Organisation{Record: store.Record{ID: s.orgID, Sources: src}, Name: s.o.Name, Kind: "LOCAL_AUTHORITY"})
	}
	c := &store.Council{Record: store.Record{ID: s.council, Sources: src}, Name: s.o.Name, Code: nonEmpty(s.o.Code), OrganisationID: s.orgID}
	if s.o.Code != "" {
		have, err := s.st.ExistingIDs(ctx, "areas", []string{"area:" + s.o.Code})
		if err != nil {
			return err
		}
		if have["area:"+s.o.Code] {
			c.AreaID = ptr("area:" + s.o.Code)
		}
	}
	s.add("council", c)
	return nil
}

// officer reads the database as it is, at every level.
func officer(ctx context.Context) context.Context {
	return store.WithLevel(store.FromDatabase(ctx), store.Officer)
}

// loadCurated finds the council's bodies that another set owns.
func (s *syncer) loadCurated(ctx context.Context) error {
	s.curated = map[string]*store.Body{}
	p := store.Page{First: 500}
	for {
		res, err := s.st.FindBodies(officer(ctx), store.BodyFilter{Council: &s.council}, p)
		if err != nil {
			return err
		}
		for _, b := range res.Nodes {
			if b.Dataset == s.rep.Dataset {
				continue
			}
			for _, n := range append([]string{b.Name}, b.Aliases...) {
				if _, ok := s.curated[fold(n)]; !ok {
					s.curated[fold(n)] = b
				}
			}
			if b.Kind == "COUNCIL" && s.councilBody == "" {
				s.councilBody = b.ID
			}
		}
		if !res.HasNext || len(res.Cursors) == 0 {
			return nil
		}
		p.After = res.Cursors[len(res.Cursors)-1]
	}
}

// loadStored finds the council's meetings in the window as stored.
func (s *syncer) loadStored(ctx context.Context) error {
	p := store.Page{First: 500}
	for {
		res, err := s.st.FindMeetings(officer(ctx), store.MeetingFilter{Council: &s.council, From: &s.from, To: &s.to}, p)
		if err != nil {
			return err
		}
		s.stored = append(s.stored, res.Nodes...)
		if !res.HasNext || len(res.Cursors) == 0 {
			return nil
		}
		p.After = res.Cursors[len(res.Cursors)-1]
	}
}

// bodyKind tells a committee's kind from its title and category.
func bodyKind(title, category string) string {
	t := fold(title)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(" "+t+" ", " "+w+" ") {
				return true
			}
		}
		return false
	}
	switch {
	case t == "council" || t == "full council" || strings.HasSuffix(t, " council") && !has("committee", "board", "panel", "forum"):
		return "COUNCIL"
	case has("combined authority"):
		return "COMBINED_AUTHORITY"
	case has("cabinet", "executive"):
		return "CABINET"
	case has("sub committee", "subcommittee", "working group", "task group", "sub group", "subgroup") || strings.Contains(t, "sub-committee"):
		return "SUB_GROUP"
	case has("scrutiny", "overview and scrutiny"):
		if has("select") {
			return "SELECT_COMMITTEE"
		}
		return "SCRUTINY_COMMITTEE"
	case has("select committee"):
		return "SELECT_COMMITTEE"
	case has("partnership"):
		return "PARTNERSHIP"
	case has("board"):
		return "BOARD"
	}
	if fold(category) == "outside bodies" {
		return "OUTSIDE_BODY"
	}
	return "COMMITTEE"
}

func (s *syncer) bodyID(committee int) string {
	return fmt.Sprintf("body:%s/mg-committee-%d", s.slug, committee)
}

func (s *syncer) meetingID(meeting int) string {
	return fmt.Sprintf("meeting:%s/mg-meeting-%d", s.slug, meeting)
}

func (s *syncer) personID(member int) string {
	return fmt.Sprintf("person:%s/mg-member-%d", s.slug, member)
}

// body makes a committee's body, unless it is one of the curated set's.
func (s *syncer) body(cm moderngov.Committee) {
	if b := s.curated[fold(cm.Title)]; b != nil {
		s.bodyOf[cm.ID] = b.ID
		return
	}
	id := s.bodyID(cm.ID)
	s.bodyOf[cm.ID] = id
	params := url.Values{}
	b := &store.Body{
		Record: store.Record{ID: id, Sources: s.sources("GetCommittees", params,
			fmt.Sprintf("committee committeeid=%d", cm.ID), s.c.Page("mgCommitteeDetails.aspx", "ID", cm.ID))},
		Name: cm.Title, Kind: bodyKind(cm.Title, cm.Category), OrganisationID: &s.orgID,
	}
	switch {
	case cm.Deleted:
		b.Description = ptr("modern.gov marks this committee deleted: it is no longer listed on the council's site.")
	case cm.Expired:
		b.Description = ptr("modern.gov marks this committee expired: it no longer meets.")
	}
	s.add("GetCommittees", b)
}

// councilBodyFor settles the body councillors' seats are on: the curated
// set's council body, the site's committee for full council, or one made
// for the council.
func (s *syncer) councilBodyFor(committees []moderngov.Committee) {
	if s.councilBody != "" {
		return
	}
	for _, cm := range committees {
		if bodyKind(cm.Title, cm.Category) == "COUNCIL" && !cm.Deleted && !cm.Expired {
			s.councilBody = s.bodyOf[cm.ID]
			return
		}
	}
	s.councilBody = fmt.Sprintf("body:%s/mg-council", s.slug)
	s.add("GetCouncillorsByWard", &store.Body{
		Record: store.Record{ID: s.councilBody, Sources: s.sources("GetCouncillorsByWard", nil, "councillorsbyward", s.c.Page("mgMemberIndex.aspx", "FN", 0))},
		Name:   s.name, Kind: "COUNCIL", OrganisationID: &s.orgID,
	})
}

// status is the contract's status of a meeting modern.gov lists: one
// cancelled (or moved to another day) is CANCELLED, and otherwise one whose
// day has passed HELD.
func (s *syncer) status(published, date string) (string, *string) {
	st := strings.ToLower(strings.TrimSpace(published))
	var note *string
	if st != "" && st != "confirmed" && st != "cancelled" {
		note = ptr("modern.gov status: " + published)
	}
	switch {
	case strings.Contains(st, "cancel"), strings.Contains(st, "rescheduled"), strings.Contains(st, "postponed"),
		strings.Contains(st, "moved"), strings.Contains(st, "withdrawn"):
		return "CANCELLED", note
	case date < s.o.Now().In(s.london).Format(time.DateOnly):
		return "HELD", note
	}
	return "SCHEDULED", note
}

// attendance maps modern.gov's attendance to the contract's status; false
// for a value it cannot place.
func attendance(v string) (string, bool) {
	a := strings.ToLower(v)
	switch {
	case strings.Contains(a, "apolog"):
		return "APOLOGIES", true
	case strings.Contains(a, "absent"):
		return "ABSENT", true
	case strings.Contains(a, "expected"):
		return "EXPECTED", true
	case strings.Contains(a, "in attendance"):
		return "IN_ATTENDANCE", true
	case strings.Contains(a, "present"), strings.Contains(a, "attended"):
		return "PRESENT", true
	}
	return "", false
}

// resolved is the minute's resolution: from its paragraph that begins
// "RESOLVED" or "Decision" to its end.
var resolved = regexp.MustCompile(`(?m)^(RESOLVED|Resolved|DECISION|Decision)\b`)

func decision(minutes string) *string {
	loc := resolved.FindStringIndex(minutes)
	if loc == nil {
		return nil
	}
	return ptr(strings.TrimSpace(minutes[loc[0]:]))
}

// meeting builds one meeting's records from its GetMeeting answer, unless
// it is the curated set's.
func (s *syncer) meeting(ref moderngov.MeetingRef, title string, m *moderngov.Meeting) {
	params := moderngov.MeetingParams(m.ID)
	file := what("GetMeeting", params)
	id := s.meetingID(m.ID)
	date := cmp.Or(m.Date, ref.Date)
	if match := s.curatedMeeting(ref, date); match != nil {
		s.rep.Matches = append(s.rep.Matches, *match)
		return
	}
	s.done[id] = true
	listPage := s.base + "/ieListDocuments.aspx?" + url.Values{"CId": {strconv.Itoa(ref.CommitteeID)}, "MId": {strconv.Itoa(m.ID)}}.Encode()
	status, note := s.status(cmp.Or(m.Status, ref.Status), date)
	mt := &store.Meeting{
		Record: store.Record{ID: id, Notes: note, Sources: s.sources("GetMeeting", params, "meeting", listPage)},
		BodyID: s.bodyOf[ref.CommitteeID], Title: title, Date: date, Venue: nonEmpty(m.Location), Status: status,
	}
	if at := s.startsAt(date, cmp.Or(m.Time, ref.Time)); at != nil {
		mt.StartsAt = at
	}
	s.add(file, mt)
	for _, it := range m.Items {
		itemID := fmt.Sprintf("agendaItem:%s/mg-meeting-%d/mg-item-%d", s.slug, m.ID, it.ID)
		ai := &store.AgendaItem{
			Record: store.Record{ID: itemID, Sources: s.sources("GetMeeting", params,
				fmt.Sprintf("agendaitem agendaitemid=%d", it.ID), s.c.Page("mgAi.aspx", "ID", it.ID))},
			MeetingID: id, Number: nonEmpty(it.Number), Title: cmp.Or(it.Title, "Item "+it.Number),
			Exempt: it.Restricted, AgendaText: nonEmpty(it.AgendaText), Minutes: nonEmpty(it.MinutesText),
		}
		if m.MinutesPublished || it.MinutesText != "" {
			ai.MinuteRef = nonEmpty(it.MinuteNumber)
		}
		if it.MinutesText != "" {
			ai.Decision = decision(it.MinutesText)
		}
		s.add(file, ai)
		for _, d := range it.Documents {
			doc := &store.Document{
				Record: store.Record{ID: fmt.Sprintf("document:%s/mg-meeting-%d/mg-attachment-%d", s.slug, m.ID, d.ID)},
				Title:  cmp.Or(d.Title, fmt.Sprintf("Attachment %d", d.ID)), PublishedOn: nonEmpty(d.PublishedOn),
				Restricted: d.Restricted, MeetingID: &id, AgendaItemID: &itemID, URL: nonEmpty(d.URL),
			}
			// A restricted document's address is for officers: its
			// sources, which everyone sees, cite the item's page only.
			doc.Sources = s.sources("GetMeeting", params, fmt.Sprintf("linkeddoc attachmentid=%d", d.ID), s.c.Page("mgAi.aspx", "ID", it.ID))
			if !d.Restricted && d.URL != "" {
				doc.Sources[1] = store.Source{Document: strings.TrimPrefix(d.URL, s.base+"/"), Title: ptr(doc.Title), URL: ptr(d.URL)}
			}
			s.add(file, doc)
		}
	}
	for _, a := range m.Attendees {
		status, ok := attendance(a.Attendance)
		attID := fmt.Sprintf("attendance:%s/mg-meeting-%d/mg-member-%d", s.slug, m.ID, a.MemberID)
		if !ok {
			s.fail(file, fmt.Errorf("attendee memberid=%d: the attendance %q is none the graph knows (Present, Apologies, Absent, Expected, In attendance); this meeting's records were not written", a.MemberID, a.Attendance))
			s.failedFiles[file] = true
			continue
		}
		capacity := a.Role
		if canon := strings.ToLower(strings.ReplaceAll(status, "_", " ")); !strings.EqualFold(a.Attendance, canon) {
			capacity = strings.TrimPrefix(capacity+"; "+a.Attendance, "; ")
		}
		s.add(file, &store.Attendance{
			Record: store.Record{ID: attID, Sources: s.sources("GetMeeting", params,
				fmt.Sprintf("attendee memberid=%d", a.MemberID), s.c.Page("mgMeetingAttendance.aspx", "ID", m.ID))},
			MeetingID: id, PersonID: s.personID(a.MemberID), Status: status, Capacity: nonEmpty(capacity),
		})
		p := s.people[a.MemberID]
		if p == nil {
			p = &person{id: a.MemberID, name: a.Name, file: "members", op: "GetMeeting", params: params,
				element: fmt.Sprintf("attendee memberid=%d", a.MemberID), councillor: a.MemberType == "U"}
			s.people[a.MemberID] = p
		}
		// The party as of the latest meeting read, where the wards do
		// not give it.
		if a.Party != "" && date >= p.partyAt && !p.fromWards {
			p.party, p.partyAt = a.Party, date
		}
	}
}

// startsAt is a meeting's start in UTC from its local day and time.
func (s *syncer) startsAt(date, clock string) *time.Time {
	if clock == "" {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly+" 15:04", date+" "+clock, s.london)
	if err != nil {
		return nil
	}
	return ptr(t.UTC())
}

// curatedMeeting finds the curated meeting a modern.gov meeting is: one of
// the same (curated) body on the same day.
func (s *syncer) curatedMeeting(ref moderngov.MeetingRef, date string) *Match {
	body := s.bodyOf[ref.CommitteeID]
	if body == s.bodyID(ref.CommitteeID) {
		return nil
	}
	for _, cm := range s.stored {
		if cm.BodyID != body || cm.Date != date || cm.Dataset == s.rep.Dataset {
			continue
		}
		var conflicts []string
		status, _ := s.status(ref.Status, date)
		if status != cm.Status {
			conflicts = append(conflicts, fmt.Sprintf("modern.gov says %s, the curated record %s", status, cm.Status))
		}
		if at := s.startsAt(date, ref.Time); at != nil && cm.StartsAt != nil && !at.Equal(*cm.StartsAt) {
			conflicts = append(conflicts, fmt.Sprintf("modern.gov starts it at %s, the curated record at %s", ref.Time, cm.StartsAt.In(s.london).Format("15:04")))
		}
		return &Match{MeetingID: ref.ID, Curated: cm.ID, Conflict: strings.Join(conflicts, "; ")}
	}
	return nil
}

// wards builds the wards, as areas, and each councillor's seat.
func (s *syncer) wards(wards []moderngov.Ward) {
	for _, w := range wards {
		if w.Title == "" {
			continue
		}
		area := fmt.Sprintf("area:%s-ward-%s", s.slug, slugify(w.Title))
		s.add("GetCouncillorsByWard", &store.Area{
			Record: store.Record{ID: area, Sources: s.sources("GetCouncillorsByWard", nil, "ward wardtitle="+w.Title, "")},
			Name:   w.Title, Kind: "WARD",
		})
		for _, c := range w.Councillors {
			p := s.people[c.ID]
			if p == nil {
				p = &person{id: c.ID}
				s.people[c.ID] = p
			}
			p.name, p.party, p.fromWards, p.councillor = c.Name, cmp.Or(c.Party, c.Group), true, true
			p.file, p.op, p.params, p.element = "members", "GetCouncillorsByWard", nil, fmt.Sprintf("councillor councillorid=%d", c.ID)
			s.add("GetCouncillorsByWard", &store.Membership{
				Record: store.Record{ID: fmt.Sprintf("membership:%s/mg-councillor-%d", s.slug, c.ID),
					Sources: s.sources("GetCouncillorsByWard", nil, fmt.Sprintf("councillor councillorid=%d", c.ID), s.c.Page("mgUserInfo.aspx", "UID", c.ID))},
				PersonID: ptr(s.personID(c.ID)), BodyID: s.councilBody, Role: "MEMBER", AreaID: &area,
			})
		}
	}
}

// honorifics are the titles modern.gov prints before a member's name.
var honorifics = regexp.MustCompile(`^(Councillor|Cllr\.?|County Councillor|Mayor|Alderman|Mr|Mrs|Ms|Miss|Dr)\s+`)

// addPeople adds every member met, once, in ID order.
func (s *syncer) addPeople() {
	ids := make([]int, 0, len(s.people))
	for id := range s.people {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := s.people[id]
		name := strings.TrimSpace(p.name)
		pr := &store.Person{Record: store.Record{ID: s.personID(id),
			Sources: s.sources(p.op, p.params, p.element, s.c.Page("mgUserInfo.aspx", "UID", id))},
			Party: nonEmpty(p.party)}
		if h := honorifics.FindStringSubmatch(name); h != nil && len(name) > len(h[0]) {
			pr.Honorific, name = ptr(h[1]), name[len(h[0]):]
			pr.Aliases = []string{p.name}
		}
		pr.Name = cmp.Or(name, fmt.Sprintf("Member %d", id))
		if p.councillor {
			pr.OrganisationID = &s.orgID
		}
		s.add(p.file, pr)
	}
}

// write validates and writes what was read. A record with a problem drops
// every record of the read it came from (reported as that read's
// failure), and the rest is tried again, so that one bad meeting does not
// hold back the others.
func (s *syncer) write(ctx context.Context) error {
	if s.fatal {
		return s.putFeed(ctx)
	}
	for round := 0; ; round++ {
		s.drop()
		set := &importer.Set{Manifest: &importer.Manifest{Name: s.rep.Dataset, Councils: []string{s.council}}, Items: s.items}
		summary, err := importer.ImportSet(ctx, s.st, set, importer.Options{
			Prune: true, PruneOnly: s.scope(), Now: s.o.Now, KeepChanges: s.o.KeepChanges,
			Feed: s.feed(ctx),
		})
		var problems importer.Problems
		if !errors.As(err, &problems) {
			s.rep.Summary = summary
			return err
		}
		dropped := false
		for _, p := range problems {
			file := p.File
			if _, ok := s.fileItems()[file]; !ok || round >= 3 {
				// Not a read's (another set's record that the
				// prune would leave dangling), or no end in sight:
				// nothing is written.
				s.fatal = true
			}
			if !s.failedFiles[file] {
				dropped = true
			}
			s.failedFiles[file] = true
			p.File = ""
			s.rep.Failures = append(s.rep.Failures, Failure{What: file, Msg: strings.TrimPrefix(p.String(), ": ")})
		}
		if s.fatal || !dropped {
			s.rep.Failures = append(s.rep.Failures, Failure{What: "write", Msg: "nothing was written: the problems above concern more than one meeting's read"})
			return s.putFeed(ctx)
		}
	}
}

// fileItems counts the records of each read.
func (s *syncer) fileItems() map[string]int {
	out := map[string]int{}
	for _, items := range s.items {
		for _, it := range items {
			out[it.File]++
		}
	}
	return out
}

// drop takes the records of the failed reads out of the set; a meeting
// dropped is not read, so that what the store holds of it stays.
func (s *syncer) drop() {
	for coll, items := range s.items {
		s.items[coll] = slices.DeleteFunc(items, func(it importer.Item) bool {
			if !s.failedFiles[it.File] {
				return false
			}
			if m, ok := it.Doc.(*store.Meeting); ok {
				delete(s.done, m.ID)
			}
			delete(s.ids, it.Doc.Base().ID)
			return true
		})
	}
}

// scope is what the sync read, and may delete from when it is gone: a
// stored meeting of the window, of a committee whose meetings were
// listed, that is listed no more (or is the curated set's now), with its
// records; the records of each meeting read that it no longer lists; and
// the councillors' seats, when the wards were read. Every record of a
// meeting carries the meeting's modern.gov ID in its own, so that this
// takes no reads of the store.
func (s *syncer) scope() func(id string) bool {
	matched := map[string]bool{}
	for _, m := range s.rep.Matches {
		matched[s.meetingID(m.MeetingID)] = true
	}
	gone := map[string]bool{} // meetings to delete, with their records
	mine := map[string]bool{} // meetings whose records not read are deleted
	for _, m := range s.stored {
		if m.Dataset != s.rep.Dataset {
			continue
		}
		committee, ok := strings.CutPrefix(m.BodyID, fmt.Sprintf("body:%s/mg-committee-", s.slug))
		n, _ := strconv.Atoi(committee)
		if !ok {
			// A meeting of a curated body: its committee is the one
			// whose title names the body.
			for cm, body := range s.bodyOf {
				if body == m.BodyID && s.okCommittees[cm] {
					n = cm
				}
			}
		}
		switch {
		case !s.okCommittees[n]:
		case !s.listed[m.ID] || matched[m.ID]:
			gone[m.ID], mine[m.ID] = true, true
		case s.done[m.ID]:
			mine[m.ID] = true
		}
	}
	wardsRead := !slices.ContainsFunc(s.rep.Failures, func(f Failure) bool { return f.What == "GetCouncillorsByWard" })
	seats := fmt.Sprintf("membership:%s/mg-councillor-", s.slug)
	return func(id string) bool {
		if strings.HasPrefix(id, seats) {
			return wardsRead
		}
		m := meetingOf.FindStringSubmatch(id)
		if m == nil || m[2] != s.slug {
			return false
		}
		meeting := s.meetingID(atoi(m[3]))
		if m[1] == "meeting" {
			return gone[meeting]
		}
		return mine[meeting]
	}
}

// meetingOf finds the modern.gov meeting a record's ID names.
var meetingOf = regexp.MustCompile(`^([A-Za-z]+):([a-z0-9-]+)/mg-meeting-([0-9]+)(/|$)`)

func atoi(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}

// feed is how the read went, for the council's Feed.
func (s *syncer) feed(ctx context.Context) store.Feed {
	f := store.Feed{Kind: Kind, Name: s.base, Status: "ok"}
	if n := len(s.rep.Failures); n > 0 {
		f.Status = fmt.Sprintf("%d failure(s); the first: %s: %s", n, s.rep.Failures[0].What, s.rep.Failures[0].Msg)
		// The last read to the end stays the last; nil if none was.
		f.LastRead = s.lastRead(ctx)
	}
	return f
}

// lastRead is when the feed was last read to the end, as stored.
func (s *syncer) lastRead(ctx context.Context) *time.Time {
	if f := s.storedFeed(ctx); f != nil {
		return f.LastRead
	}
	return nil
}

func (s *syncer) storedFeed(ctx context.Context) *store.Feed {
	feeds, err := s.st.FindFeeds(ctx, []string{s.council})
	if err != nil {
		return nil
	}
	for _, f := range feeds {
		if f.Kind == Kind && f.Name == s.base {
			return f
		}
	}
	return nil
}

// putFeed records a sync that wrote nothing: its status, and the feed's
// last full read and records as they were.
func (s *syncer) putFeed(ctx context.Context) error {
	f := s.feed(ctx)
	f.Council = s.council
	if old := s.storedFeed(ctx); old != nil {
		f.Records, f.Visible, f.LastRead = old.Records, old.Visible, old.LastRead
	}
	return s.st.PutFeed(ctx, f)
}
