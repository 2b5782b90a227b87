package analysis

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Span is where a period lies in time: its first and last days.
type Span struct {
	Start, End time.Time
}

var (
	financialYear = regexp.MustCompile(`^(\d{4})[/-](\d{2})$`)
	quarter       = regexp.MustCompile(`^Q([1-4]) (\d{4})[/-](\d{2})$`)
	monthYear     = regexp.MustCompile(`^(January|February|March|April|May|June|July|August|September|October|November|December) (\d{4})$`)
	calendarYear  = regexp.MustCompile(`^(\d{4})$`)
)

// Place finds where a period lies in time: from its published first and last
// days where given, otherwise from the period as published when it has one
// of the forms councils print: a financial year ('2020/21', '2013-14':
// April to March), a quarter of one ('Q3 2022/23': Q1 is April to June), a
// month ('March 2023') or a calendar year ('2021'). Anything else ('by 2037',
// 'spring 2023') cannot be placed, and ok is false.
func Place(period string, start, end *string) (Span, bool) {
	s, sok := day(start)
	e, eok := day(end)
	switch {
	case sok && eok:
		return Span{s, e}, true
	case sok || eok:
		// One published day places the period where the other cannot be
		// read from the label.
		if p, ok := parse(period); ok {
			if sok {
				p.Start = s
			} else {
				p.End = e
			}
			return p, true
		}
		if sok {
			return Span{s, s}, true
		}
		return Span{e, e}, true
	}
	return parse(period)
}

func day(s *string) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, *s)
	return t, err == nil
}

func parse(period string) (Span, bool) {
	if m := quarter.FindStringSubmatch(period); m != nil {
		y, ok := fiscalStart(m[2], m[3])
		if !ok {
			return Span{}, false
		}
		q, _ := strconv.Atoi(m[1])
		start := time.Date(y, time.April+time.Month(3*(q-1)), 1, 0, 0, 0, 0, time.UTC)
		return Span{start, start.AddDate(0, 3, -1)}, true
	}
	if m := financialYear.FindStringSubmatch(period); m != nil {
		y, ok := fiscalStart(m[1], m[2])
		if !ok {
			return Span{}, false
		}
		return Span{time.Date(y, time.April, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, time.March, 31, 0, 0, 0, 0, time.UTC)}, true
	}
	if m := monthYear.FindStringSubmatch(period); m != nil {
		t, err := time.Parse("January 2006", period)
		if err != nil {
			return Span{}, false
		}
		return Span{t, t.AddDate(0, 1, -1)}, true
	}
	if m := calendarYear.FindStringSubmatch(period); m != nil {
		y, _ := strconv.Atoi(m[1])
		return Span{time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC), time.Date(y, time.December, 31, 0, 0, 0, 0, time.UTC)}, true
	}
	return Span{}, false
}

// fiscalStart reads '2020' and '21' as the year 2020/21 starts in; the
// second part must be the year after the first.
func fiscalStart(first, second string) (int, bool) {
	y, _ := strconv.Atoi(first)
	n, _ := strconv.Atoi(second)
	return y, (y+1)%100 == n
}

// String prints the span as its two days.
func (s Span) String() string {
	return fmt.Sprintf("%s to %s", s.Start.Format(time.DateOnly), s.End.Format(time.DateOnly))
}
