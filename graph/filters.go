package graph

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Kinds of filter value CheckFilter knows.
const (
	// FilterName is a name to look for (people(name:)): free text of at
	// most 200 characters, with at least one once case, accents and
	// spacing are folded away.
	FilterName = "name"
	// FilterText is text matched whole (an indicator's theme).
	FilterText = "text"
	// FilterID is a record's ID.
	FilterID = "id"
)

// CheckFilter checks one filter value of kind given as arg: the graph's
// list arguments and the downloads' parameters pass this one check, so
// that both take the same values, bounded alike, and say what is wrong in
// the same words. A name is checked as people(name:) checks it; text and
// IDs must not be empty, nor longer than a name may be, nor hold control
// characters.
func CheckFilter(arg, kind, v string) error {
	var err error
	switch kind {
	case FilterName:
		err = searchArg(arg, v, 1)
	case FilterText, FilterID:
		switch n := utf8.RuneCountInString(v); {
		case n == 0:
			return fmt.Errorf("%s must not be empty", arg)
		case n > maxSearchLen:
			return fmt.Errorf("%s must be at most %d characters, got %d", arg, maxSearchLen, n)
		}
		err = textArg(arg, v)
	default:
		return fmt.Errorf("%s: no check for values of kind %q", arg, kind)
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		return errors.New(gqlErr.Message)
	}
	return err
}
