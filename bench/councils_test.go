package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"councilgraph/bench/gen"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer"
	"councilgraph/store"
)

// BenchmarkCouncilBesideAnImport measures what one council's import does
// to another's readers: council B's pages are read, uncached and from the
// response cache, while council A's data set is imported (every one of its
// meetings retitled, so the import writes), and as many times again with
// nothing else running; B's cached answers are asked for again after it.
// Generations are per council, so A's import should leave B's cached
// answers standing, and B's uncached reads answered from the snapshot in
// hand (current for every council but A) and slowed only by the machine's
// load.
//
//	BENCH_SCALE=L go test -run '^$' -bench CouncilBesideAnImport -benchtime 1x -timeout 2h ./bench
func BenchmarkCouncilBesideAnImport(b *testing.B) {
	e := openEnv(b)
	if e.Councils < 2 {
		b.Skip("needs two councils: BENCH_SCALE=M or L")
	}
	ctx := context.Background()
	const a, bc = 0, 1
	dirs, _, err := gen.WriteSets(b.TempDir(), gen.Config{Seed: Seed, Councils: e.Councils}, func(c int) bool { return c == a })
	if err != nil {
		b.Fatal(err)
	}
	meetings := filepath.Join(dirs[0], "meetings.yaml")
	raw, err := os.ReadFile(meetings)
	if err != nil {
		b.Fatal(err)
	}
	titles := bytes.Count(raw, []byte("\n  title: "))
	// The first meeting in the file is the first retitled.
	first := regexp.MustCompile(`(?m)^- id: (\S+)`).FindSubmatch(raw)
	if first == nil {
		b.Fatal("council A's meetings.yaml names no meeting")
	}
	firstMeeting := string(first[1])
	if titles == 0 {
		b.Fatal("council A's meetings.yaml has no titles to change")
	}
	// BENCH_CHANGED retitles only that many meetings (1: a one-record
	// import).
	changed := titles
	if v := os.Getenv("BENCH_CHANGED"); v != "" {
		if changed, err = strconv.Atoi(v); err != nil || changed < 1 || changed > titles {
			b.Fatalf("BENCH_CHANGED=%q: give a number of meetings from 1 to %d", v, titles)
		}
	}
	// The store outlives a run, so each import retitles afresh: one that
	// found the titles already changed would write nothing.
	retitle := func() string {
		mark := fmt.Sprintf("Revised %x", time.Now().UnixNano())
		if err := os.WriteFile(meetings, bytes.Replace(raw, []byte("\n  title: "), []byte("\n  title: "+mark+" "), changed), 0o644); err != nil {
			b.Fatal(err)
		}
		return mark
	}

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The snapshot holds every council's records, as an operator would
	// size it for L (about 470 MiB of documents), and the deadline leaves
	// room for the first reads, which wait on the service's statistics.
	cfg := httpapi.Config{LoaderWait: loaderWait(), RateAnonymous: -1, RateAddress: -1, Timeout: 10 * time.Minute, SnapshotSize: 2 << 30}
	off := cfg
	off.ResponseCacheSize = -1
	cache := httpapi.NewResponseCache(e.Store, httpapi.DefaultResponseCacheSize, true)
	on := cfg
	on.ResponseCache = cache
	hOff, hOn := httpapitest.New(e.Store, off, quiet), httpapitest.New(e.Store, on, quiet)

	council := gen.CouncilID(bc)
	pages := []string{
		fmt.Sprintf(`{ body(id: %q) { name memberships { role person { name } } meetings(first: 10) { edges { node { date title agendaItems { title } } } } } }`, gen.BodyID(bc, 1)),
		fmt.Sprintf(`{ meetings(council: %q, first: 20) { edges { node { id date title body { name } } } } }`, council),
		fmt.Sprintf(`{ person(id: %q) { name memberships { body { name } } council { name } } }`, gen.PersonID(bc, 3)),
	}
	ask := func(h http.Handler, q string) time.Duration {
		t := time.Now()
		post(b, h, []byte(fmt.Sprintf(`{"query":%q}`, q)))
		return time.Since(t)
	}
	t0 := time.Now()
	if !e.Store.WaitSnapshot(ctx) {
		b.Fatal("no snapshot of the data set")
	}
	fmt.Fprintf(os.Stderr, "snapshot of %d records ready in %s; the process's resident memory then %s\n",
		e.Store.SnapshotStats().Records, time.Since(t0).Round(time.Millisecond), residentMemory())
	// What an earlier run stored is put back first, so that the import
	// measured changes only the meetings it retitles.
	if _, err := importer.ImportFS(ctx, e.Store, os.DirFS(dirs[0]), importer.Options{RequireManifest: true}); err != nil {
		b.Fatal(err)
	}
	if !e.Store.WaitSnapshot(ctx) {
		b.Fatal("no snapshot of the data set")
	}
	t0 = time.Now()
	for _, q := range pages { // warm both, and fill the cache
		ask(hOff, q)
		ask(hOn, q)
	}
	fmt.Fprintf(os.Stderr, "first reads (and the cost statistics) done in %s\n", time.Since(t0).Round(time.Millisecond))
	// readQuietly reads as many pages as the import had read beside it, with
	// nothing else running: a percentile of a smaller sample would be
	// of fewer of the collections the reads' own garbage brings.
	readQuietly := func(n int) (off, hit []time.Duration) {
		for len(off) < n {
			for _, q := range pages {
				off = append(off, ask(hOff, q))
				hit = append(hit, ask(hOn, q))
			}
		}
		return off, hit
	}
	readQuietly(90) // warm

	for b.Loop() {
		hits0 := cache.Stats().Hits
		misses0 := cache.Stats().Misses
		_ = retitle()
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			sum, err := importer.ImportFS(ctx, e.Store, os.DirFS(dirs[0]), importer.Options{RequireManifest: true})
			for _, c := range sum {
				if c.Collection == "meetings" && c.Updated != changed {
					err = errors.Join(err, fmt.Errorf("the import updated %d of council A's meetings, not the %d retitled", c.Updated, changed))
				}
			}
			done <- err
		}()
		var busyOff, busyHit []time.Duration
		var took time.Duration
	reading:
		for {
			for _, q := range pages {
				busyOff = append(busyOff, ask(hOff, q))
				busyHit = append(busyHit, ask(hOn, q))
			}
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				took = time.Since(start)
				break reading
			default:
			}
		}
		// A's change, read back at once: a read of this server waits the
		// moment the next model takes rather than answer from the old.
		t1 := time.Now()
		readBack := post(b, hOff, []byte(fmt.Sprintf(`{"query":%q}`, fmt.Sprintf(`{ meeting(id: %q) { title } }`, firstMeeting))))
		visible := time.Since(t1)
		if !bytes.Contains(readBack, []byte("Revised")) {
			b.Errorf("council A's retitled meeting read right after its import: %s", readBack)
		}
		during := cache.Stats()
		for _, q := range pages {
			ask(hOn, q)
		}
		after := cache.Stats()
		survived := after.Hits - during.Hits
		quietOff, quietHit := readQuietly(len(busyOff))
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "council %s read beside council %s's import of %d changed meetings (%s, %d councils)\t\t\t\t\t\n", council, gen.CouncilID(a), changed, took.Round(time.Millisecond), e.Councils)
		fmt.Fprintln(tw, "reads\tquiet p50 ms\tduring p50 ms\tratio\tquiet p99 ms\tduring p99 ms\t")
		for _, r := range []struct {
			name        string
			quiet, busy []time.Duration
		}{{"uncached", quietOff, busyOff}, {"cached", quietHit, busyHit}} {
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.2f\t%.3f\t%.3f\t\n", r.name, msf(p50(r.quiet)), msf(p50(r.busy)),
				float64(p50(r.busy))/float64(p50(r.quiet)), msf(pct(r.quiet, 99)), msf(pct(r.busy, 99)))
		}
		fmt.Fprintf(tw, "cached answers of %s: %d hits and %d misses during the import; %d of %d hits after it\t\t\t\t\t\n",
			council, during.Hits-hits0, during.Misses-misses0, survived, len(pages))
		fmt.Fprintf(tw, "%s's change read back %s after its import returned (the model took %s)\t\t\t\t\t\n",
			gen.CouncilID(a), visible.Round(time.Microsecond), e.Store.SnapshotStats().BuildTime.Round(time.Microsecond))
		_ = tw.Flush()
		b.ReportMetric(float64(p50(busyOff))/float64(p50(quietOff)), "uncached-p50-ratio")
		b.ReportMetric(float64(p50(busyHit))/float64(p50(quietHit)), "cached-p50-ratio")
		b.ReportMetric(float64(pct(busyOff, 99))/float64(pct(quietOff, 99)), "uncached-p99-ratio")
		b.ReportMetric(float64(survived), "hits-after")
		b.ReportMetric(float64(visible.Microseconds())/1000, "visible-ms")
		if survived != int64(len(pages)) {
			b.Errorf("%d of %s's %d cached answers survived %s's import", survived, council, len(pages), gen.CouncilID(a))
		}
		if strings.Contains(string(post(b, hOn, []byte(fmt.Sprintf(`{"query":%q}`, pages[1])))), "Revised") {
			b.Error("council B's meetings show council A's retitling")
		}

		// Another process imports A again: this server learns of it by
		// the generations (read here at once, as its poll would within a
		// second) and takes it in from the change log.
		other, err := store.Open(ctx, store.Options{URI: e.URI, Database: Database})
		if err != nil {
			b.Fatal(err)
		}
		mark := retitle()
		importStart := time.Now()
		if _, err := importer.ImportFS(ctx, other, os.DirFS(dirs[0]), importer.Options{RequireManifest: true}); err != nil {
			b.Fatal(err)
		}
		// An import command's store keeps no model.
		fmt.Printf("%s's import by a store with no model (as an import command's) took %s\n", gen.CouncilID(a), time.Since(importStart).Round(time.Millisecond))
		_ = other.Close(ctx)
		t2 := time.Now()
		if _, err := e.Store.Generation(ctx); err != nil {
			b.Fatal(err)
		}
		readBack = post(b, hOff, []byte(fmt.Sprintf(`{"query":%q}`, fmt.Sprintf(`{ meeting(id: %q) { title } }`, firstMeeting))))
		elsewhere := time.Since(t2)
		if !e.Store.WaitSnapshot(ctx) {
			b.Fatal("no model after another process's import")
		}
		fmt.Printf("%s's change by another process read back %s after its generation was seen (the model from the change log: %s, %d collections)\n",
			gen.CouncilID(a), elsewhere.Round(time.Microsecond), e.Store.SnapshotStats().BuildTime.Round(time.Microsecond), e.Store.SnapshotStats().Reread)
		if !bytes.Contains(readBack, []byte(mark)) {
			fmt.Printf("  (that read was answered before the model held it: %s)\n", readBack)
		}
		b.ReportMetric(float64(elsewhere.Microseconds())/1000, "elsewhere-ms")
	}
}

// pct is the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// residentMemory is this process's resident set size and its peak so far,
// as Linux reports them ("unknown" elsewhere).
func residentMemory() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	var rss, peak string
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
	}
	return rss + " (peak " + peak + ")"
}
