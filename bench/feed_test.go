package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
)

// feedQuery reads one page of the change feed as a partner's mirror does:
// each change with its record's ID and type.
const feedQuery = `query Feed($since: String) {
  changes(since: $since, first: 100) {
    edges { node { kind type id record { __typename ... on Node { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}`

// BenchmarkFeed reads the scale's whole change log through the GraphQL
// handler, 100 changes a page, as an anonymous caller (so every upsert's
// record is found and checked against its level), and reports changes
// read a second and the p50 of a page. The data set's import made an
// entry per record.
//
//	cd bench && BENCH_SCALE=S go test -run '^$' -bench 'Feed$' -benchtime 1x .
func BenchmarkFeed(b *testing.B) {
	e := openEnv(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := httpapitest.New(e.Store, httpapi.Config{LoaderWait: loaderWait(), RateAnonymous: -1, RateAddress: -1, Timeout: time.Minute, ResponseCacheSize: -1}, quiet)
	for b.Loop() {
		var pages []time.Duration
		changes := 0
		start := time.Now()
		var since any
		for {
			body, err := json.Marshal(map[string]any{"query": feedQuery, "variables": map[string]any{"since": since}})
			if err != nil {
				b.Fatal(err)
			}
			t := time.Now()
			out := post(b, h, body)
			pages = append(pages, time.Since(t))
			var r struct {
				Data struct {
					Changes struct {
						Edges    []json.RawMessage
						PageInfo struct {
							HasNextPage bool
							EndCursor   *string
						}
					}
				}
			}
			if err := json.Unmarshal(out, &r); err != nil {
				b.Fatal(err)
			}
			changes += len(r.Data.Changes.Edges)
			if !r.Data.Changes.PageInfo.HasNextPage {
				break
			}
			since = *r.Data.Changes.PageInfo.EndCursor
		}
		took := time.Since(start)
		if changes == 0 {
			b.Fatal("the feed is empty")
		}
		b.ReportMetric(float64(changes)/took.Seconds(), "changes/s")
		b.ReportMetric(msf(p50(pages)), "ms/page-p50")
		fmt.Printf("%s: %d changes in %d pages, %s (%.0f changes/s), page p50 %s\n", scale(), changes, len(pages), took.Round(time.Millisecond), float64(changes)/took.Seconds(), ms(p50(pages)))
	}
}
