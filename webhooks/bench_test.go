package webhooks_test

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/importer"
	"councilgraph/store/storetest"
	"councilgraph/webhooks"
)

// BenchmarkDeliverStockton delivers the change log of an import of the
// bundled Stockton set (every record an upsert) to a loopback receiver, as
// a partner client sees it, in batches of 100: one iteration is a replay
// from the start until the endpoint has caught up.
func BenchmarkDeliverStockton(b *testing.B) {
	ctx := context.Background()
	s := storetest.New(b, nil)
	if _, err := importer.ImportFS(ctx, s, os.DirFS("../data/stockton"), importer.Options{Dataset: "stockton"}); err != nil {
		b.Fatal(err)
	}
	var changes int
	rc := newReceiver(b, func(int, http.ResponseWriter, *http.Request) int { return 0 })
	_, c, err := auth.CreateKey(ctx, s, "bench", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	e, err := webhooks.Add(ctx, s, c.ID, rc.URL, nil, "", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	startWorker(b, s, webhooks.Config{}) // the defaults, as serve runs it
	b.ResetTimer()
	for b.Loop() {
		before := len(rc.accepted())
		if err := webhooks.Replay(ctx, s, e.ID, graph.ChangeCursor(0)); err != nil {
			b.Fatal(err)
		}
		waitCaughtUp(b, s, e.ID)
		for _, d := range rc.accepted()[before:] {
			changes += len(d.payload(b).Data.Changes)
		}
	}
	b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
	b.ReportMetric(float64(changes)/float64(b.N), "changes/op")
}
