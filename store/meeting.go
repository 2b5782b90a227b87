package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
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

func (f MeetingFilter) bson() bson.D {
	d := eq(bson.D{}, "bodyId", f.BodyID)
	if f.From != nil || f.To != nil {
		r := bson.D{}
		if f.From != nil {
			r = append(r, bson.E{Key: "$gte", Value: *f.From})
		}
		if f.To != nil {
			r = append(r, bson.E{Key: "$lte", Value: *f.To})
		}
		d = append(d, bson.E{Key: "date", Value: r})
	}
	d = eq(d, "status", f.Status)
	d = councilEq(d, f.Council)
	return since(d, f.UpdatedSince)
}

// Match reports whether m passes the filter's body, dates and status.
func (f MeetingFilter) Match(m *Meeting) bool {
	return (f.BodyID == nil || *f.BodyID == m.BodyID) &&
		(f.From == nil || m.Date >= *f.From) &&
		(f.To == nil || m.Date <= *f.To) &&
		(f.Status == nil || *f.Status == m.Status) &&
		(f.Council == nil || *f.Council == m.CouncilID) &&
		(f.UpdatedSince == nil || !m.UpdatedAt.Before(*f.UpdatedSince))
}

// MeetingDate is a meeting's place in its body's calendar.
type MeetingDate struct {
	ID     string `bson:"_id"`
	BodyID string `bson:"bodyId"`
	Date   string `bson:"date"`
}

// FindMeetingDatesByBodyIDs returns the ID and date of every meeting of the
// given bodies, by date: enough to find a meeting's neighbours.
func (s *Store) FindMeetingDatesByBodyIDs(ctx context.Context, ids []string) ([]*MeetingDate, error) {
	opts := sortBy(byDate).SetProjection(bson.D{{Key: "bodyId", Value: 1}, {Key: "date", Value: 1}})
	return find[MeetingDate](ctx, readOf[Meeting](ctx, s), bson.D{{Key: "bodyId", Value: bson.D{{Key: "$in", Value: ids}}}}, opts)
}

// FindMeetings returns one page of meetings, by date.
func (s *Store) FindMeetings(ctx context.Context, f MeetingFilter, p Page) (*Result[Meeting], error) {
	return findPage[Meeting](ctx, readOf[Meeting](ctx, s), f.bson(), byDate, p)
}

// CountMeetings counts the meetings that match f.
func (s *Store) CountMeetings(ctx context.Context, f MeetingFilter) (int, error) {
	return count(ctx, readOf[Meeting](ctx, s), f.bson())
}
