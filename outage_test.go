package main

import (
	"context"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"councilgraph/store"
)

// TestServiceSurvivesTheDatabaseGoingAway runs the service on a MongoDB
// server (a FerretDB this test starts on a loopback port, over a copy of
// a data dir holding the Stockton set), stops the
// server, and starts it again: /readyz turns 503, requests are refused
// with SERVICE_UNAVAILABLE saying the database is unreachable (the gate's
// answer, not a deadline's), and once the server is back the service
// answers again, without a restart. How soon each happens depends on the
// machine; the waits are bounded only so that a hang fails the test.
func TestServiceSurvivesTheDatabaseGoingAway(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := seededDataDir(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := func() *store.FerretServer {
		t.Helper()
		f, err := store.StartFerretDB(ctx, store.FerretConfig{Handler: "sqlite", SQLiteURL: "file:" + dir + "/", TCP: addr})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := start()
	defer func() { f.Stop() }()

	var logs lockedBuffer
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	env := map[string]string{"MONGODB_URI": f.URI()}
	go func() {
		done <- run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, &logs)
	}()
	base := "http://" + waitForLog(t, &logs, done, "listening", "addr")
	debug := "http://" + waitForLog(t, &logs, done, "debug listening", "addr")
	waitReady(t, base)
	if status, body := graphql(t, base, `{ body(id: "body:stockton-on-tees/cabinet") { name } }`); status != 200 || !strings.Contains(body, "Cabinet") {
		t.Fatalf("before the outage: %d %s", status, body)
	}

	f.Stop()
	// The checks may first find the database slow (a connection that no
	// longer answers) and only then unreachable: the gate closes at the
	// latter, which it logs.
	waitForLog(t, &logs, done, "database unreachable: refusing requests until it answers", "error")
	if !within(hangGuard, func() bool { return readyz(base) == http.StatusServiceUnavailable }) {
		t.Fatalf("/readyz did not say 503 within %s of the database stopping", hangGuard)
	}
	// A request that waited out its deadline would be told it took too
	// long; the gate refuses at once, saying why.
	status, body := graphql(t, base, `{ body(id: "body:stockton-on-tees/cabinet") { name } }`)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "SERVICE_UNAVAILABLE") || !strings.Contains(body, "database is unreachable") {
		t.Errorf("during the outage: %d %s, want 503 SERVICE_UNAVAILABLE saying the database is unreachable", status, body)
	}

	f = start()
	if !within(hangGuard, func() bool { return readyz(base) == http.StatusOK }) {
		t.Fatalf("/readyz did not say 200 within %s of the database's return", hangGuard)
	}
	if status, body := graphql(t, base, `{ body(id: "body:stockton-on-tees/cabinet") { name } }`); status != 200 || !strings.Contains(body, "Cabinet") {
		t.Errorf("after the outage: %d %s", status, body)
	}
	metrics := get(t, debug+"/metrics")
	for _, want := range []string{`councilgraph_requests_refused_total{limit="database_unreachable"}`, "councilgraph_database_up 1"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	stop()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("a panic was logged:\n%s", logs.String())
	}
}

// TestImportWhileServing imports a data set into the embedded store of a
// running service while clients query it: the import finishes, every
// query answers, and the service stays ready. (FerretDB wedged on the
// import's bulk replaces until they were split.)
func TestImportWhileServing(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATA_DIR": seededDataDir(t)}
	getenv := func(k string) string { return env[k] }
	var logs lockedBuffer
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--rate-limit", "-1", "--rate-limit-address", "-1", "--max-in-flight-per-caller", "8"}, getenv, io.Discard, &logs)
	}()
	base := "http://" + waitForLog(t, &logs, done, "listening", "addr")
	debug := "http://" + waitForLog(t, &logs, done, "debug listening", "addr")
	waitReady(t, base)
	metric := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)`).FindStringSubmatch(get(t, debug+"/metrics"))
		if m == nil {
			t.Fatalf("no %s on /metrics", name)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	generation := func() int { return metric("councilgraph_data_generation") }
	before := generation()

	// The Stockton set again, from another folder (the same set: its
	// manifest names it), holding its indicators, areas and observations
	// with every indicator renamed: all of them are rewritten (161, more
	// than FerretDB's 100 SQLite connections, in one bulk write before
	// they were split).
	copyDir := filepath.Join(t.TempDir(), "stockton-copy")
	if err := os.Mkdir(copyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	indicators := 0
	for _, name := range []string{"set.yaml", "areas.yaml", "indicators.yaml", "observations.yaml"} {
		b, err := fs.ReadFile(stocktonSet(), name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "indicators.yaml" {
			b, indicators = renamed(t, b, " (revised)")
		}
		if err := os.WriteFile(filepath.Join(copyDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if indicators <= 100 {
		t.Fatalf("the set holds %d indicators: too few to need more than FerretDB's 100 connections", indicators)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	answered := 0
	importing := make(chan struct{})
	// The import starts once a query has been answered, so that queries
	// run from before it begins until it ends, however the machine
	// schedules the two.
	first := make(chan struct{})
	var once sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-importing:
					return
				default:
				}
				time.Sleep(20 * time.Millisecond)
				status, body := graphql(t, base, `{ indicators(first: 5) { totalCount edges { node { name } } } }`)
				mu.Lock()
				answered++
				if status != 200 || strings.Contains(body, `"errors"`) {
					failures = append(failures, body)
				}
				mu.Unlock()
				once.Do(func() { close(first) })
			}
		}()
	}
	select {
	case <-first:
	case <-time.After(hangGuard):
		close(importing)
		wg.Wait()
		t.Fatalf("no query was answered within %s", hangGuard)
	}
	ictx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	var importOut, importErr lockedBuffer
	err := run(ictx, []string{"import", copyDir}, getenv, &importOut, &importErr)
	close(importing)
	wg.Wait()
	if err != nil {
		t.Fatalf("import while serving: %v\n%s", err, importErr.String())
	}
	if got := updated(importOut.String(), "indicators"); got != strconv.Itoa(indicators) {
		t.Errorf("the import updated %q indicators, want %d:\n%s", got, indicators, importOut.String())
	}
	if len(failures) > 0 {
		t.Errorf("%d of %d queries failed during the import; first: %s", len(failures), answered, failures[0])
	}
	if readyz(base) != http.StatusOK {
		t.Error("not ready after the import")
	}
	// The import ran in a store client of its own, as the command does:
	// the service learns of its writes at its next poll (every second).
	if !within(hangGuard, func() bool { return generation() > before }) {
		t.Errorf("the data generation on /metrics stayed at %d after the import", before)
	}
	// Reads went to the database meanwhile; the snapshot of the imported
	// data follows once it is read.
	if !within(hangGuard, func() bool {
		graphql(t, base, `{ indicators(first: 1) { totalCount } }`)
		return metric("councilgraph_snapshot_generation") == metric("councilgraph_records_generation")
	}) {
		t.Errorf("the snapshot stayed at generation %d after the import, the records are at %d", metric("councilgraph_snapshot_generation"), metric("councilgraph_records_generation"))
	}
	if status, body := graphql(t, base, `{ indicators(first: 1) { totalCount } }`); status != 200 || strings.Contains(body, `"errors"`) {
		t.Errorf("after the import: %d %s", status, body)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func graphql(t *testing.T, base, q string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":`+quote(q)+`}`))
	if err != nil {
		t.Errorf("post: %v", err)
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

func readyz(base string) int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// hangGuard bounds the waits for an event (the database going or coming
// back, a poll seeing a write): far longer than any of them takes on a
// loaded machine, it only stops a test that would otherwise hang.
const hangGuard = 2 * time.Minute

// within polls cond every 50 ms for at most d.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestShutdownDrainsWithinItsBound stops the service while requests run
// and queue (one runs at a time, eight in all, over a second of work):
// run returns, stopping the requests still running past the drain bound,
// and every caller gets an answer or a closed connection, none hangs.
func TestShutdownDrainsWithinItsBound(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATA_DIR": seededDataDir(t)}
	var logs lockedBuffer
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		// No response cache and no snapshot: the six callers' questions
		// must each run on the database, not be answered from memory.
		done <- run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--rate-limit", "-1",
			"--loader-wait", "2s", "--max-in-flight", "1", "--max-in-flight-per-caller", "8", "--drain-timeout", "500ms",
			"--response-cache-size", "0", "--snapshot-size", "0"}, func(k string) string { return env[k] }, io.Discard, &logs)
	}()
	base := "http://" + waitForLog(t, &logs, done, "listening", "addr")
	debug := "http://" + waitForLog(t, &logs, done, "debug listening", "addr")
	waitReady(t, base)
	inFlight := func() int {
		m := regexp.MustCompile(`(?m)^councilgraph_http_requests_in_flight (\d+)`).FindStringSubmatch(get(t, debug+"/metrics"))
		if m == nil {
			t.Fatal("no councilgraph_http_requests_in_flight on /metrics")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	const callers = 8
	var answered atomic.Int32
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := http.Client{Timeout: 30 * time.Second}
			// Five lists with their relations, about a dozen scans (130 ms
			// on a quiet machine): slow enough that eight of them, one at
			// a time, outlast the drain bound (a loader's wait no longer
			// holds a request: batches go when ready; search reads an
			// index).
			resp, err := c.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"{ a: meetings(first: 100) { totalCount edges { node { title agendaItems { title } attendance { status } } } } b: indicators(first: 100) { totalCount edges { node { name observations { value } } } } c: people(first: 100) { totalCount edges { node { name memberships { role body { name } } } } } d: reports(first: 100) { totalCount edges { node { title } } } e: organisations(first: 100) { totalCount edges { node { name } } } }"}`))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			answered.Add(1)
		}()
	}
	// Stop once every caller's request has arrived: one running, the
	// rest queued behind it (or, on a machine fast enough, answered).
	if !within(hangGuard, func() bool { return inFlight()+int(answered.Load()) >= callers }) {
		t.Fatalf("%d of %d requests in flight and %d answered after %s", inFlight(), callers, answered.Load(), hangGuard)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("run did not return within %s of being stopped, with a 500ms drain bound", hangGuard)
	}
	clients := make(chan struct{})
	go func() { wg.Wait(); close(clients) }()
	select {
	case <-clients:
	case <-time.After(hangGuard):
		t.Fatal("callers still wait after the service stopped")
	}
	if !strings.Contains(logs.String(), "stopping them") {
		t.Errorf("shutdown did not stop the requests past its bound:\n%s", logs.String())
	}
}

// renamed is a data set file (a YAML list of records) with suffix added to
// every record's name, and how many it renamed.
func renamed(t *testing.T, file []byte, suffix string) ([]byte, int) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(file, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range doc.Content[0].Content {
		for i := 0; i+1 < len(rec.Content); i += 2 {
			if rec.Content[i].Value == "name" {
				rec.Content[i+1].Value += suffix
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("no record has a name to change")
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return out, n
}

// updated is the updated column of collection's row in an import's
// summary table (collection, inserted, updated, unchanged, deleted).
func updated(summary, collection string) string {
	for _, line := range strings.Split(summary, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[0] == collection {
			return f[2]
		}
	}
	return ""
}
