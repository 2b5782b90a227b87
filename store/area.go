package store

import (
	"context"
)

// Area is a place figures are published for: the borough, a region, England,
// or a group of comparable authorities.
type Area struct {
	Record `bson:",inline" yaml:",inline"`
	Name   string  `bson:"name" yaml:"name"`
	Kind   string  `bson:"kind" yaml:"kind"`
	Code   *string `bson:"code,omitempty" yaml:"code,omitempty"`
}

// FindAreas returns every area, by name. Areas are few.
func (s *Store) FindAreas(ctx context.Context) ([]*Area, error) {
	return list[Area](ctx, s, where{}, byName)
}

// FindAreasByCodes returns the areas with the given GSS codes, by name: the
// key a partner's subgraph holds for an area. Areas are few, so no index
// serves it.
func (s *Store) FindAreasByCodes(ctx context.Context, codes []string) ([]*Area, error) {
	return list[Area](ctx, s, where{oneOf("code", codes)}, byName)
}
