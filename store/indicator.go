package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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

func (f IndicatorFilter) bson() bson.D {
	return since(eq(bson.D{}, "theme", f.Theme), f.UpdatedSince)
}

// FindIndicators returns one page of indicators, by name.
func (s *Store) FindIndicators(ctx context.Context, f IndicatorFilter, p Page) (*Result[Indicator], error) {
	return findPage[Indicator](ctx, readOf[Indicator](ctx, s), f.bson(), byName, p)
}

// CountIndicators counts the indicators that match f.
func (s *Store) CountIndicators(ctx context.Context, f IndicatorFilter) (int, error) {
	return count(ctx, readOf[Indicator](ctx, s), f.bson())
}
