package store

// Declaration is an interest a person declared on an agenda item.
type Declaration struct {
	Record       `bson:",inline" yaml:",inline"`
	PersonID     string  `bson:"personId" yaml:"personId"`
	AgendaItemID string  `bson:"agendaItemId" yaml:"agendaItemId"`
	Kind         string  `bson:"kind" yaml:"kind"`
	Text         *string `bson:"text,omitempty" yaml:"text,omitempty"`
}
