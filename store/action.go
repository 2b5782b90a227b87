package store

import (
	"context"
	"time"
)

// Action is a thing someone is to do, under a plan, a priority or a meeting.
type Action struct {
	Record         `bson:",inline" yaml:",inline"`
	Title          string  `bson:"title" yaml:"title"`
	Recommendation *string `bson:"recommendation,omitempty" yaml:"recommendation,omitempty"`
	SuccessMeasure *string `bson:"successMeasure,omitempty" yaml:"successMeasure,omitempty"`
	OwnerID        *string `bson:"ownerId,omitempty" yaml:"ownerId,omitempty"`
	OwnerBodyID    *string `bson:"ownerBodyId,omitempty" yaml:"ownerBodyId,omitempty"`
	OwnerText      *string `bson:"ownerText,omitempty" yaml:"ownerText,omitempty"`
	DueDate        *string `bson:"dueDate,omitempty" yaml:"dueDate,omitempty"`
	DueText        *string `bson:"dueText,omitempty" yaml:"dueText,omitempty"`
	Status         *string `bson:"status,omitempty" yaml:"status,omitempty"`
	PriorityID     *string `bson:"priorityId,omitempty" yaml:"priorityId,omitempty"`
	PlanID         *string `bson:"planId,omitempty" yaml:"planId,omitempty"`
	AgendaItemID   *string `bson:"agendaItemId,omitempty" yaml:"agendaItemId,omitempty"`
}

// ActionFilter narrows a list of actions.
type ActionFilter struct {
	Status  *string
	OwnerID *string
	// DueBefore keeps actions due before this day (YYYY-MM-DD).
	DueBefore *string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f ActionFilter) where() where {
	return where{}.eq("status", f.Status).eq("ownerId", f.OwnerID).council(f.Council).
		before("dueDate", f.DueBefore).since(f.UpdatedSince)
}

// FindActions returns one page of actions, by ID.
func (s *Store) FindActions(ctx context.Context, f ActionFilter, p Page) (*Result[Action], error) {
	return page[Action](ctx, s, f.where(), byID, p)
}

// CountActions counts the actions that match f.
func (s *Store) CountActions(ctx context.Context, f ActionFilter) (int, error) {
	return countOf[Action](ctx, s, f.where())
}
