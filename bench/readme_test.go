package bench

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
)

// readmeExamples are the example queries of the README's "Example queries"
// section, in order: every ```graphql block up to the next section.
func readmeExamples(t testing.TB) []string {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "## Example queries")
	if start < 0 {
		t.Fatal("README.md has no Example queries section")
	}
	section := text[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("README.md's Example queries section has no graphql block")
	}
	return out
}

// BenchmarkReadme runs each of the README's example queries on the bundled
// Stockton set in a fresh embedded store, through the full HTTP handler, and
// reports its median (p50-ms) and round trips.
func BenchmarkReadme(b *testing.B) {
	ctx := context.Background()
	emb, err := store.StartEmbedded(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Stop()
	var trips atomic.Int64
	mon := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { trips.Add(1) }}
	st, err := store.Open(ctx, store.Options{URI: emb.URI(), Database: Database, Monitor: mon})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	if _, err := importer.ImportFS(ctx, st, os.DirFS("../data/stockton"), importer.Options{Dataset: "stockton"}); err != nil {
		b.Fatal(err)
	}
	// Uncached: what the README examples cost the graph (BenchmarkCache
	// measures hits), from the snapshot as a server with the default
	// configuration answers them, and on the database.
	h := httpapitest.New(st, httpapi.Config{LoaderWait: loaderWait(), ResponseCacheSize: -1, RateAnonymous: -1, RateAddress: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, way := range []string{"snapshot", "database"} {
		if way == "snapshot" && !st.WaitSnapshot(ctx) {
			b.Fatal("no snapshot of the Stockton set")
		}
		if way == "database" {
			st.KeepSnapshot(0, nil)
		}
		// The floor: what a request costs the handler with no field
		// read, which the examples are held against.
		readmeExample(b, h, way, -1, "{ __typename }", &trips)
		for i, q := range readmeExamples(b) {
			readmeExample(b, h, way, i, q, &trips)
		}
	}
}

// readmeExample measures one example one way.
func readmeExample(b *testing.B, h http.Handler, way string, i int, q string, trips *atomic.Int64) {
	body, _ := json.Marshal(Request{Query: q})
	name := strings.Fields(strings.NewReplacer("{", " ", "(", " ").Replace(q))[0]
	label := string(rune('a' + i))
	if i < 0 {
		label = "0"
	}
	b.Run(strings.Join([]string{way, label, name}, "-"), func(b *testing.B) {
		b.ReportAllocs()
		post(b, h, body)
		var times []time.Duration
		trips0 := trips.Load()
		for b.Loop() {
			t := time.Now()
			post(b, h, body)
			times = append(times, time.Since(t))
		}
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(trips.Load()-trips0)/float64(len(times)), "roundtrips/op")
	})
}
