package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"councilgraph/auth"
	"councilgraph/loaders"
	"councilgraph/store"
)

// Requests makes the requests the graph answers, each whole in one
// place: its ID, its caller and the level the caller sees, a budget and
// its own loaders (store.Request). Every entry makes its requests here:
// the HTTP endpoint, each operation on a WebSocket, each event of a
// subscription, and each webhook delivery.
type Requests struct {
	Store *store.Store
	// LoaderWait is the loaders' ceiling on a batch's wait (loaders.New).
	LoaderWait time.Duration
	// MaxRecords is a request's budget until its operation's cost lowers
	// it (store.WithBudget); 0 leaves its reads unbounded, as a command's
	// are.
	MaxRecords int
}

// New returns ctx carrying a request named id (a new ID when id is "")
// that acts for c.
func (m Requests) New(ctx context.Context, id string, c auth.Caller) context.Context {
	if id == "" {
		id = NewRequestID()
	}
	r := &store.Request{ID: id, Client: c.Client, Scope: c.Scope, Level: c.Level(), Loaders: loaders.New(m.Store, m.LoaderWait)}
	if m.MaxRecords > 0 {
		r.Budget = store.NewBudget(m.MaxRecords)
	}
	return store.WithRequest(ctx, r)
}

// Again returns ctx carrying its request afresh: the same ID and caller,
// with a budget and loaders of its own. Each operation on a WebSocket and
// each event of a subscription runs in one, so that a long-lived stream
// never shows what it loaded earlier and each answer has the budget one
// answer would have.
func (m Requests) Again(ctx context.Context) context.Context {
	return m.New(ctx, RequestID(ctx), auth.CallerFrom(ctx))
}

// NewRequestID is a new random request ID.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RequestID is the ID of the context's request, "" when it carries none.
func RequestID(ctx context.Context) string {
	if r := store.RequestOf(ctx); r != nil {
		return r.ID
	}
	return ""
}
