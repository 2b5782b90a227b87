// Package moderngov reads a council's committee record from modern.gov's
// public web service (mgWebService.asmx): committees, meetings in a date
// window, each meeting's agenda items, minutes, linked documents and
// attendees, and councillors by ward. It speaks only HTTP GET and XML,
// politely (a request rate, a timeout, retries with backoff), refuses
// malformed or hostile XML within bounded memory, and says what went wrong
// in words a user can act on. It knows nothing of the store: package mgsync
// turns what it reads into records.
package moderngov

// Committee is one committee as GetCommittees lists it.
type Committee struct {
	ID       int
	Title    string
	Category string
	// Deleted and Expired are modern.gov's own flags: a deleted committee
	// was removed from the site's lists, an expired one no longer meets.
	Deleted, Expired bool
}

// MeetingRef is one meeting as GetMeetings lists it: enough to fetch it.
type MeetingRef struct {
	ID          int
	CommitteeID int
	// Date is ISO 8601 (YYYY-MM-DD); Time is 24-hour HH:MM or empty.
	Date, Time string
	Status     string
}

// Meeting is one meeting as GetMeeting gives it.
type Meeting struct {
	ID int
	// Date is ISO 8601 (YYYY-MM-DD); Time and FinishTime are 24-hour HH:MM
	// or empty.
	Date, Time, FinishTime string
	// Status as published: Confirmed, Cancelled, Rescheduled, ...
	Status   string
	Location string
	// What the site has published for it so far.
	AgendaPublished, MinutesPublished, DecisionsPublished bool
	Items                                                 []AgendaItem
	Attendees                                             []Attendee
}

// AgendaItem is one item of a meeting's agenda, in the agenda's order.
type AgendaItem struct {
	ID    int
	Title string
	// Number is the number as printed ("1", "9", "4a"); Order is its place
	// on the agenda, from 1.
	Number string
	Order  int
	// MinuteNumber is the minute's number where minutes are published.
	MinuteNumber string
	// AgendaText and MinutesText are the item's agenda text and minutes as
	// clean text; AgendaHTML and MinutesHTML the HTML they were read from.
	AgendaText, AgendaHTML   string
	MinutesText, MinutesHTML string
	// IsDecision says the item records a decision.
	IsDecision bool
	// Restricted items are exempt business: closed to the public.
	Restricted bool
	Documents  []Document
}

// Document is a document linked to an agenda item.
type Document struct {
	ID    int
	Title string
	// URL is where the site serves it; empty where it gives none.
	URL string
	// PublishedOn is ISO 8601 or empty.
	PublishedOn string
	Restricted  bool
}

// Attendee is a member listed against a meeting, with their attendance.
type Attendee struct {
	MemberID int
	// MemberType is modern.gov's letter for the kind of member ("U": a
	// user of the site, usually a councillor).
	MemberType string
	Name       string
	Role       string
	// Attendance as published: Present, Apologies, Absent, Expected,
	// "In attendance", "Present as substitute", ...
	Attendance string
	Party      string
	Ward       string
	KeyPosts   string
	// URL is the member's page (mgUserInfo.aspx?UID=).
	URL string
}

// Ward is one ward with its councillors, as GetCouncillorsByWard gives it.
type Ward struct {
	Title       string
	Councillors []Councillor
}

// Councillor is one councillor of a ward.
type Councillor struct {
	ID           int
	Name         string
	Party        string
	Group        string
	Representing string
	KeyPosts     string
}
