package apierr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"councilgraph/apierr"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		err        apierr.Error
		wantStatus int
		wantBody   string
	}{
		{"code's status", 0, apierr.New(apierr.RateLimited, `slow down "now"`), http.StatusTooManyRequests,
			`{"errors":[{"message":"slow down \"now\"","extensions":{"code":"RATE_LIMITED"}}]}`},
		{"given status", http.StatusRequestEntityTooLarge, apierr.New(apierr.BadUserInput, "too big", "argument", "body"), http.StatusRequestEntityTooLarge,
			`{"errors":[{"message":"too big","extensions":{"argument":"body","code":"BAD_USER_INPUT"}}]}`},
		{"not found", 0, apierr.New(apierr.NotFound, "no such path"), http.StatusNotFound,
			`{"errors":[{"message":"no such path","extensions":{"code":"NOT_FOUND"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			apierr.Write(rec, tt.status, tt.err)
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, rec.Body)
			}
			_ = json.Unmarshal([]byte(tt.wantBody), &want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKnown(t *testing.T) {
	for _, c := range []apierr.Code{apierr.BadUserInput, apierr.NotFound, apierr.Unauthenticated, apierr.Forbidden,
		apierr.RateLimited, apierr.ServiceUnavailable, apierr.Internal, apierr.PersistedQueryNotFound} {
		if !apierr.Known(string(c)) {
			t.Errorf("%s is not known", c)
		}
	}
	if apierr.Known("GRAPHQL_VALIDATION_FAILED") {
		t.Error("a code of another server is known")
	}
}

// TestCodeOf: every error maps to a code, and through it to a status: its
// own where its chain says one, however deeply wrapped; a deadline or a
// cancellation is the service being unavailable; anything else internal.
func TestCodeOf(t *testing.T) {
	overBudget := apierr.Errorf(apierr.BadUserInput, "the operation read more than its cost admits")
	for _, c := range []struct {
		err    error
		code   apierr.Code
		status int
	}{
		{nil, "", http.StatusBadRequest},
		{overBudget, apierr.BadUserInput, http.StatusBadRequest},
		{fmt.Errorf("find people: %w", overBudget), apierr.BadUserInput, http.StatusBadRequest},
		{apierr.Errorf(apierr.ServiceUnavailable, "find: %w", context.DeadlineExceeded), apierr.ServiceUnavailable, http.StatusServiceUnavailable},
		{fmt.Errorf("find: %w", context.DeadlineExceeded), apierr.ServiceUnavailable, http.StatusServiceUnavailable},
		{context.Canceled, apierr.ServiceUnavailable, http.StatusServiceUnavailable},
		{apierr.Errorf(apierr.ChangesExpired, "expired"), apierr.ChangesExpired, http.StatusBadRequest},
		{errors.New("connection reset"), apierr.Internal, http.StatusInternalServerError},
	} {
		if got := apierr.CodeOf(c.err); got != c.code {
			t.Errorf("apierr.CodeOf(%v) = %q, want %q", c.err, got, c.code)
		}
		if c.err != nil {
			if got := apierr.Status(apierr.CodeOf(c.err)); got != c.status {
				t.Errorf("apierr.Status(apierr.CodeOf(%v)) = %d, want %d", c.err, got, c.status)
			}
		}
	}
	wrapped := apierr.Errorf(apierr.ServiceUnavailable, "find: %w", context.DeadlineExceeded)
	if !errors.Is(wrapped, context.DeadlineExceeded) || wrapped.Error() != "find: context deadline exceeded" {
		t.Errorf("Errorf lost what it wraps: %v", wrapped)
	}
}
