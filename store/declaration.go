package store

import "context"

// Declaration is an interest a person declared on an agenda item.
type Declaration struct {
	Record       `bson:",inline" yaml:",inline"`
	PersonID     string  `bson:"personId" yaml:"personId"`
	AgendaItemID string  `bson:"agendaItemId" yaml:"agendaItemId"`
	Kind         string  `bson:"kind" yaml:"kind"`
	Text         *string `bson:"text,omitempty" yaml:"text,omitempty"`
}

// FindDeclarationsByPersonIDs returns the declarations of the given people.
func (s *Store) FindDeclarationsByPersonIDs(ctx context.Context, ids []string) ([]*Declaration, error) {
	return findIn[Declaration](ctx, s.Declarations, "personId", ids, byID)
}

// FindDeclarationsByAgendaItemIDs returns the declarations on the given agenda items.
func (s *Store) FindDeclarationsByAgendaItemIDs(ctx context.Context, ids []string) ([]*Declaration, error) {
	return findIn[Declaration](ctx, s.Declarations, "agendaItemId", ids, byID)
}
