package graph

import (
	"context"

	"councilgraph/loaders"
	"councilgraph/store"
)

// councilOf loads the council whose namespace a record's ID is in: the
// publisher every council-owned type names.
func councilOf(ctx context.Context, d store.Doc) (*store.Council, error) {
	id := d.Base().CouncilID
	if id == "" {
		id = store.CouncilOf(d.Base().ID)
	}
	return loaders.One[store.Council](ctx, id)
}

// allSources is a shared record's sources as served: its owner's, then
// those of each other set that states it with the same facts.
func allSources(d store.Doc) []*store.Source {
	all := d.Base().AllSources()
	out := make([]*store.Source, len(all))
	for i := range all {
		out[i] = &all[i]
	}
	return out
}
