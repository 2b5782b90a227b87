package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store"
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

// BenchmarkFeedPoll is what a reader that has caught up pays each time it
// asks for more (the feed's pages, webhooks, a model following another
// process's writes): the last settled entry, and the entries after a
// cursor three before it. It reports the p50 of each over 20 asks.
//
//	cd bench && BENCH_SCALE=L go test -run '^$' -bench 'FeedPoll$' -benchtime 1x .
func BenchmarkFeedPoll(b *testing.B) {
	e := openEnv(b)
	ctx := store.WithLevel(context.Background(), store.Officer)
	for b.Loop() {
		var lasts, pages []time.Duration
		for range 20 {
			t := time.Now()
			last, err := e.Store.LastChange(ctx)
			if err != nil {
				b.Fatal(err)
			}
			lasts = append(lasts, time.Since(t))
			t = time.Now()
			page, _, _, err := e.Store.Changes(ctx, last-3, nil, nil, 100)
			if err != nil {
				b.Fatal(err)
			}
			pages = append(pages, time.Since(t))
			if len(page) == 0 {
				b.Fatal("no change after the cursor three before the last")
			}
		}
		b.ReportMetric(msf(p50(lasts)), "last-ms-p50")
		b.ReportMetric(msf(p50(pages)), "page-ms-p50")
		fmt.Printf("%s: last entry p50 %s, a page after it p50 %s\n", scale(), ms(p50(lasts)), ms(p50(pages)))
	}
}
