package analysis

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// fig is a figure for 2020/21 as Appendix 2 of the Stockton overview report
// of 17 February 2021 prints them: no dates, no intervals.
func fig(unit string, v float64) Figure { return Figure{Unit: unit, Period: "2020/21", Value: v} }

// TestCompareStockton checks comparisons of Stockton-on-Tees figures
// against the North East and England, as data/stockton/observations.yaml
// holds them, each worked by hand under the 5% rule (no intervals are
// published in the report).
func TestCompareStockton(t *testing.T) {
	tests := []struct {
		name     string
		polarity string
		f, c     Figure
		want     Assessment
	}{
		// 94% against 82%: 12 points, 5% of 82 is 4.1; higher is better.
		{"assessments within 45 days", HigherIsBetter, fig("PERCENT", 94), fig("PERCENT", 82), Better},
		// The North East read against Stockton: the same gap, the other way.
		{"assessments within 45 days, North East", HigherIsBetter, fig("PERCENT", 82), fig("PERCENT", 94), Worse},
		// 88% against 85%: 3 points, under 5% of 85 (4.25).
		{"conferences within 15 days", HigherIsBetter, fig("PERCENT", 88), fig("PERCENT", 85), Similar},
		// 38% against 22%: 16 points, 5% of 22 is 1.1; lower is better.
		{"repeat child protection plans", LowerIsBetter, fig("PERCENT", 38), fig("PERCENT", 22), Worse},
		// 458 days against 483: 25 days, 5% of 483 is 24.15: just past it.
		{"entering care to adoption", LowerIsBetter, fig("DAYS", 458), fig("DAYS", 483), Better},
		// 205 days against 216: 11 days, 5% of 216 is 10.8.
		{"adoption order to match", LowerIsBetter, fig("DAYS", 205), fig("DAYS", 216), Better},
		// 240 against 234 per 10,000: 6, under 11.7; no polarity.
		{"section 47 enquiries", NoJudgement, fig("RATE_PER_10K", 240), fig("RATE_PER_10K", 234), Similar},
		// 523 against 452: 71, past 22.6.
		{"children in need", NoJudgement, fig("RATE_PER_10K", 523), fig("RATE_PER_10K", 452), Higher},
		// 33 against 41: 8, past 2.05.
		{"starting to be looked after", NoJudgement, fig("RATE_PER_10K", 33), fig("RATE_PER_10K", 41), Lower},
		// 7.5% against England's 7.5% in 2013-14: no difference at all.
		{"alcohol misuse factor", NoJudgement, Figure{Unit: "PERCENT", Period: "2013-14", Value: 7.5}, Figure{Unit: "PERCENT", Period: "2013-14", Value: 7.5}, Similar},
		// 1.0% against 2.2% of all English county authorities: lower is better.
		{"SEND tribunal appeals", LowerIsBetter, Figure{Unit: "PERCENT", Period: "February 2021", Value: 1.0}, Figure{Unit: "PERCENT", Period: "February 2021", Value: 2.2}, Better},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.polarity, tt.f, tt.c)
			if got.Assessment != tt.want {
				t.Errorf("Compare = %s (%s), want %s", got.Assessment, got.Method, tt.want)
			}
			if !strings.Contains(got.Method, "5% of the comparator") {
				t.Errorf("method %q does not name the 5%% rule", got.Method)
			}
		})
	}
}

func TestCompareMethodSaysTheFigures(t *testing.T) {
	got := Compare(HigherIsBetter, fig("PERCENT", 94), fig("PERCENT", 82))
	want := "difference of 5% of the comparator or more: 94 against 82, a difference of 12 where 5% of the comparator is 4.1; no confidence intervals published"
	if got.Method != want {
		t.Errorf("method = %q, want %q", got.Method, want)
	}
}

func TestCompareIntervals(t *testing.T) {
	ci := func(v, lo, hi float64) Figure {
		return Figure{Unit: "PERCENT", Period: "2021", Value: v, LowerCI95: &lo, UpperCI95: &hi}
	}
	tests := []struct {
		name     string
		polarity string
		f, c     Figure
		want     Assessment
		method   string
	}{
		// 20% gap, but the intervals 15-25 and 24-32 overlap at 24-25.
		{"overlapping", HigherIsBetter, ci(20, 15, 25), ci(28, 24, 32), Similar, "overlapping 95% confidence intervals (15 to 25 and 24 to 32)"},
		{"apart, higher is better", HigherIsBetter, ci(30, 27, 33), ci(20, 18, 22), Better, "95% confidence intervals that do not overlap (27 to 33 and 18 to 22)"},
		{"apart, lower is better", LowerIsBetter, ci(30, 27, 33), ci(20, 18, 22), Worse, "95% confidence intervals that do not overlap (27 to 33 and 18 to 22)"},
		{"apart, no polarity", NoJudgement, ci(20, 18, 22), ci(30, 27, 33), Lower, "95% confidence intervals that do not overlap (18 to 22 and 27 to 33)"},
		// Under the 5% rule 20.5 against 20 would be similar; the interval
		// decides instead: 20 lies outside 20.2-20.8.
		{"comparator value outside the interval", HigherIsBetter, ci(20.5, 20.2, 20.8), Figure{Unit: "PERCENT", Period: "2021", Value: 20}, Better,
			"the comparator's value 20 lies outside this figure's 95% confidence interval (20.2 to 20.8)"},
		{"comparator value inside the interval", HigherIsBetter, ci(25, 18, 32), Figure{Unit: "PERCENT", Period: "2021", Value: 20}, Similar,
			"the comparator's value 20 lies within this figure's 95% confidence interval (18 to 32)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.polarity, tt.f, tt.c)
			if diff := cmp.Diff(Comparison{tt.want, tt.method}, got); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareNotCompared(t *testing.T) {
	tests := []struct {
		name   string
		f, c   Figure
		method string
	}{
		{"units", fig("PERCENT", 10), fig("RATE_PER_10K", 10), "not compared: the figures are in different units (PERCENT and RATE_PER_10K)"},
		{"periods", fig("PERCENT", 10), Figure{Unit: "PERCENT", Period: "2019/20", Value: 10}, "not compared: the figures are for different periods ('2020/21' and '2019/20')"},
		{"dates", Figure{Unit: "PERCENT", Period: "2020/21", PeriodEnd: ptr("2020-12-31"), Value: 10}, fig("PERCENT", 10),
			"not compared: the figures are for different periods ('2020/21' [… to 2020-12-31] and '2020/21')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(HigherIsBetter, tt.f, tt.c)
			if diff := cmp.Diff(Comparison{NotCompared, tt.method}, got); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlace(t *testing.T) {
	d := func(s string) string { return s }
	tests := []struct {
		period     string
		start, end *string
		want       string // "" when it cannot be placed
	}{
		{"2020/21", nil, nil, d("2020-04-01 to 2021-03-31")},
		{"2013-14", nil, nil, d("2013-04-01 to 2014-03-31")},
		{"Q3 2022/23", nil, nil, d("2022-10-01 to 2022-12-31")},
		{"Q1 2022/23", nil, nil, d("2022-04-01 to 2022-06-30")},
		{"March 2023", nil, nil, d("2023-03-01 to 2023-03-31")},
		{"February 2021", nil, nil, d("2021-02-01 to 2021-02-28")},
		{"2021", nil, nil, d("2021-01-01 to 2021-12-31")},
		{"Q3 2022/23", ptr("2022-10-01"), ptr("2022-12-31"), d("2022-10-01 to 2022-12-31")},
		{"up to 31 March 2023", nil, ptr("2023-03-31"), d("2023-03-31 to 2023-03-31")},
		{"2020/22", nil, nil, ""},
		{"by 2037", nil, nil, ""},
		{"spring 2023", nil, nil, ""},
		{"at go-live (28 February)", nil, nil, ""},
	}
	for _, tt := range tests {
		sp, ok := Place(tt.period, tt.start, tt.end)
		got := ""
		if ok {
			got = sp.String()
		}
		if got != tt.want {
			t.Errorf("Place(%q) = %q, want %q", tt.period, got, tt.want)
		}
	}
}

func TestMannKendall(t *testing.T) {
	tests := []struct {
		name   string
		values []float64
		s, p   float64
		exact  bool
	}{
		// Five rising values: S = 10, and only 1 of the 120 orderings
		// (each way) is as extreme: p = 2/120.
		{"rising", []float64{1, 2, 3, 4, 5}, 10, 2.0 / 120, true},
		{"falling", []float64{5, 4, 3, 2, 1}, -10, 2.0 / 120, true},
		// One swap: one inversion, S = 8; 1 + 4 orderings have at most one
		// inversion: p = 10/120.
		{"one swap", []float64{1, 3, 2, 4, 5}, 8, 10.0 / 120, true},
		{"flat", []float64{3, 3, 3, 3, 3}, 0, 1, false},
		// Ties: 1,2,2,3,4: S = 9, variance = (5*4*15 - 2*1*9)/18 = 282/18,
		// z = 8/sqrt(15.667) = 2.0212, p = erfc(z/sqrt 2) = 0.0433.
		{"ties", []float64{1, 2, 2, 3, 4}, 9, math.Erfc(8 / math.Sqrt(282.0/18) / math.Sqrt2), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, exact := MannKendall(tt.values)
			if s != tt.s || math.Abs(p-tt.p) > 1e-12 || exact != tt.exact {
				t.Errorf("MannKendall = %v, %v, %v; want %v, %v, %v", s, p, exact, tt.s, tt.p, tt.exact)
			}
		})
	}
	if _, p, _ := MannKendall([]float64{1, 2, 2, 3, 4}); math.Abs(p-0.0433) > 0.0001 {
		t.Errorf("ties: p = %v, want 0.0433 as worked by hand", p)
	}
}

func TestChiSquaredTrend(t *testing.T) {
	// 10, 20, 30 of 100 each: p = 0.2, T = -10 + 0 + 30 = 20,
	// variance = 0.2 * 0.8 * (1400 - 600²/300) = 32, chi² = 400/32 = 12.5,
	// p = erfc(sqrt(12.5/2)) = erfc(2.5) = 0.000407.
	chi2, p := ChiSquaredTrend([]float64{10, 20, 30}, []float64{100, 100, 100})
	if math.Abs(chi2-12.5) > 1e-9 || math.Abs(p-0.000407) > 0.000001 {
		t.Errorf("ChiSquaredTrend = %v, %v; want 12.5, 0.000407", chi2, p)
	}
	chi2, p = ChiSquaredTrend([]float64{30, 20, 10}, []float64{100, 100, 100})
	if math.Abs(chi2+12.5) > 1e-9 {
		t.Errorf("falling: chi2 = %v, want -12.5", chi2)
	}
	if _, p = ChiSquaredTrend([]float64{20, 20, 20}, []float64{100, 100, 100}); p != 1 {
		t.Errorf("flat: p = %v, want 1", p)
	}
}

func TestTrendOf(t *testing.T) {
	years := func(values ...float64) []Figure {
		out := make([]Figure, len(values))
		for i, v := range values {
			out[i] = Figure{Unit: "PERCENT", Period: []string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21", "2021/22", "2022/23"}[i], Value: v}
		}
		return out
	}
	withCounts := func(fs []Figure, counts ...float64) []Figure {
		for i := range fs {
			fs[i].Count, fs[i].Denominator = &counts[i], ptr(100.0)
		}
		return fs
	}
	tests := []struct {
		name     string
		polarity string
		figures  []Figure
		last     int
		want     Trend
	}{
		{"Stockton: two periods, one of them unplaceable", NoJudgement, []Figure{
			{Unit: "COUNT", Period: "June 2023", Value: 210},
			{Unit: "COUNT", Period: "at go-live (28 February)", Value: 152},
		}, 5, Trend{CannotBeCalculated, NotCompared, []string{},
			"cannot be calculated: a trend needs figures for 5 periods that can be placed in time, and 1 is published ('June 2023'); 'at go-live (28 February)' cannot be placed in time"}},
		{"Stockton: projections only", NoJudgement, []Figure{
			{Unit: "PERCENT", Period: "by 2022", Value: 4.1},
			{Unit: "PERCENT", Period: "by 2037", Value: 10.3},
		}, 5, Trend{CannotBeCalculated, NotCompared, []string{},
			"cannot be calculated: a trend needs figures for 5 periods that can be placed in time, and 0 are published; 'by 2022', 'by 2037' cannot be placed in time"}},
		{"Stockton: one year", HigherIsBetter, []Figure{fig("PERCENT", 94)}, 5, Trend{CannotBeCalculated, NotCompared, []string{},
			"cannot be calculated: a trend needs figures for 5 periods that can be placed in time, and 1 is published ('2020/21')"}},
		{"rising, higher is better, last five of seven", HigherIsBetter, years(9, 1, 2, 3, 4, 5, 6), 5, Trend{Increasing, Better,
			[]string{"2018/19", "2019/20", "2020/21", "2021/22", "2022/23"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 10, two-sided p = 0.01667 (exact); significant at the 5% level"}},
		{"rising, lower is better", LowerIsBetter, years(1, 2, 3, 4, 5), 5, Trend{Increasing, Worse,
			[]string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 10, two-sided p = 0.01667 (exact); significant at the 5% level"}},
		{"falling, no polarity", NoJudgement, years(5, 4, 3, 2, 1), 5, Trend{Decreasing, Lower,
			[]string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = -10, two-sided p = 0.01667 (exact); significant at the 5% level"}},
		{"one swap", HigherIsBetter, years(1, 3, 2, 4, 5), 5, Trend{NoSignificantChange, Similar,
			[]string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 8, two-sided p = 0.08333 (exact); not significant at the 5% level"}},
		{"counts", LowerIsBetter, withCounts(years(10, 20, 30), 10, 20, 30), 3, Trend{Increasing, Worse,
			[]string{"2016/17", "2017/18", "2018/19"},
			"chi-squared test for linear trend in the published counts over the last 3 periods in time order: chi-squared = 12.5 on 1 degree of freedom, p = 0.000407; significant at the 5% level"}},
		{"out of order as stored", HigherIsBetter, func() []Figure { f := years(1, 2, 3, 4, 5); f[0], f[4] = f[4], f[0]; return f }(), 5, Trend{Increasing, Better,
			[]string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 10, two-sided p = 0.01667 (exact); significant at the 5% level"}},
		{"the same figure from two documents", HigherIsBetter, append(years(1, 2, 3), fig("PERCENT", 5), fig("PERCENT", 5), Figure{Unit: "PERCENT", Period: "2019/20", Value: 4}), 5, Trend{Increasing, Better,
			[]string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"},
			"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 10, two-sided p = 0.01667 (exact); significant at the 5% level"}},
		{"documents that disagree", HigherIsBetter, append(years(1, 2, 3, 4, 5), fig("PERCENT", 6)), 5, Trend{CannotBeCalculated, NotCompared, []string{},
			"cannot be calculated: two different figures are published for '2020/21' (5 and 6), and a trend needs one figure per period"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TrendOf(tt.polarity, tt.figures, tt.last)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TrendOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareSameAreaAndApproximate(t *testing.T) {
	around := "a figure around 40%"
	// Tees, Q3 2022/23, from the TSAB report: 48% and a snapshot 'around
	// 40%', kept side by side in observations.yaml.
	exact := Figure{Unit: "PERCENT", Period: "Q3", PeriodStart: ptr("2022-10-01"), PeriodEnd: ptr("2022-12-31"), Value: 48, Area: "area:tees"}
	rough := Figure{Unit: "PERCENT", Period: "Q3", PeriodStart: ptr("2022-10-01"), PeriodEnd: ptr("2022-12-31"), Value: 40, Area: "area:tees", Approximate: true, ValueText: &around}
	if got := Compare(LowerIsBetter, exact, rough); got.Assessment != NotCompared || !strings.Contains(got.Method, "same area") {
		t.Errorf("same area: %+v", got)
	}
	rough.Area = "area:E92000001"
	want := Comparison{NotCompared, "not compared: 'a figure around 40%' is given only approximately"}
	if diff := cmp.Diff(want, Compare(LowerIsBetter, exact, rough)); diff != "" {
		t.Errorf("approximate (-want +got):\n%s", diff)
	}
}

func TestTrendLeavesOutApproximateFigures(t *testing.T) {
	around := "around 5%"
	figs := []Figure{}
	for i, p := range []string{"2016/17", "2017/18", "2018/19", "2019/20", "2020/21"} {
		figs = append(figs, Figure{Unit: "PERCENT", Period: p, Value: float64(i + 1)})
	}
	figs = append(figs, Figure{Unit: "PERCENT", Period: "2020/21", Value: 9, Approximate: true, ValueText: &around})
	got := TrendOf(HigherIsBetter, figs, 5)
	if got.Direction != Increasing || !strings.HasSuffix(got.Method, "; left out as approximate: 'around 5%' for '2020/21'") {
		t.Errorf("TrendOf = %+v", got)
	}
	got = TrendOf(HigherIsBetter, []Figure{{Unit: "COUNT", Period: "", Value: 152}, {Unit: "COUNT", Period: "now", Value: 210}}, 3)
	if want := "cannot be calculated: a trend needs figures for 3 periods that can be placed in time, and 0 are published; (no period printed), 'now' cannot be placed in time"; got.Method != want {
		t.Errorf("method = %q, want %q", got.Method, want)
	}
}
