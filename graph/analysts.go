package graph

import (
	"context"
	"fmt"

	"councilgraph/analysis"
	"councilgraph/graph/model"
	"councilgraph/loaders"
	"councilgraph/store"
)

// figure is what package analysis reads of an observation.
func figure(ind *store.Indicator, o *store.Observation) analysis.Figure {
	return analysis.Figure{
		Unit: ind.Unit, Period: o.Period, PeriodStart: o.PeriodStart, PeriodEnd: o.PeriodEnd, Value: o.Value,
		LowerCI95: o.LowerCI95, UpperCI95: o.UpperCI95, Count: o.Count, Denominator: o.Denominator,
		Area: o.AreaID, Approximate: o.Approximate, ValueText: o.ValueText,
	}
}

// comparisons reads o against each comparator of the same indicator and
// period, through the loaders.
func comparisons(ctx context.Context, o *store.Observation) ([]*model.Comparison, error) {
	l := loaders.For(ctx)
	ind, err := loaders.One[store.Indicator](ctx, o.IndicatorID)
	if err != nil || ind == nil {
		return []*model.Comparison{}, err
	}
	all, err := l.ObservationsByPeriod.Load(ctx, store.IndicatorPeriod{IndicatorID: o.IndicatorID, Period: o.Period})
	if err != nil {
		return nil, err
	}
	out := []*model.Comparison{}
	for _, c := range all {
		if c.ID == o.ID {
			continue
		}
		res := analysis.Compare(ind.Polarity, figure(ind, o), figure(ind, c))
		out = append(out, &model.Comparison{Comparator: c, Assessment: model.Assessment(res.Assessment), Method: res.Method})
	}
	return out, nil
}

// trend computes ind's trend for area (by default the one local authority
// it has figures for) over its last periods.
func trend(ctx context.Context, ind *store.Indicator, area *string, last *int) (*model.Trend, error) {
	n := analysis.DefaultLast
	if last != nil {
		if *last < analysis.MinLast || *last > analysis.MaxLast {
			return nil, inputError("last", fmt.Sprintf("last must be between %d and %d, got %d", analysis.MinLast, analysis.MaxLast, *last))
		}
		n = *last
	}
	l := loaders.For(ctx)
	all, err := l.ObservationsByIndicator.Load(ctx, ind.ID)
	if err != nil {
		return nil, err
	}
	var a *store.Area
	if area != nil {
		if a, err = loaders.One[store.Area](ctx, *area); err != nil {
			return nil, err
		}
		if a == nil {
			return nil, inputError("area", fmt.Sprintf("area %q does not exist", *area))
		}
	} else if a, err = councilArea(ctx, all); err != nil {
		return nil, err
	}
	if a == nil {
		return &model.Trend{Direction: model.TrendDirectionCannotBeCalculated, Assessment: model.AssessmentNotCompared, Periods: []string{},
			Method: "cannot be calculated: the indicator has no figures for a single local authority to default to; name an area"}, nil
	}
	var figures []analysis.Figure
	for _, o := range all {
		if o.AreaID == a.ID {
			figures = append(figures, figure(ind, o))
		}
	}
	t := analysis.TrendOf(ind.Polarity, figures, n)
	return &model.Trend{Direction: model.TrendDirection(t.Direction), Assessment: model.Assessment(t.Assessment), Periods: t.Periods, Method: t.Method, Area: a}, nil
}

// councilArea is the one local authority area among the observations'
// areas: the council's own. Nil when there is none or more than one.
func councilArea(ctx context.Context, all []*store.Observation) (*store.Area, error) {
	seen := map[string]bool{}
	var ids []string
	for _, o := range all {
		if !seen[o.AreaID] {
			seen[o.AreaID] = true
			ids = append(ids, o.AreaID)
		}
	}
	areas, err := loaders.All[store.Area](ctx, ids)
	if err != nil {
		return nil, err
	}
	var found *store.Area
	for _, a := range areas {
		if a.Kind == "LOCAL_AUTHORITY" {
			if found != nil {
				return nil, nil
			}
			found = a
		}
	}
	return found, nil
}
