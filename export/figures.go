package export

import (
	"context"
	"strconv"
	"strings"

	"councilgraph/analysis"
	"councilgraph/store"
)

// The analysis layout's columns before and after the comparator areas'.
var (
	figureColumns = []string{
		"observation_id", "indicator_id", "indicator_name", "unit", "polarity", "area_id", "area_name", "area_kind",
		"period", "period_start", "period_end", "value", "value_text", "approximate", "lower_ci95", "upper_ci95", "count", "denominator",
	}
	trendColumns = []string{"trend_direction", "trend_assessment", "trend_periods", "trend_method", "source_documents", "source_lines", "notes"}
)

// areaColumn is the column name for an area, in snake case: its ID's key
// ("area:tees" is tees), or for an area keyed by its GSS code its name
// ("area:E12000001", North East, is north_east) unless another area has
// that name too.
func areaColumn(a *store.Area, names map[string]int) string {
	key := strings.TrimPrefix(a.ID, "area:")
	if a.Code != nil && key == *a.Code && names[slug(a.Name)] == 1 {
		key = a.Name
	}
	return strings.ReplaceAll(slug(key), "-", "_")
}

// analysis writes the observations' flat layout: one row per figure, with
// its indicator's unit and polarity, its area, its period as published and
// as dates, its value and interval, then for every area the comparator's
// value for the same period and this figure's assessment against it, then
// the trend of this figure's area and the sources. The comparator columns
// are the same for every row (every area the caller may see), so the file
// has one fixed layout; a cell is empty where that area has no figure. The
// indicator, area and updatedSince filters choose the rows; comparators and
// trends still read every figure of the indicator. Rows come grouped by
// indicator, in the order ExportObservationsByIndicator gives them.
func (h *Handler) analysis(ctx context.Context, q query, enc encoder) error {
	areas, err := h.store.FindAreas(ctx)
	if err != nil {
		return err
	}
	header := append([]string{}, figureColumns...)
	names := map[string]int{}
	for _, a := range areas {
		names[slug(a.Name)]++
	}
	for _, a := range areas {
		c := areaColumn(a, names)
		header = append(header, c+"_value", c+"_assessment")
	}
	header = append(header, trendColumns...)
	if err := enc.header(header); err != nil {
		return err
	}
	byID := map[string]*store.Area{}
	for _, a := range areas {
		byID[a.ID] = a
	}
	f := q.figures
	return h.store.ExportObservationsByIndicator(ctx, f.IndicatorID, h.perRead, func(ind *store.Indicator, obs []*store.Observation) error {
		// The trend of each area, over the figures of that area the
		// caller may see; the comparators, by period.
		perArea := map[string][]analysis.Figure{}
		perPeriod := map[string][]*store.Observation{}
		for _, o := range obs {
			perArea[o.AreaID] = append(perArea[o.AreaID], figureOf(ind, o))
			perPeriod[o.Period] = append(perPeriod[o.Period], o)
		}
		trends := map[string]analysis.Trend{}
		for id, figs := range perArea {
			trends[id] = analysis.TrendOf(ind.Polarity, figs, analysis.DefaultLast)
		}
		for _, o := range obs {
			// The filters choose the rows; comparators and trends are
			// read from every figure of the indicator.
			if (f.AreaID != nil && o.AreaID != *f.AreaID) || (f.Council != nil && o.CouncilID != *f.Council) ||
				(f.UpdatedSince != nil && o.UpdatedAt.Before(*f.UpdatedSince)) {
				continue
			}
			if err := enc.row(figureRow(ind, o, areas, byID, perPeriod[o.Period], trends[o.AreaID])); err != nil {
				return err
			}
		}
		return nil
	})
}

func figureOf(ind *store.Indicator, o *store.Observation) analysis.Figure {
	return analysis.Figure{
		Unit: ind.Unit, Period: o.Period, PeriodStart: o.PeriodStart, PeriodEnd: o.PeriodEnd, Value: o.Value,
		LowerCI95: o.LowerCI95, UpperCI95: o.UpperCI95, Count: o.Count, Denominator: o.Denominator,
		Area: o.AreaID, Approximate: o.Approximate, ValueText: o.ValueText,
	}
}

// figureRow is one figure's row, as CSV cells and as an NDJSON object.
func figureRow(ind *store.Indicator, o *store.Observation, areas []*store.Area, byID map[string]*store.Area, samePeriod []*store.Observation, t analysis.Trend) ([]string, object) {
	area := byID[o.AreaID]
	areaName, areaKind := "", ""
	if area != nil {
		areaName, areaKind = area.Name, area.Kind
	}
	cells := []string{
		o.ID, ind.ID, ind.Name, ind.Unit, ind.Polarity, o.AreaID, areaName, areaKind,
		o.Period, str(o.PeriodStart), str(o.PeriodEnd), number(&o.Value), str(o.ValueText), strconv.FormatBool(o.Approximate),
		number(o.LowerCI95), number(o.UpperCI95), number(o.Count), number(o.Denominator),
	}
	obj := object{
		{"observation_id", o.ID}, {"indicator_id", ind.ID}, {"indicator_name", ind.Name}, {"unit", ind.Unit}, {"polarity", ind.Polarity},
		{"area_id", o.AreaID}, {"area_name", areaName}, {"area_kind", areaKind},
		{"period", o.Period}, {"period_start", o.PeriodStart}, {"period_end", o.PeriodEnd},
		{"value", o.Value}, {"value_text", o.ValueText}, {"approximate", o.Approximate}, {"lower_ci95", o.LowerCI95}, {"upper_ci95", o.UpperCI95}, {"count", o.Count}, {"denominator", o.Denominator},
	}
	comparisons := []any{}
	for _, a := range areas {
		var values, assessments []string
		for _, c := range samePeriod {
			if c.AreaID != a.ID || c.ID == o.ID {
				continue
			}
			cmp := analysis.Compare(ind.Polarity, figureOf(ind, o), figureOf(ind, c))
			values = append(values, number(&c.Value))
			assessments = append(assessments, string(cmp.Assessment))
			comparisons = append(comparisons, object{
				{"area_id", a.ID}, {"area_name", a.Name}, {"value", c.Value}, {"assessment", cmp.Assessment}, {"method", cmp.Method},
			})
		}
		cells = append(cells, joinCell(values), joinCell(assessments))
	}
	var docs, lines []string
	for _, s := range o.Sources {
		docs = append(docs, s.Document)
		lines = append(lines, str(s.Locator))
	}
	// Every cell is defused as the row is written (csvFile.write); lists
	// are joined with each item defused too.
	cells = append(cells, string(t.Direction), string(t.Assessment), joinCell(t.Periods), t.Method,
		joinCell(docs), joinCell(lines), str(o.Notes))
	obj = append(obj,
		member{"comparisons", comparisons},
		member{"trend", object{{"direction", t.Direction}, {"assessment", t.Assessment}, {"periods", t.Periods}, {"method", t.Method}}},
		member{"sources", jsonValue(reflectOf(o.Sources))},
		member{"notes", o.Notes},
	)
	return cells, obj
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func number(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
