package httpapi

import (
	"log/slog"
	"testing"
	"time"

	"councilgraph/store/storetest"
)

// TestStatsAreNotReadAgainWhileFresh: a read of the store's sizes asked
// for while they were missing (each /readyz asks, until they are read) but
// run only once another read has brought them reads nothing: no stray
// finds run beside the requests that follow.
func TestStatsAreNotReadAgainWhileFresh(t *testing.T) {
	t.Parallel()
	counter := &storetest.Counter{}
	s := storetest.New(t, counter.Monitor())
	c := newStatsCache(s, slog.New(slog.DiscardHandler), time.Hour)
	c.read()
	select {
	case <-c.ready:
	default:
		t.Fatal("the first read did not bring the stats")
	}
	before := counter.Count("find")
	if before == 0 {
		t.Fatal("the first read sent no find: the count measures nothing")
	}
	c.read() // a late one, as a /readyz before the first read ended starts
	if n := counter.Count("find") - before; n != 0 {
		t.Errorf("a read of fresh stats sent %d finds", n)
	}
}
