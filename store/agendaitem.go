package store

// AgendaItem is one item of business at a meeting, with its minute.
type AgendaItem struct {
	Record             `bson:",inline" yaml:",inline"`
	MeetingID          string  `bson:"meetingId" yaml:"meetingId"`
	Number             *string `bson:"number,omitempty" yaml:"number,omitempty"`
	MinuteRef          *string `bson:"minuteRef,omitempty" yaml:"minuteRef,omitempty"`
	Title              string  `bson:"title" yaml:"title"`
	Pages              *string `bson:"pages,omitempty" yaml:"pages,omitempty"`
	Exempt             bool    `bson:"exempt" yaml:"exempt,omitempty"`
	ExemptionParagraph *int    `bson:"exemptionParagraph,omitempty" yaml:"exemptionParagraph,omitempty"`
	PresenterID        *string `bson:"presenterId,omitempty" yaml:"presenterId,omitempty"`
	Minutes            *string `bson:"minutes,omitempty" yaml:"minutes,omitempty"`
	Decision           *string `bson:"decision,omitempty" yaml:"decision,omitempty"`
	Outcome            *string `bson:"outcome,omitempty" yaml:"outcome,omitempty"`
	// AgendaText is the item's text as the agenda prints it, where the
	// publishing system gives it apart from the minutes.
	AgendaText *string `bson:"agendaText,omitempty" yaml:"agendaText,omitempty"`
}
