// Package scalar owns the GraphQL Date and DateTime scalars: how they are
// read from queries and written to responses.
package scalar

import (
	"fmt"
	"io"
	"strconv"
	"time"
	_ "time/tzdata" // Europe/London must be known on machines without zoneinfo.

	"github.com/99designs/gqlgen/graphql"
)

// london is the zone DateTime values are shown in.
var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// InputError is a value that is not of a scalar's form.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) *InputError {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// DateLayout is the form of a Date: YYYY-MM-DD.
const DateLayout = time.DateOnly

// MarshalDate writes a stored YYYY-MM-DD date.
func MarshalDate(s string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(s))
	})
}

// UnmarshalDate reads a Date argument, which must be a real YYYY-MM-DD day.
func UnmarshalDate(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", inputErrorf("a Date must be a string in the form YYYY-MM-DD, got %T", v)
	}
	if _, err := time.Parse(DateLayout, s); err != nil {
		return "", inputErrorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return s, nil
}

// MarshalDateTime writes a moment in RFC 3339 form in Europe/London time.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.In(london).Format(time.RFC3339)))
	})
}

// UnmarshalDateTime reads a DateTime argument in RFC 3339 form with an offset.
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, inputErrorf("a DateTime must be a string in RFC 3339 form, got %T", v)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, inputErrorf("%q is not a date-time in RFC 3339 form, e.g. 2023-06-15T16:30:00+01:00", s)
	}
	return t, nil
}
