package importer

import (
	"fmt"
	"regexp"

	"councilgraph/store"
)

// checks are the rules of each kind beyond those every record follows (an
// ID with the kind's prefix, sources, a visibility, and references that
// name records, all read from the store's kinds table): required fields,
// enum values, dates. A kind without an entry follows only those.
var checks = map[string]func(*checker, store.Doc){
	"Organisation": checkOrganisation,
	"Person":       checkPerson,
	"Body":         checkBody,
	"Membership":   checkMembership,
	"Meeting":      checkMeeting,
	"Attendance":   checkAttendance,
	"AgendaItem":   checkAgendaItem,
	"Report":       checkReport,
	"Declaration":  checkDeclaration,
	"Plan":         checkPlan,
	"Priority":     checkPriority,
	"Action":       checkAction,
	"Indicator":    checkIndicator,
	"Area":         checkArea,
	"Observation":  checkObservation,
	"Inspection":   checkInspection,

	"OrganisationAttendance": checkOrganisationAttendance,
}

// kindOfFile is the kind a data set file holds: the collection's name.
func kindOfFile(collection string) *store.Kind {
	if k := store.KindNamed(collection); k != nil && k.Collection == collection {
		return k
	}
	return nil
}

func collectionNames() []string {
	var out []string
	for _, k := range store.Kinds() {
		out = append(out, k.Collection)
	}
	return out
}

func checkOrganisation(c *checker, d store.Doc) {
	v := d.(*store.Organisation)
	c.required("name", v.Name)
	c.enum("kind", "OrganisationKind", &v.Kind)
}

func checkPerson(c *checker, d store.Doc) {
	v := d.(*store.Person)
	c.required("name", v.Name)
}

func checkBody(c *checker, d store.Doc) {
	v := d.(*store.Body)
	c.required("name", v.Name)
	c.enum("kind", "BodyKind", &v.Kind)
	if v.ParentID != nil && *v.ParentID == v.ID {
		c.problem("parentId", "a body cannot report to itself")
	}
}

func checkMembership(c *checker, d store.Doc) {
	v := d.(*store.Membership)
	c.enum("role", "MembershipRole", &v.Role)
	c.dateRange("startDate", v.StartDate, "endDate", v.EndDate)
	c.published("term", v.Term, v.Sources)
	if v.PersonID == nil && v.Post == nil && v.RepresentingID == nil {
		c.problem("personId", "a membership needs a person, a post or the organisation that holds the seat")
	}
	checkSeatRole(c, v)
}

// portfolio matches a post that names a portfolio: 'Cabinet Member for
// Children and Young People', 'Lead Member for …'.
var portfolio = regexp.MustCompile(`(?i)\b(cabinet|lead) member for\b`)

// checkSeatRole holds a seat's role to what the seat is: one held for an
// organisation (representingId) is REPRESENTATIVE unless the document gives
// it a more particular role (chair, lead member, officer, substitute), and
// a post that names a portfolio is LEAD_MEMBER; MEMBER is left for a seat
// held in a person's own right.
func checkSeatRole(c *checker, v *store.Membership) {
	if v.Role != "MEMBER" {
		return
	}
	switch {
	case v.RepresentingID != nil:
		c.problem("role", fmt.Sprintf("a seat held for %s (representingId) is REPRESENTATIVE, or the chair's, lead member's, officer's or substitute's role the document prints, not MEMBER", *v.RepresentingID))
	case v.Post != nil && portfolio.MatchString(*v.Post):
		c.problem("role", fmt.Sprintf("the post %q names a portfolio: its holder is LEAD_MEMBER, not MEMBER", *v.Post))
	}
}

func checkMeeting(c *checker, d store.Doc) {
	v := d.(*store.Meeting)
	c.required("title", v.Title)
	c.date("date", &v.Date)
	c.required("date", v.Date)
	c.enum("status", "MeetingStatus", &v.Status)
	if v.StartsAt != nil && v.EndsAt != nil && v.EndsAt.Before(*v.StartsAt) {
		c.problem("endsAt", "ends before it starts")
	}
}

func checkAttendance(c *checker, d store.Doc) {
	v := d.(*store.Attendance)
	c.enum("status", "AttendanceStatus", &v.Status)
}

func checkAgendaItem(c *checker, d store.Doc) {
	v := d.(*store.AgendaItem)
	c.required("title", v.Title)
	c.enum("outcome", "DecisionOutcome", v.Outcome)
	if v.ExemptionParagraph != nil && (*v.ExemptionParagraph < 1 || *v.ExemptionParagraph > 7) {
		c.problem("exemptionParagraph", "Schedule 12A has paragraphs 1 to 7")
	}
	if v.ExemptionParagraph != nil && !v.Exempt {
		c.problem("exemptionParagraph", "given for an item that is not exempt")
	}
}

func checkReport(c *checker, d store.Doc) {
	v := d.(*store.Report)
	c.required("title", v.Title)
}

func checkDeclaration(c *checker, d store.Doc) {
	v := d.(*store.Declaration)
	c.enum("kind", "DeclarationKind", &v.Kind)
}

func checkPlan(c *checker, d store.Doc) {
	v := d.(*store.Plan)
	c.required("title", v.Title)
	c.dateRange("startDate", v.StartDate, "endDate", v.EndDate)
}

func checkPriority(c *checker, d store.Doc) {
	v := d.(*store.Priority)
	c.required("title", v.Title)
	for i, u := range v.Updates {
		f := c.nested("updates", i)
		c.required(f+".text", u.Text)
		c.date(f+".date", u.Date)
		c.enum(f+".rag", "RAG", u.Rag)
		c.ref(f+".reportId", "reports", u.ReportID)
		c.sources(f+".sources", u.Sources)
		c.published(f+".period", u.Period, u.Sources)
	}
}

func checkAction(c *checker, d store.Doc) {
	v := d.(*store.Action)
	c.required("title", v.Title)
	checkDue(c, v)
	c.enum("status", "RAG", v.Status)
}

func checkIndicator(c *checker, d store.Doc) {
	v := d.(*store.Indicator)
	c.required("name", v.Name)
	c.enum("unit", "IndicatorUnit", &v.Unit)
	c.enum("polarity", "Polarity", &v.Polarity)
}

func checkArea(c *checker, d store.Doc) {
	v := d.(*store.Area)
	c.required("name", v.Name)
	c.enum("kind", "AreaKind", &v.Kind)
}

func checkObservation(c *checker, d store.Doc) {
	v := d.(*store.Observation)
	c.dateRange("periodStart", v.PeriodStart, "periodEnd", v.PeriodEnd)
	checkFigures(c, v)
	checkFigure(c, v)
	checkPrintedValue(c, v)
}
