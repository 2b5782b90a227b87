package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/loaders"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// Settings, from the environment so that `go test -bench` needs no flags:
//
//	BENCH_SCALE        S (default), M or L
//	BENCH_ROOT         where data sets live (default ../var/bench); the set
//	                   for a scale is generated once into BENCH_ROOT/<scale>
//	BENCH_MONGODB_URI  use this server instead of the embedded store (the
//	                   set is generated into it when BENCH_ROOT/<scale>-uri
//	                   has no marker)
//	BENCH_POSTGRESQL_URL  run FerretDB over this PostgreSQL database in
//	                   process instead (see pg.sh); marker in <scale>-postgresql
//	BENCH_LOADER_WAIT  the loaders' wait window, e.g. 2ms (default:
//	                   loaders.DefaultWait, the server's)
//	BENCH_SUMMARY      append the summary table to this file
var env struct {
	once sync.Once
	e    *Env
	err  error
}

func scale() string {
	if s := os.Getenv("BENCH_SCALE"); s != "" {
		return s
	}
	return "S"
}

func loaderWait() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("BENCH_LOADER_WAIT"))
	return d
}

// openEnv opens (generating when needed) the scale's data set, once per
// test binary.
func openEnv(b *testing.B) *Env {
	b.Helper()
	env.once.Do(func() {
		dir := filepath.Join(benchRoot(), scale())
		log := func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
		if pg := os.Getenv("BENCH_POSTGRESQL_URL"); pg != "" {
			env.e, env.err = OpenPostgreSQL(context.Background(), scale(), dir+"-postgresql", pg, log)
			return
		}
		uri := os.Getenv("BENCH_MONGODB_URI")
		if uri != "" {
			dir += "-uri"
		}
		env.e, env.err = Open(context.Background(), scale(), dir, uri, log)
	})
	if env.err != nil {
		b.Fatal(env.err)
	}
	return env.e
}

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() == "" {
		storetest.TestHeap()
	}
	code := m.Run()
	if env.e != nil {
		writeSummary()
		env.e.Close()
	}
	os.Exit(code)
}

// result is what one way of running one operation measured.
type result struct {
	median, mean time.Duration
	trips        float64
	allocs       float64
	bytes        int
}

var (
	resultsMu sync.Mutex
	results   = map[string]map[string]result{} // op → way → result
)

// measure runs one way of an operation b.N times, reporting round trips
// per op and the median duration, and records them for the summary.
func measure(b *testing.B, e *Env, op, way string, run func(i int) []byte) {
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	trips0 := e.Commands()
	var times []time.Duration
	var last []byte
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		last = run(i)
		times = append(times, time.Since(t))
	}
	total := time.Since(start)
	runtime.ReadMemStats(&ms1)
	trips := float64(e.Commands()-trips0) / float64(len(times))
	slices.Sort(times)
	r := result{median: times[len(times)/2], mean: total / time.Duration(len(times)), trips: trips,
		allocs: float64(ms1.Mallocs-ms0.Mallocs) / float64(len(times)), bytes: len(last)}
	b.ReportMetric(trips, "roundtrips/op")
	b.ReportMetric(float64(r.median.Microseconds())/1000, "p50-ms")
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if results[op] == nil {
		results[op] = map[string]result{}
	}
	results[op][way] = r
}

// BenchmarkOps runs each operation through the full HTTP handler
// (httpapi.New) on the database ("graphql") and from the store's snapshot
// ("snapshot", what a server with the default configuration does for a
// data set of this size), and through its driver baseline, on the same
// database.
func BenchmarkOps(b *testing.B) {
	e := openEnv(b)
	// The graph itself, uncached: the response cache has its benchmark (BenchmarkCache).
	h := httpapitest.New(e.Store, httpapi.Config{LoaderWait: loaderWait(), ResponseCacheSize: -1, SnapshotSize: -1, Timeout: 2 * time.Minute,
		RateAnonymous: -1, RateAddress: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	for _, op := range Ops(e.Councils) {
		b.Run(op.Name, func(b *testing.B) {
			if runsWay("graphql") && runsWay("driver") {
				checkSame(b, e, h, op)
			}
			if runsWay("graphql") {
				b.Run("graphql", func(b *testing.B) {
					measure(b, e, op.Name, "graphql", func(i int) []byte { return post(b, h, op.Body(i)) })
				})
			}
			if runsWay("snapshot") {
				b.Run("snapshot", func(b *testing.B) {
					withSnapshot(b, e, func() {
						measure(b, e, op.Name, "snapshot", func(i int) []byte { return post(b, h, op.Body(i)) })
					})
				})
			}
			if !runsWay("driver") {
				return
			}
			b.Run("driver", func(b *testing.B) {
				measure(b, e, op.Name, "driver", func(i int) []byte {
					out, err := op.Baseline(ctx, e.DB, e.Store.Shape(), op.Vars(i))
					if err != nil {
						b.Fatal(err)
					}
					return out
				})
			})
		})
	}
}

var snapshotOnce sync.Once

// withSnapshot runs f with the store answering from its snapshot (built
// first, untimed), then turns it off again.
func withSnapshot(b testing.TB, e *Env, f func()) {
	b.Helper()
	e.Store.KeepSnapshot(store.DefaultSnapshotSize, nil)
	defer e.Store.KeepSnapshot(0, nil)
	if !e.Store.WaitSnapshot(context.Background()) {
		b.Fatalf("no snapshot of scale %s within %d bytes", scale(), store.DefaultSnapshotSize)
	}
	st := e.Store.SnapshotStats()
	snapshotOnce.Do(func() {
		fmt.Fprintf(os.Stderr, "snapshot: %d records, %.1f MiB of documents, read in %v\n", st.Records, float64(st.Bytes)/(1<<20), st.BuildTime.Round(time.Millisecond))
	})
	f()
}

// TestGraphQLAnswersAsTheBaseline checks, on a freshly generated set of
// scale S, that every operation's GraphQL answer is exactly its driver
// baseline's, on the database and from the snapshot: the benchmarks
// compare like with like, and the graph answers what plain driver code
// reading the collections answers. Nothing writes meanwhile, so the
// baseline answers each run once and both are compared with that answer:
// each of its answers scans collections for up to a second of CPU.
func TestGraphQLAnswersAsTheBaseline(t *testing.T) {
	e, err := Open(context.Background(), "S", t.TempDir(), "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	h := httpapitest.New(e.Store, httpapi.Config{SnapshotSize: -1}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, op := range Ops(e.Councils) {
		t.Run(op.Name, func(t *testing.T) {
			want := baselines(t, e, op)
			checkAnswers(t, h, op, want)
			withSnapshot(t, e, func() { checkAnswers(t, h, op, want) })
		})
	}
}

// post sends one GraphQL request through the handler and fails the
// benchmark on any error in the answer.
func post(b testing.TB, h http.Handler, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := rec.Body.Bytes()
	if rec.Code != http.StatusOK || bytes.Contains(out, []byte(`"errors"`)) {
		b.Fatalf("status %d: %.500s", rec.Code, out)
	}
	return out
}

// checkSame fails the benchmark unless the baseline answers exactly what
// the GraphQL endpoint answers, for a few runs' variables, and the answers
// are not empty.
func checkSame(b testing.TB, e *Env, h http.Handler, op Op) {
	b.Helper()
	checkAnswers(b, h, op, baselines(b, e, op))
}

// checkRuns is how many runs' variables checkSame compares.
const checkRuns = 3

// baselines are the baseline's answers to the runs checkSame compares.
func baselines(b testing.TB, e *Env, op Op) [][]byte {
	b.Helper()
	out := make([][]byte, checkRuns)
	for i := range out {
		var err error
		if out[i], err = op.Baseline(context.Background(), e.DB, e.Store.Shape(), op.Vars(i)); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// checkAnswers fails the benchmark unless the GraphQL endpoint answers each
// run exactly what wants says the baseline answered, and the answers are
// not empty.
func checkAnswers(b testing.TB, h http.Handler, op Op, wants [][]byte) {
	b.Helper()
	for i, want := range wants {
		got := post(b, h, op.Body(i))
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			b.Fatal(err)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			b.Fatalf("%s run %d: GraphQL and baseline differ (-baseline +graphql):\n%.3000s", op.Name, i, diff)
		}
		if len(got) < 200 {
			b.Fatalf("%s run %d: suspiciously small answer: %s", op.Name, i, got)
		}
	}
}

// writeSummary prints the ratio table (and appends it to BENCH_SUMMARY).
func writeSummary() {
	if len(results) == 0 {
		return
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%s, scale %s (%d records), loader wait %v, %s\n\n", storeLabel(), scale(), env.e.Marker.Records, loaderWaitLabel(), time.Now().UTC().Format(time.RFC3339))
	sb.WriteString("| operation | GraphQL p50 | driver p50 | ratio (p50) | GraphQL mean | driver mean | round trips GraphQL / driver | allocs/op GraphQL / driver | response bytes | snapshot p50 | snapshot / driver | snapshot round trips |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		g, d, sn := results[n]["graphql"], results[n]["driver"], results[n]["snapshot"]
		// A way not run (BENCH_WAYS, or a driver-only measurement) is "–".
		show := func(r result, f func(result) string) string {
			if r.median == 0 {
				return "–"
			}
			return f(r)
		}
		p50 := func(r result) string { return ms(r.median) }
		mean := func(r result) string { return ms(r.mean) }
		trips := func(r result) string { return fmt.Sprintf("%.1f", r.trips) }
		allocs := func(r result) string { return fmt.Sprintf("%.0f", r.allocs) }
		ratio := func(a, b result, format string) string {
			if a.median == 0 || b.median == 0 {
				return "–"
			}
			return fmt.Sprintf(format, float64(a.median)/float64(b.median))
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %s |\n", n, show(g, p50), show(d, p50), ratio(g, d, "%.2f×"),
			show(g, mean), show(d, mean), show(g, trips), show(d, trips), show(g, allocs), show(d, allocs),
			show(g, func(r result) string { return fmt.Sprint(r.bytes) }), show(sn, p50), ratio(sn, d, "%.3f×"), show(sn, trips))
	}
	fmt.Print(sb.String())
	if path := os.Getenv("BENCH_SUMMARY"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, _ = f.WriteString(sb.String())
			_ = f.Close()
		}
	}
}

func storeLabel() string {
	switch {
	case os.Getenv("BENCH_POSTGRESQL_URL") != "":
		return "FerretDB 1.24 over PostgreSQL"
	case os.Getenv("BENCH_MONGODB_URI") != "":
		return "server at BENCH_MONGODB_URI"
	}
	return "embedded FerretDB 1.24 on SQLite"
}

func loaderWaitLabel() string {
	if d := loaderWait(); d > 0 {
		return d.String()
	}
	return "default (" + loaders.DefaultWait.String() + ")"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
