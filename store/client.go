package store

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Client is a partner or officer application that calls the API with a key.
// The key itself is never stored: only its SHA-256 hash.
type Client struct {
	ID           string     `bson:"_id"`
	Name         string     `bson:"name"`
	Organisation string     `bson:"organisation"`
	Scopes       []string   `bson:"scopes"`
	KeyHash      string     `bson:"keyHash"`
	CreatedAt    time.Time  `bson:"createdAt"`
	RevokedAt    *time.Time `bson:"revokedAt,omitempty"`
}

// InsertClient stores a new client.
func (s *Store) InsertClient(ctx context.Context, c *Client) (err error) {
	defer s.raiseKeysGeneration(ctx, &err)
	if _, err := s.clients.InsertOne(ctx, c); err != nil {
		return dbError("insert client", err)
	}
	return nil
}

// FindClientByKeyHash returns the client whose key hashes to h, revoked or
// not, or nil when there is none.
func (s *Store) FindClientByKeyHash(ctx context.Context, h string) (*Client, error) {
	found, err := findUnscoped[Client](ctx, s.clients, bson.D{{Key: "keyHash", Value: h}}, options.Find().SetLimit(1))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// FindClients returns every client, oldest first.
func (s *Store) FindClients(ctx context.Context) ([]*Client, error) {
	return findUnscoped[Client](ctx, s.clients, bson.D{}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
}

// RevokeClient marks a client's key revoked at t. It reports false when no
// such client exists.
func (s *Store) RevokeClient(ctx context.Context, id string, t time.Time) (_ bool, err error) {
	defer s.raiseKeysGeneration(ctx, &err)
	res, err := s.clients.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "revokedAt", Value: t.UTC()}}}})
	if err != nil {
		return false, dbError("revoke client", err)
	}
	return res.MatchedCount == 1, nil
}
