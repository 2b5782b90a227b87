package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The number of periods a trend is computed over: 5 by default, as
// Fingertips does; a caller may ask for 3 to 20.
const (
	DefaultLast = 5
	MinLast     = 3
	MaxLast     = 20
)

// Significance is the p-value under which a trend test finds a change: 5%,
// matching the 95% intervals comparisons use.
const Significance = 0.05

// Trend is the direction of travel over an area's recent periods.
type Trend struct {
	Direction  Direction
	Assessment Assessment
	// Periods are the periods it was computed over, oldest first, as
	// published.
	Periods []string
	// Method says how it was computed.
	Method string
}

type placed struct {
	Figure
	span Span
}

// TrendOf computes the direction of travel of one area's figures over its
// last `last` periods (every figure is for the same indicator and area).
// The figures are put in time order by Place; the trend needs one figure for
// each of `last` periods that can be placed, and is CANNOT_BE_CALCULATED
// otherwise. Where every one of those figures publishes its count and
// denominator, the test is the chi-squared test for linear trend in
// proportions (Cochran-Armitage), as Fingertips computes recent trends;
// otherwise it is the Mann-Kendall test on the values (exact without ties).
// A p-value under 5% gives INCREASING or DECREASING, otherwise
// NO_SIGNIFICANT_CHANGE; the assessment reads the direction with polarity.
func TrendOf(polarity string, figures []Figure, last int) Trend {
	var points []placed
	var unplaced, approximate []string
	for _, f := range figures {
		if f.Approximate {
			approximate = append(approximate, fmt.Sprintf("%s for %s", f.words(), quote(f.Period)))
			continue
		}
		if sp, ok := Place(f.Period, f.PeriodStart, f.PeriodEnd); ok {
			points = append(points, placed{f, sp})
		} else {
			unplaced = append(unplaced, quote(f.Period))
		}
	}
	slices.SortStableFunc(points, func(a, b placed) int {
		return cmp.Or(a.span.End.Compare(b.span.End), a.span.Start.Compare(b.span.Start))
	})
	// One figure per period: the same figure published twice counts once;
	// two different figures for one period leave the trend undecided.
	points = slices.CompactFunc(points, func(a, b placed) bool { return a.span == b.span && a.Value == b.Value })
	for i := 1; i < len(points); i++ {
		if points[i].span == points[i-1].span {
			return cannot(fmt.Sprintf("cannot be calculated: two different figures are published for %s (%s and %s), and a trend needs one figure per period",
				quote(points[i].Period), num(points[i-1].Value), num(points[i].Value)))
		}
	}
	if len(points) < last {
		msg := fmt.Sprintf("cannot be calculated: a trend needs figures for %d periods that can be placed in time, and %d %s published", last, len(points), plural(len(points), "is", "are"))
		if len(points) > 0 {
			msg += " (" + strings.Join(periodsOf(points, quote), ", ") + ")"
		}
		if len(unplaced) > 0 {
			msg += fmt.Sprintf("; %s cannot be placed in time", strings.Join(unplaced, ", "))
		}
		return cannot(msg + leftOut(approximate))
	}
	points = points[len(points)-last:]
	t := Trend{Periods: periodsOf(points, func(s string) string { return s })}
	var p, stat float64
	allCounts := true
	for _, pt := range points {
		allCounts = allCounts && pt.hasCounts()
	}
	if allCounts {
		r := make([]float64, len(points))
		n := make([]float64, len(points))
		for i, pt := range points {
			r[i], n[i] = *pt.Count, *pt.Denominator
		}
		stat, p = ChiSquaredTrend(r, n)
		t.Method = fmt.Sprintf("chi-squared test for linear trend in the published counts over the last %d periods in time order: chi-squared = %s on 1 degree of freedom, p = %s",
			last, num(math.Abs(stat)), num(p))
	} else {
		v := make([]float64, len(points))
		for i, pt := range points {
			v[i] = pt.Value
		}
		var exact bool
		stat, p, exact = MannKendall(v)
		how := "normal approximation, ties corrected"
		if exact {
			how = "exact"
		}
		t.Method = fmt.Sprintf("Mann-Kendall test on the values of the last %d periods in time order (no counts are published): S = %s, two-sided p = %s (%s)",
			last, num(stat), num(p), how)
	}
	switch {
	case p < Significance && stat > 0:
		t.Direction, t.Assessment = Increasing, read(polarity, true)
	case p < Significance && stat < 0:
		t.Direction, t.Assessment = Decreasing, read(polarity, false)
	default:
		t.Direction, t.Assessment = NoSignificantChange, Similar
	}
	if t.Direction == NoSignificantChange {
		t.Method += "; not significant at the 5% level"
	} else {
		t.Method += "; significant at the 5% level"
	}
	t.Method += leftOut(approximate)
	return t
}

func cannot(method string) Trend {
	return Trend{Direction: CannotBeCalculated, Assessment: NotCompared, Periods: []string{}, Method: method}
}

func periodsOf(points []placed, f func(string) string) []string {
	out := make([]string, len(points))
	for i, p := range points {
		out[i] = f(p.Period)
	}
	return out
}

// leftOut names the approximate figures a trend leaves out.
func leftOut(approximate []string) string {
	if len(approximate) == 0 {
		return ""
	}
	return "; left out as approximate: " + strings.Join(approximate, ", ")
}

// quote prints a period as published, or says that none was.
func quote(s string) string {
	if s == "" {
		return "(no period printed)"
	}
	return "'" + s + "'"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// MannKendall tests values (in time order) for a monotonic trend. It returns
// Kendall's S (concordant minus discordant pairs), the two-sided p-value and
// whether that p-value is exact (no tied values: from the distribution of
// inversions over all orderings) rather than the normal approximation with
// the tie correction and a continuity correction.
func MannKendall(values []float64) (s, p float64, exact bool) {
	n := len(values)
	ties := false
	for i := range n {
		for j := i + 1; j < n; j++ {
			switch {
			case values[j] > values[i]:
				s++
			case values[j] < values[i]:
				s--
			default:
				ties = true
			}
		}
	}
	if s == 0 {
		return 0, 1, !ties
	}
	if !ties {
		m := n * (n - 1) / 2
		// S = m - 2D where D counts the inversions; by symmetry
		// P(|S| >= |s|) = 2 P(D <= (m - |s|) / 2).
		d := (m - int(math.Abs(s))) / 2
		dist := inversions(n)
		total, tail := 0.0, 0.0
		for k, c := range dist {
			total += c
			if k <= d {
				tail += c
			}
		}
		return s, math.Min(1, 2*tail/total), true
	}
	counts := map[float64]int{}
	for _, v := range values {
		counts[v]++
	}
	fn := float64(n)
	variance := fn * (fn - 1) * (2*fn + 5)
	for _, t := range counts {
		ft := float64(t)
		variance -= ft * (ft - 1) * (2*ft + 5)
	}
	variance /= 18
	if variance <= 0 {
		return s, 1, false
	}
	z := (math.Abs(s) - 1) / math.Sqrt(variance)
	return s, math.Min(1, math.Erfc(z/math.Sqrt2)), false
}

// inversions is the number of orderings of n distinct values with k
// inversions, for each k from 0 to n(n-1)/2 (the Mahonian numbers).
func inversions(n int) []float64 {
	dist := []float64{1}
	for m := 2; m <= n; m++ {
		next := make([]float64, len(dist)+m-1)
		for k := range next {
			for j := 0; j < m && j <= k; j++ {
				if k-j < len(dist) {
					next[k] += dist[k-j]
				}
			}
		}
		dist = next
	}
	return dist
}

// ChiSquaredTrend is the chi-squared test for linear trend in the
// proportions counts[i]/denominators[i] over equally spaced, ordered periods
// (the Cochran-Armitage test, scores 1, 2, ...). It returns the statistic,
// signed by the direction of the trend, and its p-value on one degree of
// freedom.
func ChiSquaredTrend(counts, denominators []float64) (signedChi2, p float64) {
	var sumR, sumN, sumNX, sumNX2 float64
	for i := range counts {
		x := float64(i + 1)
		sumR += counts[i]
		sumN += denominators[i]
		sumNX += denominators[i] * x
		sumNX2 += denominators[i] * x * x
	}
	pbar := sumR / sumN
	var t float64
	for i := range counts {
		t += float64(i+1) * (counts[i] - denominators[i]*pbar)
	}
	variance := pbar * (1 - pbar) * (sumNX2 - sumNX*sumNX/sumN)
	if variance <= 0 || t == 0 {
		return 0, 1
	}
	chi2 := t * t / variance
	return math.Copysign(chi2, t), math.Erfc(math.Sqrt(chi2 / 2))
}
