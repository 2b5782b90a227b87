package graph

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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
func (r *Resolver) changes(ctx context.Context, since *string, types []string, council *string, first *int) (*model.ChangeConnection, error) {
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
	found, last, more, err := r.Store.Changes(ctx, from, want, council, p.First)
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

// PollInterval is how often the subscriptions' watcher looks whether the
// records' generation has moved: a look at a number in memory, no read of
// the database (store.SeenRecordsGeneration).
const PollInterval = time.Second

// subscriberBuffer is how many changes may wait for one subscriber; one
// that falls further behind is ended, and reads the feed from its last
// cursor, so that it holds back neither the others nor the memory.
const subscriberBuffer = 1024

// feedTimeout bounds each read of the log by the watcher.
const feedTimeout = 10 * time.Second

// The subscriptions share one watcher of the change log: every open
// subscription at one level is fed from one read of the log, made when the
// records' generation moves (every write of records raises it, after its
// entries are readable: store/generation.go, store/changes.go), not from a
// poll of its own. What a caller is shown of the log depends only on its
// level, so the watcher reads it once per level with subscribers, and
// hands each subscriber the entries of the types it asked for.

type endReportKey struct{}

// WithSubscriptionEnd returns a context whose subscription, when the
// service ends it (it fell behind, or the log could not be read), reports
// why through report before it closes: a WebSocket's transport sends that
// as the operation's error. Without it the subscription just ends.
func WithSubscriptionEnd(ctx context.Context, report func(*gqlerror.Error)) context.Context {
	return context.WithValue(ctx, endReportKey{}, report)
}

// changeWatcher follows the change log for a Resolver's subscriptions.
type changeWatcher struct {
	store *store.Store
	poll  time.Duration

	mu      sync.Mutex
	groups  map[store.Level]*changeGroup
	running bool
}

// changeGroup is the subscriptions of one level, and where their reading
// of the log stands.
type changeGroup struct {
	level store.Level
	// from is the last entry read; gen the records' generation seen before
	// it was read. Only the watcher changes them once the group is made.
	from, gen int64
	subs      map[*subscriber]struct{}
}

// subscriber is one subscription.
type subscriber struct {
	ctx   context.Context
	types map[string]bool
	// council, when set, keeps one council's records.
	council *string
	out     chan *model.Change
}

// watcher is r's change watcher, made on first use.
func (r *Resolver) watcher() *changeWatcher {
	r.feedOnce.Do(func() {
		poll := r.Poll
		if poll <= 0 {
			poll = PollInterval
		}
		r.feed = &changeWatcher{store: r.Store, poll: poll, groups: map[store.Level]*changeGroup{}}
	})
	return r.feed
}

// subscribe answers Subscription.changes: the changes from the log's
// newest entry on, as the caller may see them, until ctx ends. poll is
// unused: the Resolver's watcher polls for every subscription.
func (r *Resolver) subscribe(ctx context.Context, types []string, council *string, _ time.Duration) (<-chan *model.Change, error) {
	want, err := changeTypes(types)
	if err != nil {
		return nil, err
	}
	return r.watcher().add(ctx, want, council)
}

// add joins a subscription to its level's group, starting one (from the
// log's newest entry) where there is none, and the watcher where it does
// not run.
func (w *changeWatcher) add(ctx context.Context, types []string, council *string) (<-chan *model.Change, error) {
	l := store.LevelOf(ctx)
	sub := &subscriber{ctx: ctx, types: map[string]bool{}, council: council, out: make(chan *model.Change, subscriberBuffer)}
	for _, t := range types {
		sub.types[t] = true
	}
	w.mu.Lock()
	g := w.groups[l]
	w.mu.Unlock()
	if g == nil {
		gen := w.store.SeenRecordsGeneration()
		from, err := w.store.LastChange(ctx)
		if err != nil {
			return nil, err
		}
		g = &changeGroup{level: l, from: from, gen: gen, subs: map[*subscriber]struct{}{}}
	}
	w.mu.Lock()
	if have := w.groups[l]; have != nil {
		g = have // made meanwhile by another subscription
	} else {
		w.groups[l] = g
	}
	g.subs[sub] = struct{}{}
	if !w.running {
		w.running = true
		go w.run()
	}
	w.mu.Unlock()
	go func() {
		<-ctx.Done()
		w.end(g, sub, nil)
	}()
	return sub.out, nil
}

// end ends a subscription, with err sent to its client where it is not
// nil, and drops its group once it has no subscription left.
func (w *changeWatcher) end(g *changeGroup, sub *subscriber, err *gqlerror.Error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := g.subs[sub]; !ok {
		return
	}
	delete(g.subs, sub)
	if len(g.subs) == 0 && w.groups[g.level] == g {
		delete(w.groups, g.level)
	}
	if report, ok := sub.ctx.Value(endReportKey{}).(func(*gqlerror.Error)); ok && err != nil {
		// Before the channel closes: the transport reads it after.
		report(err)
	}
	close(sub.out)
}

// run reads the log for each group whose generation has moved, every
// poll, until no subscription is open.
func (w *changeWatcher) run() {
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for range t.C {
		w.mu.Lock()
		if len(w.groups) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		var moved []*changeGroup
		gen := w.store.SeenRecordsGeneration()
		for _, g := range w.groups {
			if g.gen != gen {
				moved = append(moved, g)
			}
		}
		w.mu.Unlock()
		for _, g := range moved {
			w.read(g, gen)
		}
	}
}

// read reads g's level's entries after g.from and hands them to its
// subscribers; where the log cannot be read (pruned past g.from, or the
// database away), g's subscriptions end with the reason, and their clients
// read the feed.
func (w *changeWatcher) read(g *changeGroup, gen int64) {
	for {
		ctx, cancel := context.WithTimeout(store.WithLevel(context.Background(), g.level), feedTimeout)
		found, last, more, err := w.store.Changes(store.WithBudget(ctx, 4*maxFirst), g.from, nil, nil, maxFirst)
		cancel()
		if err != nil {
			w.endAll(g, feedError(err))
			return
		}
		g.from = last
		w.deliver(g, found)
		if !more {
			g.gen = gen
			return
		}
	}
}

// feedError is what a subscriber is told when the log cannot be read.
func feedError(err error) *gqlerror.Error {
	if errors.Is(err, store.ErrChangesExpired) {
		return expired()
	}
	return &gqlerror.Error{Message: "the change feed could not be read; read it from your last cursor, and subscribe again",
		Extensions: map[string]any{"code": string(apierr.ServiceUnavailable)}}
}

// fellBehind is what a subscriber too slow for its buffer is told.
func fellBehind() *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf("this subscription fell more than %d changes behind and was ended; read the feed from your last cursor, and subscribe again", subscriberBuffer),
		Extensions: map[string]any{"code": string(apierr.ServiceUnavailable)}}
}

// deliver hands each change to the group's subscribers that asked for its
// type, ending those whose buffer is full.
func (w *changeWatcher) deliver(g *changeGroup, found []store.Change) {
	if len(found) == 0 {
		return
	}
	w.mu.Lock()
	var behind []*subscriber
	for sub := range g.subs {
		for _, c := range found {
			if !sub.types[c.Type] || sub.council != nil && store.CouncilOf(c.ID) != *sub.council {
				continue
			}
			select {
			case sub.out <- toModel(c):
				continue
			default:
			}
			behind = append(behind, sub)
			break
		}
	}
	w.mu.Unlock()
	for _, sub := range behind {
		w.end(g, sub, fellBehind())
	}
}

// endAll ends every subscription of g with err.
func (w *changeWatcher) endAll(g *changeGroup, err *gqlerror.Error) {
	w.mu.Lock()
	subs := make([]*subscriber, 0, len(g.subs))
	for sub := range g.subs {
		subs = append(subs, sub)
	}
	w.mu.Unlock()
	for _, sub := range subs {
		w.end(g, sub, err)
	}
}
