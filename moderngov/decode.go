package moderngov

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// maxDepth is the deepest element nesting a response may have: modern.gov's
// deepest (a linked document of an agenda item of a meeting) is five.
const maxDepth = 32

// errMalformed marks a response that is not the XML it should be.
var errMalformed = errors.New("malformed XML")

// checkXML reads a response once as tokens before it is decoded, and
// refuses what could cost without bound or be misread: a DOCTYPE (whose
// entity declarations can expand exponentially; modern.gov sends none),
// nesting deeper than maxDepth, and encodings other than UTF-8, ISO-8859-1
// and Windows-1252. The body is already bounded in size by the reader.
func checkXML(body []byte, root string) error {
	d := newDecoder(body)
	depth, first := 0, true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if first {
				return fmt.Errorf("%w: the response is empty", errMalformed)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errMalformed, err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return fmt.Errorf("%w: it declares a DOCTYPE, which modern.gov never sends; refused, since its entities could expand without bound", errMalformed)
		case xml.StartElement:
			if first && t.Name.Local != root {
				return fmt.Errorf("%w: its root element is <%s>, not <%s>", errMalformed, t.Name.Local, root)
			}
			first = false
			if depth++; depth > maxDepth {
				return fmt.Errorf("%w: elements nest deeper than %d", errMalformed, maxDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

func newDecoder(body []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "iso-8859-1", "latin1", "latin-1":
			return charmap.ISO8859_1.NewDecoder().Reader(r), nil
		case "windows-1252", "cp1252":
			return charmap.Windows1252.NewDecoder().Reader(r), nil
		}
		return nil, fmt.Errorf("the declared encoding %q is not one modern.gov uses (UTF-8, ISO-8859-1, Windows-1252)", label)
	}
	return d
}

// decode checks body and decodes it into v, whose root element is root.
func decode(body []byte, root string, v any) error {
	if err := checkXML(body, root); err != nil {
		return err
	}
	if err := newDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	return nil
}

// The XML shapes, as the recorded responses have them (testdata/).

type xmlCommittees struct {
	Committees []struct {
		ID       string `xml:"committeeid"`
		Title    string `xml:"committeetitle"`
		Deleted  string `xml:"committeedeleted"`
		Expired  string `xml:"committeeexpired"`
		Category string `xml:"committeecategory"`
	} `xml:"committee"`
}

type xmlMeetings struct {
	Committees []struct {
		ID       string `xml:"committeeid"`
		Meetings []struct {
			ID     string `xml:"meetingid"`
			Date   string `xml:"meetingdate"`
			Status string `xml:"meetingstatus"`
			Time   string `xml:"meetingtime"`
		} `xml:"committeemeetings>meeting"`
	} `xml:"committee"`
}

type xmlMeeting struct {
	ID                 string `xml:"meetingid"`
	Date               string `xml:"meetingdate"`
	Status             string `xml:"meetingstatus"`
	Time               string `xml:"meetingtime"`
	FinishTime         string `xml:"meetingplannedfinishtime"`
	Location           string `xml:"meetinglocation"`
	AgendaPublished    string `xml:"agendapublished"`
	DecisionsPublished string `xml:"decisionpublished"`
	MinutesPublished   string `xml:"minutepublished"`
	Items              []struct {
		ID              string `xml:"agendaitemid"`
		Title           string `xml:"agendaitemtitle"`
		AgendaText      string `xml:"agendatext"`
		Number          string `xml:"fulldisplaynumberformat"`
		Minutes         string `xml:"minutesnonemptyhtmlbody"`
		MinutesNumber   string `xml:"minutesitemnumber"`
		MinutesSub      string `xml:"minutesitemsubnumber"`
		IsDecision      string `xml:"isdecision"`
		IsRestricted    string `xml:"isrestricted"`
		LinkedDocuments []struct {
			ID              string `xml:"attachmentid"`
			Title           string `xml:"title"`
			URL             string `xml:"url"`
			IsRestricted    string `xml:"isrestricted"`
			PublicationDate string `xml:"publicationdate"`
		} `xml:"linkeddocuments>linkeddoc"`
	} `xml:"agendaitems>agendaitem"`
	Attendees []struct {
		MemberType string `xml:"membertype,attr"`
		MemberID   string `xml:"memberid,attr"`
		Name       string `xml:"name,attr"`
		Role       string `xml:"roledescription,attr"`
		Attendance string `xml:"attendance,attr"`
		Party      string `xml:"politicalparty,attr"`
		Ward       string `xml:"ward,attr"`
		KeyPosts   string `xml:"keyposts,attr"`
		URL        string `xml:"url"`
	} `xml:"attendees>attendee"`
}

type xmlWards struct {
	Wards []struct {
		Title       string `xml:"wardtitle"`
		Councillors []struct {
			ID           string `xml:"councillorid"`
			Name         string `xml:"fullusername"`
			Party        string `xml:"politicalpartytitle"`
			Group        string `xml:"politicalgrouptitle"`
			Representing string `xml:"representing"`
			KeyPosts     string `xml:"keyposts"`
		} `xml:"councillors>councillor"`
	} `xml:"wards>ward"`
}

// fields converts the text of elements, collecting the first problem with
// the element's name so that a bad response is reported by what was bad.
type fields struct{ err error }

func (f *fields) fail(elem, value, want string) {
	if f.err == nil {
		f.err = fmt.Errorf("%w: <%s> is %q, not %s", errMalformed, elem, value, want)
	}
}

// id reads a required positive integer.
func (f *fields) id(elem, s string) int {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		f.fail(elem, s, "a positive whole number")
	}
	return n
}

// flag reads modern.gov's True/False; empty is false.
func (f *fields) flag(elem, s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true
	case "false", "":
		return false
	}
	f.fail(elem, s, "True or False")
	return false
}

// date reads dd/mm/yyyy into YYYY-MM-DD; required reports an empty one.
func (f *fields) date(elem, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" && !required {
		return ""
	}
	t, err := time.Parse("02/01/2006", s)
	if err != nil {
		f.fail(elem, s, "a date as dd/mm/yyyy")
		return ""
	}
	return t.Format(time.DateOnly)
}

var clock = regexp.MustCompile(`(?i)^(\d{1,2})(?:[.:](\d{2}))?\s*([ap])\.?\s*m\.?$|^(\d{1,2}):(\d{2})$`)

// clockTime reads "10.00 am", "2 pm", "2.30 p.m." or "14:30" into HH:MM;
// empty is empty.
func (f *fields) clockTime(elem, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	m := clock.FindStringSubmatch(s)
	if m == nil {
		f.fail(elem, s, "a time such as 10.00 am")
		return ""
	}
	var h, min int
	if m[4] != "" {
		h, _ = strconv.Atoi(m[4])
		min, _ = strconv.Atoi(m[5])
	} else {
		h, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			min, _ = strconv.Atoi(m[2])
		}
		if h < 1 || h > 12 {
			f.fail(elem, s, "a time such as 10.00 am")
			return ""
		}
		h %= 12
		if strings.EqualFold(m[3], "p") {
			h += 12
		}
	}
	if h > 23 || min > 59 {
		f.fail(elem, s, "a time of day")
		return ""
	}
	return fmt.Sprintf("%02d:%02d", h, min)
}

func parseCommittees(body []byte) ([]Committee, error) {
	var x xmlCommittees
	if err := decode(body, "committees", &x); err != nil {
		return nil, err
	}
	var f fields
	out := make([]Committee, 0, len(x.Committees))
	for _, c := range x.Committees {
		out = append(out, Committee{
			ID:       f.id("committeeid", c.ID),
			Title:    strings.TrimSpace(c.Title),
			Category: strings.TrimSpace(c.Category),
			Deleted:  f.flag("committeedeleted", c.Deleted),
			Expired:  f.flag("committeeexpired", c.Expired),
		})
	}
	return out, f.err
}

func parseMeetings(body []byte) ([]MeetingRef, error) {
	var x xmlMeetings
	if err := decode(body, "getmeetings", &x); err != nil {
		return nil, err
	}
	var f fields
	var out []MeetingRef
	for _, c := range x.Committees {
		committee := f.id("committeeid", c.ID)
		for _, m := range c.Meetings {
			out = append(out, MeetingRef{
				ID:          f.id("meetingid", m.ID),
				CommitteeID: committee,
				Date:        f.date("meetingdate", m.Date, true),
				Time:        f.clockTime("meetingtime", m.Time),
				Status:      strings.TrimSpace(m.Status),
			})
		}
	}
	return out, f.err
}

func parseMeeting(body []byte) (*Meeting, error) {
	var x xmlMeeting
	if err := decode(body, "meeting", &x); err != nil {
		return nil, err
	}
	var f fields
	m := &Meeting{
		ID:                 f.id("meetingid", x.ID),
		Date:               f.date("meetingdate", x.Date, true),
		Time:               f.clockTime("meetingtime", x.Time),
		FinishTime:         f.clockTime("meetingplannedfinishtime", x.FinishTime),
		Status:             strings.TrimSpace(x.Status),
		Location:           strings.TrimSpace(x.Location),
		AgendaPublished:    f.flag("agendapublished", x.AgendaPublished),
		MinutesPublished:   f.flag("minutepublished", x.MinutesPublished),
		DecisionsPublished: f.flag("decisionpublished", x.DecisionsPublished),
	}
	for i, it := range x.Items {
		item := AgendaItem{
			ID:           f.id("agendaitemid", it.ID),
			Title:        strings.TrimSpace(it.Title),
			Number:       strings.TrimSuffix(strings.TrimSpace(it.Number), "."),
			Order:        i + 1,
			MinuteNumber: strings.TrimSpace(it.MinutesNumber) + strings.TrimSpace(it.MinutesSub),
			AgendaHTML:   strings.TrimSpace(it.AgendaText),
			AgendaText:   Text(it.AgendaText),
			MinutesHTML:  strings.TrimSpace(it.Minutes),
			MinutesText:  Text(it.Minutes),
			IsDecision:   f.flag("isdecision", it.IsDecision),
			Restricted:   f.flag("isrestricted", it.IsRestricted),
		}
		for _, d := range it.LinkedDocuments {
			item.Documents = append(item.Documents, Document{
				ID:          f.id("attachmentid", d.ID),
				Title:       strings.TrimSpace(d.Title),
				URL:         strings.TrimSpace(d.URL),
				PublishedOn: f.date("publicationdate", d.PublicationDate, false),
				Restricted:  f.flag("isrestricted", d.IsRestricted),
			})
		}
		m.Items = append(m.Items, item)
	}
	for _, a := range x.Attendees {
		m.Attendees = append(m.Attendees, Attendee{
			MemberID:   f.id("attendee memberid", a.MemberID),
			MemberType: strings.TrimSpace(a.MemberType),
			Name:       strings.TrimSpace(a.Name),
			Role:       strings.TrimSpace(a.Role),
			Attendance: strings.TrimSpace(a.Attendance),
			Party:      strings.TrimSpace(a.Party),
			Ward:       strings.TrimSpace(a.Ward),
			KeyPosts:   strings.TrimSpace(a.KeyPosts),
			URL:        strings.TrimSpace(a.URL),
		})
	}
	return m, f.err
}

func parseWards(body []byte) ([]Ward, error) {
	var x xmlWards
	if err := decode(body, "councillorsbyward", &x); err != nil {
		return nil, err
	}
	var f fields
	out := make([]Ward, 0, len(x.Wards))
	for _, w := range x.Wards {
		ward := Ward{Title: strings.TrimSpace(w.Title)}
		for _, c := range w.Councillors {
			ward.Councillors = append(ward.Councillors, Councillor{
				ID:           f.id("councillorid", c.ID),
				Name:         strings.TrimSpace(c.Name),
				Party:        strings.TrimSpace(c.Party),
				Group:        strings.TrimSpace(c.Group),
				Representing: strings.TrimSpace(c.Representing),
				KeyPosts:     strings.TrimSpace(c.KeyPosts),
			})
		}
		out = append(out, ward)
	}
	return out, f.err
}
