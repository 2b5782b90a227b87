package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"councilgraph/store"
)

// BenchmarkStartUp measures what a server's start waits on before it is
// ready: a new store on the scale's data set reads its model (every record
// of every collection) and the cost statistics, as serve does with
// --snapshot-size 2GiB. Each iteration opens a store of its own, so each
// reads the model whole; the process's resident memory after the first is
// printed.
//
//	BENCH_SCALE=L go test -run '^$' -bench StartUp -benchtime 1x -timeout 1h ./bench
func BenchmarkStartUp(b *testing.B) {
	e := openEnv(b)
	ctx := context.Background()
	first := true
	for b.Loop() {
		t0 := time.Now()
		s, err := store.Open(ctx, store.Options{URI: e.URI, Database: Database})
		if err != nil {
			b.Fatal(err)
		}
		s.KeepCurrent(time.Second, 2<<30, nil)
		if !s.WaitSnapshot(ctx) {
			b.Fatal("no snapshot of the data set")
		}
		model := time.Since(t0)
		if _, err := s.FindStats(ctx); err != nil {
			b.Fatal(err)
		}
		ready := time.Since(t0)
		fmt.Fprintf(os.Stderr, "model of %d records in %s, ready in %s", s.SnapshotStats().Records, model.Round(time.Millisecond), ready.Round(time.Millisecond))
		if first {
			fmt.Fprintf(os.Stderr, "; resident memory %s", residentMemory())
			first = false
		}
		fmt.Fprintln(os.Stderr)
		b.ReportMetric(ready.Seconds(), "ready-s")
		_ = s.Close(ctx)
	}
}
