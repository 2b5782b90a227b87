package store

import (
	"time"

	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
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

func (f OrganisationFilter) bson() bson.D {
	d := bson.D{}
	d = eq(d, "kind", f.Kind)
	return since(d, f.UpdatedSince)
}

// FindOrganisations returns one page of organisations, by name.
func (s *Store) FindOrganisations(ctx context.Context, f OrganisationFilter, p Page) (*Result[Organisation], error) {
	return findPage[Organisation](ctx, readOf[Organisation](ctx, s), f.bson(), byName, p)
}

// CountOrganisations counts the organisations that match f.
func (s *Store) CountOrganisations(ctx context.Context, f OrganisationFilter) (int, error) {
	return count(ctx, readOf[Organisation](ctx, s), f.bson())
}
