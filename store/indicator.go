package store

import (
	"context"
	"time"
)

// Indicator is a performance measure.
type Indicator struct {
	Record      `bson:",inline" yaml:",inline"`
	Name        string  `bson:"name" yaml:"name"`
	Description *string `bson:"description,omitempty" yaml:"description,omitempty"`
	Unit        string  `bson:"unit" yaml:"unit"`
	Polarity    string  `bson:"polarity" yaml:"polarity"`
	Theme       *string `bson:"theme,omitempty" yaml:"theme,omitempty"`
}

// IndicatorFilter narrows a list of indicators.
type IndicatorFilter struct {
	Theme        *string
	UpdatedSince *time.Time
}

func (f IndicatorFilter) where() where {
	return where{}.eq("theme", f.Theme).since(f.UpdatedSince)
}

// FindIndicators returns one page of indicators, by name.
func (s *Store) FindIndicators(ctx context.Context, f IndicatorFilter, p Page) (*Result[Indicator], error) {
	return page[Indicator](ctx, s, f.where(), byName, p)
}

// CountIndicators counts the indicators that match f.
func (s *Store) CountIndicators(ctx context.Context, f IndicatorFilter) (int, error) {
	return countOf[Indicator](ctx, s, f.where())
}
