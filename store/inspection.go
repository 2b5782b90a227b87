package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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

func (f InspectionFilter) bson() bson.D {
	d := eq(bson.D{}, "subjectId", f.SubjectID)
	d = eq(d, "framework", f.Framework)
	d = councilEq(d, f.Council)
	return since(d, f.UpdatedSince)
}

// FindInspections returns one page of inspections, by ID.
func (s *Store) FindInspections(ctx context.Context, f InspectionFilter, p Page) (*Result[Inspection], error) {
	return findPage[Inspection](ctx, readOf[Inspection](ctx, s), f.bson(), byID, p)
}

// CountInspections counts the inspections that match f.
func (s *Store) CountInspections(ctx context.Context, f InspectionFilter) (int, error) {
	return count(ctx, readOf[Inspection](ctx, s), f.bson())
}
