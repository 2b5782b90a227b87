package telemetry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer/importertest"
	"councilgraph/store/storetest"
	"councilgraph/telemetry"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

// service is the HTTP handler wired as serve wires it, over the test
// binary's database holding the Stockton set (the tests only read it),
// on a store of the test's own whose commands tel sees.
func service(t *testing.T, tel *telemetry.Telemetry, cfg httpapi.Config) http.Handler {
	t.Helper()
	s := importertest.Stockton(t, tel.CommandMonitor())
	// These tests count the MongoDB commands a request sends: answered
	// from the in-memory snapshot, which finishes building in the
	// background at a moment of its own, the same request would send
	// none, or some.
	if cfg.SnapshotSize == 0 {
		cfg.SnapshotSize = -1
	}
	cfg.Observe = tel.Middleware
	cfg.Extensions = append(cfg.Extensions, tel.Extension())
	return httpapitest.New(s, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func post(t *testing.T, h http.Handler, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func query(q string) string {
	b, _ := json.Marshal(map[string]string{"query": q})
	return string(b)
}

// scrape reads /metrics from the debug handler and parses it with
// Prometheus' own text parser.
func scrape(t *testing.T, tel *telemetry.Telemetry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	tel.DebugHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, rec.Body.String())
	}
	return fams
}

// value is the sum of the values of the series of family name that have
// labels (a counter's, a gauge's, or a histogram's count), 0 when none has.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	total := 0.0
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func TestMetricsMoveAsRequestsAreMade(t *testing.T) {
	const persisted = `query CabinetMeetings { body(id: "body:stockton-on-tees/cabinet") { name } }`
	sum := sha256.Sum256([]byte(persisted))
	tel := telemetry.New(telemetry.Options{Persisted: map[string]string{hex.EncodeToString(sum[:]): "CabinetMeetings"}})
	// At a hundredth of a request a second an address has a burst of one
	// and waits 100 s for the next: its second request is refused however
	// slowly the machine runs them.
	h := service(t, tel, httpapi.Config{RateAnonymous: 0.01, MaxDepth: 4})

	before := scrape(t, tel)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "councilgraph_http_requests_in_flight"} {
		if before[name] == nil {
			t.Errorf("no %s series", name)
		}
	}

	// One query that walks a relation, from a fresh address each time so
	// that the rate limit does not refuse it.
	nested := query(`{ organisation(id: "organisation:stockton-on-tees-borough-council") { bodies { name meetings(first: 5) { totalCount } } } }`)
	send := func(body, remote string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send(nested, "192.0.2.1:1"); rec.Code != 200 || strings.Contains(rec.Body.String(), "errors") {
		t.Fatalf("nested query: %d %s", rec.Code, rec.Body.String())
	}
	send(query(persisted), "192.0.2.2:1")
	send(query(`{ nosuchfield }`), "192.0.2.3:1")
	for range 2 { // the second is over the burst
		send(query(`{ areas { id } }`), "192.0.2.4:1")
	}
	send(`{"query":"`+strings.Repeat("x", httpapi.MaxBodyBytes)+`"}`, "192.0.2.5:1")
	send(query(`{ organisation(id: "organisation:stockton-on-tees-borough-council") { bodies { organisation { bodies { organisation { name } } } } } }`), "192.0.2.6:1")

	after := scrape(t, tel)
	checks := []struct {
		name   string
		labels map[string]string
		want   float64 // at least this much more than before
	}{
		{"councilgraph_http_request_duration_seconds", map[string]string{"operation": "query organisation", "transport": "POST", "status": "200"}, 1},
		{"councilgraph_http_request_duration_seconds", map[string]string{"operation": "CabinetMeetings", "status": "200"}, 1},
		{"councilgraph_http_request_duration_seconds", map[string]string{"operation": "query areas", "status": "200"}, 1},
		{"councilgraph_http_request_duration_seconds", map[string]string{"status": "429"}, 1},
		{"councilgraph_http_request_duration_seconds", map[string]string{"status": "413"}, 1},
		{"councilgraph_graphql_errors_total", map[string]string{"code": "BAD_USER_INPUT"}, 1},
		{"councilgraph_requests_refused_total", map[string]string{"limit": "rate"}, 1},
		{"councilgraph_requests_refused_total", map[string]string{"limit": "body_size"}, 1},
		{"councilgraph_requests_refused_total", map[string]string{"limit": "depth"}, 1},
		{"councilgraph_mongodb_command_duration_seconds", map[string]string{"command": "find", "collection": "organisations", "outcome": "ok"}, 1},
		{"councilgraph_mongodb_command_duration_seconds", map[string]string{"collection": "bodies"}, 1},
		{"councilgraph_loader_batch_keys", map[string]string{"loader": "Body by organisationId"}, 1},
		{"councilgraph_loader_batches_per_request", nil, 1},
	}
	for _, c := range checks {
		if got := value(after, c.name, c.labels) - value(before, c.name, c.labels); got < c.want {
			t.Errorf("%s%v moved by %v, want at least %v", c.name, c.labels, got, c.want)
		}
	}
	// Label values come from the schema and persisted documents only.
	for _, m := range after["councilgraph_http_request_duration_seconds"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "operation" && strings.Contains(l.GetValue(), "nosuchfield") {
				t.Errorf("an operation label holds the caller's text: %q", l.GetValue())
			}
		}
	}
}

func TestDebugHandlerServesProfiles(t *testing.T) {
	tel := telemetry.New(telemetry.Options{})
	rec := httptest.NewRecorder()
	tel.DebugHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/goroutine?debug=1", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "goroutine profile") {
		t.Errorf("goroutine profile: %d %.200s", rec.Code, rec.Body.String())
	}
	// The public handler has neither.
	h := service(t, tel, httpapi.Config{})
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code == http.StatusOK {
			t.Errorf("the public handler serves %s", path)
		}
	}
}

func TestComposeMonitorsTellsEach(t *testing.T) {
	counter := &storetest.Counter{}
	tel := telemetry.New(telemetry.Options{})
	s := storetest.New(t, telemetry.ComposeMonitors(tel.CommandMonitor(), nil, counter.Monitor()))
	if _, err := s.FindAreas(context.Background()); err != nil {
		t.Fatal(err)
	}
	if counter.Count("find") == 0 {
		t.Error("the second monitor saw no find")
	}
	if value(scrape(t, tel), "councilgraph_mongodb_command_duration_seconds", map[string]string{"command": "find", "collection": "areas"}) == 0 {
		t.Error("the first monitor saw no find")
	}
	if telemetry.ComposeMonitors(nil, nil) != nil {
		t.Error("composing no monitors is not nil")
	}
}

// TestCmdlineHidesSecrets: the debug listener's command line shows no
// password, token or secret, however it was written.
func TestCmdlineHidesSecrets(t *testing.T) {
	args := []string{
		"councilgraph", "serve",
		"--mongodb-uri=mongodb://app:s3cr3t-pw@db.internal:27017/?tls=true&tlsCertificateKeyFilePassword=k3y-pw&authMechanismProperties=AWS_SESSION_TOKEN:t0k3n",
		"-mongodb-uri", "mongodb+srv://app:s3cr3t-pw@cluster.example.net/",
		"--webhook-secret", "hush-1", "--api-token=hush-2", "--addr", "127.0.0.1:8080",
		"mongodb://other:s3cr3t-pw@h/",
	}
	got := strings.Join(telemetry.RedactArgs(args), " ")
	for _, secret := range []string{"s3cr3t-pw", "k3y-pw", "t0k3n", "hush-1", "hush-2"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows in %s", secret, got)
		}
	}
	for _, kept := range []string{"mongodb://app:REDACTED@db.internal:27017/", "tls=true", "--addr 127.0.0.1:8080", "mongodb+srv://app:REDACTED@cluster.example.net/", "--webhook-secret REDACTED"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q is missing from %s", kept, got)
		}
	}
	saved := os.Args
	os.Args = args
	defer func() { os.Args = saved }()
	rec := httptest.NewRecorder()
	telemetry.New(telemetry.Options{}).DebugHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/cmdline", nil))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "s3cr3t") || !strings.Contains(rec.Body.String(), "serve\x00--mongodb-uri=mongodb://app:REDACTED@") {
		t.Errorf("/debug/pprof/cmdline: %d %q", rec.Code, rec.Body.String())
	}
}
