package store

import "time"

// Record holds the fields every stored record shares: its ID, where its facts
// came from, who may see it and when it last changed.
type Record struct {
	// ID is the record's stable, type-prefixed ID ("person:stockton-on-tees/carol-clark"),
	// stored as _id.
	ID string `bson:"_id" yaml:"id"`
	// Sources names the documents and places the record's facts come from.
	Sources []Source `bson:"sources" yaml:"sources"`
	// Visibility is what the data set says of who may see the record:
	// PUBLIC (the default), PARTNER or OFFICER. It is stored as
	// declaredVisibility.
	Visibility string `bson:"declaredVisibility,omitempty" yaml:"visibility,omitempty"`
	// Effective is the least level a caller needs to see the record at all,
	// stored as visibility: its own Visibility, raised to that of every
	// record it cannot be shown without (see Ref.Carries). The store keeps
	// it, on every write, whichever data set changes.
	Effective string `bson:"visibility,omitempty" yaml:"-"`
	// Notes are curation notes, such as where two documents disagree.
	Notes *string `bson:"notes,omitempty" yaml:"notes,omitempty"`
	// UpdatedAt is when the record's content last changed in the store.
	UpdatedAt time.Time `bson:"updatedAt" yaml:"-"`
	// Dataset names the data set (or feed) the record was written by: the
	// one that owns it, and alone may change or delete it.
	Dataset string `bson:"dataset,omitempty" yaml:"-"`
	// CouncilID is the council whose namespace the record's ID is in (see
	// CouncilOf); empty for a shared registry's record.
	CouncilID string `bson:"councilId,omitempty" yaml:"-"`
	// Hash is a digest of the record's content, so that an import can tell
	// an unchanged record from a changed one.
	Hash string `bson:"hash,omitempty" yaml:"-"`
	// Facts is a digest of the record's content without its sources and
	// notes: what another set must state identically to state a shared
	// record again.
	Facts string `bson:"facts,omitempty" yaml:"-"`
	// StatedBy holds the sources of the other sets that state a shared
	// record with the same facts as its owner; its sources as served are
	// its own followed by these.
	StatedBy []Statement `bson:"statedBy,omitempty" yaml:"-"`
	// Search is the folded text that search matches: names, titles and
	// aliases, lowercased and without accents.
	Search string `bson:"search,omitempty" yaml:"-"`
}

// Statement is one other set's statement of a shared record: its name and
// the sources it gives.
type Statement struct {
	Dataset string   `bson:"dataset"`
	Sources []Source `bson:"sources"`
}

// AllSources is the record's sources as served: its owner's, then those of
// every other set that states it.
func (r *Record) AllSources() []Source {
	if len(r.StatedBy) == 0 {
		return r.Sources
	}
	out := append([]Source{}, r.Sources...)
	for _, st := range r.StatedBy {
		out = append(out, st.Sources...)
	}
	return out
}

// Source is where a fact came from: a published document and a place in it.
type Source struct {
	Document string  `bson:"document" yaml:"document"`
	Title    *string `bson:"title,omitempty" yaml:"title,omitempty"`
	Locator  *string `bson:"locator,omitempty" yaml:"locator,omitempty"`
	URL      *string `bson:"url,omitempty" yaml:"url,omitempty"`
}

// Doc is any stored record type.
type Doc interface {
	// Base returns the fields every record shares.
	Base() *Record
}

// Base returns the record itself.
func (r *Record) Base() *Record { return r }
