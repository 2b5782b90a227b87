package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Webhook endpoints and their deliveries.
//
// An endpoint (collection webhookEndpoints) belongs to one API client and
// holds where to send, which record types, its signing secret, and its
// delivery state: the change log number it has been sent up to (Cursor),
// the batch in flight, its failures and whether it is paused. Each attempt
// to deliver is one document of webhookAttempts.
//
// The signing secret must be recoverable to sign, so it is stored as it
// was shown (whsec_…), in this collection only. It never reaches a log, an
// export or `webhooks list`. Whoever may read the database may read it:
// give direct readers of the database (analysts, partners) access to the
// record collections only, never to clients or webhookEndpoints.
//
// Neither collection is part of the data set: they are not records, have
// no visibility, and their writes do not raise the data generation (no
// answer depends on them).

// WebhookEndpoint is one endpoint of an API client's webhooks.
type WebhookEndpoint struct {
	ID       string `bson:"_id"`
	ClientID string `bson:"clientId"`
	URL      string `bson:"url"`
	// Types are the record types delivered; empty for all.
	Types []string `bson:"types,omitempty"`
	// Council, when set, keeps deliveries to that council's records.
	Council string `bson:"council,omitempty"`
	// Secret is the signing secret, whsec_ and base64.
	Secret    string    `bson:"secret"`
	CreatedAt time.Time `bson:"createdAt"`
	// Epoch is raised by every replay and resume, so that a delivery
	// begun before one does not write its state over the new one.
	Epoch int64 `bson:"epoch"`
	// Replays counts the replays, so that a replayed batch gets a
	// message ID of its own.
	Replays int64 `bson:"replays"`

	WebhookState `bson:",inline"`
}

// WebhookState is an endpoint's delivery state.
type WebhookState struct {
	// Cursor is the number of the last change log entry delivered (or
	// passed over: none of it was visible to the client).
	Cursor int64 `bson:"cursor"`
	// BatchEnd, when not 0, is the last entry of the batch in flight: its
	// retries carry the entries Cursor+1 to BatchEnd, under one ID.
	BatchEnd int64 `bson:"batchEnd"`
	// Failures counts the attempts failed since the last success.
	Failures int `bson:"failures"`
	// FailingSince is the first of those failures.
	FailingSince *time.Time `bson:"failingSince,omitempty"`
	// NextAttemptAt is when the next retry may go (zero: at once).
	NextAttemptAt time.Time `bson:"nextAttemptAt"`
	// LastSuccessAt is the last delivery the endpoint accepted.
	LastSuccessAt *time.Time `bson:"lastSuccessAt,omitempty"`
	// PausedAt, when set, stops deliveries until a replay or resume;
	// PauseReason says why.
	PausedAt    *time.Time `bson:"pausedAt,omitempty"`
	PauseReason string     `bson:"pauseReason,omitempty"`
}

// WebhookAttempt is one attempt to deliver a batch to an endpoint.
type WebhookAttempt struct {
	ID         bson.ObjectID `bson:"_id,omitempty"`
	EndpointID string        `bson:"endpointId"`
	// MessageID is the batch's webhook-id.
	MessageID string    `bson:"messageId"`
	At        time.Time `bson:"at"`
	// Changes is how many changes the batch carried.
	Changes int `bson:"changes"`
	// Status is the HTTP status answered, 0 when none was.
	Status int `bson:"status"`
	// Error says why the attempt failed; "" when it succeeded.
	Error    string        `bson:"error,omitempty"`
	Duration time.Duration `bson:"durationNs"`
}

func (s *Store) webhookEndpoints() *mongo.Collection { return s.db.Collection("webhookEndpoints") }
func (s *Store) webhookAttempts() *mongo.Collection  { return s.db.Collection("webhookAttempts") }

// FindClient returns the client with the given ID, revoked or not, or nil
// when there is none.
func (s *Store) FindClient(ctx context.Context, id string) (*Client, error) {
	found, err := findUnscoped[Client](ctx, s.clients, bson.D{{Key: "_id", Value: id}}, options.Find().SetLimit(1))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// InsertWebhookEndpoint stores a new endpoint.
func (s *Store) InsertWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	if _, err := s.webhookEndpoints().InsertOne(ctx, e); err != nil {
		return dbError("insert webhook endpoint", err)
	}
	return nil
}

// FindWebhookEndpoints returns every endpoint, oldest first.
func (s *Store) FindWebhookEndpoints(ctx context.Context) ([]*WebhookEndpoint, error) {
	return findUnscoped[WebhookEndpoint](ctx, s.webhookEndpoints(), bson.D{},
		options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// FindWebhookEndpoint returns the endpoint with the given ID, or nil.
func (s *Store) FindWebhookEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error) {
	found, err := findUnscoped[WebhookEndpoint](ctx, s.webhookEndpoints(), bson.D{{Key: "_id", Value: id}}, options.Find().SetLimit(1))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// DeleteWebhookEndpoint removes an endpoint and its attempts. It reports
// false when there was no such endpoint.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id string) (bool, error) {
	res, err := s.webhookEndpoints().DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return false, dbError("delete webhook endpoint", err)
	}
	if _, err := s.webhookAttempts().DeleteMany(ctx, bson.D{{Key: "endpointId", Value: id}}); err != nil {
		return false, dbError("delete webhook attempts", err)
	}
	return res.DeletedCount == 1, nil
}

// SetWebhookState writes endpoint e's delivery state, provided the stored
// endpoint is still as e has it (its epoch, cursor and batch): it reports
// false when the endpoint is gone, was replayed or resumed, or was moved
// on by another delivery meanwhile, and then writes nothing. On success e
// holds st.
func (s *Store) SetWebhookState(ctx context.Context, e *WebhookEndpoint, st WebhookState) (bool, error) {
	set := bson.D{{Key: "cursor", Value: st.Cursor}, {Key: "batchEnd", Value: st.BatchEnd},
		{Key: "failures", Value: st.Failures}, {Key: "nextAttemptAt", Value: st.NextAttemptAt}}
	var unset bson.D
	for _, f := range []struct {
		name string
		v    any
		set  bool
	}{
		{"failingSince", st.FailingSince, st.FailingSince != nil},
		{"lastSuccessAt", st.LastSuccessAt, st.LastSuccessAt != nil},
		{"pausedAt", st.PausedAt, st.PausedAt != nil},
		{"pauseReason", st.PauseReason, st.PauseReason != ""},
	} {
		if f.set {
			set = append(set, bson.E{Key: f.name, Value: f.v})
		} else {
			unset = append(unset, bson.E{Key: f.name, Value: ""})
		}
	}
	update := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	filter := bson.D{{Key: "_id", Value: e.ID}, {Key: "epoch", Value: e.Epoch}, {Key: "cursor", Value: e.Cursor}, {Key: "batchEnd", Value: e.BatchEnd}}
	res, err := s.webhookEndpoints().UpdateOne(ctx, filter, update)
	if err != nil {
		return false, dbError("set webhook state", err)
	}
	if res.MatchedCount != 1 {
		return false, nil
	}
	e.WebhookState = st
	return true, nil
}

// RestartWebhook starts an endpoint's deliveries again, unpaused and with
// its failures forgotten: with a cursor, as a replay (after that cursor,
// under new message IDs), without one, as a resume (where it stopped, the
// batch in flight under its ID). Either raises its epoch. It reports false
// when there is no such endpoint.
func (s *Store) RestartWebhook(ctx context.Context, id string, cursor *int64) (bool, error) {
	set := bson.D{{Key: "failures", Value: 0}, {Key: "nextAttemptAt", Value: time.Time{}}}
	inc := bson.D{{Key: "epoch", Value: int64(1)}}
	if cursor != nil {
		set = append(set, bson.E{Key: "cursor", Value: *cursor}, bson.E{Key: "batchEnd", Value: int64(0)})
		inc = append(inc, bson.E{Key: "replays", Value: int64(1)})
	}
	res, err := s.webhookEndpoints().UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{
		{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: "failingSince", Value: ""}, {Key: "pausedAt", Value: ""}, {Key: "pauseReason", Value: ""}}},
		{Key: "$inc", Value: inc},
	})
	if err != nil {
		return false, dbError("restart webhook", err)
	}
	return res.MatchedCount == 1, nil
}

// InsertWebhookAttempt records one delivery attempt.
func (s *Store) InsertWebhookAttempt(ctx context.Context, a *WebhookAttempt) error {
	if _, err := s.webhookAttempts().InsertOne(ctx, a); err != nil {
		return dbError("record webhook attempt", err)
	}
	return nil
}

// FindWebhookAttempts returns an endpoint's last limit attempts, newest
// first.
func (s *Store) FindWebhookAttempts(ctx context.Context, endpointID string, limit int) ([]*WebhookAttempt, error) {
	return findUnscoped[WebhookAttempt](ctx, s.webhookAttempts(), bson.D{{Key: "endpointId", Value: endpointID}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
}

// PruneWebhookAttempts deletes the attempts made before t.
func (s *Store) PruneWebhookAttempts(ctx context.Context, t time.Time) (int, error) {
	res, err := s.webhookAttempts().DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: t}}}})
	if err != nil {
		return 0, dbError("prune webhook attempts", err)
	}
	return int(res.DeletedCount), nil
}

// EnsureWebhookIndexes creates the attempts' indexes where missing; the
// delivery worker runs it when it starts.
func (s *Store) EnsureWebhookIndexes(ctx context.Context) error {
	c := s.webhookAttempts()
	have, err := indexNames(ctx, c)
	if err != nil {
		return err
	}
	var missing []mongo.IndexModel
	for _, f := range [][]string{{"endpointId", "at"}, {"at"}} {
		if k := keys(f...); !have[indexName(k)] {
			missing = append(missing, mongo.IndexModel{Keys: k, Options: options.Index().SetName(indexName(k))})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.Indexes().CreateMany(ctx, missing); err != nil {
		return fmt.Errorf("create indexes on %s: %w", c.Name(), err)
	}
	return nil
}
