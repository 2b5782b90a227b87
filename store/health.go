package store

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"councilgraph/apierr"
)

// ErrUnreachable says the database cannot be reached. Callers that stop work
// because the database went away cancel with it as the cause.
var ErrUnreachable = apierr.Errorf(apierr.ServiceUnavailable, "the database is unreachable")

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
// (no server to select, a connection refused or broken), as opposed to a
// failure of the query itself, a client this process has closed, or a
// deadline: the driver reports a reply cut short by the caller's deadline
// as a network error, and that is a slow request, not an outage (a server
// that stops answering is found by the health check, which gives the
// requests it stops ErrUnreachable as their cause). A server selection
// that ran out of time while the server's last contact failed other than by
// a timeout (a connection refused) is unreachable too: once the driver has
// marked a server down, a check waits for it until its deadline, and
// taking that for a slow answer would keep a stopped database's service
// open.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnreachable) {
		return true
	}
	var sel topology.ServerSelectionError
	isSel := errors.As(err, &sel)
	if isSel {
		for _, srv := range sel.Desc.Servers {
			if srv.LastError != nil && !mongo.IsTimeout(srv.LastError) {
				return true
			}
		}
	}
	if mongo.IsTimeout(err) || errors.Is(err, context.Canceled) {
		return false
	}
	return isSel || mongo.IsNetworkError(err)
}
