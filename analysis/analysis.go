// Package analysis owns the statistics analysts read beside the figures: how
// a figure compares with a comparator's figure for the same period, and the
// direction of travel over an area's recent periods. Its functions are pure:
// they take published figures and return an assessment with the method it
// rests on, in words a reader can check.
package analysis

// The polarities an indicator can have, as the schema names them.
const (
	HigherIsBetter = "HIGHER_IS_BETTER"
	LowerIsBetter  = "LOWER_IS_BETTER"
	NoJudgement    = "NO_JUDGEMENT"
)

// Assessment is how a figure or a trend reads against the indicator's
// polarity, by the schema's names.
type Assessment string

// The assessments.
const (
	Better      Assessment = "BETTER"
	Similar     Assessment = "SIMILAR"
	Worse       Assessment = "WORSE"
	Higher      Assessment = "HIGHER"
	Lower       Assessment = "LOWER"
	NotCompared Assessment = "NOT_COMPARED"
)

// Direction is the direction of travel of a trend, by the schema's names.
type Direction string

// The directions.
const (
	Increasing          Direction = "INCREASING"
	Decreasing          Direction = "DECREASING"
	NoSignificantChange Direction = "NO_SIGNIFICANT_CHANGE"
	CannotBeCalculated  Direction = "CANNOT_BE_CALCULATED"
)

// Figure is one published figure with what was published beside it.
type Figure struct {
	// Unit is the indicator's unit (PERCENT, RATE_PER_10K, ...).
	Unit string
	// Period is the period as published; PeriodStart and PeriodEnd are its
	// first and last days (YYYY-MM-DD) where they are clear.
	Period                 string
	PeriodStart, PeriodEnd *string
	// Value is the figure.
	Value float64
	// LowerCI95 and UpperCI95 are the published 95% confidence limits.
	LowerCI95, UpperCI95 *float64
	// Count and Denominator are the published numerator and denominator
	// of a proportion or rate.
	Count, Denominator *float64
	// Area is the area the figure is for; Compare needs it to tell a
	// comparator from a second figure for the same area.
	Area string
	// Approximate marks a value the source gives only roughly or as a
	// bound; ValueText is the published words ("around 40%").
	Approximate bool
	ValueText   *string
}

// words is how the figure was published: its words where they were kept,
// else its number.
func (f Figure) words() string {
	if f.ValueText != nil {
		return "'" + *f.ValueText + "'"
	}
	return num(f.Value)
}

// hasInterval reports whether both confidence limits are published.
func (f Figure) hasInterval() bool { return f.LowerCI95 != nil && f.UpperCI95 != nil }

// hasCounts reports whether the count and a positive denominator are published.
func (f Figure) hasCounts() bool {
	return f.Count != nil && f.Denominator != nil && *f.Denominator > 0
}

// read turns "higher" or "lower" into an assessment under polarity.
func read(polarity string, higher bool) Assessment {
	switch {
	case polarity == HigherIsBetter && higher, polarity == LowerIsBetter && !higher:
		return Better
	case polarity == HigherIsBetter, polarity == LowerIsBetter:
		return Worse
	case higher:
		return Higher
	default:
		return Lower
	}
}
