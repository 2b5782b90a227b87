package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"councilgraph/store"
)

var (
	// dueDay is a timescale printed as a day: '15/04/2023'.
	dueDay = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)
	// dueMonth is a timescale printed as a month and year: 'May 23',
	// 'Sept 2023', 'December 2023'. A two-digit year is of this century.
	dueMonth = regexp.MustCompile(`^([A-Za-z]{3,9})\.? (\d{2}|\d{4})$`)
)

// dueSpan reads a printed timescale that names one day or one month as the
// days it covers; ok is false for anything else ('Ongoing', 'TBA', 'Every
// Q', two months).
func dueSpan(text string) (from, to time.Time, ok bool) {
	text = strings.TrimSpace(text)
	if m := dueDay.FindStringSubmatch(text); m != nil {
		d, err := time.Parse("2/1/2006", m[1]+"/"+m[2]+"/"+m[3])
		if err != nil {
			return time.Time{}, time.Time{}, false
		}
		return d, d, true
	}
	m := dueMonth.FindStringSubmatch(text)
	if m == nil {
		return time.Time{}, time.Time{}, false
	}
	month := time.Month(0)
	for mo := time.January; mo <= time.December; mo++ {
		if strings.HasPrefix(strings.ToLower(mo.String()), strings.ToLower(m[1])) {
			month = mo
		}
	}
	if month == 0 {
		return time.Time{}, time.Time{}, false
	}
	year, _ := strconv.Atoi(m[2])
	if len(m[2]) == 2 {
		year += 2000
	}
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	return first, first.AddDate(0, 1, -1), true
}

// checkDue holds an action's due date to its printed timescale: a timescale
// that names one day or month needs a dueDate within it, so that lists of
// actions due before a day see the action; one that names neither (or two
// months) gives none, so without a dueDate stated elsewhere in its lines the
// record's notes say why it has none.
func checkDue(c *checker, v *store.Action) {
	c.date("dueDate", v.DueDate)
	c.published("dueText", v.DueText, v.Sources)
	if v.DueText == nil {
		return
	}
	from, to, ok := dueSpan(*v.DueText)
	switch {
	case !ok && v.DueDate != nil:
		// The day comes from elsewhere in the cited lines ('by 16 August'
		// in the text beside a column that reads otherwise); it cannot be
		// held to a timescale that names none.
	case !ok && v.Notes == nil:
		c.problem("dueText", fmt.Sprintf("%q names no single day or month: say in notes why the action has no dueDate", *v.DueText))
	case ok && v.DueDate == nil:
		c.problem("dueDate", fmt.Sprintf("is required where dueText names a day or a month: %q gives %s", *v.DueText, describeSpan(from, to)))
	case ok:
		d, err := time.Parse(time.DateOnly, *v.DueDate)
		if err == nil && (d.Before(from) || d.After(to)) {
			c.problem("dueDate", fmt.Sprintf("%s is not in %s, which dueText %q names", *v.DueDate, describeSpan(from, to), *v.DueText))
		}
	}
}

func describeSpan(from, to time.Time) string {
	if from.Equal(to) {
		return from.Format(time.DateOnly)
	}
	return from.Format(time.DateOnly) + " to " + to.Format(time.DateOnly)
}
