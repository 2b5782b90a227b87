package explorer_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"councilgraph/explorer"
)

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPages(t *testing.T) {
	h := explorer.Handler(nil)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<div id="graphiql">`},
		{"/indicators", "text/html; charset=utf-8", `<script type="module" src="/assets/indicators.js">`},
		{"/indicators/indicator:assessments-within-45-days", "text/html; charset=utf-8", `<script type="module" src="/assets/indicators.js">`},
		{"/assets/explorer.js", "text/javascript; charset=utf-8", "GraphiQL"},
		{"/assets/indicators.js", "text/javascript; charset=utf-8", "u-legend"},
		{"/assets/explorer.css", "text/css; charset=utf-8", ".graphiql-container"},
		{"/assets/examples.json", "application/json", `"query"`},
	}
	for _, tt := range tests {
		rec := get(h, tt.path)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tt.contentType || !strings.Contains(rec.Body.String(), tt.contains) {
			t.Errorf("GET %s = %d %s, want 200 %s holding %q", tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.contentType, tt.contains)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); csp != explorer.ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy = %q", tt.path, csp)
		}
	}
	for _, path := range []string{"/assets/explorer.html", "/assets/nope.js", "/nope", "/indicators/a/b"} {
		if rec := get(h, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Errorf("POST / = 200, want a refusal")
	}
}

// TestPolicyAllowsOnlyTheService checks the policy names no other origin,
// and that the pages and stylesheets refer to nothing outside the service
// (the browser tests watch the scripts' requests).
func TestPolicyAllowsOnlyTheService(t *testing.T) {
	for _, directive := range strings.Split(explorer.ContentSecurityPolicy, ";") {
		for _, source := range strings.Fields(directive)[1:] {
			switch source {
			case "'self'", "'none'", "data:":
			default:
				t.Errorf("directive %q allows %s", strings.TrimSpace(directive), source)
			}
		}
	}
	h := explorer.Handler(nil)
	outside := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//|url\(\s*['"]?(https?:)?//|@import`)
	for _, path := range []string{"/", "/indicators", "/assets/explorer.css", "/assets/indicators.css"} {
		if m := outside.FindString(get(h, path).Body.String()); m != "" {
			t.Errorf("%s refers outside the service: %s", path, m)
		}
	}
}

func TestCompressionAndRevalidation(t *testing.T) {
	h := explorer.Handler(nil)
	plain := get(h, "/assets/explorer.js")
	zipped := get(h, "/assets/explorer.js", "Accept-Encoding", "gzip, br")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Body.Len() >= plain.Body.Len()/2 {
		t.Fatalf("gzip: encoding %q, %d bytes against %d", zipped.Header().Get("Content-Encoding"), zipped.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Error("the gzipped asset is not the asset")
	}
	etag := plain.Header().Get("ETag")
	if rec := get(h, "/assets/explorer.js", "If-None-Match", etag); etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("revalidating with ETag %q = %d, want 304", etag, rec.Code)
	}
}

// TestExamplesAreTheREADMEs checks that the explorer's default tabs are the
// README's example queries as they are now (make explorer-assets copies
// them), each with a title and an operation name of its own, which GraphiQL
// shows as the tab's title.
func TestExamplesAreTheREADMEs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Example queries\n")
	if !ok {
		t.Fatal("README.md has no Example queries section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var want []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		want = append(want, m[1])
	}
	var examples []struct{ Title, Name, Query string }
	if err := json.Unmarshal(get(explorer.Handler(nil), "/assets/examples.json").Body.Bytes(), &examples); err != nil {
		t.Fatal(err)
	}
	var got []string
	names := map[string]bool{}
	for _, e := range examples {
		got = append(got, e.Query)
		if e.Title == "" {
			t.Errorf("an example without a title: %q", e.Query)
		}
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(e.Name) || names[e.Name] {
			t.Errorf("example %q has the operation name %q: want a GraphQL name no other example has", e.Title, e.Name)
		}
		names[e.Name] = true
	}
	if len(want) == 0 {
		t.Fatal("no examples in the README")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("explorer tabs against the README (-readme +tabs); run make explorer-assets:\n%s", diff)
	}
}

func TestSources(t *testing.T) {
	h := explorer.Handler(fstest.MapFS{"report.txt": {Data: []byte("one\ntwo <b>\nthree\nfour\n")}})
	rec := get(h, "/sources/report.txt?lines=2-3")
	body := rec.Body.String()
	for _, want := range []string{
		`<span id="L1" class=""><a class="ln" href="#L1">1</a> one`,
		`<span id="L2" class="marked"><a class="ln" href="#L2">2</a> two &lt;b&gt;`,
		`<span id="L3" class="marked">`,
		`<span id="L4" class="">`,
		"lines 2 to 3 are marked",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("source view lacks %q:\n%s", want, body)
		}
	}
	for path, status := range map[string]int{
		"/sources/report.txt?lines=3-2":       http.StatusBadRequest,
		"/sources/report.txt?lines=x":         http.StatusBadRequest,
		"/sources/missing.txt":                http.StatusNotFound,
		"/sources/..%2Fexplorer.go":           http.StatusNotFound,
		"/sources/report.txt?lines=4":         http.StatusOK,
		"/sources/%2E%2E":                     http.StatusNotFound,
		"/sources/report.txt?lines=1-1000000": http.StatusOK,
	} {
		if rec := get(h, path); rec.Code != status {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, status)
		}
	}
	if rec := get(explorer.Handler(nil), "/sources/report.txt"); rec.Code != http.StatusNotFound {
		t.Errorf("with no sources: %d, want 404", rec.Code)
	}
}
