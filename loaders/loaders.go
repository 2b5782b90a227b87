// Package loaders owns the per-request dataloaders: every relation the graph
// walks is fetched through one of them, so that all the keys asked for at one
// level of a query go to the store in one find.
package loaders

import (
	"context"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"councilgraph/store"
)

// Loaders holds one loader per relation, made afresh for each request: their
// caches hold what one caller asked for and must not outlive the request.
type Loaders struct {
	Person       *dataloadgen.Loader[string, *store.Person]
	Organisation *dataloadgen.Loader[string, *store.Organisation]
	Body         *dataloadgen.Loader[string, *store.Body]
	Meeting      *dataloadgen.Loader[string, *store.Meeting]
	AgendaItem   *dataloadgen.Loader[string, *store.AgendaItem]
	Report       *dataloadgen.Loader[string, *store.Report]
	Plan         *dataloadgen.Loader[string, *store.Plan]
	Priority     *dataloadgen.Loader[string, *store.Priority]
	Action       *dataloadgen.Loader[string, *store.Action]
	Indicator    *dataloadgen.Loader[string, *store.Indicator]
	Area         *dataloadgen.Loader[string, *store.Area]
	Inspection   *dataloadgen.Loader[string, *store.Inspection]

	PeopleByOrganisation     *dataloadgen.Loader[string, []*store.Person]
	BodiesByOrganisation     *dataloadgen.Loader[string, []*store.Body]
	BodiesByParent           *dataloadgen.Loader[string, []*store.Body]
	MembershipsByPerson      *dataloadgen.Loader[string, []*store.Membership]
	MembershipsByBody        *dataloadgen.Loader[string, []*store.Membership]
	MeetingsByBody           *dataloadgen.Loader[string, []*store.Meeting]
	MeetingDatesByBody       *dataloadgen.Loader[string, []*store.MeetingDate]
	AttendanceByMeeting      *dataloadgen.Loader[string, []*store.Attendance]
	AttendanceByPerson       *dataloadgen.Loader[string, []*store.Attendance]
	AgendaItemsByMeeting     *dataloadgen.Loader[string, []*store.AgendaItem]
	ReportsByMeeting         *dataloadgen.Loader[string, []*store.Report]
	ReportsByAgendaItem      *dataloadgen.Loader[string, []*store.Report]
	ReportsByPriority        *dataloadgen.Loader[string, []*store.Report]
	ReportsByPerson          *dataloadgen.Loader[string, []*store.Report]
	DeclarationsByPerson     *dataloadgen.Loader[string, []*store.Declaration]
	DeclarationsByAgendaItem *dataloadgen.Loader[string, []*store.Declaration]
	PlansByOwner             *dataloadgen.Loader[string, []*store.Plan]
	PrioritiesByPlan         *dataloadgen.Loader[string, []*store.Priority]
	PrioritiesByIndicator    *dataloadgen.Loader[string, []*store.Priority]
	ActionsByOwner           *dataloadgen.Loader[string, []*store.Action]
	ActionsByAgendaItem      *dataloadgen.Loader[string, []*store.Action]
	ActionsByPriority        *dataloadgen.Loader[string, []*store.Action]
	ObservationsByIndicator  *dataloadgen.Loader[string, []*store.Observation]
	ObservationsByPeriod     *dataloadgen.Loader[store.IndicatorPeriod, []*store.Observation]
	InspectionsBySubject     *dataloadgen.Loader[string, []*store.Inspection]
	OrgAttendanceByMeeting   *dataloadgen.Loader[string, []*store.OrganisationAttendance]
}

// DefaultWait is how long a loader gathers keys before it fetches them. It is
// paid once per level of relations a query walks. Shorter windows split a
// level into several batches when the machine is busy (2 ms did on a loaded
// 2-core machine); 16 ms keeps one batch per level there.
const DefaultWait = 16 * time.Millisecond

// New makes a fresh set of loaders over s. Each waits wait (DefaultWait when
// zero) for more keys before it sends its batch.
func New(s *store.Store, wait time.Duration) *Loaders {
	if wait == 0 {
		wait = DefaultWait
	}
	o := dataloadgen.WithWait(wait)
	id := func(r *store.Record) string { return r.ID }
	l := &Loaders{
		Person:       dataloadgen.NewLoader(one(s.FindPeopleByIDs, func(v *store.Person) string { return id(&v.Record) }), o),
		Organisation: dataloadgen.NewLoader(one(s.FindOrganisationsByIDs, func(v *store.Organisation) string { return id(&v.Record) }), o),
		Body:         dataloadgen.NewLoader(one(s.FindBodiesByIDs, func(v *store.Body) string { return id(&v.Record) }), o),
		Meeting:      dataloadgen.NewLoader(one(s.FindMeetingsByIDs, func(v *store.Meeting) string { return id(&v.Record) }), o),
		AgendaItem:   dataloadgen.NewLoader(one(s.FindAgendaItemsByIDs, func(v *store.AgendaItem) string { return id(&v.Record) }), o),
		Report:       dataloadgen.NewLoader(one(s.FindReportsByIDs, func(v *store.Report) string { return id(&v.Record) }), o),
		Plan:         dataloadgen.NewLoader(one(s.FindPlansByIDs, func(v *store.Plan) string { return id(&v.Record) }), o),
		Priority:     dataloadgen.NewLoader(one(s.FindPrioritiesByIDs, func(v *store.Priority) string { return id(&v.Record) }), o),
		Action:       dataloadgen.NewLoader(one(s.FindActionsByIDs, func(v *store.Action) string { return id(&v.Record) }), o),
		Indicator:    dataloadgen.NewLoader(one(s.FindIndicatorsByIDs, func(v *store.Indicator) string { return id(&v.Record) }), o),
		Area:         dataloadgen.NewLoader(one(s.FindAreasByIDs, func(v *store.Area) string { return id(&v.Record) }), o),
		Inspection:   dataloadgen.NewLoader(one(s.FindInspectionsByIDs, func(v *store.Inspection) string { return id(&v.Record) }), o),

		PeopleByOrganisation: dataloadgen.NewLoader(many(s.FindPeopleByOrganisationIDs, func(v *store.Person) []string { return opt(v.OrganisationID) }), o),
		BodiesByOrganisation: dataloadgen.NewLoader(many(s.FindBodiesByOrganisationIDs, func(v *store.Body) []string { return opt(v.OrganisationID) }), o),
		BodiesByParent:       dataloadgen.NewLoader(many(s.FindBodiesByParentIDs, func(v *store.Body) []string { return opt(v.ParentID) }), o),
		MembershipsByPerson:  dataloadgen.NewLoader(many(s.FindMembershipsByPersonIDs, func(v *store.Membership) []string { return opt(v.PersonID) }), o),
		MembershipsByBody:    dataloadgen.NewLoader(many(s.FindMembershipsByBodyIDs, func(v *store.Membership) []string { return []string{v.BodyID} }), o),
		MeetingsByBody:       dataloadgen.NewLoader(many(s.FindMeetingsByBodyIDs, func(v *store.Meeting) []string { return []string{v.BodyID} }), o),
		MeetingDatesByBody:   dataloadgen.NewLoader(many(s.FindMeetingDatesByBodyIDs, func(v *store.MeetingDate) []string { return []string{v.BodyID} }), o),
		AttendanceByMeeting:  dataloadgen.NewLoader(many(s.FindAttendanceByMeetingIDs, func(v *store.Attendance) []string { return []string{v.MeetingID} }), o),
		AttendanceByPerson:   dataloadgen.NewLoader(many(s.FindAttendanceByPersonIDs, func(v *store.Attendance) []string { return []string{v.PersonID} }), o),
		AgendaItemsByMeeting: dataloadgen.NewLoader(sorted(many(s.FindAgendaItemsByMeetingIDs, func(v *store.AgendaItem) []string { return []string{v.MeetingID} }), agendaOrder), o),
		ReportsByMeeting:     dataloadgen.NewLoader(many(s.FindReportsByMeetingIDs, func(v *store.Report) []string { return opt(v.MeetingID) }), o),
		ReportsByAgendaItem:  dataloadgen.NewLoader(many(s.FindReportsByAgendaItemIDs, func(v *store.Report) []string { return opt(v.AgendaItemID) }), o),
		ReportsByPriority:    dataloadgen.NewLoader(many(s.FindReportsByPriorityIDs, func(v *store.Report) []string { return v.PriorityIDs }), o),
		ReportsByPerson: dataloadgen.NewLoader(many(s.FindReportsByPersonIDs, func(v *store.Report) []string {
			return append(opt(v.AuthorID), opt(v.LeadMemberID)...)
		}), o),
		DeclarationsByPerson:     dataloadgen.NewLoader(many(s.FindDeclarationsByPersonIDs, func(v *store.Declaration) []string { return []string{v.PersonID} }), o),
		DeclarationsByAgendaItem: dataloadgen.NewLoader(many(s.FindDeclarationsByAgendaItemIDs, func(v *store.Declaration) []string { return []string{v.AgendaItemID} }), o),
		PlansByOwner:             dataloadgen.NewLoader(many(s.FindPlansByOwnerIDs, func(v *store.Plan) []string { return opt(v.OwnerID) }), o),
		PrioritiesByPlan:         dataloadgen.NewLoader(sorted(many(s.FindPrioritiesByPlanIDs, func(v *store.Priority) []string { return []string{v.PlanID} }), priorityOrder), o),
		PrioritiesByIndicator:    dataloadgen.NewLoader(many(s.FindPrioritiesByIndicatorIDs, func(v *store.Priority) []string { return v.IndicatorIDs }), o),
		ActionsByOwner:           dataloadgen.NewLoader(many(s.FindActionsByOwnerIDs, func(v *store.Action) []string { return opt(v.OwnerID) }), o),
		ActionsByAgendaItem:      dataloadgen.NewLoader(many(s.FindActionsByAgendaItemIDs, func(v *store.Action) []string { return opt(v.AgendaItemID) }), o),
		ActionsByPriority:        dataloadgen.NewLoader(many(s.FindActionsByPriorityIDs, func(v *store.Action) []string { return opt(v.PriorityID) }), o),
		ObservationsByPeriod:     dataloadgen.NewLoader(manyBy(s.FindObservationsByIndicatorPeriods, periodOf), o),
		InspectionsBySubject:     dataloadgen.NewLoader(many(s.FindInspectionsBySubjectIDs, func(v *store.Inspection) []string { return []string{v.SubjectID} }), o),
		OrgAttendanceByMeeting:   dataloadgen.NewLoader(many(s.FindOrganisationAttendanceByMeetingIDs, func(v *store.OrganisationAttendance) []string { return []string{v.MeetingID} }), o),
	}
	// An indicator's observations hold every area's figure for each of its
	// periods, which is what comparators ask for: loading them primes the
	// period loader, so comparators cost no further round trip.
	byIndicator := many(s.FindObservationsByIndicatorIDs, func(v *store.Observation) []string { return []string{v.IndicatorID} })
	l.ObservationsByIndicator = dataloadgen.NewLoader(func(ctx context.Context, keys []string) ([][]*store.Observation, []error) {
		found, errs := byIndicator(ctx, keys)
		for _, all := range found {
			for key, group := range groupBy(all, periodOf) {
				l.ObservationsByPeriod.Prime(key, group)
			}
		}
		return found, errs
	}, o)
	return l
}

func periodOf(v *store.Observation) []store.IndicatorPeriod {
	return []store.IndicatorPeriod{{IndicatorID: v.IndicatorID, Period: v.Period}}
}

type ctxKey struct{}

// Middleware gives every request its own fresh loaders.
func Middleware(s *store.Store, wait time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), New(s, wait))))
	})
}

// With returns a context carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when the request did not pass
// through Middleware, which is a wiring mistake, not a runtime condition.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loaders: request context has no loaders; wrap the handler in loaders.Middleware")
	}
	return l
}
