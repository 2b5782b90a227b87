package export_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"councilgraph/store/storetest"
)

// blockingWriter holds a download at its first write until released.
type blockingWriter struct {
	httptest.ResponseRecorder
	once             sync.Once
	started, release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return b.ResponseRecorder.Write(p)
}

// TestOneDownloadAtOnceFromOneCaller: while a caller's download streams,
// its next one is refused with 429, RATE_LIMITED and Retry-After, so that
// one caller cannot hold every download slot; another caller's runs.
func TestOneDownloadAtOnceFromOneCaller(t *testing.T) {
	t.Parallel()
	h := service(storetest.New(t, nil))
	from := func(addr string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/export/people.csv", nil)
		r.RemoteAddr = addr
		return r
	}
	first := &blockingWriter{ResponseRecorder: *httptest.NewRecorder(), started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(first, from("198.51.100.7:1000"))
	}()
	<-first.started

	again := httptest.NewRecorder()
	h.ServeHTTP(again, from("198.51.100.7:1001"))
	var body struct {
		Errors []struct {
			Message    string
			Extensions map[string]string
		}
	}
	_ = json.Unmarshal(again.Body.Bytes(), &body)
	if again.Code != http.StatusTooManyRequests || again.Header().Get("Retry-After") == "" || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "RATE_LIMITED" {
		t.Errorf("a second download from the same caller: %d %s", again.Code, again.Body.String())
	}
	other := httptest.NewRecorder()
	h.ServeHTTP(other, from("198.51.100.8:1000"))
	if other.Code != http.StatusOK {
		t.Errorf("another caller's download: %d %s", other.Code, other.Body.String())
	}

	close(first.release)
	<-done
	if first.Code != http.StatusOK {
		t.Errorf("the first download: %d", first.Code)
	}
	after := httptest.NewRecorder()
	h.ServeHTTP(after, from("198.51.100.7:1002"))
	if after.Code != http.StatusOK {
		t.Errorf("the caller's next download, once the first ended: %d %s", after.Code, after.Body.String())
	}
}
