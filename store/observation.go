package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
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
}

// IndicatorPeriod names one period of one indicator.
type IndicatorPeriod struct {
	IndicatorID, Period string
}

// FindObservationsByIndicatorPeriods returns the observations, for every area,
// of the given indicators and periods, in one find.
func (s *Store) FindObservationsByIndicatorPeriods(ctx context.Context, keys []IndicatorPeriod) ([]*Observation, error) {
	or := make(bson.A, len(keys))
	for i, k := range keys {
		or[i] = bson.D{{Key: "indicatorId", Value: k.IndicatorID}, {Key: "period", Value: k.Period}}
	}
	return find[Observation](ctx, collOf[Observation](s), bson.D{{Key: "$or", Value: or}}, sortBy(byID))
}
