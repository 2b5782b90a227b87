package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallerAddr(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies("10.0.0.0/8, 2001:db8:ffff::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct", "203.0.113.7:5000", "", "addr:203.0.113.7"},
		{"untrusted proxy's header is ignored", "203.0.113.7:5000", "198.51.100.1", "addr:203.0.113.7"},
		{"trusted proxy", "10.1.2.3:5000", "198.51.100.1", "addr:198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:5000", "198.51.100.1, 10.9.9.9", "addr:198.51.100.1"},
		{"a forged hop before the real one", "10.1.2.3:5000", "192.0.2.66, 198.51.100.1", "addr:198.51.100.1"},
		{"malformed hop", "10.1.2.3:5000", "198.51.100.1, nonsense", "addr:10.1.2.3"},
		{"IPv6 counts as its /64", "[2001:db8:1:2:aaaa::1]:443", "", "addr:2001:db8:1:2::/64"},
		{"another host of the same /64", "[2001:db8:1:2:bbbb::9]:443", "", "addr:2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.7]:443", "", "addr:203.0.113.7"},
		{"trusted IPv6 proxy", "[2001:db8:ffff::1]:443", "2001:db8:5::5", "addr:2001:db8:5::/64"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := callerAddr(r, trusted); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, not-a-net"); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

// TestInFlightShares: one caller cannot take every slot, the anonymous
// public cannot take the last quarter, and a caller with more queued than
// it may run is refused at once.
func TestInFlightShares(t *testing.T) {
	t.Parallel()
	f := newInFlight(4, 2)
	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	var releases []func()
	take := func(ctx context.Context, key string, anonymous bool) error {
		rel, err := f.acquire(ctx, key, anonymous)
		if err == nil {
			releases = append(releases, rel)
		}
		return err
	}
	for range 2 {
		if err := take(ctx, "addr:a", true); err != nil {
			t.Fatal(err)
		}
	}
	if err := take(short, "addr:a", true); err == nil {
		t.Fatal("a third operation from one address ran")
	}
	if err := take(ctx, "addr:b", true); err != nil {
		t.Fatalf("another address was refused its slot: %v", err)
	}
	if err := take(short, "addr:c", true); err == nil {
		t.Fatal("the anonymous public took the last quarter of the slots")
	}
	if err := take(ctx, "client:x", false); err != nil {
		t.Fatalf("a keyed caller found no slot: %v", err)
	}

	g := newInFlight(0, 1)
	rel, err := g.acquire(ctx, "addr:a", true)
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	// Two more wait, until the first is released when the test ends.
	for range 2 {
		go func() {
			if r, err := g.acquire(ctx, "addr:a", true); err == nil {
				r()
			}
		}()
	}
	waiters := func() int {
		g.mu.Lock()
		defer g.mu.Unlock()
		if c := g.callers["addr:a"]; c != nil {
			return c.n
		}
		return 0
	}
	for waiters() < 3 {
		time.Sleep(time.Millisecond)
	}
	if _, err := g.acquire(ctx, "addr:a", true); err != errBusy {
		t.Errorf("a fourth request of a caller with one running and two waiting: %v, want refused at once", err)
	}
	for _, r := range releases {
		r()
	}
}

// TestRateLimiterRemembersCallers: spraying new addresses evicts the least
// recently seen buckets, never everyone's.
func TestRateLimiterRemembersCallers(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(1, 1, addressOnly)
	// The clock stands still: however long the spray takes on a busy
	// machine, no bucket fills meanwhile.
	frozen := time.Now()
	l.now = func() time.Time { return frozen }
	h := l.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	hit := func(addr string) int {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r = r.WithContext(context.WithValue(r.Context(), addrKey{}, addr))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	for range 2 {
		hit("addr:victim-of-its-own-limit")
	}
	if code := hit("addr:victim-of-its-own-limit"); code != http.StatusTooManyRequests {
		t.Fatalf("third request in a second: %d, want 429", code)
	}
	for i := range 20_000 {
		hit("addr:spray-" + netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String())
	}
	if code := hit("addr:victim-of-its-own-limit"); code != http.StatusTooManyRequests {
		t.Errorf("after 20,000 other addresses the limit was forgotten: %d", code)
	}
}

// TestStreamsTakeNoOperationSlot: subscriptions are held to a count of
// their own, refused at once past it, and leave the operation slots free.
func TestStreamsTakeNoOperationSlot(t *testing.T) {
	t.Parallel()
	f := newInFlight(1, 1)
	hold := make(chan struct{})
	opened := make(chan struct{}, 8)
	h := f.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kindOf(r) == eventStream {
			opened <- struct{}{}
			<-hold
		}
	}))
	stream := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"subscription { changes { id } }"}`))
		r.Header.Set("Accept", "text/event-stream")
		r.Header.Set("Content-Type", "application/json")
		r = r.WithContext(context.WithValue(r.Context(), addrKey{}, "addr:a"))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	done := make(chan *httptest.ResponseRecorder, maxStreamsPerCaller)
	for range maxStreamsPerCaller {
		go func() { done <- stream() }()
		<-opened
	}
	if rec := stream(); rec.Code != http.StatusTooManyRequests {
		t.Errorf("stream %d from one caller: %d, want 429 at once", maxStreamsPerCaller+1, rec.Code)
	}
	// With all of its streams open, the caller's operation still runs.
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r = r.WithContext(context.WithValue(r.Context(), addrKey{}, "addr:a"))
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r.WithContext(ctx))
	if rec.Code != http.StatusOK {
		t.Errorf("an operation beside %d open streams: %d", maxStreamsPerCaller, rec.Code)
	}
	close(hold)
	for range maxStreamsPerCaller {
		<-done
	}
}

// TestStreamPlacesKeepAShareForKeys: anonymous callers together may hold
// all places but a quarter; API clients may take the rest.
func TestStreamPlacesKeepAShareForKeys(t *testing.T) {
	t.Parallel()
	l := newStreamLimit(8, 8)
	for i := range 6 {
		if _, ok := l.acquire(fmt.Sprintf("addr:%d", i), true); !ok {
			t.Fatalf("anonymous place %d refused", i+1)
		}
	}
	if _, ok := l.acquire("addr:7", true); ok {
		t.Error("a 7th anonymous place of 8 was given")
	}
	for i := range 2 {
		if _, ok := l.acquire(fmt.Sprintf("client:%d", i), false); !ok {
			t.Errorf("keyed place %d refused", i+1)
		}
	}
	if _, ok := l.acquire("client:9", false); ok {
		t.Error("a 9th place of 8 was given")
	}
}

// TestRateLimiterOneBucketPerCaller: a caller's first requests, arriving
// together, share one bucket; none of them gets a bucket of its own to
// spend.
func TestRateLimiterOneBucketPerCaller(t *testing.T) {
	t.Parallel()
	l := newRateLimiter(0.5, 0.5, addressOnly) // a burst of one
	frozen := time.Now()
	l.now = func() time.Time { return frozen }
	for i := range 300 {
		key := fmt.Sprintf("addr:%d", i)
		var served atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				<-start
				if _, refusal := l.allow(key, true); refusal == nil {
					served.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := served.Load(); n != 1 {
			t.Fatalf("%s's first eight requests together: %d served, want 1", key, n)
		}
	}
}
