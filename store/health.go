package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// ErrUnreachable says the database cannot be reached. Callers that stop work
// because the database went away cancel with it as the cause.
var ErrUnreachable = errors.New("the database is unreachable")

// Check runs the cheapest real query there is (one ID from the smallest
// collection, areas) so that a database that answers pings but cannot read
// its data is found out. Bound it with ctx's deadline.
func (s *Store) Check(ctx context.Context) error {
	err := s.db.Collection("areas").FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return dbError("check areas", err)
	}
	return nil
}

// Unreachable reports whether err says the database could not be reached
// (no server to select, a network failure), as opposed to a failure of the
// query itself or a client this process has closed.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var sel topology.ServerSelectionError
	return errors.Is(err, ErrUnreachable) || errors.As(err, &sel) || mongo.IsNetworkError(err)
}
