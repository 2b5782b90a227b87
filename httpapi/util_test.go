package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
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
