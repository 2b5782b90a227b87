package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStreamsSubscriptions: a subscription over server-sent events
// through everything `serve` wraps the endpoint in (telemetry, the health
// gate, identity, limits, the deadline), as the service runs: it opens as
// an event stream and receives a change that the import command, another
// process, makes.
func TestServeStreamsSubscriptions(t *testing.T) {
	t.Parallel()
	var stderr lockedBuffer
	env := map[string]string{"DATA_DIR": seededDataDir(t)}
	getenv := func(k string) string { return env[k] }
	done := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer func() {
		stop()
		<-done
	}()
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0", "--generation-poll", "50ms"}, getenv, io.Discard, &stderr)
	}()
	base := "http://" + waitForLog(t, &stderr, done, "listening", "addr")
	waitReady(t, base)

	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/graphql",
		strings.NewReader(`{"query":"subscription { changes(types: [\"Person\"]) { kind id record { ... on Person { name } } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("a subscription over SSE in serve: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// The subscription is taken a moment after its stream opens: a change
	// made before then does not reach it, so each import names a person of
	// its own and the next is made only when none has come meanwhile (a
	// retry, not a bound).
	for i := range 20 {
		dir := t.TempDir()
		set := fmt.Sprintf("name: streamed-%d\ncouncils: [council:streamed-%d]\n", i, i)
		people := fmt.Sprintf("- id: person:streamed-%d/streamed\n  name: Streamed %d\n  sources: [{document: streamed.txt, locator: lines 1-2}]\n", i, i)
		for name, text := range map[string]string{"set.yaml": set, "people.yaml": people} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var importErr lockedBuffer
		if err := run(context.Background(), []string{"import", dir}, getenv, io.Discard, &importErr); err != nil {
			t.Fatalf("import while serving: %v\n%s", err, importErr.String())
		}
		wait := time.NewTimer(3 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended:\n%s", stderr.String())
				}
				if !strings.HasPrefix(l, "data: ") {
					continue
				}
				if !strings.Contains(l, `"kind":"UPSERT"`) || !strings.Contains(l, `"name":"Streamed`) {
					t.Fatalf("event %s", l)
				}
				wait.Stop()
				return
			case <-wait.C:
			}
			break
		}
	}
	t.Fatal("no change reached the subscription")
}
