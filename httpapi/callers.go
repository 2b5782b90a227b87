package httpapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/health"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// How callers are told apart and held to their share.
//
// An anonymous caller is its address: the connection's, or, when that is a
// trusted proxy's, the nearest untrusted one of X-Forwarded-For; an IPv6
// address counts as its /64, which one host can fill. A keyed caller is
// its client. Before a key is looked up, each address is held to a coarse
// rate (so that spraying made-up keys costs the database nothing); after,
// each caller to its own rate, and to a share of the operations that run
// at once: one caller no more than MaxInFlightPerCaller, anonymous callers
// together no more than all slots but a quarter, so that neither one
// address nor the anonymous public can take the whole store. A caller with
// more requests queued than it may run is refused at once rather than
// left to wait out its deadline.

// callerAddr is the address a request's caller is known by.
func callerAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "addr:" + host
	}
	addr = addr.Unmap()
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := parseHop(hops[i])
			if err != nil {
				break // a malformed hop: trust nothing before it
			}
			addr = hop.Unmap()
			if !isTrusted(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return "addr:" + p.String()
	}
	return "addr:" + addr.String()
}

// parseHop reads one X-Forwarded-For hop as proxies write it: an address
// alone (203.0.113.7, 2001:db8::1), or with the port the client connected
// from (203.0.113.7:5000, [2001:db8::1]:5000, [2001:db8::1]). The port
// plays no part in who the caller is.
func parseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a, nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), nil
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return netip.ParseAddr(s[1 : len(s)-1])
	}
	return netip.Addr{}, fmt.Errorf("X-Forwarded-For hop %q is not an address", s)
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes (or
// single addresses).
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %q is not an address or CIDR prefix", part)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is not an address or CIDR prefix", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

type addrKey struct{}

// withCallerAddr notes the caller's address in the request's context.
func withCallerAddr(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), addrKey{}, callerAddr(r, trusted))))
	})
}

// callerKey is who a request counts against: its client, else its address.
func callerKey(r *http.Request) (key string, anonymous bool) {
	if id := auth.CallerFrom(r.Context()).ClientID(); id != "" {
		return id, false
	}
	addr, _ := r.Context().Value(addrKey{}).(string)
	return addr, true
}

// maxBuckets bounds each limiter's memory: past it the least recently seen
// caller's bucket goes (a full one, by then, unless under attack from more
// callers than this, when the oldest attacker is forgotten first).
const maxBuckets = 100_000

// rateLimiter gives each caller a token bucket of its own.
type rateLimiter struct {
	limit   rate.Limit
	buckets *lru.Cache[string, *rate.Limiter]
	key     func(*http.Request) (string, bool)
	// keyedLimit is the rate for keyed callers, when it differs.
	keyedLimit rate.Limit
	// now is the clock the buckets fill by (time.Now; a test's own).
	now func() time.Time
}

func newRateLimiter(anonymous, keyed float64, key func(*http.Request) (string, bool)) *rateLimiter {
	buckets, _ := lru.New[string, *rate.Limiter](maxBuckets)
	return &rateLimiter{limit: rate.Limit(anonymous), keyedLimit: rate.Limit(keyed), buckets: buckets, key: key, now: time.Now}
}

// middleware answers 429 with Retry-After and a RATE_LIMITED error to a
// caller who has spent their bucket; other callers are unaffected.
func (l *rateLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, anonymous := l.key(r)
		if delay, refusal := l.allow(key, anonymous); refusal != nil {
			telemetry.Refused(r.Context(), "rate")
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(delay.Seconds()))))
			apierr.Write(w, 0, *refusal)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allow spends one of key's tokens, or says (with the wait until the next
// one) that it has none left: the same bucket whether the operation came
// over HTTP or on a WebSocket.
func (l *rateLimiter) allow(key string, anonymous bool) (delay time.Duration, refusal *apierr.Error) {
	limit := l.limit
	if !anonymous {
		limit = l.keyedLimit
	}
	if limit <= 0 {
		return 0, nil
	}
	lim, ok := l.buckets.Get(key)
	if !ok {
		// A caller's first requests may arrive together: the first
		// bucket added is the one they all spend from.
		lim = rate.NewLimiter(limit, max(1, int(float64(limit)*2)))
		if first, found, _ := l.buckets.PeekOrAdd(key, lim); found {
			lim = first
		}
	}
	now := l.now()
	res := lim.ReserveN(now, 1)
	if delay = res.DelayFrom(now); delay <= 0 {
		return 0, nil
	}
	res.CancelAt(now)
	err := apierr.New(apierr.RateLimited, fmt.Sprintf("rate limit exceeded: at most %g requests a second; retry after %s",
		float64(limit), delay.Round(time.Millisecond)), "retryAfter", int(math.Ceil(delay.Seconds())))
	return delay, &err
}

// addressOnly counts every request against its address, keyed or not: the
// coarse limit applied before any key is looked up.
func addressOnly(r *http.Request) (string, bool) {
	addr, _ := r.Context().Value(addrKey{}).(string)
	return addr, true
}

// inFlight holds operations to their share of the slots. Subscriptions,
// which stay open for up to StreamLifetime, take no operation slot: they
// are held to a count of their own (streams), refused at once past it, so
// that a few open streams cannot leave the store no slot for operations.
// WebSockets are counted apart (sockets): a socket is not an operation,
// and each operation on it takes a slot or a subscription of its own
// (socketLimits).
type inFlight struct {
	all, anonymous chan struct{} // nil: no bound
	perCaller      int
	mu             sync.Mutex
	callers        map[string]*callerSlots
	streams        streamLimit
	sockets        streamLimit
}

// streamLimit bounds what may be open at once (subscriptions, or
// sockets): in all, for anonymous callers together (all but a quarter, so
// that the public cannot take every place from the API clients), and per
// caller.
type streamLimit struct {
	total, perCaller int
	mu               sync.Mutex
	open, anonymous  int
	by               map[string]int
}

func newStreamLimit(total, perCaller int) streamLimit {
	return streamLimit{total: total, perCaller: perCaller, by: map[string]int{}}
}

// anonymousTotal is how many places anonymous callers may hold together.
func (l *streamLimit) anonymousTotal() int { return l.total - l.total/4 }

// hold serves r while it keeps one of the caller's places, or refuses it
// at once with 429, counting the refusal under limit and naming what is
// held ("WebSockets").
func (l *streamLimit) hold(w http.ResponseWriter, r *http.Request, next http.Handler, key string, anonymous bool, limit, what string) {
	release, ok := l.acquire(key, anonymous)
	if !ok {
		telemetry.Refused(r.Context(), limit)
		w.Header().Set("Retry-After", "60")
		apierr.Writef(w, apierr.RateLimited, "too many %s open: at most %d from one caller, %d without a key and %d in all; close one or retry later", what, l.perCaller, l.anonymousTotal(), l.total)
		return
	}
	defer release()
	next.ServeHTTP(w, r)
}

// Defaults of the subscriptions (over event streams and WebSockets alike)
// and of the WebSockets that may be open at once. A subscription costs
// little while no change comes (they share one watcher of the change
// log), and a WebSocket that has not initialised within its InitTimeout is
// closed, so these bound memory rather than work.
const (
	maxStreams                = 256
	maxStreamsPerCaller       = 8
	maxSubscriptionsPerSocket = 4
	maxSockets                = 256
	maxSocketsPerCaller       = 8
)

// acquire takes one of key's places, or reports that key, its class or
// everyone has none left.
func (l *streamLimit) acquire(key string, anonymous bool) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || l.by[key] >= l.perCaller || anonymous && l.anonymous >= l.anonymousTotal() {
		return nil, false
	}
	l.open++
	l.by[key]++
	if anonymous {
		l.anonymous++
	}
	return sync.OnceFunc(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.open--
		if anonymous {
			l.anonymous--
		}
		if l.by[key]--; l.by[key] == 0 {
			delete(l.by, key)
		}
	}), true
}

type callerSlots struct {
	slots chan struct{}
	n     int // running or waiting
}

// newInFlight bounds operations to n at once (0: no bound on the whole),
// perCaller for one caller, and all but a quarter of n for anonymous
// callers together.
func newInFlight(n, perCaller int) *inFlight {
	f := &inFlight{perCaller: perCaller, callers: map[string]*callerSlots{},
		streams: newStreamLimit(maxStreams, maxStreamsPerCaller), sockets: newStreamLimit(maxSockets, maxSocketsPerCaller)}
	if n > 0 {
		f.all = make(chan struct{}, n)
		f.anonymous = make(chan struct{}, max(1, n-max(1, n/4)))
	}
	return f
}

// queuePerSlot is how many of a caller's requests may wait per slot it may
// use; more are refused at once.
const queuePerSlot = 2

func (f *inFlight) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, anonymous := callerKey(r)
		switch kindOf(r) {
		case socketUpgrade:
			// The socket's operations take their slots one by one.
			f.sockets.hold(w, r, next, key, anonymous, "sockets", "WebSockets")
			return
		case eventStream:
			f.streams.hold(w, r, next, key, anonymous, "subscriptions", "subscriptions")
			return
		}
		dequeued := telemetry.Queued(r.Context())
		release, err := f.acquire(r.Context(), key, anonymous)
		dequeued()
		if err == nil && r.Context().Err() != nil {
			// The slots and the deadline may come together: a request
			// past its deadline is dropped before it runs.
			release()
			err = r.Context().Err()
		}
		if err != nil {
			switch {
			case err == errBusy:
				telemetry.Refused(r.Context(), "caller_in_flight")
				w.Header().Set("Retry-After", "1")
				apierr.Writef(w, apierr.RateLimited, "too many requests at once from this caller: at most %d run and %d wait; retry shortly", f.perCaller, f.perCaller*queuePerSlot)
			case errors.Is(context.Cause(r.Context()), store.ErrUnreachable):
				health.Refuse(w) // stopped by the health gate, not by its deadline
			default:
				telemetry.Refused(r.Context(), "queue_deadline")
				apierr.Write(w, 0, tooLong)
			}
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}

var errBusy = errors.New("caller busy")

// acquire takes a slot of the caller's, then of its class, then of the
// whole, waiting within ctx; release gives them back.
func (f *inFlight) acquire(ctx context.Context, key string, anonymous bool) (release func(), err error) {
	f.mu.Lock()
	c := f.callers[key]
	if c == nil {
		c = &callerSlots{slots: make(chan struct{}, f.perCaller)}
		f.callers[key] = c
	}
	if c.n >= f.perCaller*(1+queuePerSlot) {
		f.mu.Unlock()
		return nil, errBusy
	}
	c.n++
	f.mu.Unlock()
	var held []chan struct{}
	release = func() {
		for i := len(held) - 1; i >= 0; i-- {
			<-held[i]
		}
		f.mu.Lock()
		if c.n--; c.n == 0 {
			delete(f.callers, key)
		}
		f.mu.Unlock()
	}
	for _, ch := range []chan struct{}{c.slots, map[bool]chan struct{}{true: f.anonymous}[anonymous], f.all} {
		if ch == nil {
			continue
		}
		select {
		case ch <- struct{}{}:
			held = append(held, ch)
		case <-ctx.Done():
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}
