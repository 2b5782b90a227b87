package mgtest

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// Escape escapes s for XML text or an attribute value.
func Escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// attendances are the attendance values a generated meeting uses, as
// modern.gov sites print them.
var attendances = []string{"Present", "Present", "Present", "Apologies", "Absent", "In attendance", "Present as substitute", "Expected"}

// Generate returns a made-up site of n meetings for benchmarks and
// property tests: ten committees, sixty councillors in twenty wards, and
// meetings from 1 January 2025 every other day, each with four to nine
// agenda items (with agenda text, minutes as Word-style HTML, one or two
// linked documents, every seventh item restricted) and six attendees.
// The same n always makes the same site.
func Generate(n int) *Site {
	s := &Site{meetings: map[int]*Meeting{}, faults: map[string]*Fault{}}
	for c := range 10 {
		s.committees = append(s.committees, Committee{ID: 100 + c, Title: fmt.Sprintf("Committee %d", c+1), Category: "Committees", Expired: c == 9})
	}
	for c := range 60 {
		s.councillors = append(s.councillors, Councillor{ID: 1000 + c, Name: fmt.Sprintf("Councillor Member %d", c+1),
			Party: []string{"LAB", "CON", "LD", "IND"}[c%4], Ward: fmt.Sprintf("Ward %d", c%20+1)})
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	item, doc := 50000, 90000
	for i := range n {
		id := 5000 + i
		committee := s.committees[i%len(s.committees)]
		m := &Meeting{ID: id, CommitteeID: committee.ID, Date: start.AddDate(0, 0, 2*i), Time: "10.00 am", Status: "Confirmed"}
		if i%13 == 0 {
			m.Status = "Cancelled"
		}
		var b strings.Builder
		fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<meeting>\n  <meetingid>%d</meetingid>\n  <meetingdate>%s</meetingdate>\n  <meetingstatus>%s</meetingstatus>\n  <meetingtime>10.00 am</meetingtime>\n  <meetingplannedfinishtime>12.30 pm</meetingplannedfinishtime>\n  <meetinglocation>Room %d, Municipal Buildings</meetinglocation>\n  <agendapublished>True</agendapublished>\n  <decisionpublished>False</decisionpublished>\n  <minutepublished>True</minutepublished>\n  <agendaitems>\n",
			id, m.Date.Format("02/01/2006"), m.Status, i%5+1)
		for k := range 4 + i%6 {
			item++
			fmt.Fprintf(&b, "    <agendaitem>\n      <agendaitemid>%d</agendaitemid>\n      <agendaitemtitle>Item %d of meeting %d</agendaitemtitle>\n      <agendatext>%s</agendatext>\n      <fulldisplaynumberformat>%d.</fulldisplaynumberformat>\n      <minutesnonemptyhtmlbody>%s</minutesnonemptyhtmlbody>\n      <minutesitemnumber>%d</minutesitemnumber>\n      <isdecision>%s</isdecision>\n      <isrestricted>%s</isrestricted>\n      <linkeddocuments>\n",
				item, k+1, id,
				Escape(fmt.Sprintf(`<div class="WordSection1"><p class="MsoNormal"><span style="">The report on item %d, attached.</span></p></div>`, k+1)),
				k+1,
				Escape(fmt.Sprintf(`<div class="WordSection1"><p class="MsoNormal">The Committee considered item %d.</p><p class="MsoNormal">RESOLVED that the report be noted.</p></div>`, k+1)),
				k+1, flag(k%3 == 0), flag(item%7 == 0))
			for range 1 + k%2 {
				doc++
				fmt.Fprintf(&b, "        <linkeddoc>\n          <attachmentid>%d</attachmentid>\n          <title>Report %d</title>\n          <isurl>False</isurl>\n          <url>https://moderngov.example.gov.uk/mgConvert2PDF.aspx?ID=%d</url>\n          <isrestricted>%s</isrestricted>\n          <publicationdate>%s</publicationdate>\n        </linkeddoc>\n",
					doc, doc, doc, flag(item%7 == 0), m.Date.AddDate(0, 0, -7).Format("02/01/2006"))
			}
			b.WriteString("      </linkeddocuments>\n    </agendaitem>\n")
		}
		b.WriteString("  </agendaitems>\n  <attendees>\n")
		for a := range 6 {
			c := s.councillors[(i*6+a)%len(s.councillors)]
			fmt.Fprintf(&b, "    <attendee membertype=\"U\" memberid=\"%d\" name=\"%s\" roledescription=\"Committee Member\" attendance=\"%s\" politicalparty=\"%s\" ward=\"%s\">\n      <url>https://moderngov.example.gov.uk/mgUserInfo.aspx?UID=%d</url>\n    </attendee>\n",
				c.ID, Escape(c.Name), attendances[(i+a)%len(attendances)], c.Party, Escape(c.Ward), c.ID)
		}
		b.WriteString("  </attendees>\n</meeting>\n")
		m.Body = []byte(b.String())
		s.meetings[id] = m
	}
	return s
}
