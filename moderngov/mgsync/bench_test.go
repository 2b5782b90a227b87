package mgsync_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"councilgraph/moderngov"
	"councilgraph/moderngov/mgsync"
	"councilgraph/moderngov/mgtest"
	"councilgraph/store/storetest"
)

// BenchmarkSync1000 synchronises a generated site of 1,000 meetings (ten
// committees, sixty councillors in twenty wards, some 6,500 agenda items
// and 9,800 documents) from the loopback test server into a new store,
// then synchronises it again unchanged, as a second run of the command
// does (a new client, so no answer is 304). It reports the requests of
// each, the re-sync's time and the heap's peak during the first sync:
//
//	go test ./moderngov/mgsync -run '^$' -bench Sync1000 -benchtime 1x
func BenchmarkSync1000(b *testing.B) {
	site := mgtest.Generate(1000)
	srv := site.Start(b)
	for range b.N {
		b.StopTimer()
		st := storetest.New(b, nil)
		c, err := moderngov.New(srv.URL, moderngov.Options{Rate: -1})
		if err != nil {
			b.Fatal(err)
		}
		o := mgsync.Options{Council: "council:generated", Name: "Generated Borough Council",
			From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2030, 12, 31, 0, 0, 0, 0, time.UTC),
			Now: func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }}
		peak, stop := watchHeap()
		b.StartTimer()
		r, err := mgsync.Run(context.Background(), st, c, o)
		b.StopTimer()
		stop()
		if err != nil || r.Failed() || r.Meetings != 1000 {
			b.Fatalf("sync: %v, %d meetings, failures %+v", err, r.Meetings, r.Failures)
		}
		b.ReportMetric(float64(r.Requests.Requests), "requests")
		b.ReportMetric(float64(r.Summary.Changed()), "records")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		// The re-sync reads with a new client, as a second run of the
		// command does: every answer is read again, none is 304.
		c2, err := moderngov.New(srv.URL, moderngov.Options{Rate: -1})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		again, err := mgsync.Run(context.Background(), st, c2, o)
		if err != nil || again.Failed() || again.Summary.Changed() != 0 {
			b.Fatalf("re-sync: %v, changed %d, failures %+v", err, again.Summary.Changed(), again.Failures)
		}
		b.ReportMetric(time.Since(start).Seconds(), "resync-s")
		b.ReportMetric(float64(again.Requests.Requests), "resync-requests")
	}
}

// watchHeap samples the heap in use until stopped, keeping its peak.
func watchHeap() (*atomic.Uint64, func()) {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return &peak, func() { close(done); <-stopped }
}
