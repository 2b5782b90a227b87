package store

import (
	"context"
	"time"
)

// Meeting is one sitting of a body on a day.
type Meeting struct {
	Record   `bson:",inline" yaml:",inline"`
	BodyID   string     `bson:"bodyId" yaml:"bodyId"`
	Title    string     `bson:"title" yaml:"title"`
	Date     string     `bson:"date" yaml:"date"`
	StartsAt *time.Time `bson:"startsAt,omitempty" yaml:"startsAt,omitempty"`
	EndsAt   *time.Time `bson:"endsAt,omitempty" yaml:"endsAt,omitempty"`
	Venue    *string    `bson:"venue,omitempty" yaml:"venue,omitempty"`
	Status   string     `bson:"status" yaml:"status"`
}

// MeetingFilter narrows a list of meetings.
type MeetingFilter struct {
	BodyID *string
	// From and To bound the meeting date, both inclusive (YYYY-MM-DD).
	From, To *string
	Status   *string
	// Council keeps one council's records.
	Council      *string
	UpdatedSince *time.Time
}

func (f MeetingFilter) where() where {
	return where{}.eq("bodyId", f.BodyID).between("date", f.From, f.To).eq("status", f.Status).
		council(f.Council).since(f.UpdatedSince)
}

// Match reports whether m passes the filter, as a list of meetings tests it.
func (f MeetingFilter) Match(m *Meeting) bool { return f.where().test(kindFor[Meeting](), m) }

// MeetingDate is a meeting's place in its body's calendar.
type MeetingDate struct {
	ID     string `bson:"_id"`
	BodyID string `bson:"bodyId"`
	Date   string `bson:"date"`
}

// FindMeetingDatesByBodyIDs returns the ID and date of every meeting of the
// given bodies, by date: enough to find a meeting's neighbours.
func (s *Store) FindMeetingDatesByBodyIDs(ctx context.Context, ids []string) ([]*MeetingDate, error) {
	found, err := list[Meeting](ctx, s, where{oneOf("bodyId", ids)}, byDate)
	out := make([]*MeetingDate, len(found))
	for i, m := range found {
		out[i] = &MeetingDate{ID: m.ID, BodyID: m.BodyID, Date: m.Date}
	}
	return out, err
}

// FindMeetings returns one page of meetings, by date.
func (s *Store) FindMeetings(ctx context.Context, f MeetingFilter, p Page) (*Result[Meeting], error) {
	return page[Meeting](ctx, s, f.where(), byDate, p)
}

// CountMeetings counts the meetings that match f.
func (s *Store) CountMeetings(ctx context.Context, f MeetingFilter) (int, error) {
	return countOf[Meeting](ctx, s, f.where())
}
