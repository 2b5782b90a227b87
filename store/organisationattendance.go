package store

// OrganisationAttendance is how many representatives of an organisation
// attended a meeting, where the record counts organisations rather than
// people (an attendance matrix).
type OrganisationAttendance struct {
	Record         `bson:",inline" yaml:",inline"`
	OrganisationID string `bson:"organisationId" yaml:"organisationId"`
	MeetingID      string `bson:"meetingId" yaml:"meetingId"`
	Attendees      int    `bson:"attendees" yaml:"attendees"`
}
