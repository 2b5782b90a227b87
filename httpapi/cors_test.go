package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store/storetest"
)

// TestCORS: any origin may read anonymously; only listed origins may send
// an API key; no origin is ever allowed credentials.
func TestCORS(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	open := httpapitest.New(s, httpapi.Config{}, quiet())
	listed := httpapitest.New(s, httpapi.Config{CORSOrigins: []string{"https://app.example.org"}}, quiet())
	type want struct {
		allowOrigin string
		keyHeader   bool
	}
	tests := []struct {
		name      string
		h         http.Handler
		origin    string
		preflight string // Access-Control-Request-Headers, for an OPTIONS preflight
		want      want
	}{
		{"anonymous read from anywhere", open, "https://anywhere.example", "", want{"*", false}},
		{"a sandboxed page", open, "null", "", want{"*", false}},
		{"preflight without a key", open, "https://anywhere.example", "content-type", want{"*", false}},
		{"preflight with a key, no origins listed", open, "https://anywhere.example", "authorization", want{"", false}},
		{"preflight with X-API-Key, no origins listed", open, "https://anywhere.example", "x-api-key", want{"", false}},
		{"listed origin may send a key", listed, "https://app.example.org", "authorization", want{"https://app.example.org", true}},
		{"unlisted origin may not", listed, "https://evil.example", "authorization", want{"", false}},
		{"unlisted origin still reads anonymously", listed, "https://evil.example", "", want{"*", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodGet
			if tt.preflight != "" {
				method = http.MethodOptions
			}
			r := httptest.NewRequest(method, "/graphql?query=%7Bareas%7Bid%7D%7D", nil)
			r.Header.Set("Origin", tt.origin)
			if tt.preflight != "" {
				r.Header.Set("Access-Control-Request-Method", http.MethodPost)
				r.Header.Set("Access-Control-Request-Headers", tt.preflight)
			}
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, r)
			h := rec.Header()
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.want.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.want.allowOrigin)
			}
			if got := strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization"); got != tt.want.keyHeader {
				t.Errorf("Authorization allowed = %v, want %v (%q)", got, tt.want.keyHeader, h.Get("Access-Control-Allow-Headers"))
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("credentials allowed: %q", h.Get("Access-Control-Allow-Credentials"))
			}
		})
	}
}
