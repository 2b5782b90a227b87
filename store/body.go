package store

import (
	"context"
	"time"
)

// Body is a group that meets or decides: the council, its cabinet and
// committees, boards, partnerships and outside bodies.
type Body struct {
	Record         `bson:",inline" yaml:",inline"`
	Name           string   `bson:"name" yaml:"name"`
	Kind           string   `bson:"kind" yaml:"kind"`
	Aliases        []string `bson:"aliases" yaml:"aliases,omitempty"`
	MinutePrefix   *string  `bson:"minutePrefix,omitempty" yaml:"minutePrefix,omitempty"`
	OrganisationID *string  `bson:"organisationId,omitempty" yaml:"organisationId,omitempty"`
	ParentID       *string  `bson:"parentId,omitempty" yaml:"parentId,omitempty"`
	Description    *string  `bson:"description,omitempty" yaml:"description,omitempty"`
}

// BodyFilter narrows a list of bodies.
type BodyFilter struct {
	Kind *string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f BodyFilter) where() where {
	return where{}.eq("kind", f.Kind).council(f.Council).since(f.UpdatedSince)
}

// FindBodies returns one page of bodies, by name.
func (s *Store) FindBodies(ctx context.Context, f BodyFilter, p Page) (*Result[Body], error) {
	return page[Body](ctx, s, f.where(), byName, p)
}

// CountBodies counts the bodies that match f.
func (s *Store) CountBodies(ctx context.Context, f BodyFilter) (int, error) {
	return countOf[Body](ctx, s, f.where())
}
