package store

import (
	"context"
	"time"
)

// Plan is a strategy or action plan with priorities.
type Plan struct {
	Record      `bson:",inline" yaml:",inline"`
	Title       string   `bson:"title" yaml:"title"`
	StartDate   *string  `bson:"startDate,omitempty" yaml:"startDate,omitempty"`
	EndDate     *string  `bson:"endDate,omitempty" yaml:"endDate,omitempty"`
	OwnerID     *string  `bson:"ownerId,omitempty" yaml:"ownerId,omitempty"`
	Themes      []string `bson:"themes" yaml:"themes,omitempty"`
	Description *string  `bson:"description,omitempty" yaml:"description,omitempty"`
}

// PlanFilter narrows a list of plans.
type PlanFilter struct {
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f PlanFilter) where() where {
	return where{}.council(f.Council).since(f.UpdatedSince)
}

// FindPlans returns one page of plans, by ID.
func (s *Store) FindPlans(ctx context.Context, f PlanFilter, p Page) (*Result[Plan], error) {
	return page[Plan](ctx, s, f.where(), byID, p)
}

// CountPlans counts the plans that match f.
func (s *Store) CountPlans(ctx context.Context, f PlanFilter) (int, error) {
	return countOf[Plan](ctx, s, f.where())
}
