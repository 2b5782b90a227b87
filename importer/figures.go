package importer

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"councilgraph/store"
)

// checkFigures checks what an observation publishes beside its value: both
// confidence limits or neither, around the value; a count no larger than a
// positive denominator.
func checkFigures(c *checker, v *store.Observation) {
	switch lo, hi := v.LowerCI95, v.UpperCI95; {
	case (lo == nil) != (hi == nil):
		c.problem("lowerCI95", "must be given with upperCI95, or neither given")
	case lo != nil && !(*lo <= v.Value && v.Value <= *hi):
		c.problem("lowerCI95", fmt.Sprintf("the interval %g to %g (with upperCI95) must hold the value %g", *lo, *hi, v.Value))
	}
	switch n, d := v.Count, v.Denominator; {
	case (n == nil) != (d == nil):
		c.problem("count", "must be given with denominator, or neither given")
	case d != nil && *d <= 0:
		c.problem("denominator", fmt.Sprintf("must be positive, got %g", *d))
	case n != nil && (*n < 0 || *n > *d):
		c.problem("count", fmt.Sprintf("must be between 0 and the denominator %g, got %g", *d, *n))
	}
}

var (
	// printedNumber is a number as printed, with any thousands commas, and
	// the scale written after it ('£9m', '£20million', '£500k').
	printedNumber = regexp.MustCompile(`(?i)(\d[\d,]*(?:\.\d+)?)\s*(million|billion|bn|m|k)?\b`)
	// roughWords are the words that make a printed figure approximate or a
	// bound rather than the figure itself.
	roughWords = regexp.MustCompile(`(?i)\b(around|approximately|about|some|nearly|almost|roughly|circa|over|up to|more than|at least|similar)\b`)
)

// numberWords are the numbers the documents write as words ('Three new
// notifications', 'Four SARs').
var numberWords = map[string]float64{
	"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20,
}

// printedNumbers lists the numbers text prints, in figures at the scale
// their suffix names or as words, without sign (the words say 'reduced
// by', not '-').
func printedNumbers(text string) []float64 {
	var out []float64
	for _, w := range strings.FieldsFunc(strings.ToLower(markup.ReplaceAllString(text, "")), func(r rune) bool { return r < 'a' || r > 'z' }) {
		if n, ok := numberWords[w]; ok {
			out = append(out, n)
		}
	}
	text = markup.ReplaceAllString(text, "")
	for _, m := range printedNumber.FindAllStringSubmatch(text, -1) {
		n, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		if err != nil {
			continue
		}
		switch strings.ToLower(m[2]) {
		case "k":
			n *= 1e3
		case "m", "million":
			n *= 1e6
		case "bn", "billion":
			n *= 1e9
		}
		out = append(out, n)
	}
	return out
}

// checkPrintedValue holds a figure to the number it prints: its value is a
// number the lines its sources name print (in figures, at the scale their
// suffix names, or in words), and, where it has published words, one of
// the numbers they print, never one derived from them ('around 11% higher'
// is 11, not 111); words that give the figure only roughly ('around',
// 'some', 'similar') make it approximate.
func checkPrintedValue(c *checker, v *store.Observation) {
	if !c.stated("value") {
		return
	}
	if v.ValueText != nil {
		if w := roughWords.FindString(*v.ValueText); w != "" && !v.Approximate {
			c.problem("approximate", fmt.Sprintf("valueText %q gives the figure only roughly (%q): set approximate: true", *v.ValueText, w))
		}
		if !prints(*v.ValueText, v.Value) {
			c.problem("value", fmt.Sprintf("%g is not a number valueText %q prints; the value is the number the words state, never one derived from them", v.Value, *v.ValueText))
			return
		}
	}
	if texts := c.cited(v.Sources); len(texts) > 0 && !slices.ContainsFunc(texts, func(t string) bool { return prints(t, v.Value) }) {
		c.problem("value", fmt.Sprintf("%g is not a number the lines its sources name print; the value is the number the text states, never one derived from it", v.Value))
	}
}

// prints reports whether text prints the number v, sign aside.
func prints(text string, v float64) bool {
	return slices.ContainsFunc(printedNumbers(text), func(n float64) bool { return math.Abs(n-math.Abs(v)) <= 1e-9*math.Max(1, n) })
}

// periodsAgree holds the set to one reading of each printed period: figures
// that print the same period in the same document give it the same first
// and last days, or none, so that a period written once is read once.
func periodsAgree(items []Item) Problems {
	type reading struct {
		start, end *string
		id         string
	}
	first := map[[2]string]reading{}
	var problems Problems
	for _, it := range items {
		v, ok := it.Doc.(*store.Observation)
		if !ok || v.Period == "" || len(v.Sources) == 0 {
			continue
		}
		key := [2]string{v.Sources[0].Document, v.Period}
		r, seen := first[key]
		if !seen {
			first[key] = reading{v.PeriodStart, v.PeriodEnd, v.ID}
			continue
		}
		if !sameDay(r.start, v.PeriodStart) || !sameDay(r.end, v.PeriodEnd) {
			c := &checker{item: it, id: v.ID}
			c.problem("periodStart", fmt.Sprintf("period %q of %s runs %s here and %s in %s; one printed period has one reading",
				v.Period, key[0], spanText(v.PeriodStart, v.PeriodEnd), spanText(r.start, r.end), r.id))
			problems = append(problems, c.problems...)
		}
	}
	return problems
}

func sameDay(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func spanText(start, end *string) string {
	if start == nil && end == nil {
		return "with no dates"
	}
	or := func(s *string) string {
		if s == nil {
			return "…"
		}
		return *s
	}
	return or(start) + " to " + or(end)
}
