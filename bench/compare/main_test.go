package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// answering is a GraphQL endpoint that answers every request with body.
func answering(t *testing.T, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// data is an answer large enough to pass as real, holding name.
func data(name string) string {
	return `{"data":{"body":{"id":"body:c000-b00","name":"` + name + `","padding":"` + strings.Repeat("x", 200) + `"}}}`
}

func TestCompare(t *testing.T) {
	same := data("Borough 000 Council")
	tests := []struct {
		name    string
		a, b    string
		wantErr string
	}{
		{"alike", same, same, ""},
		{"alike in another key order", same, `{"data":{"body":{"name":"Borough 000 Council","padding":"` + strings.Repeat("x", 200) + `","id":"body:c000-b00"}}}`, ""},
		{"a value differs", same, data("Borough 001 Council"), "the answers differ"},
		{"graphql errors", same, `{"errors":[{"message":"boom"}],"data":null}`, "graphql errors"},
		{"too small", `{"data":{"body":null}}`, `{"data":{"body":null}}`, "suspiciously small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := run(context.Background(), []string{"-a", answering(t, tt.a), "-b", answering(t, tt.b), "-ops", "a-", "-runs", "2"}, &out)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("run: got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompareRefusesOtherAddresses(t *testing.T) {
	err := run(context.Background(), []string{"-a", "10.0.0.1:80", "-b", "127.0.0.1:1"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("got %v, want a refusal of the non-loopback address", err)
	}
	if err := run(context.Background(), []string{"-ops", "z-"}, io.Discard); err == nil || !strings.Contains(err.Error(), "no operation") {
		t.Fatalf("got %v, want an error for an -ops that matches nothing", err)
	}
}
