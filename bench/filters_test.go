package bench

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"councilgraph/bench/gen"
)

// BenchmarkFilters measures, on the scale's database, the query shapes a
// batching strategy can choose between, so that the choice per server
// rests on figures: an _id equality, the same as a one-key $in, a 20-key
// $in on _id, a reference equality, a 20-key $in on a reference, and 20
// single-key finds sent in parallel.
func BenchmarkFilters(b *testing.B) {
	e := openEnv(b)
	ctx := context.Background()
	var meetings []string
	for i := range 20 {
		meetings = append(meetings, gen.MeetingID(i%e.Councils, i%gen.BodiesPerCouncil, 24+i))
	}
	one := func(c *mongo.Collection, filter bson.D) error {
		cur, err := c.Find(ctx, filter)
		if err != nil {
			return err
		}
		var out []bson.Raw
		return cur.All(ctx, &out)
	}
	in := func(keys []string) bson.D { return bson.D{{Key: "$in", Value: keys}} }
	cases := []struct {
		name string
		run  func() error
	}{
		{"meetings-id-eq", func() error { return one(e.DB.Collection("meetings"), bson.D{{Key: "_id", Value: meetings[0]}}) }},
		{"meetings-id-in-1", func() error { return one(e.DB.Collection("meetings"), bson.D{{Key: "_id", Value: in(meetings[:1])}}) }},
		{"meetings-id-in-20", func() error { return one(e.DB.Collection("meetings"), bson.D{{Key: "_id", Value: in(meetings)}}) }},
		{"meetings-id-eq-20-parallel", func() error {
			var g errgroup.Group
			for _, id := range meetings {
				g.Go(func() error { return one(e.DB.Collection("meetings"), bson.D{{Key: "_id", Value: id}}) })
			}
			return g.Wait()
		}},
		{"agendaItems-meetingId-eq", func() error {
			return one(e.DB.Collection("agendaItems"), bson.D{{Key: "meetingId", Value: meetings[0]}})
		}},
		{"agendaItems-meetingId-in-20", func() error {
			return one(e.DB.Collection("agendaItems"), bson.D{{Key: "meetingId", Value: in(meetings)}})
		}},
		{"agendaItems-meetingId-eq-20-parallel", func() error {
			var g errgroup.Group
			for _, id := range meetings {
				g.Go(func() error { return one(e.DB.Collection("agendaItems"), bson.D{{Key: "meetingId", Value: id}}) })
			}
			return g.Wait()
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			measure(b, e, "filter "+c.name, "driver", func(int) []byte {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
				return nil
			})
		})
	}
}
