package main

import (
	"context"
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
	at                 time.Duration
	rss, goroutines    float64
	requests, failures int64
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
		rss, gor, err := serverState(client, debugURL)
		if err != nil {
			return out, fmt.Errorf("soak: read the server's metrics: %w", err)
		}
		s := soakSample{at: time.Since(start), rss: rss, goroutines: gor, requests: c.requests.Load(), failures: c.errors.Load()}
		out = append(out, s)
		fmt.Fprintf(log, "soak %6s: rss %.0f MB, goroutines %.0f, requests %d, errors %d\n",
			s.at.Round(time.Second), rss/1e6, gor, s.requests, s.failures)
	}
}

// serverState reads process_resident_memory_bytes and go_goroutines.
func serverState(c *http.Client, url string) (rss, goroutines float64, err error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	get := func(name string) (float64, error) {
		f := fams[name]
		if f == nil || len(f.Metric) == 0 || f.Metric[0].Gauge == nil {
			return 0, fmt.Errorf("no %s in %s", name, url)
		}
		return f.Metric[0].Gauge.GetValue(), nil
	}
	if rss, err = get("process_resident_memory_bytes"); err != nil {
		return 0, 0, err
	}
	goroutines, err = get("go_goroutines")
	return rss, goroutines, err
}

// soakReport prints each minute's median resident memory and goroutines and
// the growth of both from minute 2 to the last minute, and says whether the
// soak passed: no errors, and growth under 10 %.
func soakReport(w io.Writer, samples []soakSample, errs int64) (passed bool) {
	byMinute := map[int][]soakSample{}
	last := 0
	for _, s := range samples {
		m := int(s.at/time.Minute) + 1
		if s.at%time.Minute == 0 {
			m-- // a sample on the minute closes that minute
		}
		byMinute[m] = append(byMinute[m], s)
		last = max(last, m)
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
	gor := func(s soakSample) float64 { return s.goroutines }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tsamples\tmedian RSS MB\tmedian goroutines\trequests\terrors\t")
	for m := 1; m <= last; m++ {
		ss := byMinute[m]
		if len(ss) == 0 {
			continue
		}
		end := ss[len(ss)-1]
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.0f\t%d\t%d\t\n", m, len(ss), median(ss, rss)/1e6, median(ss, gor), end.requests, end.failures)
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
