package store

// Attendance records how one person attended one meeting.
type Attendance struct {
	Record         `bson:",inline" yaml:",inline"`
	MeetingID      string  `bson:"meetingId" yaml:"meetingId"`
	PersonID       string  `bson:"personId" yaml:"personId"`
	Status         string  `bson:"status" yaml:"status"`
	Capacity       *string `bson:"capacity,omitempty" yaml:"capacity,omitempty"`
	RepresentingID *string `bson:"representingId,omitempty" yaml:"representingId,omitempty"`
}
