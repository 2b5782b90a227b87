package graph

import "councilgraph/store"

// heldOn reports whether m passes a memberships list's `current` and `on`
// arguments: running today, and held on the day asked for.
func heldOn(m *store.Membership, current *bool, today string, on *string) bool {
	return (current == nil || m.CurrentOn(today) == *current) && (on == nil || m.CurrentOn(*on))
}
