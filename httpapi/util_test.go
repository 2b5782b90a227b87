package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/auth"
	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
)

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// waitReadyz waits until h's /readyz says 200: the store's sizes for
// costs are read, so nothing in the background is still reading.
func waitReadyz(t *testing.T, h http.Handler) {
	t.Helper()
	for guard := time.Now().Add(attackGuard); ; time.Sleep(10 * time.Millisecond) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code == http.StatusOK {
			return
		}
		if time.Now().After(guard) {
			t.Fatalf("/readyz still %d after %s: %s", rec.Code, attackGuard, rec.Body.String())
		}
	}
}

// stocktonKeys are the keys of the shared Stockton database, by scope:
// partner, officer and admin. fillStockton writes them.
var stocktonKeys map[string]string

// fillStockton imports the Stockton set and makes a key for each scope
// above the public's.
func fillStockton(ctx context.Context, s *store.Store) error {
	if _, err := importer.ImportFS(ctx, s, os.DirFS(importertest.StocktonDir()), importer.Options{Dataset: "stockton"}); err != nil {
		return err
	}
	keys := map[string]string{}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer, auth.ScopeAdmin} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			return err
		}
		keys[scope] = key
	}
	stocktonKeys = keys
	return nil
}

// sharedStockton opens a store for t on the Stockton database that the
// package's tests which only read share (importertest.Shared), with a key
// for each scope above the public's, and returns the keys by scope.
// monitor, when given, sees every command of t's store.
func sharedStockton(t testing.TB, monitor *event.CommandMonitor) (*store.Store, map[string]string) {
	t.Helper()
	s := importertest.Shared(t, "stockton with keys", fillStockton, monitor)
	return s, stocktonKeys
}

// ownStockton is sharedStockton on a database of t's own, a copy of the
// shared one, for tests that write.
func ownStockton(t testing.TB, monitor *event.CommandMonitor) (*store.Store, map[string]string) {
	t.Helper()
	s := importertest.Copy(t, "stockton with keys", fillStockton, monitor)
	return s, stocktonKeys
}
