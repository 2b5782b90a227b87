package store

import (
	"context"
	"time"
)

// Inspection is an inspection of an organisation's services, as the
// published report (or a report that refers to it) gives it.
type Inspection struct {
	Record          `bson:",inline" yaml:",inline"`
	InspectorateID  string      `bson:"inspectorateId" yaml:"inspectorateId"`
	SubjectID       string      `bson:"subjectId" yaml:"subjectId"`
	Framework       string      `bson:"framework" yaml:"framework"`
	StartDate       *string     `bson:"startDate,omitempty" yaml:"startDate,omitempty"`
	EndDate         *string     `bson:"endDate,omitempty" yaml:"endDate,omitempty"`
	Period          *string     `bson:"period,omitempty" yaml:"period,omitempty"`
	LeadInspectorID *string     `bson:"leadInspectorId,omitempty" yaml:"leadInspectorId,omitempty"`
	Findings        []string    `bson:"findings" yaml:"findings,omitempty"`
	Judgements      []Judgement `bson:"judgements" yaml:"judgements,omitempty"`
}

// Judgement is one graded judgement of an inspection, kept inside it.
type Judgement struct {
	Area    string   `bson:"area" yaml:"area"`
	Grade   string   `bson:"grade" yaml:"grade"`
	Sources []Source `bson:"sources" yaml:"sources"`
}

// InspectionFilter narrows a list of inspections.
type InspectionFilter struct {
	SubjectID *string
	Framework *string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f InspectionFilter) where() where {
	return where{}.eq("subjectId", f.SubjectID).eq("framework", f.Framework).council(f.Council).since(f.UpdatedSince)
}

// FindInspections returns one page of inspections, by ID.
func (s *Store) FindInspections(ctx context.Context, f InspectionFilter, p Page) (*Result[Inspection], error) {
	return page[Inspection](ctx, s, f.where(), byID, p)
}

// CountInspections counts the inspections that match f.
func (s *Store) CountInspections(ctx context.Context, f InspectionFilter) (int, error) {
	return countOf[Inspection](ctx, s, f.where())
}
