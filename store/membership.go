package store

// Membership is a seat on a body, held by a person (or only named as a post)
// on behalf of an organisation, for a time.
type Membership struct {
	Record         `bson:",inline" yaml:",inline"`
	PersonID       *string `bson:"personId,omitempty" yaml:"personId,omitempty"`
	BodyID         string  `bson:"bodyId" yaml:"bodyId"`
	Role           string  `bson:"role" yaml:"role"`
	Post           *string `bson:"post,omitempty" yaml:"post,omitempty"`
	RepresentingID *string `bson:"representingId,omitempty" yaml:"representingId,omitempty"`
	StartDate      *string `bson:"startDate,omitempty" yaml:"startDate,omitempty"`
	EndDate        *string `bson:"endDate,omitempty" yaml:"endDate,omitempty"`
	// Term is the term as published, e.g. "2023 - 2027".
	Term *string `bson:"term,omitempty" yaml:"term,omitempty"`
	// AreaID is the ward a councillor's seat represents.
	AreaID *string `bson:"areaId,omitempty" yaml:"areaId,omitempty"`
}

// CurrentOn reports whether the membership runs on day (YYYY-MM-DD): it has
// started (or gives no start) and has not ended (or gives no end).
func (m *Membership) CurrentOn(day string) bool {
	return (m.StartDate == nil || *m.StartDate <= day) && (m.EndDate == nil || *m.EndDate >= day)
}
