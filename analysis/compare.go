package analysis

import (
	"fmt"
	"math"
)

// SimilarWithin is the documented rule for figures published without
// confidence intervals: a difference under this share of the comparator's
// value reads as similar.
const SimilarWithin = 0.05

// Comparison is a figure read against a comparator's figure.
type Comparison struct {
	Assessment Assessment
	// Method says what the assessment rests on.
	Method string
}

// Compare reads figure f against comparator c under the indicator's
// polarity. Figures in different units or for different periods, two
// figures for the same area (two documents' figures for one period), and
// figures the source gives only approximately are NOT_COMPARED. Where both publish 95% confidence intervals, intervals that
// overlap are SIMILAR (the rule Fingertips applies); where only f has one,
// an interval that holds c's value is SIMILAR; otherwise a difference under
// 5% of c's value is SIMILAR. Anything else is BETTER or WORSE (HIGHER or
// LOWER where the indicator has no polarity).
func Compare(polarity string, f, c Figure) Comparison {
	if f.Unit != c.Unit {
		return Comparison{NotCompared, fmt.Sprintf("not compared: the figures are in different units (%s and %s)", f.Unit, c.Unit)}
	}
	if f.Period != c.Period || !sameDay(f.PeriodStart, c.PeriodStart) || !sameDay(f.PeriodEnd, c.PeriodEnd) {
		return Comparison{NotCompared, fmt.Sprintf("not compared: the figures are for different periods (%s and %s)", describePeriod(f), describePeriod(c))}
	}
	if f.Area != "" && f.Area == c.Area {
		return Comparison{NotCompared, "not compared: both figures are for the same area; where two are published for one period they are kept side by side, not judged"}
	}
	if f.Approximate || c.Approximate {
		a := f
		if !f.Approximate {
			a = c
		}
		return Comparison{NotCompared, fmt.Sprintf("not compared: %s is given only approximately", a.words())}
	}
	higher := f.Value > c.Value
	switch {
	case f.hasInterval() && c.hasInterval():
		if *f.LowerCI95 <= *c.UpperCI95 && *c.LowerCI95 <= *f.UpperCI95 {
			return Comparison{Similar, fmt.Sprintf("overlapping 95%% confidence intervals (%s to %s and %s to %s)",
				num(*f.LowerCI95), num(*f.UpperCI95), num(*c.LowerCI95), num(*c.UpperCI95))}
		}
		return Comparison{read(polarity, higher), fmt.Sprintf("95%% confidence intervals that do not overlap (%s to %s and %s to %s)",
			num(*f.LowerCI95), num(*f.UpperCI95), num(*c.LowerCI95), num(*c.UpperCI95))}
	case f.hasInterval():
		if *f.LowerCI95 <= c.Value && c.Value <= *f.UpperCI95 {
			return Comparison{Similar, fmt.Sprintf("the comparator's value %s lies within this figure's 95%% confidence interval (%s to %s)",
				num(c.Value), num(*f.LowerCI95), num(*f.UpperCI95))}
		}
		return Comparison{read(polarity, higher), fmt.Sprintf("the comparator's value %s lies outside this figure's 95%% confidence interval (%s to %s)",
			num(c.Value), num(*f.LowerCI95), num(*f.UpperCI95))}
	}
	// The method names both figures, their difference and the threshold
	// it was held to, each said for what it is: two bare numbers read as
	// the figures themselves.
	diff := math.Abs(f.Value - c.Value)
	limit := SimilarWithin * math.Abs(c.Value)
	if diff < limit || diff == 0 {
		return Comparison{Similar, fmt.Sprintf("difference under 5%% of the comparator: %s against %s, a difference of %s where 5%% of the comparator is %s; no confidence intervals published",
			num(f.Value), num(c.Value), num(diff), num(limit))}
	}
	return Comparison{read(polarity, higher), fmt.Sprintf("difference of 5%% of the comparator or more: %s against %s, a difference of %s where 5%% of the comparator is %s; no confidence intervals published",
		num(f.Value), num(c.Value), num(diff), num(limit))}
}

func sameDay(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func describePeriod(f Figure) string {
	s := quote(f.Period)
	if f.PeriodStart != nil || f.PeriodEnd != nil {
		s += fmt.Sprintf(" [%s to %s]", orDots(f.PeriodStart), orDots(f.PeriodEnd))
	}
	return s
}

func orDots(s *string) string {
	if s == nil {
		return "…"
	}
	return *s
}

// num prints a number as briefly as it can be read back: 4.25, 12, 0.0167.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.4g", v)
}
