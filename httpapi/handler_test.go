package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer/importertest"
	"councilgraph/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(importertest.Main(m)) }

func TestHTTPBadInput(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tests := []struct {
		name        string
		body        io.Reader
		contentType string
		wantStatus  int
		wantInBody  string
	}{
		{"malformed JSON", strings.NewReader(`{"query": "{ areas { id } "`), "application/json", http.StatusBadRequest, `"errors"`},
		{"oversized body", strings.NewReader(`{"query":"` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`), "application/json", http.StatusRequestEntityTooLarge, "larger than 1 MiB"},
		{"oversized body without a length", io.MultiReader(strings.NewReader(`{"query":"`), strings.NewReader(strings.Repeat("x", httpapi.MaxBodyBytes))), "application/json", http.StatusRequestEntityTooLarge, "larger than 1 MiB"},
		{"unknown field", strings.NewReader(`{"query":"{ areas { id colour } }"}`), "application/json", http.StatusOK, `Cannot query field \"colour\" on type \"Area\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/graphql", tt.body)
			if _, ok := tt.body.(*strings.Reader); !ok {
				req.ContentLength = -1
			}
			req.Header.Set("Content-Type", tt.contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tt.wantInBody) {
				t.Errorf("body %s does not contain %s", rec.Body.String(), tt.wantInBody)
			}
		})
	}
}

func TestHealthAndGraphiQL(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := httpapitest.New(s, httpapi.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	waitReadyz(t, h)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/": "graphiql"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || !strings.Contains(strings.ToLower(rec.Body.String()), want) {
			t.Errorf("GET %s = %d %q, want 200 with %q", path, rec.Code, rec.Body.String()[:min(80, rec.Body.Len())], want)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database gone = %d, want 503", rec.Code)
	}
}

// TestNotReadyUntilCostsArePriced: /readyz stays 503, saying why, while
// the sizes that price queries cannot be read, even if the database check
// passes; a request then would wait for them.
func TestNotReadyUntilCostsArePriced(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{Ready: func(context.Context) error { return nil }}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "query costs") {
		t.Errorf("/readyz before the sizes are read = %d %q, want 503 naming query costs", rec.Code, rec.Body.String())
	}
}
