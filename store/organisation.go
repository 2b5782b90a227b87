package store

import (
	"time"

	"context"
)

// Organisation is a council, agency, trust, company or charity.
type Organisation struct {
	Record  `bson:",inline" yaml:",inline"`
	Name    string   `bson:"name" yaml:"name"`
	Kind    string   `bson:"kind" yaml:"kind"`
	Aliases []string `bson:"aliases" yaml:"aliases,omitempty"`
}

// OrganisationFilter narrows a list of organisations.
type OrganisationFilter struct {
	Kind         *string
	UpdatedSince *time.Time
}

func (f OrganisationFilter) where() where {
	return where{}.eq("kind", f.Kind).since(f.UpdatedSince)
}

// FindOrganisations returns one page of organisations, by name.
func (s *Store) FindOrganisations(ctx context.Context, f OrganisationFilter, p Page) (*Result[Organisation], error) {
	return page[Organisation](ctx, s, f.where(), byName, p)
}

// CountOrganisations counts the organisations that match f.
func (s *Store) CountOrganisations(ctx context.Context, f OrganisationFilter) (int, error) {
	return countOf[Organisation](ctx, s, f.where())
}
