package store

import (
	"context"
)

// Observation is one published value of an indicator for an area and period.
type Observation struct {
	Record      `bson:",inline" yaml:",inline"`
	IndicatorID string  `bson:"indicatorId" yaml:"indicatorId"`
	AreaID      string  `bson:"areaId" yaml:"areaId"`
	Period      string  `bson:"period" yaml:"period"`
	PeriodStart *string `bson:"periodStart,omitempty" yaml:"periodStart,omitempty"`
	PeriodEnd   *string `bson:"periodEnd,omitempty" yaml:"periodEnd,omitempty"`
	Value       float64 `bson:"value" yaml:"value"`
	// LowerCI95 and UpperCI95 are the published 95% confidence limits,
	// where the source publishes them.
	LowerCI95 *float64 `bson:"lowerCI95,omitempty" yaml:"lowerCI95,omitempty"`
	UpperCI95 *float64 `bson:"upperCI95,omitempty" yaml:"upperCI95,omitempty"`
	// Count and Denominator are the published numerator and denominator
	// of a proportion or rate, where the source publishes them.
	Count       *float64 `bson:"count,omitempty" yaml:"count,omitempty"`
	Denominator *float64 `bson:"denominator,omitempty" yaml:"denominator,omitempty"`
	// ValueText is the figure in the published words where they say more
	// than the number: "over 300", "≈90", "/1000" printed for a rate.
	ValueText *string `bson:"valueText,omitempty" yaml:"valueText,omitempty"`
	// Approximate marks a value the text gives only roughly or as a bound.
	Approximate bool `bson:"approximate,omitempty" yaml:"approximate,omitempty"`
	// PublishedOn is the date of the document that published the figure,
	// kept apart from the period it covers.
	PublishedOn *string `bson:"publishedOn,omitempty" yaml:"publishedOn,omitempty"`
}

// IndicatorPeriod names one period of one indicator.
type IndicatorPeriod struct {
	IndicatorID, Period string
}

// FindObservationsByIndicatorPeriods returns the observations, for every area,
// of the given indicators and periods, in one find.
func (s *Store) FindObservationsByIndicatorPeriods(ctx context.Context, keys []IndicatorPeriod) ([]*Observation, error) {
	or := make([]where, len(keys))
	for i, k := range keys {
		or[i] = where{is("indicatorId", k.IndicatorID), is("period", k.Period)}
	}
	return list[Observation](ctx, s, where{anyOf(or...)}, byID)
}
