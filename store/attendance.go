package store

import "context"

// Attendance records how one person attended one meeting.
type Attendance struct {
	Record         `bson:",inline" yaml:",inline"`
	MeetingID      string  `bson:"meetingId" yaml:"meetingId"`
	PersonID       string  `bson:"personId" yaml:"personId"`
	Status         string  `bson:"status" yaml:"status"`
	Capacity       *string `bson:"capacity,omitempty" yaml:"capacity,omitempty"`
	RepresentingID *string `bson:"representingId,omitempty" yaml:"representingId,omitempty"`
}

// FindAttendanceByMeetingIDs returns the attendance at the given meetings.
func (s *Store) FindAttendanceByMeetingIDs(ctx context.Context, ids []string) ([]*Attendance, error) {
	return findIn[Attendance](ctx, s.Attendance, "meetingId", ids, byID)
}

// FindAttendanceByPersonIDs returns the attendance of the given people.
func (s *Store) FindAttendanceByPersonIDs(ctx context.Context, ids []string) ([]*Attendance, error) {
	return findIn[Attendance](ctx, s.Attendance, "personId", ids, byID)
}
