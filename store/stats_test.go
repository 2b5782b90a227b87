package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestFirstStatsWaitForTheFirstModel: stats asked for as a server starts,
// while its first model is being read, are the model's once it is read,
// not a scan of the database beside the build, and the same as the
// database's.
func TestFirstStatsWaitForTheFirstModel(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t, nil)
	if err := fillStocktonAndMarked(ctx, s); err != nil {
		t.Fatal(err)
	}
	want, err := s.FindStats(store.FromDatabase(ctx))
	if err != nil {
		t.Fatal(err)
	}
	s.KeepCurrent(time.Hour, 1<<30, nil)
	got, err := s.FindStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !s.InMemory(ctx) {
		t.Error("the stats were read before the first model")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("first stats\n%+v\nfrom the database\n%+v", got, want)
	}
}
