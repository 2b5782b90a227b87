// Package webhooks owns the change feed's webhooks: API clients' endpoints
// (added, listed, removed, replayed), the signatures of the Standard
// Webhooks specification, and the worker that delivers each endpoint's
// changes in order, as its client may see them, retrying with backoff.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"councilgraph/graph"
	"councilgraph/store"
)

// Add makes an endpoint for client clientID at rawURL, for the record
// types named (every type when none), and returns it with its secret,
// which is shown once. Deliveries start with the changes made after it.
func Add(ctx context.Context, s *store.Store, clientID, rawURL string, types []string, council string, now time.Time) (*store.WebhookEndpoint, error) {
	if clientID == "" {
		return nil, errors.New("webhooks add needs --client, the ID of an API client (see councilgraph keys list)")
	}
	if rawURL == "" {
		return nil, errors.New("webhooks add needs --url, where to send the deliveries")
	}
	c, err := s.FindClient(ctx, clientID)
	if err != nil {
		return nil, fmt.Errorf("add webhook: %w", err)
	}
	if c == nil {
		return nil, fmt.Errorf("--client: no client %s; see councilgraph keys list", clientID)
	}
	if c.RevokedAt != nil {
		return nil, fmt.Errorf("--client: client %s was revoked on %s; a revoked client gets no deliveries", clientID, c.RevokedAt.Format(time.RFC3339))
	}
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	if council != "" && !councilID.MatchString(council) {
		return nil, fmt.Errorf("--council: %q is not a council's ID, e.g. council:stockton-on-tees", council)
	}
	if err := checkTypes(types); err != nil {
		return nil, err
	}
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("add webhook: %w", err)
	}
	last, err := s.LastChange(ctx)
	if err != nil {
		return nil, fmt.Errorf("add webhook: %w", err)
	}
	e := &store.WebhookEndpoint{
		ID: "webhook:" + hex.EncodeToString(id[:]), ClientID: clientID, URL: rawURL, Types: types, Council: council,
		Secret: secret, CreatedAt: now.UTC().Truncate(time.Millisecond),
		WebhookState: store.WebhookState{Cursor: last},
	}
	if err := s.InsertWebhookEndpoint(ctx, e); err != nil {
		return nil, fmt.Errorf("add webhook: %w", err)
	}
	return e, nil
}

// councilID is the form of a council's ID.
var councilID = regexp.MustCompile(`^council:[a-z0-9][a-z0-9-]*$`)

// checkTypes says which of types is not a record type of the feed.
func checkTypes(types []string) error {
	all := graph.ChangeRecordTypes()
	var bad []string
	for _, t := range types {
		if !slices.Contains(all, t) {
			bad = append(bad, fmt.Sprintf("%q", t))
		}
	}
	switch {
	case len(bad) == 1:
		return fmt.Errorf("--types: %s is not a record type; the types are %s", bad[0], strings.Join(all, ", "))
	case len(bad) > 1:
		return fmt.Errorf("--types: %s are not record types; the types are %s", strings.Join(bad, ", "), strings.Join(all, ", "))
	}
	return nil
}

// Replay starts an endpoint's deliveries again after cursor (a cursor of
// the change feed), unpaused: the changes after it are sent again, under
// message IDs of their own.
func Replay(ctx context.Context, s *store.Store, id, cursor string) error {
	if cursor == "" {
		return errors.New("webhooks replay needs --since, a cursor of the change feed (a change's cursor, or a page's endCursor)")
	}
	seq, err := graph.ParseChangeCursor(cursor)
	if err != nil {
		return fmt.Errorf("--since %q is not a cursor of the change feed", cursor)
	}
	if _, _, _, err := s.Changes(ctx, seq, nil, nil, 1); errors.Is(err, store.ErrChangesExpired) {
		return fmt.Errorf("--since: the change log no longer holds the changes after %s; replay from a newer cursor", cursor)
	} else if err != nil {
		return fmt.Errorf("replay webhook: %w", err)
	}
	return restart(ctx, s, id, &seq)
}

// Resume starts a paused endpoint's deliveries again where they stopped;
// the batch in flight keeps its message ID.
func Resume(ctx context.Context, s *store.Store, id string) error {
	return restart(ctx, s, id, nil)
}

// restart restarts endpoint id after seq, or where it stopped when seq
// is nil.
func restart(ctx context.Context, s *store.Store, id string, seq *int64) error {
	ok, err := s.RestartWebhook(ctx, id, seq)
	if err != nil {
		return fmt.Errorf("restart webhook: %w", err)
	}
	if !ok {
		return fmt.Errorf("no webhook endpoint %s; see councilgraph webhooks list", id)
	}
	return nil
}

// Remove deletes an endpoint and its attempts.
func Remove(ctx context.Context, s *store.Store, id string) error {
	ok, err := s.DeleteWebhookEndpoint(ctx, id)
	if err != nil {
		return fmt.Errorf("remove webhook: %w", err)
	}
	if !ok {
		return fmt.Errorf("no webhook endpoint %s; see councilgraph webhooks list", id)
	}
	return nil
}
