package auth

import "councilgraph/store"

// CallerFor is the caller a client acts as, whatever carries its requests
// (a webhook delivery, say); a revoked client is anonymous.
func CallerFor(c *store.Client) Caller {
	if c == nil || c.RevokedAt != nil {
		return Anonymous
	}
	return Caller{Client: c, Scope: highest(c.Scopes)}
}
