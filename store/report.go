package store

import (
	"context"
	"time"
)

// Report is a paper put to a meeting.
type Report struct {
	Record          `bson:",inline" yaml:",inline"`
	Title           string   `bson:"title" yaml:"title"`
	MeetingID       *string  `bson:"meetingId,omitempty" yaml:"meetingId,omitempty"`
	AgendaItemID    *string  `bson:"agendaItemId,omitempty" yaml:"agendaItemId,omitempty"`
	AuthorID        *string  `bson:"authorId,omitempty" yaml:"authorId,omitempty"`
	LeadMemberID    *string  `bson:"leadMemberId,omitempty" yaml:"leadMemberId,omitempty"`
	DecisionType    *string  `bson:"decisionType,omitempty" yaml:"decisionType,omitempty"`
	Summary         *string  `bson:"summary,omitempty" yaml:"summary,omitempty"`
	Recommendations []string `bson:"recommendations" yaml:"recommendations,omitempty"`
	PriorityIDs     []string `bson:"priorityIds" yaml:"priorityIds,omitempty"`
	IndicatorIDs    []string `bson:"indicatorIds" yaml:"indicatorIds,omitempty"`
}

// ReportFilter narrows a list of reports.
type ReportFilter struct {
	// MeetingIDs, when not nil, keeps the reports to those meetings.
	MeetingIDs []string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f ReportFilter) where() where {
	w := where{}
	if f.MeetingIDs != nil {
		w = append(w, oneOf("meetingId", f.MeetingIDs))
	}
	return w.council(f.Council).since(f.UpdatedSince)
}

// FindReportsByPersonIDs returns the reports the given people wrote (as
// contact officer) or led (as lead member), in one find.
func (s *Store) FindReportsByPersonIDs(ctx context.Context, ids []string) ([]*Report, error) {
	w := where{anyOf(where{oneOf("authorId", ids)}, where{oneOf("leadMemberId", ids)})}
	return list[Report](ctx, s, w, byID)
}

// MeetingIDsOfBody lists the IDs of a body's meetings. (A find of the IDs
// rather than distinct, whose reply FerretDB's SQLite backend garbles.)
func (s *Store) MeetingIDsOfBody(ctx context.Context, bodyID string) ([]string, error) {
	found, err := list[Meeting](ctx, s, where{is("bodyId", bodyID)}, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.ID
	}
	return ids, nil
}

// FindReports returns one page of reports, by ID.
func (s *Store) FindReports(ctx context.Context, f ReportFilter, p Page) (*Result[Report], error) {
	return page[Report](ctx, s, f.where(), byID, p)
}

// CountReports counts the reports that match f.
func (s *Store) CountReports(ctx context.Context, f ReportFilter) (int, error) {
	return countOf[Report](ctx, s, f.where())
}
