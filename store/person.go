package store

import (
	"context"
	"time"
)

// Person is a councillor, officer or partner representative.
type Person struct {
	Record         `bson:",inline" yaml:",inline"`
	Name           string   `bson:"name" yaml:"name"`
	Honorific      *string  `bson:"honorific,omitempty" yaml:"honorific,omitempty"`
	Aliases        []string `bson:"aliases" yaml:"aliases,omitempty"`
	JobTitle       *string  `bson:"jobTitle,omitempty" yaml:"jobTitle,omitempty"`
	OrganisationID *string  `bson:"organisationId,omitempty" yaml:"organisationId,omitempty"`
	Email          *string  `bson:"email,omitempty" yaml:"email,omitempty"`
	Phone          *string  `bson:"phone,omitempty" yaml:"phone,omitempty"`
	// Party is the political party or group, as the council publishes it.
	Party *string `bson:"party,omitempty" yaml:"party,omitempty"`
}

// PersonFilter narrows a list of people.
type PersonFilter struct {
	// Name matches any part of the name or an alias, ignoring case and accents.
	Name           *string
	OrganisationID *string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f PersonFilter) where() where {
	w := where{}
	if f.Name != nil {
		w = w.containing(Fold(*f.Name))
	}
	return w.eq("organisationId", f.OrganisationID).council(f.Council).since(f.UpdatedSince)
}

// FindPeople returns one page of people, by name.
func (s *Store) FindPeople(ctx context.Context, f PersonFilter, p Page) (*Result[Person], error) {
	return page[Person](ctx, s, f.where(), byName, p)
}

// CountPeople counts the people that match f.
func (s *Store) CountPeople(ctx context.Context, f PersonFilter) (int, error) {
	return countOf[Person](ctx, s, f.where())
}
