package store

// Document is a published document a publishing system lists against a
// meeting or an agenda item: an agenda, a report, minutes, an appendix. A
// document under an exempt agenda item is withheld with the item's other
// business (its agendaItemId carries); a restricted one is listed, but its
// address is shown only to officers.
type Document struct {
	Record `bson:",inline" yaml:",inline"`
	Title  string `bson:"title" yaml:"title"`
	// URL is where the public can read it; nil where it is not published.
	URL *string `bson:"url,omitempty" yaml:"url,omitempty"`
	// PublishedOn is the publication date (YYYY-MM-DD), where known.
	PublishedOn *string `bson:"publishedOn,omitempty" yaml:"publishedOn,omitempty"`
	// Restricted documents are withheld from the public (exempt or
	// confidential).
	Restricted   bool    `bson:"restricted" yaml:"restricted,omitempty"`
	MeetingID    *string `bson:"meetingId,omitempty" yaml:"meetingId,omitempty"`
	AgendaItemID *string `bson:"agendaItemId,omitempty" yaml:"agendaItemId,omitempty"`
}

func (d *Document) hides(l Level) bool { return d.Restricted && l < Officer && d.URL != nil }

// redact hides a restricted document's address from all but officers: the
// listing says it exists, as the published agenda does, and no more.
func (d *Document) redact(l Level) {
	if d.Restricted && l < Officer {
		d.URL = nil
	}
}
