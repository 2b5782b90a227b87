package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) {
	code := storetest.Main(m)
	if seeded.dir != "" {
		_ = os.RemoveAll(seeded.dir)
	}
	os.Exit(code)
}

// lockedBuffer is a bytes.Buffer safe to write from the server and read from the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRunServesAndShutsDown starts the service as the README's run command
// does (embedded store, bundled data), waits for it to be ready, queries it
// and stops it by cancelling run's context, the path SIGINT and SIGTERM take.
func TestRunServesAndShutsDown(t *testing.T) {
	t.Parallel()
	var stdout, stderr lockedBuffer
	env := map[string]string{"DATA_DIR": t.TempDir()}
	done := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &stdout, &stderr)
	}()

	addr := waitForLog(t, &stderr, done, "listening", "addr")
	base := "http://" + addr
	debug := waitForLog(t, &stderr, done, "debug listening", "addr")
	waitReady(t, base)

	// The person who started it is told where to go, and each address
	// answers; the log says the same for machines.
	for _, want := range []string{"explorer    " + base + "/\n", "GraphQL API " + base + "/graphql\n", "indicators  " + base + "/indicators\n", "metrics     http://" + debug + "/metrics"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout does not say %q:\n%s", want, stdout.String())
		}
	}
	for _, url := range []string{base + "/", base + "/indicators", "http://" + debug + "/metrics"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s answered %d", url, resp.StatusCode)
		}
	}
	if got := waitForLog(t, &stderr, done, "listening", "explorer"); got != base+"/" {
		t.Errorf("the log's explorer address is %q, want %q", got, base+"/")
	}

	body := `{"query":"{ body(id: \"body:stockton-on-tees/cabinet\") { name meetings(first: 1) { totalCount } } }"}`
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data struct {
			Body struct {
				Name     string
				Meetings struct{ TotalCount int }
			}
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Data.Body.Name != "Cabinet" || got.Data.Body.Meetings.TotalCount == 0 {
		t.Errorf("the bundled data set did not answer: %+v", got)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the response")
	}

	// Keys made and revoked by the keys command, against the running
	// service's own data dir, take effect at once.
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keys", "create", "--name", "Trust", "--organisation", "NHS", "--scopes", "partner"}, getenv, &out, io.Discard); err != nil {
		t.Fatalf("keys create while serving: %v", err)
	}
	key := regexp.MustCompile(`cgk_[A-Za-z0-9_-]+`).FindString(out.String())
	id := regexp.MustCompile(`client:[0-9a-f]+`).FindString(out.String())
	if status := postWithKey(t, base, key); status != http.StatusOK {
		t.Fatalf("new key: %d, want 200", status)
	}
	out.Reset()
	if err := run(context.Background(), []string{"keys", "list"}, getenv, &out, io.Discard); err != nil || !strings.Contains(out.String(), id) {
		t.Fatalf("keys list: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"keys", "revoke", id}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("keys revoke: %v", err)
	}
	if status := postWithKey(t, base, key); status != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d, want 401", status)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after its context ended", err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("run did not stop within %s of its context ending", hangGuard)
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop logged:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"path":"/graphql","status":200`) {
		t.Errorf("no request line logged:\n%s", stderr.String())
	}
}

// waitForLog waits for a JSON log line with message msg and returns its field key.
func waitForLog(t *testing.T, logs *lockedBuffer, done <-chan error, msg, key string) string {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
				return line[key].(string)
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before %q: %v\n%s", msg, err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %q log line:\n%s", msg, logs.String())
	return ""
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("/readyz never turned 200")
}

func TestRunFailsFastWithoutDatabase(t *testing.T) {
	t.Parallel()
	env := map[string]string{"MONGODB_URI": "mongodb://127.0.0.1:1/?connectTimeoutMS=200"}
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--connect-timeout", "300ms"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 300ms") {
		t.Fatalf("err = %v, want a clear 'did not answer within 300ms' error", err)
	}
}

func TestSchemaCommandPrintsTheSchema(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"schema"}, func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("schema.graphqls")
	if out.String() != string(want) {
		t.Error("schema output differs from schema.graphqls")
	}
}

func postWithKey(t *testing.T, base, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(`{"query":"{ areas { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTwoServersOnOneMachine: two servers started on one machine with the
// default debug listener both serve, each with its metrics on a debug
// listener of its own: the second (or both, when something else holds the
// default port, as the test makes sure here where it can) says the default
// was taken and where its listener went instead. An address given
// explicitly that is taken still stops the server.
func TestTwoServersOnOneMachine(t *testing.T) {
	t.Parallel()
	// The default is taken, by this test or by another process (which may
	// let it go while the test runs).
	hold, err := net.Listen("tcp", defaultDebugAddr)
	held := err == nil
	if held {
		defer hold.Close()
	}
	ctx, stop := context.WithCancel(context.Background())
	var dones []chan error
	defer func() {
		stop()
		for _, done := range dones {
			if err := <-done; err != nil {
				t.Errorf("a server stopped with %v", err)
			}
		}
	}()
	var debugAddrs []string
	for i := range 2 {
		var stderr lockedBuffer
		env := map[string]string{"DATA_DIR": seededDataDir(t)}
		done := make(chan error, 1)
		dones = append(dones, done)
		go func() {
			done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, &stderr)
		}()
		addr := waitForLog(t, &stderr, done, "listening", "addr")
		waitReady(t, "http://"+addr)
		resp, err := http.Post("http://"+addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ areas { id } }"}`))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("server %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
		debug := waitForLog(t, &stderr, done, "debug listening", "addr")
		// Only a server that found the default free may take it: when
		// another process held it and let it go, that is this one.
		if debug != defaultDebugAddr {
			if taken := waitForLog(t, &stderr, done, "the debug listener's default address is taken, perhaps by another server on this machine; using a free loopback port (see debug listening); set --debug-addr to choose one", "default"); taken != defaultDebugAddr {
				t.Errorf("server %d: the warning names %s", i, taken)
			}
		} else if held {
			t.Errorf("server %d took the default debug address the test holds", i)
		}
		metrics, err := http.Get("http://" + debug + "/metrics")
		if err != nil || metrics.StatusCode != http.StatusOK {
			t.Fatalf("server %d's debug listener at %s: %v %v", i, debug, err, metrics)
		}
		metrics.Body.Close()
		debugAddrs = append(debugAddrs, debug)
	}
	if debugAddrs[0] == debugAddrs[1] {
		t.Errorf("both debug listeners at %s", debugAddrs[0])
	}

	// An address the operator chose, taken, is an error that names it.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	err = run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", taken.Addr().String()}, func(k string) string { return map[string]string{"DATA_DIR": t.TempDir()}[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "debug listener on "+taken.Addr().String()) {
		t.Errorf("a taken --debug-addr: %v, want an error naming it", err)
	}
}
