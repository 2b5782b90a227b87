package store

// The GraphQL layer binds the store's types directly as its models; these
// marker methods let them satisfy the interfaces gqlgen generates for the
// Node interface, the SearchHit union and federation entities.

// IsEntity marks a record as a federation entity.
func (Record) IsEntity() {}

// IsNode marks a record as a GraphQL Node.
func (Record) IsNode() {}

// IsSearchHit marks a record as something search can return.
func (Record) IsSearchHit() {}

// IsChangeRecord marks every record as a member of the ChangeRecord union.
func (Record) IsChangeRecord() {}

// GetID returns the record's ID.
func (r Record) GetID() string { return r.ID }
