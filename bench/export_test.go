package bench

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
)

// BenchmarkExport downloads the largest collections and the analysis
// layout through the full HTTP handler, reporting each file's size and how
// far the heap rose above where it started while it streamed (sampled
// every 2 ms, with the collector made eager so that the figure follows
// what is held rather than garbage not yet collected).
func BenchmarkExport(b *testing.B) {
	e := openEnv(b)
	h := httpapitest.New(e.Store, httpapi.Config{RateAnonymous: -1, RateKeyed: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, file := range []string{"agendaItems.csv", "attendance.ndjson", "observations.csv", "observations-analysis.csv"} {
		b.Run(file, func(b *testing.B) {
			var size int64
			var peak uint64
			for b.Loop() {
				w := &counter{h: http.Header{}}
				p := heapRise(func() { h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/export/"+file, nil)) })
				size, peak = w.n, max(peak, p)
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB/file")
			b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-rise")
		})
	}
}

type counter struct {
	h http.Header
	n int64
}

func (c *counter) Header() http.Header         { return c.h }
func (c *counter) WriteHeader(int)             {}
func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// heapRise runs f and returns the most the heap rose above its start.
func heapRise(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base {
				peak = max(peak, m.HeapAlloc-base)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	return peak
}
