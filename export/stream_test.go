package export_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"councilgraph/bench/gen"
	"councilgraph/export"
	"councilgraph/store/storetest"
)

// liveHeap is the heap the last garbage collection found live.
func liveHeap() uint64 {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	return m[0].Value.Uint64()
}

// sampleEvery is how many bytes of a download pass between two samples.
const sampleEvery = 64 << 10

// countingWriter is a response writer that keeps only the number of bytes
// and, every sampleEvery bytes, collects the garbage and notes the most the
// live heap has grown above base: what the download holds at that point,
// exactly. A collection running in the background on a busy machine
// counts what is allocated while it marks as live, and a clock's samples
// count garbage not yet collected; both made the figure follow the
// machine's load rather than the download.
type countingWriter struct {
	h          http.Header
	n          int64
	base, peak uint64
}

func (c *countingWriter) Header() http.Header { return c.h }
func (c *countingWriter) WriteHeader(int)     {}
func (c *countingWriter) Write(p []byte) (int, error) {
	if c.n/sampleEvery != (c.n+int64(len(p)))/sampleEvery {
		runtime.GC()
		if l := liveHeap(); l > c.base && l-c.base > c.peak {
			c.peak = l - c.base
		}
	}
	c.n += int64(len(p))
	return len(p), nil
}

// download serves one download into a counting writer.
func download(h http.Handler, file string) *countingWriter {
	runtime.GC()
	w := &countingWriter{h: http.Header{}, base: liveHeap()}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/export/"+file, nil))
	return w
}

// TestStreamingMemory downloads the largest collections of a generated set
// of one council and of two: the files double, the memory a download holds
// must not (it holds one batch of records, and for the
// analysis layout one indicator's figures).
func TestStreamingMemory(t *testing.T) {
	sizes := map[int]map[string][2]uint64{} // councils -> file -> bytes, peak
	for _, councils := range []int{1, 2} {
		s := storetest.New(t, nil)
		if _, err := gen.Write(context.Background(), s, gen.Config{Seed: 1, Councils: councils}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		// Thirty-two indicators a read, so that the analysis layout reads
		// the larger set in more batches, not in a larger one.
		mux := http.NewServeMux()
		mux.Handle("GET /export/{file}", export.New(s, export.Config{IndicatorsPerRead: 32}, quiet()))
		h := http.Handler(mux)
		sizes[councils] = map[string][2]uint64{}
		for _, file := range []string{"agendaItems.csv", "attendance.ndjson", "observations-analysis.csv"} {
			w := download(h, file)
			sizes[councils][file] = [2]uint64{uint64(w.n), w.peak}
			t.Logf("%d councils: %s: %d bytes, live heap grew by at most %.1f MiB", councils, file, w.n, float64(w.peak)/(1<<20))
		}
	}
	for file, small := range sizes[1] {
		large := sizes[2][file]
		if float64(large[0]) < 1.7*float64(small[0]) {
			t.Fatalf("%s: %d bytes at two councils against %d at one: the set did not grow", file, large[0], small[0])
		}
		// Twice the records may take half as much memory again at most (and
		// half a MiB of slack for the driver's and database's buffers): a
		// download that holds its set takes twice as much, which the exact
		// samples above show (keeping every batch of the analysis layout's
		// figures took 1.6 MiB at one council and 3.1 at two).
		// Before the exports stopped asking for a sort, which FerretDB does
		// in memory, agendaItems.csv took 8.3 MiB at one council and 30.1
		// at four.
		if large[1] > small[1]+small[1]/2+512<<10 {
			t.Errorf("%s: the live heap grew by %.1f MiB at two councils against %.1f MiB at one: memory follows the set's size",
				file, float64(large[1])/(1<<20), float64(small[1])/(1<<20))
		}
	}
}
