package bench

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"net/http"
	"testing"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
)

// BenchmarkCache measures the response cache on each operation, repeated
// with the same variables, through three handlers on the same database:
// no cache, a cache that misses every time (1 byte: every answer is keyed,
// looked up and found too large to keep), and the default cache (answered
// from memory after the first run). The uncached and missing runs
// alternate, so that the machine's load falls on both alike.
//
//	cd bench && go test -run '^$' -bench 'Cache$' -benchtime 1x .
func BenchmarkCache(b *testing.B) {
	e := openEnv(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := httpapi.Config{LoaderWait: loaderWait(), RateAnonymous: -1, RateAddress: -1, Timeout: time.Minute}
	off, miss, on := cfg, cfg, cfg
	off.ResponseCacheSize, miss.ResponseCacheSize = -1, 1
	hOff, hMiss, hOn := httpapitest.New(e.Store, off, quiet), httpapitest.New(e.Store, miss, quiet), httpapitest.New(e.Store, on, quiet)
	const rounds, hits = 15, 300
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tno cache p50 ms\tmiss p50 ms\tmiss over none\thit p50 ms\thit / no cache\t")
	for b.Loop() {
		for _, op := range Ops(e.Councils) {
			body := op.Body(0)
			timed := func(h http.Handler) time.Duration {
				t := time.Now()
				post(b, h, body)
				return time.Since(t)
			}
			timed(hOff) // warm the loaders' and parser's caches alike
			timed(hMiss)
			var tOff, tMiss, tHit []time.Duration
			for range rounds {
				tOff = append(tOff, timed(hOff))
				tMiss = append(tMiss, timed(hMiss))
			}
			want := post(b, hOff, body)
			if got := post(b, hOn, body); string(got) != string(want) {
				b.Fatalf("%s: the cached handler answers otherwise", op.Name)
			}
			for range hits {
				tHit = append(tHit, timed(hOn))
			}
			if got := post(b, hOn, body); string(got) != string(want) {
				b.Fatalf("%s: the cache answers otherwise", op.Name)
			}
			pOff, pMiss, pHit := p50(tOff), p50(tMiss), p50(tHit)
			fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%+.1f %%\t%.3f\t1/%.0f\t\n", op.Name, msf(pOff), msf(pMiss),
				100*(msf(pMiss)-msf(pOff))/msf(pOff), msf(pHit), float64(pOff)/float64(pHit))
		}
	}
	_ = tw.Flush()
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
