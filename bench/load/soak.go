package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/expfmt"
)

// counts are the requests and errors so far, for the soak's samples.
type counts struct{ requests, errors atomic.Int64 }

// soakSample is the server's state at one moment of a soak.
type soakSample struct {
	at                    time.Duration
	rss, heap, goroutines float64
	requests, failures    int64
}

// soak samples the server's resident memory and goroutines from its debug
// listener's /metrics every interval until ctx ends, and returns the
// samples.
func soak(ctx context.Context, debugURL string, interval time.Duration, c *counts, start time.Time, log io.Writer) ([]soakSample, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	var out []soakSample
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out, nil
		case <-tick.C:
		}
		st, err := serverState(client, debugURL)
		if err != nil {
			return out, fmt.Errorf("soak: read the server's metrics: %w", err)
		}
		st.at, st.requests, st.failures = time.Since(start), c.requests.Load(), c.errors.Load()
		out = append(out, st)
		fmt.Fprintf(log, "soak %6s: rss %.0f MB, heap in use %.0f MB, goroutines %.0f, requests %d, errors %d\n",
			st.at.Round(time.Second), st.rss/1e6, st.heap/1e6, st.goroutines, st.requests, st.failures)
	}
}

// serverState reads process_resident_memory_bytes, go_memstats_heap_inuse_bytes
// and go_goroutines.
func serverState(c *http.Client, url string) (soakSample, error) {
	resp, err := c.Get(url)
	if err != nil {
		return soakSample{}, err
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return soakSample{}, err
	}
	var errs []error
	get := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 || f.Metric[0].Gauge == nil {
			errs = append(errs, fmt.Errorf("no %s in %s", name, url))
			return 0
		}
		return f.Metric[0].Gauge.GetValue()
	}
	s := soakSample{rss: get("process_resident_memory_bytes"), heap: get("go_memstats_heap_inuse_bytes"), goroutines: get("go_goroutines")}
	return s, errors.Join(errs...)
}

// soakReport prints each minute's median resident memory, heap in use and
// goroutines, and the growth of resident memory and goroutines from minute 2
// to the last minute of d, and says whether the soak passed: no errors, and
// both grew less than 10 %. (Samples taken as the run ends count in its last
// minute.)
func soakReport(w io.Writer, samples []soakSample, d time.Duration, errs int64) (passed bool) {
	byMinute := map[int][]soakSample{}
	last := max(1, int((d+time.Minute-1)/time.Minute))
	for _, s := range samples {
		m := min(int(s.at/time.Minute)+1, last)
		byMinute[m] = append(byMinute[m], s)
	}
	median := func(ss []soakSample, f func(soakSample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss := func(s soakSample) float64 { return s.rss }
	heap := func(s soakSample) float64 { return s.heap }
	gor := func(s soakSample) float64 { return s.goroutines }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tsamples\tmedian RSS MB\tmedian heap in use MB\tmedian goroutines\trequests\terrors\t")
	for m := 1; m <= last; m++ {
		ss := byMinute[m]
		if len(ss) == 0 {
			continue
		}
		end := ss[len(ss)-1]
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%.0f\t%d\t%d\t\n", m, len(ss), median(ss, rss)/1e6, median(ss, heap)/1e6, median(ss, gor), end.requests, end.failures)
	}
	_ = tw.Flush()
	first, end := byMinute[2], byMinute[last]
	if last < 3 || len(first) == 0 || len(end) == 0 {
		fmt.Fprintln(w, "soak: too short to compare minute 2 with the last (run 3 minutes or more)")
		return false
	}
	rssGrowth := median(end, rss)/median(first, rss) - 1
	gorGrowth := median(end, gor)/median(first, gor) - 1
	passed = errs == 0 && rssGrowth < 0.10 && gorGrowth < 0.10
	verdict := "PASS"
	if !passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "soak %s: errors %d; growth from minute 2 to minute %d: RSS %+.1f %%, goroutines %+.1f %% (limit 10 %%)\n",
		verdict, errs, last, rssGrowth*100, gorGrowth*100)
	return passed
}
