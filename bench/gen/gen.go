// Package gen generates synthetic councilgraph data sets for the benchmarks:
// deterministic from a seed, shaped like a real council's published record
// (bodies with years of monthly meetings, agenda items, reports with authors
// and organisations, attendance, declarations, plans with priorities and
// actions, indicators with observations for the council and its comparator
// areas), at any number of councils. One council is about 10,000 records, so
// scale S is 1 council, M 10 and L 100 (about 1,000,000 records).
//
// IDs follow the graph's scheme: council c is council:c000 (CouncilID), its
// records are <type>:c000/<local key>, and the shared registries keep keys
// of their own: areas by GSS code (the comparator group by slug), and
// organisations and indicators by slugs unique to their council, except
// the comparator areas and national organisations every council refers
// to. Each council is a data set of its own (SetName), which states those
// shared records as every other does: with the same facts, citing its own
// document.
//
// Records are produced council by council, so that memory stays bounded by
// one council however large the set; Write stores them through store.Put,
// the same prepare-and-insert code the importer uses, as if every
// council's set had been imported in turn; WriteSets writes each council's
// set as a folder the importer reads (set.yaml and all), and WriteDir all
// of them as one set.
package gen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"councilgraph/store"
)

// Config says what to generate.
type Config struct {
	// Seed makes the set; the same seed and councils give the same records.
	Seed uint64
	// Councils is how many councils' worth of records to make.
	Councils int
	// Sample, above 1, makes each council smaller for the generator's own
	// tests, which check how records are written and stored rather than
	// what a benchmark measures: each body keeps every Sample-th of its
	// meetings (still from 2020 to 2024, held and scheduled), and the
	// council its first IndicatorsPerCouncil/Sample indicators; every kind
	// of record stays. The benchmarks leave it 0, the shape the constants
	// below say, on which BENCHMARKS.md's figures stand.
	Sample int
}

// meetingStep is how many of a body's meetings each one made stands for.
func (cfg Config) meetingStep() int { return max(1, cfg.Sample) }

// indicators is how many indicators each council has.
func (cfg Config) indicators() int { return max(1, IndicatorsPerCouncil/cfg.meetingStep()) }

// Scales maps the benchmark scale names to a number of councils.
var Scales = map[string]int{"S": 1, "M": 10, "L": 100}

// Shape of one council. Changing these changes every figure in
// BENCHMARKS.md, so do it deliberately.
const (
	PeoplePerCouncil      = 100 // 60 councillors, 30 officers, 10 partner representatives
	councillors           = 60
	officers              = 30
	PartnersPerCouncil    = 9 // local partner organisations besides the council
	BodiesPerCouncil      = 10
	MembersPerBody        = 8
	MeetingsPerBody       = 60 // monthly, January 2020 to December 2024
	ItemsPerMeeting       = 4
	ReportsPerMeeting     = 2 // on items 2 and 4
	AttendancePerMeeting  = 8 // held meetings only
	PlansPerCouncil       = 3
	PrioritiesPerPlan     = 10
	ActionsPerPriority    = 3
	IndicatorsPerCouncil  = 50
	PeriodsPerIndicator   = 8 // quarters of 2021 and 2022
	firstYear             = 2020
	lastYear              = 2024
	comparatorAreaCount   = 5
	declarationEveryNth   = 4 // one declaration at every fourth held meeting
	endedMembershipEveryN = 5 // one membership in five has ended
)

// RefDate is the day the data set treats as today: meetings before it were
// held, meetings from it on are scheduled.
const RefDate = "2023-01-01"

// SharedAreas are the comparator areas every council's figures quote: Key
// is the area's ID key (its GSS code where it has one), Slug what an
// observation's ID calls it.
var SharedAreas = []struct{ Key, Slug, Name, Kind string }{
	{"E92000001", "england", "England", "COUNTRY"},
	{"E12000001", "north-east", "North East", "REGION"},
	{"E12000002", "north-west", "North West", "REGION"},
	{"E12000003", "yorkshire-and-the-humber", "Yorkshire and The Humber", "REGION"},
	{"statistical-neighbours", "statistical-neighbours", "Statistical neighbours", "COMPARATOR_GROUP"},
}

// sharedOrgs are national organisations that every council's partners include.
var sharedOrgs = []struct{ Slug, Name, Kind string }{
	{"ofsted", "Ofsted", "REGULATOR"},
	{"department-for-education", "Department for Education", "GOVERNMENT"},
	{"nhs-england", "NHS England", "NHS_COMMISSIONER"},
	{"probation-service", "Probation Service", "PROBATION"},
	{"homes-england", "Homes England", "HOUSING"},
}

// recordsPerCouncil is how many records one council of cfg contributes.
func (cfg Config) recordsPerCouncil() int {
	meetings := 0
	for i := 0; i < MeetingsPerBody; i += cfg.meetingStep() {
		meetings += BodiesPerCouncil
	}
	held := BodiesPerCouncil * cfg.heldPerBody()
	indicators := cfg.indicators()
	return 1 + 1 + PartnersPerCouncil + PeoplePerCouncil + BodiesPerCouncil +
		BodiesPerCouncil*MembersPerBody + meetings + meetings*ItemsPerMeeting +
		meetings*ReportsPerMeeting + held*AttendancePerMeeting + cfg.declarations() +
		PlansPerCouncil + PlansPerCouncil*PrioritiesPerPlan +
		PlansPerCouncil*PrioritiesPerPlan*ActionsPerPriority +
		1 + indicators + indicators*PeriodsPerIndicator*(1+comparatorAreaCount)
}

func (cfg Config) heldPerBody() int {
	n := 0
	for i := 0; i < MeetingsPerBody; i += cfg.meetingStep() {
		if MeetingDate(0, i) < RefDate {
			n++
		}
	}
	return n
}

func (cfg Config) declarations() int {
	n := 0
	for b := range BodiesPerCouncil {
		for i := 0; i < MeetingsPerBody; i += cfg.meetingStep() {
			if MeetingDate(b, i) < RefDate && i%declarationEveryNth == 0 {
				n++
			}
		}
	}
	return n
}

// SharedRecords is how many records the store holds besides its
// councils': the comparator areas and national organisations, which every
// council's set states too.
func SharedRecords() int { return len(SharedAreas) + len(sharedOrgs) }

// Total is how many records a store of cfg.Councils councils holds.
func (cfg Config) Total() int { return SharedRecords() + cfg.Councils*cfg.recordsPerCouncil() }

// SetRecords is how many records one council's set folder holds: its own
// and the shared records it states.
func (cfg Config) SetRecords() int { return SharedRecords() + cfg.recordsPerCouncil() }

// IDs of generated records, for the benchmarks to ask for.

// CouncilSlug names council c: its ID is council:<slug>, and its records'
// IDs start <type>:<slug>/.
func CouncilSlug(c int) string { return fmt.Sprintf("c%03d", c) }

// CouncilID is council c's Council record.
func CouncilID(c int) string { return "council:" + CouncilSlug(c) }

// SetName is the data set that holds council c's records (its set.yaml
// name).
func SetName(c int) string { return "synthetic-" + CouncilSlug(c) }

// scoped is a council-owned record's ID: <prefix>:<council slug>/<key>.
func scoped(prefix string, c int, key string, a ...any) string {
	return prefix + ":" + CouncilSlug(c) + "/" + fmt.Sprintf(key, a...)
}

// OrganisationID is council c's own organisation (a shared registry's
// record, by a slug no other council's uses).
func OrganisationID(c int) string { return "organisation:" + CouncilSlug(c) + "-council" }

// PartnerID is council c's p-th local partner organisation.
func PartnerID(c, p int) string { return fmt.Sprintf("organisation:%s-partner-%d", CouncilSlug(c), p) }

// PersonID is council c's p-th person: councillors first, then officers,
// then partner representatives.
func PersonID(c, p int) string { return scoped("person", c, "p%03d", p) }

// BodyID is council c's b-th body; body 0 is the full council, 1 the cabinet.
func BodyID(c, b int) string { return scoped("body", c, "b%02d", b) }

// MeetingDate is the date of body b's i-th meeting: monthly from January
// 2020, on the (5+b)th of the month.
func MeetingDate(b, i int) string {
	return fmt.Sprintf("%04d-%02d-%02d", firstYear+i/12, i%12+1, 5+b%20)
}

// MeetingID is council c's body b's i-th meeting:
// meeting:<council>/<body key>/<date>, as the graph keys meetings.
func MeetingID(c, b, i int) string { return scoped("meeting", c, "b%02d/%s", b, MeetingDate(b, i)) }

// AgendaItemID is item n (1-based) of a meeting.
func AgendaItemID(c, b, i, n int) string {
	return scoped("agendaItem", c, "b%02d/%s/%d", b, MeetingDate(b, i), n)
}

// ReportID is the report to item n (1-based) of a meeting.
func ReportID(c, b, i, n int) string {
	return scoped("report", c, "b%02d/%s/%d", b, MeetingDate(b, i), n)
}

// MemberOf is the councillor (a person index) in body b's k-th seat; the
// last two seats of boards and partnerships (bodies 7 on) are held by
// partner representatives instead.
func MemberOf(b, k int) int { return (b*7 + k*3) % councillors }

// IndicatorID is council c's i-th indicator (a shared registry's record,
// by a slug no other council's uses).
func IndicatorID(c, i int) string { return fmt.Sprintf("indicator:%s-i%02d", CouncilSlug(c), i) }

// AreaCode is the GSS code of council c's own area: a unitary authority's
// E06, numbered from 900000 so as not to be any real council's.
func AreaCode(c int) string { return fmt.Sprintf("E06%06d", 900000+c) }

// AreaID is council c's own area, keyed by its GSS code.
func AreaID(c int) string { return "area:" + AreaCode(c) }

// PlanID is council c's p-th plan.
func PlanID(c, p int) string { return scoped("plan", c, "plan-%d", p) }

// PriorityID is priority n of plan p.
func PriorityID(c, p, n int) string { return scoped("priority", c, "plan-%d/%d", p, n+1) }

var (
	themes      = []string{"Children and young people", "Adult social care", "Economy and regeneration", "Housing", "Environment", "Community safety", "Health and wellbeing", "Finance"}
	topics      = []string{"children's services", "school admissions", "adult social care", "budget monitoring", "housing strategy", "youth justice", "public health", "climate change", "libraries", "highways", "children in care", "safeguarding", "council tax", "waste collection", "leisure centres", "regeneration"}
	itemKinds   = []string{"Annual report on", "Update on", "Review of", "Consultation on", "Performance of", "Strategy for", "Scrutiny of", "Funding for"}
	bodyNames   = []string{"Council", "Cabinet", "Children and Young People Select Committee", "Adult Social Care Select Committee", "Executive Scrutiny Committee", "Planning Committee", "Licensing Committee", "Health and Wellbeing Board", "Children's Partnership", "Community Safety Partnership"}
	bodyKinds   = []string{"COUNCIL", "CABINET", "SELECT_COMMITTEE", "SELECT_COMMITTEE", "SCRUTINY_COMMITTEE", "COMMITTEE", "COMMITTEE", "BOARD", "PARTNERSHIP", "PARTNERSHIP"}
	partnerKind = []string{"POLICE", "NHS_TRUST", "NHS_COMMISSIONER", "FIRE_AND_RESCUE", "EDUCATION", "HOUSING", "VOLUNTARY_SECTOR", "COMBINED_AUTHORITY", "PRIVATE_SECTOR"}
	firstNames  = []string{"Ann", "Bob", "Carol", "David", "Eve", "Frank", "Grace", "Harry", "Irene", "Jack", "Karen", "Liam", "Mary", "Niall", "Olive", "Peter", "Ruth", "Sam", "Tara", "Umar", "Vera", "Will", "Yasmin", "Zoe"}
	lastNames   = []string{"Clark", "Cook", "McCoy", "Dixon", "Evans", "Fletcher", "Gibson", "Hall", "Innes", "Jones", "Kelly", "Lewis", "Moore", "Nash", "Owens", "Patel", "Quinn", "Reid", "Smith", "Turner", "Usher", "Vaughan", "Walker", "Young"}
	jobTitles   = []string{"Director of Children's Services", "Head of Finance", "Democratic Services Officer", "Assistant Director of Adult Social Care", "Head of Housing", "Public Health Consultant", "Head of Planning", "Head of Community Safety"}
	units       = []string{"COUNT", "PERCENT", "DAYS", "WEEKS", "GBP", "RANK"}
	polarities  = []string{"HIGHER_IS_BETTER", "LOWER_IS_BETTER", "NO_JUDGEMENT"}
	rags        = []string{"RED", "AMBER", "GREEN", "COMPLETE", "NOT_STARTED"}
	outcomes    = []string{"AGREED", "APPROVED", "NOTED", "RECEIVED", "DEFERRED"}
	declKinds   = []string{"DISCLOSABLE_PECUNIARY", "OTHER_REGISTERABLE", "NON_REGISTERABLE", "UNSPECIFIED"}
)

func ptr[T any](v T) *T { return &v }

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// rec makes the shared fields of a record; every record names a synthetic
// source document and a line range in it.
func rec(r *rand.Rand, c int, id string) store.Record {
	line := 1 + r.IntN(5000)
	return store.Record{ID: id, Sources: []store.Source{{
		Document: "synthetic-" + CouncilSlug(c) + ".txt",
		Locator:  ptr(fmt.Sprintf("lines %d-%d", line, line+r.IntN(20))),
	}}}
}

// Shared returns the records every council refers to, the comparator
// areas and the national organisations, as council c's set states them:
// every council states the same facts, citing its own document.
func Shared(c int) []store.Doc {
	var docs []store.Doc
	doc := "synthetic-" + CouncilSlug(c) + ".txt"
	for _, a := range SharedAreas {
		area := &store.Area{Record: store.Record{ID: "area:" + a.Key, Sources: []store.Source{{Document: doc, Locator: ptr("lines 1-1")}}}, Name: a.Name, Kind: a.Kind}
		if a.Key != a.Slug {
			area.Code = ptr(a.Key)
		}
		docs = append(docs, area)
	}
	for _, o := range sharedOrgs {
		docs = append(docs, &store.Organisation{Record: store.Record{ID: "organisation:" + o.Slug, Sources: []store.Source{{Document: doc, Locator: ptr("lines 2-2")}}}, Name: o.Name, Kind: o.Kind})
	}
	return docs
}

// Council returns council c's records, in an order where every record comes
// after the records it refers to. The same seed and c give the same records.
func Council(seed uint64, c int) []store.Doc { return Config{Seed: seed}.council(c) }

// council returns council c's records as Council does, in cfg's shape.
func (cfg Config) council(c int) []store.Doc {
	r := rand.New(rand.NewPCG(cfg.Seed, uint64(c)))
	indicators := cfg.indicators()
	docs := make([]store.Doc, 0, cfg.recordsPerCouncil())
	add := func(d store.Doc) { docs = append(docs, d) }
	town := fmt.Sprintf("Borough %03d", c)

	// Organisations: the council and its local partners.
	add(&store.Organisation{Record: rec(r, c, OrganisationID(c)), Name: town + " Council", Kind: "LOCAL_AUTHORITY", Aliases: []string{fmt.Sprintf("B%03dC", c)}})
	for p := range PartnersPerCouncil {
		add(&store.Organisation{Record: rec(r, c, PartnerID(c, p)), Name: fmt.Sprintf("%s %s partner %d", town, partnerKind[p], p), Kind: partnerKind[p]})
	}

	// People: councillors, officers, partner representatives.
	for p := range PeoplePerCouncil {
		name := fmt.Sprintf("%s %s %03d", pick(r, firstNames), pick(r, lastNames), p)
		person := &store.Person{Record: rec(r, c, PersonID(c, p)), Name: name, OrganisationID: ptr(OrganisationID(c))}
		switch {
		case p < councillors:
			person.Honorific = ptr("Cllr")
			person.Aliases = []string{"Cllr " + name, "Councillor " + name}
		case p < councillors+officers:
			person.JobTitle = ptr(pick(r, jobTitles))
			person.Email = ptr(fmt.Sprintf("p%03d@%s.example", p, CouncilSlug(c)))
		default:
			person.OrganisationID = ptr(PartnerID(c, p%PartnersPerCouncil))
			person.JobTitle = ptr("Partner representative")
		}
		add(person)
	}
	councillor := func() string { return PersonID(c, r.IntN(councillors)) }
	officer := func() string { return PersonID(c, councillors+r.IntN(officers)) }

	// Bodies, the boards and partnerships reporting to the cabinet.
	for b := range BodiesPerCouncil {
		body := &store.Body{Record: rec(r, c, BodyID(c, b)), Name: town + " " + bodyNames[b%len(bodyNames)], Kind: bodyKinds[b%len(bodyKinds)],
			MinutePrefix: ptr(fmt.Sprintf("B%d", b)), OrganisationID: ptr(OrganisationID(c))}
		if b >= 7 {
			body.ParentID = ptr(BodyID(c, 1))
		}
		add(body)
	}

	// Memberships: members of each body, partners on boards.
	for b := range BodiesPerCouncil {
		for k := range MembersPerBody {
			role := "MEMBER"
			switch k {
			case 0:
				role = "CHAIR"
			case 1:
				role = "VICE_CHAIR"
			}
			m := &store.Membership{Record: rec(r, c, scoped("membership", c, "b%02d/%d", b, k)), BodyID: BodyID(c, b), Role: role,
				PersonID: ptr(PersonID(c, MemberOf(b, k))), StartDate: ptr("2019-05-01")}
			if b >= 7 && k >= MembersPerBody-2 {
				p := councillors + officers + (b+k)%(PeoplePerCouncil-councillors-officers)
				m.PersonID, m.Role, m.RepresentingID = ptr(PersonID(c, p)), "REPRESENTATIVE", ptr(PartnerID(c, p%PartnersPerCouncil))
			}
			if (b+k)%endedMembershipEveryN == 0 {
				m.EndDate = ptr("2022-05-01")
			}
			add(m)
		}
	}

	// Plans and priorities (before reports, which name priorities) and
	// indicators (which reports and priorities name).
	for i := range indicators {
		add(&store.Indicator{Record: rec(r, c, IndicatorID(c, i)), Name: fmt.Sprintf("%s %s measure %d", themes[i%len(themes)], pick(r, topics), i),
			Unit: units[i%len(units)], Polarity: polarities[i%len(polarities)], Theme: ptr(themes[i%len(themes)])})
	}
	for p := range PlansPerCouncil {
		add(&store.Plan{Record: rec(r, c, PlanID(c, p)), Title: fmt.Sprintf("%s plan %d", town, 2020+p), StartDate: ptr(fmt.Sprintf("%d-04-01", 2020+p)),
			EndDate: ptr(fmt.Sprintf("%d-03-31", 2023+p)), OwnerID: ptr(BodyID(c, 1)), Themes: themes[:4]})
		for n := range PrioritiesPerPlan {
			add(&store.Priority{Record: rec(r, c, PriorityID(c, p, n)), PlanID: PlanID(c, p), Number: ptr(fmt.Sprint(n + 1)),
				Title: fmt.Sprintf("Improve %s", pick(r, topics)), Theme: ptr(themes[n%4]),
				SuccessCriteria: []string{"Measured improvement by year end"},
				Updates:         []store.ProgressUpdate{{Period: ptr("2022-23"), Text: "Progress reported to cabinet", Rag: ptr(pick(r, rags)), Sources: []store.Source{{Document: "synthetic-" + CouncilSlug(c) + ".txt", Locator: ptr("lines 3-4")}}}},
				IndicatorIDs:    []string{IndicatorID(c, (p*PrioritiesPerPlan+n)%indicators)}, LeadIDs: []string{BodyID(c, 2+n%5)}})
		}
	}

	// Meetings with their agenda items, reports, attendance and declarations.
	for b := range BodiesPerCouncil {
		for i := 0; i < MeetingsPerBody; i += cfg.meetingStep() {
			date := MeetingDate(b, i)
			status := "SCHEDULED"
			if date < RefDate {
				status = "HELD"
			}
			day, _ := time.Parse(time.DateOnly, date)
			add(&store.Meeting{Record: rec(r, c, MeetingID(c, b, i)), BodyID: BodyID(c, b), Title: town + " " + bodyNames[b%len(bodyNames)],
				Date: date, StartsAt: ptr(day.Add(14 * time.Hour)), Venue: ptr(town + " Civic Centre"), Status: status})
			for n := 1; n <= ItemsPerMeeting; n++ {
				item := &store.AgendaItem{Record: rec(r, c, AgendaItemID(c, b, i, n)), MeetingID: MeetingID(c, b, i), Number: ptr(fmt.Sprint(n)),
					Title: pick(r, itemKinds) + " " + pick(r, topics), Pages: ptr(fmt.Sprintf("%d-%d", n*10, n*10+8)), PresenterID: ptr(officer())}
				if status == "HELD" {
					item.MinuteRef = ptr(fmt.Sprintf("B%d %d/%02d", b, i*ItemsPerMeeting+n, (firstYear+i/12)%100))
					item.Minutes = ptr("Members considered the item and asked questions of officers.")
					item.Decision = ptr("RESOLVED that the report be noted.")
					item.Outcome = ptr(pick(r, outcomes))
				}
				add(item)
				if n%(ItemsPerMeeting/ReportsPerMeeting) == 0 {
					add(&store.Report{Record: rec(r, c, ReportID(c, b, i, n)), Title: item.Title, MeetingID: ptr(MeetingID(c, b, i)), AgendaItemID: ptr(item.ID),
						AuthorID: ptr(officer()), LeadMemberID: ptr(councillor()), DecisionType: ptr("Non-key"),
						Summary: ptr("This report sets out " + item.Title + "."), Recommendations: []string{"Note the report."},
						PriorityIDs:  []string{PriorityID(c, r.IntN(PlansPerCouncil), r.IntN(PrioritiesPerPlan))},
						IndicatorIDs: []string{IndicatorID(c, r.IntN(indicators))}})
				}
			}
			if status != "HELD" {
				continue
			}
			seen := map[int]bool{}
			for k := 0; len(seen) < AttendancePerMeeting; k++ {
				p := MemberOf(b, k)
				st := "PRESENT"
				if k >= AttendancePerMeeting-2 {
					p, st = councillors+r.IntN(officers), "IN_ATTENDANCE"
				} else if r.IntN(6) == 0 {
					st = "APOLOGIES"
				}
				if seen[p] {
					continue
				}
				seen[p] = true
				add(&store.Attendance{Record: rec(r, c, scoped("attendance", c, "b%02d/%s/p%03d", b, date, p)),
					MeetingID: MeetingID(c, b, i), PersonID: PersonID(c, p), Status: st})
			}
			if i%declarationEveryNth == 0 {
				add(&store.Declaration{Record: rec(r, c, scoped("declaration", c, "b%02d/%s", b, date)),
					PersonID: PersonID(c, (b*7)%councillors), AgendaItemID: AgendaItemID(c, b, i, 1+r.IntN(ItemsPerMeeting)), Kind: pick(r, declKinds)})
			}
		}
	}

	// Actions under priorities, some owned by officers.
	for p := range PlansPerCouncil {
		for n := range PrioritiesPerPlan {
			for a := range ActionsPerPriority {
				add(&store.Action{Record: rec(r, c, scoped("action", c, "plan-%d/%d-%d", p, n+1, a+1)),
					Title: "Deliver " + pick(r, topics) + " improvements", OwnerID: ptr(officer()), OwnerBodyID: ptr(BodyID(c, 2+n%5)),
					DueDate: ptr(fmt.Sprintf("%d-%02d-28", 2022+a, 1+n)), Status: ptr(pick(r, rags)),
					PriorityID: ptr(PriorityID(c, p, n)), PlanID: ptr(PlanID(c, p))})
			}
		}
	}

	// The council's area and its indicators' observations, quarterly, for
	// the council and each comparator area.
	add(&store.Area{Record: rec(r, c, AreaID(c)), Name: town, Kind: "LOCAL_AUTHORITY", Code: ptr(AreaCode(c))})
	add(&store.Council{Record: rec(r, c, CouncilID(c)), Name: town + " Council", Code: ptr(AreaCode(c)),
		OrganisationID: OrganisationID(c), AreaID: ptr(AreaID(c))})
	areas := []struct{ id, slug string }{{AreaID(c), "borough"}}
	for _, a := range SharedAreas[:comparatorAreaCount] {
		areas = append(areas, struct{ id, slug string }{"area:" + a.Key, a.Slug})
	}
	for i := range indicators {
		base := 10 + r.Float64()*90
		for q := range PeriodsPerIndicator {
			year, quarter := 2021+q/4, q%4+1
			start := fmt.Sprintf("%d-%02d-01", year, (quarter-1)*3+1)
			end := fmt.Sprintf("%d-%02d-%02d", year, quarter*3, []int{31, 30, 30, 31}[quarter-1])
			period := fmt.Sprintf("%d-q%d", year, quarter)
			for _, area := range areas {
				add(&store.Observation{Record: rec(r, c, scoped("observation", c, "i%02d/%s/%s", i, area.slug, period)),
					IndicatorID: IndicatorID(c, i), AreaID: area.id, Period: fmt.Sprintf("%d Q%d", year, quarter),
					PeriodStart: ptr(start), PeriodEnd: ptr(end), Value: float64(int((base+r.Float64()*10)*10)) / 10})
			}
		}
	}
	return docs
}

// Generate calls emit with the shared records, as council 0 states them,
// then with each council's records in turn (c is -1 for the shared ones).
func Generate(cfg Config, emit func(c int, docs []store.Doc) error) error {
	if err := emit(-1, Shared(0)); err != nil {
		return err
	}
	for c := range cfg.Councils {
		if err := emit(c, cfg.council(c)); err != nil {
			return err
		}
	}
	return nil
}
