package store

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Level is how much a caller may see. Every find and count the store runs
// for a request keeps to the level in its context, so that a record above
// the caller's level does not exist for them on any path: lookups, lists,
// counts, relations, search and federation entities alike.
type Level int

// The levels, each seeing all the one before it sees.
const (
	// Public sees PUBLIC records, without contact details or the content of
	// exempt agenda items.
	Public Level = iota
	// Partner also sees PARTNER records and people's contact details.
	Partner
	// Officer sees everything, exempt business included.
	Officer
)

// The visibility values records carry.
const (
	VisibilityPublic  = "PUBLIC"
	VisibilityPartner = "PARTNER"
	VisibilityOfficer = "OFFICER"
)

type levelKey struct{}

// WithLevel returns a context whose store queries keep to level l.
func WithLevel(ctx context.Context, l Level) context.Context {
	return context.WithValue(ctx, levelKey{}, l)
}

// LevelOf is the level the context's queries keep to: Public unless
// WithLevel said otherwise.
func LevelOf(ctx context.Context) Level {
	l, _ := ctx.Value(levelKey{}).(Level)
	return l
}

// visibleTo lists the visibility values level l may see.
func visibleTo(l Level) []string {
	return []string{VisibilityPublic, VisibilityPartner, VisibilityOfficer}[:l+1]
}

// scoped adds the caller's visibility condition to filter.
func scoped(ctx context.Context, filter bson.D) bson.D {
	l := LevelOf(ctx)
	if l >= Officer {
		return filter
	}
	return append(filter, bson.E{Key: "visibility", Value: bson.D{{Key: "$in", Value: visibleTo(l)}}})
}

// redactor is a record with fields some levels may not see.
type redactor interface {
	redact(Level)
}

// redact blanks what level l may not see of v.
func redact(l Level, v any) {
	if r, ok := v.(redactor); ok && l < Officer {
		r.redact(l)
	}
}

// redact hides contact details from public callers.
func (p *Person) redact(l Level) {
	if l < Partner {
		p.Email, p.Phone = nil, nil
	}
}

// redact withholds exempt business from all but officers: the item's
// existence, number, title and exemption stay visible, and nothing else
// (what belongs to it, its reports, actions and declarations, is OFFICER:
// see levels.go).
func (a *AgendaItem) redact(l Level) {
	if a.Exempt && l < Officer {
		a.Minutes, a.Decision, a.Outcome, a.PresenterID = nil, nil, nil, nil
		a.MinuteRef, a.Pages, a.ExemptionParagraph, a.Notes = nil, nil, nil, nil
		a.Sources = []Source{}
	}
}

// admits reports whether level l may see record d: the rule scoped sends to
// the server (on the stored visibility, d's Effective level), for the finds
// that must send a bare filter (shape.go).
func admits(l Level, d Doc) bool { return admitsLevel(l, d.Base().Effective) }

// admitsLevel is admits for a record whose stored visibility is v.
func admitsLevel(l Level, v string) bool {
	return l >= Officer || slices.Contains(visibleTo(l), v)
}
