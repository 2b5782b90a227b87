// Package graph owns the GraphQL layer: the generated executable schema, the
// resolvers that answer each field through the loaders or the store, and the
// error presenter.
package graph

import (
	"sync"
	"time"

	"councilgraph/store"
)

// Resolver is the one place dependencies reach the resolvers.
type Resolver struct {
	Store *store.Store
	// Now tells the time; memberships are current relative to it. Nil means
	// the system clock.
	Now func() time.Time
	// Poll is how often the subscriptions' shared watcher looks whether
	// the records have changed (PollInterval when zero).
	Poll time.Duration

	feedOnce sync.Once
	feed     *changeWatcher
}

// today is the current day in the UK, as a Date.
func (r *Resolver) today() string {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	return now().In(london).Format(time.DateOnly)
}

var london, _ = time.LoadLocation("Europe/London")
