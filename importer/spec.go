package importer

import "councilgraph/store"

// spec describes one collection's file: its name, the ID prefix of its
// records, how to make an empty record and how to check one.
type spec struct {
	name   string
	prefix string
	new    func() store.Doc
	check  func(*checker, store.Doc)
}

// specs lists the collections in the order an import writes them.
var specs = []spec{
	{"organisations", "organisation", func() store.Doc { return &store.Organisation{} }, checkOrganisation},
	{"people", "person", func() store.Doc { return &store.Person{} }, checkPerson},
	{"bodies", "body", func() store.Doc { return &store.Body{} }, checkBody},
	{"memberships", "membership", func() store.Doc { return &store.Membership{} }, checkMembership},
	{"meetings", "meeting", func() store.Doc { return &store.Meeting{} }, checkMeeting},
	{"attendance", "attendance", func() store.Doc { return &store.Attendance{} }, checkAttendance},
	{"agendaItems", "agendaItem", func() store.Doc { return &store.AgendaItem{} }, checkAgendaItem},
	{"reports", "report", func() store.Doc { return &store.Report{} }, checkReport},
	{"declarations", "declaration", func() store.Doc { return &store.Declaration{} }, checkDeclaration},
	{"plans", "plan", func() store.Doc { return &store.Plan{} }, checkPlan},
	{"priorities", "priority", func() store.Doc { return &store.Priority{} }, checkPriority},
	{"actions", "action", func() store.Doc { return &store.Action{} }, checkAction},
	{"indicators", "indicator", func() store.Doc { return &store.Indicator{} }, checkIndicator},
	{"areas", "area", func() store.Doc { return &store.Area{} }, checkArea},
	{"observations", "observation", func() store.Doc { return &store.Observation{} }, checkObservation},
}

func specFor(name string) *spec {
	for i := range specs {
		if specs[i].name == name {
			return &specs[i]
		}
	}
	return nil
}

func collectionNames() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
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
	c.ref("organisationId", "organisations", v.OrganisationID)
}

func checkBody(c *checker, d store.Doc) {
	v := d.(*store.Body)
	c.required("name", v.Name)
	c.enum("kind", "BodyKind", &v.Kind)
	c.ref("organisationId", "organisations", v.OrganisationID)
	c.ref("parentId", "bodies", v.ParentID)
	if v.ParentID != nil && *v.ParentID == v.ID {
		c.problem("parentId", "a body cannot report to itself")
	}
}

func checkMembership(c *checker, d store.Doc) {
	v := d.(*store.Membership)
	c.ref("personId", "people", v.PersonID)
	c.ref("bodyId", "bodies", &v.BodyID)
	c.enum("role", "MembershipRole", &v.Role)
	c.ref("representingId", "organisations", v.RepresentingID)
	c.dateRange("startDate", v.StartDate, "endDate", v.EndDate)
	if v.PersonID == nil && v.Post == nil && v.RepresentingID == nil {
		c.problem("personId", "a membership needs a person, a post or the organisation that holds the seat")
	}
}

func checkMeeting(c *checker, d store.Doc) {
	v := d.(*store.Meeting)
	c.ref("bodyId", "bodies", &v.BodyID)
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
	c.ref("meetingId", "meetings", &v.MeetingID)
	c.ref("personId", "people", &v.PersonID)
	c.enum("status", "AttendanceStatus", &v.Status)
	c.ref("representingId", "organisations", v.RepresentingID)
}

func checkAgendaItem(c *checker, d store.Doc) {
	v := d.(*store.AgendaItem)
	c.ref("meetingId", "meetings", &v.MeetingID)
	c.required("title", v.Title)
	c.ref("presenterId", "people", v.PresenterID)
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
	c.ref("meetingId", "meetings", v.MeetingID)
	c.ref("agendaItemId", "agendaItems", v.AgendaItemID)
	c.ref("authorId", "people", v.AuthorID)
	c.ref("leadMemberId", "people", v.LeadMemberID)
	c.refs("priorityIds", "priorities", v.PriorityIDs)
	c.refs("indicatorIds", "indicators", v.IndicatorIDs)
}

func checkDeclaration(c *checker, d store.Doc) {
	v := d.(*store.Declaration)
	c.ref("personId", "people", &v.PersonID)
	c.ref("agendaItemId", "agendaItems", &v.AgendaItemID)
	c.enum("kind", "DeclarationKind", &v.Kind)
}

func checkPlan(c *checker, d store.Doc) {
	v := d.(*store.Plan)
	c.required("title", v.Title)
	c.dateRange("startDate", v.StartDate, "endDate", v.EndDate)
	c.ref("ownerId", "bodies", v.OwnerID)
}

func checkPriority(c *checker, d store.Doc) {
	v := d.(*store.Priority)
	c.ref("planId", "plans", &v.PlanID)
	c.required("title", v.Title)
	c.refs("indicatorIds", "indicators", v.IndicatorIDs)
	c.refs("leadIds", "bodies", v.LeadIDs)
	for i, u := range v.Updates {
		f := c.nested("updates", i)
		c.required(f+".text", u.Text)
		c.date(f+".date", u.Date)
		c.enum(f+".rag", "RAG", u.Rag)
		c.ref(f+".reportId", "reports", u.ReportID)
		c.sources(f+".sources", u.Sources)
	}
}

func checkAction(c *checker, d store.Doc) {
	v := d.(*store.Action)
	c.required("title", v.Title)
	c.ref("ownerId", "people", v.OwnerID)
	c.ref("ownerBodyId", "bodies", v.OwnerBodyID)
	c.date("dueDate", v.DueDate)
	c.enum("status", "RAG", v.Status)
	c.ref("priorityId", "priorities", v.PriorityID)
	c.ref("planId", "plans", v.PlanID)
	c.ref("agendaItemId", "agendaItems", v.AgendaItemID)
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
	c.ref("indicatorId", "indicators", &v.IndicatorID)
	c.ref("areaId", "areas", &v.AreaID)
	c.required("period", v.Period)
	c.dateRange("periodStart", v.PeriodStart, "periodEnd", v.PeriodEnd)
	checkFigures(c, v)
}
