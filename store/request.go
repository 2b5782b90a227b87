package store

import "context"

// Request is one request as every part of the service sees it: its ID,
// who asks, what its reads may see, how much they may read, and its
// loaders. A context carries it as one value. It is made whole where a
// request enters (graph.Requests: an HTTP request, an operation on a
// WebSocket, an event of a subscription, a webhook's delivery), so that
// no part of it can be missing further in; commands and tests that read
// the store directly set only what they need (WithLevel, WithBudget).
//
// It lives in this package, beneath the others, so that each reads its
// part of the same value: the store the level, budget and reads, auth the
// caller, loaders the loaders, and the graph the ID.
type Request struct {
	// ID names the request in logs and in the errors it is shown.
	ID string
	// Client is the API client that asks, nil for an anonymous caller.
	Client *Client
	// Scope is the highest scope the caller holds (package auth).
	Scope string
	// Level is what the request's reads may see.
	Level Level
	// Budget bounds what its reads may decode and send; nil for none.
	Budget *Budget
	// Reads, when set, notes the councils its answer depends on (the
	// response cache's).
	Reads *Reads
	// Loaders are the request's loaders (a *loaders.Loaders, which is
	// built on this package and so cannot be named here).
	Loaders any
}

type requestKey struct{}

// WithRequest returns a context carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestOf is the request a context carries, nil when none.
func RequestOf(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// derive returns ctx carrying a copy of its request (an empty one when it
// has none) changed by f: what a read may see or spend changes for what
// runs in the returned context only.
func derive(ctx context.Context, f func(*Request)) context.Context {
	var r Request
	if old := RequestOf(ctx); old != nil {
		r = *old
	}
	f(&r)
	return WithRequest(ctx, &r)
}
