package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/apierr"
	"councilgraph/graph/model"
	"councilgraph/store"
)

// The change feed: Query.changes pages through the store's change log,
// Subscription.changes follows it. What each caller is shown of it, and
// why, is the store's (store/changes.go).

// cursorPrefix starts every change cursor before it is encoded.
const cursorPrefix = "changes:"

// changeCursor encodes a change log number as an opaque cursor.
func changeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// parseChangeCursor reads a cursor changeCursor made.
func parseChangeCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if n, ok := strings.CutPrefix(string(raw), cursorPrefix); ok {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil && seq >= 0 {
				return seq, nil
			}
		}
	}
	return 0, inputError("since", "since is not a cursor from the change feed")
}

// changeTypes checks the types argument against ChangeRecord's members and
// returns the types to read: those named, or every member when none are.
func changeTypes(types []string) ([]string, error) {
	members := ChangeRecordTypes()
	if types == nil {
		return members, nil
	}
	if len(types) == 0 {
		return nil, inputError("types", "types is empty; leave it out for every type")
	}
	for _, t := range types {
		if !slices.Contains(members, t) {
			return nil, inputError("types", fmt.Sprintf("%q is not a record type; the types are %s", t, strings.Join(members, ", ")))
		}
	}
	return types, nil
}

// expired is the error for a cursor older than the log's retention.
func expired() *gqlerror.Error {
	return &gqlerror.Error{
		Message:    "the change feed no longer holds the changes after this cursor: resynchronise from the lists (with updatedSince) and read the feed again from a fresh cursor",
		Extensions: map[string]any{"code": string(apierr.ChangesExpired), "argument": "since"},
	}
}

// toModel makes a store change the GraphQL one.
func toModel(c store.Change) *model.Change {
	m := &model.Change{Cursor: changeCursor(c.Seq), At: c.At, Kind: model.ChangeKind(c.Kind), Type: c.Type, ID: c.ID}
	if c.Record != nil {
		m.Record = c.Record.(model.ChangeRecord)
	}
	return m
}

// changes answers Query.changes.
func (r *Resolver) changes(ctx context.Context, since *string, types []string, first *int) (*model.ChangeConnection, error) {
	p, err := pageArgs(first, nil)
	if err != nil {
		return nil, err
	}
	var from int64
	if since != nil {
		if from, err = parseChangeCursor(*since); err != nil {
			return nil, err
		}
	}
	want, err := changeTypes(types)
	if err != nil {
		return nil, err
	}
	found, last, more, err := r.Store.Changes(ctx, from, want, p.First)
	if errors.Is(err, store.ErrChangesExpired) {
		return nil, expired()
	}
	if err != nil {
		return nil, err
	}
	conn := &model.ChangeConnection{Edges: make([]*model.ChangeEdge, len(found)), PageInfo: &model.PageInfo{HasNextPage: more}}
	for i, c := range found {
		m := toModel(c)
		conn.Edges[i] = &model.ChangeEdge{Cursor: m.Cursor, Node: m}
	}
	// The end cursor is that of the last entry read, shown or not, so that
	// the next page does not read again what this caller was not shown.
	end := changeCursor(last)
	conn.PageInfo.EndCursor = &end
	return conn, nil
}

// PollInterval is how often a subscription reads the change log.
const PollInterval = time.Second

// subscribe answers Subscription.changes: it reads the log from its newest
// entry on, every poll (PollInterval when zero), and sends what the
// caller may see until ctx ends.
func (r *Resolver) subscribe(ctx context.Context, types []string, poll time.Duration) (<-chan *model.Change, error) {
	want, err := changeTypes(types)
	if err != nil {
		return nil, err
	}
	if poll <= 0 {
		poll = PollInterval
	}
	from, err := r.Store.LastChange(ctx)
	if err != nil {
		return nil, err
	}
	out := make(chan *model.Change)
	go func() {
		defer close(out)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for {
				// Each read has a budget of its own: the operation's was
				// for one answer, and a stream makes many.
				pctx := store.WithBudget(ctx, 4*maxFirst)
				found, last, more, err := r.Store.Changes(pctx, from, want, maxFirst)
				if err != nil {
					// The log was pruned past us, or the database is away:
					// the subscription ends, and the client reads the feed.
					return
				}
				from = last
				for _, c := range found {
					select {
					case out <- toModel(c):
					case <-ctx.Done():
						return
					}
				}
				if !more {
					break
				}
			}
		}
	}()
	return out, nil
}
