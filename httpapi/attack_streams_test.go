package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/store"
)

// The attack suite on the long-lived transports: WebSockets (both
// subprotocols) and event streams. Each operation on a socket is held to
// the rules of a request; these tests try the attacks that a socket once
// escaped, as an attacker would, and check the refusal, that a
// bystander's lookup over HTTP is answered meanwhile, and the counts that
// bound what the attack holds.

// The subprotocols a socket may speak.
var subprotocols = []string{"graphql-transport-ws", "graphql-ws"}

// streamEnv is the attack suite's environment served over a listener, with
// loopback trusted as a proxy so that each socket can stand for an address
// of its own (X-Forwarded-For).
func streamEnv(t *testing.T, cfg httpapi.Config) (*attackEnv, *httptest.Server) {
	t.Helper()
	return serveStreams(t, newAttackEnv(t, streamConfig(cfg)))
}

// writingStreamEnv is streamEnv on a database of the test's own, for
// tests that write.
func writingStreamEnv(t *testing.T, cfg httpapi.Config) (*attackEnv, *httptest.Server) {
	t.Helper()
	return serveStreams(t, newWritingAttackEnv(t, streamConfig(cfg)))
}

func streamConfig(cfg httpapi.Config) httpapi.Config {
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	return cfg
}

func serveStreams(t *testing.T, e *attackEnv) (*attackEnv, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	return e, srv
}

// wsMsg is one message of either subprotocol.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// gqlErr is an error as a message carries it.
type gqlErr struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// errs are the errors a message carries: an error message's payload, or
// a result's errors.
func (m wsMsg) errs() []gqlErr {
	var list []gqlErr
	if json.Unmarshal(m.Payload, &list) == nil {
		return list
	}
	var res struct{ Errors []gqlErr }
	_ = json.Unmarshal(m.Payload, &res)
	return res.Errors
}

// code is the code of the message's first error, "" when it has none.
func (m wsMsg) code() string {
	if es := m.errs(); len(es) > 0 {
		c, _ := es[0].Extensions["code"].(string)
		return c
	}
	return ""
}

// wsClient is one socket as a test drives it.
type wsClient struct {
	t     *testing.T
	conn  *websocket.Conn
	proto string
	msgs  chan wsMsg
	// done is closed when the socket can be read no more; err says why.
	done chan struct{}
	err  error
}

// dialSocket opens a socket from addr (X-Forwarded-For) speaking proto,
// with key when it is not "".
func dialSocket(ctx context.Context, srv *httptest.Server, proto, key, addr string) (*wsClient, *http.Response, error) {
	h := http.Header{"X-Forwarded-For": {addr}}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{proto}, HTTPHeader: h})
	if err != nil {
		return nil, res, err
	}
	conn.SetReadLimit(8 << 20)
	c := &wsClient{conn: conn, proto: proto, msgs: make(chan wsMsg, 8192), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			var m wsMsg
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				c.err = err
				return
			}
			switch m.Type {
			case "ka", "ping", "pong":
				continue
			}
			c.msgs <- m
		}
	}()
	return c, res, nil
}

// socket dials and initialises a socket, failing the test when it cannot.
func socket(t *testing.T, ctx context.Context, srv *httptest.Server, proto, key, addr string) *wsClient {
	t.Helper()
	c, res, err := dialSocket(ctx, srv, proto, key, addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v (%v)", proto, addr, err, res)
	}
	c.t = t
	t.Cleanup(func() { c.conn.CloseNow() })
	c.send(wsMsg{Type: "connection_init"})
	if m := c.next(ctx); m.Type != "connection_ack" {
		t.Fatalf("got %+v, want connection_ack", m)
	}
	return c
}

func (c *wsClient) send(m wsMsg) {
	c.t.Helper()
	if err := wsjson.Write(context.Background(), c.conn, m); err != nil {
		c.t.Fatalf("send %s: %v", m.Type, err)
	}
}

// start sends an operation under id, as proto says.
func (c *wsClient) start(id, query string) {
	c.t.Helper()
	typ := "subscribe"
	if c.proto == "graphql-ws" {
		typ = "start"
	}
	p, _ := json.Marshal(map[string]any{"query": query})
	c.send(wsMsg{ID: id, Type: typ, Payload: p})
}

// next is the next message, failing the test when the socket closes first.
func (c *wsClient) next(ctx context.Context) wsMsg {
	c.t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-c.done:
		select {
		case m := <-c.msgs:
			return m
		default:
		}
		c.t.Fatalf("the socket closed: %v", c.err)
	case <-ctx.Done():
		c.t.Fatal("no message before the test's deadline")
	}
	return wsMsg{}
}

// recv is the next message within d; false when none came, or the socket
// closed.
func (c *wsClient) recv(d time.Duration) (wsMsg, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m := <-c.msgs:
		return m, true
	case <-c.done:
	case <-t.C:
	}
	select {
	case m := <-c.msgs:
		return m, true
	default:
		return wsMsg{}, false
	}
}

// event is the next result that is not a probe's (see prime).
func (c *wsClient) event(ctx context.Context) wsMsg {
	c.t.Helper()
	for {
		if m := c.next(ctx); !strings.Contains(string(m.Payload), "person:probe-") {
			return m
		}
	}
}

var probes atomic.Int64

// putPerson writes a public person with id, a change every subscription
// to people is shown.
func putPerson(t *testing.T, ctx context.Context, s *store.Store, id string) {
	t.Helper()
	if err := s.Put(ctx, time.Now(), &store.Person{Record: store.Record{ID: id, Visibility: store.VisibilityPublic,
		Sources: []store.Source{{Document: "d.txt"}}}, Name: "Person " + id}); err != nil {
		t.Fatal(err)
	}
}

// probeWait is how long prime waits for a probe's change before it writes
// another: a subscription is taken a moment after its start is sent, and a
// change written before then does not reach it. Each wait is a retry, not
// a bound on anything.
const probeWait = 3 * time.Second

// prime writes probe people until each of the subscriptions named (by
// socket, then operation ID) has received one, so that each is known to
// be taken. Later reads skip probes (event).
func prime(t *testing.T, ctx context.Context, s *store.Store, subs map[*wsClient][]string) {
	t.Helper()
	seen := map[*wsClient]map[string]bool{}
	for c := range subs {
		seen[c] = map[string]bool{}
	}
	for range 40 {
		putPerson(t, ctx, s, fmt.Sprintf("person:probe-%d", probes.Add(1)))
		deadline := time.Now().Add(probeWait)
		missing := 0
		for c, ids := range subs {
			for len(seen[c]) < len(ids) {
				m, ok := c.recv(time.Until(deadline))
				if !ok {
					break
				}
				if (m.Type == "next" || m.Type == "data") && strings.Contains(string(m.Payload), "person:probe-") {
					seen[c][m.ID] = true
				} else {
					t.Fatalf("while priming: %+v", m)
				}
			}
			missing += len(ids) - len(seen[c])
		}
		if missing == 0 {
			return
		}
	}
	t.Fatal("the subscriptions never received a change")
}

// opEnd is how one operation ended: its results, and the code of its
// error when it was refused or failed.
type opEnd struct {
	results int
	code    string
	message string
}

// ends reads until n operations have ended (complete, or an error
// message), and returns how each did.
func (c *wsClient) ends(ctx context.Context, n int) map[string]*opEnd {
	c.t.Helper()
	return c.endsOf(ctx, n, c.next)
}

// endsSkippingProbes is ends where probes' changes may still come.
func (c *wsClient) endsSkippingProbes(ctx context.Context, n int) map[string]*opEnd {
	c.t.Helper()
	return c.endsOf(ctx, n, c.event)
}

func (c *wsClient) endsOf(ctx context.Context, n int, next func(context.Context) wsMsg) map[string]*opEnd {
	c.t.Helper()
	got := map[string]*opEnd{}
	ended := 0
	for ended < n {
		m := next(ctx)
		o := got[m.ID]
		if o == nil {
			o = &opEnd{}
			got[m.ID] = o
		}
		switch m.Type {
		case "next", "data":
			o.results++
			if code := m.code(); code != "" && o.code == "" {
				o.code, o.message = code, m.errs()[0].Message
			}
		case "error":
			if o.code == "" {
				o.code, o.message = m.code(), m.errs()[0].Message
			}
			ended++
		case "complete":
			ended++
		default:
			c.t.Fatalf("unexpected message %+v", m)
		}
	}
	return got
}

// bystander makes lookups over HTTP from addresses of their own until stop
// is closed, and returns how long each took (each is checked by e.lookup).
func bystander(e *attackEnv, stop <-chan struct{}) <-chan []time.Duration {
	n := make(chan []time.Duration, 1)
	go func() {
		var took []time.Duration
		for {
			start := time.Now()
			e.lookup()
			took = append(took, time.Since(start))
			select {
			case <-stop:
				n <- took
				return
			default:
			}
		}
	}()
	return n
}

// logLookups logs how many lookups the bystander made and their median,
// for the record: the refusal is what is asserted, not a time.
func logLookups(t *testing.T, took []time.Duration) {
	t.Helper()
	if len(took) == 0 {
		t.Error("the bystander made no lookup")
		return
	}
	slices.Sort(took)
	t.Logf("the bystander's %d lookups during the attack: median %s, slowest %s", len(took), took[len(took)/2], took[len(took)-1])
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestSocketOperationsSpendTheRate: an address's operations on one socket
// spend the same bucket as its requests over HTTP: 2,000 queries on one
// socket are refused with RATE_LIMITED once the burst is spent, each with
// an answer, and the address's next request over HTTP is refused too.
func TestSocketOperationsSpendTheRate(t *testing.T) {
	t.Parallel()
	e, srv := streamEnv(t, httpapi.Config{})
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			addr := map[string]string{"graphql-transport-ws": "203.0.113.10", "graphql-ws": "203.0.113.11"}[proto]
			c := socket(t, ctx, srv, proto, "", addr)
			stop := make(chan struct{})
			looked := bystander(e, stop)
			const n = 2000
			for i := range n {
				c.start(fmt.Sprint(i), `{ body(id: "body:stockton-on-tees/cabinet") { name } }`)
			}
			got := c.ends(ctx, n)
			close(stop)
			logLookups(t, <-looked)
			codes := map[string]int{}
			for _, o := range got {
				codes[o.code]++
				if o.code == "RATE_LIMITED" && !strings.Contains(o.message, "rate limit exceeded: at most ") &&
					!strings.Contains(o.message, "too many requests at once from this caller") {
					t.Errorf("a refusal says %q", o.message)
				}
			}
			t.Logf("%d queries on one socket ended %v (\"\": answered)", n, codes)
			if len(got) != n || codes["RATE_LIMITED"] == 0 || codes[""] > n/2 {
				t.Errorf("%d queries on one socket ended %v (%d answers), want most refused with RATE_LIMITED", n, codes, len(got))
			}
		})
	}
}

// TestSocketsShareTheHTTPBucket: a socket's upgrade, its operations and
// the address's requests over HTTP spend one bucket. (A rate of one
// request in 1,000 s leaves each bucket one token, which nothing refills
// while the test runs.)
func TestSocketsShareTheHTTPBucket(t *testing.T) {
	t.Parallel()
	e, srv := streamEnv(t, httpapi.Config{RateAnonymous: 0.001, RateAddress: 0.001})
	q := `{ areas { id } }`
	for i, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			// The upgrade spends the token: the socket's operation, and
			// the next request over HTTP, are refused.
			addr := fmt.Sprintf("203.0.113.1%d", 2*i)
			c := socket(t, ctx, srv, proto, "", addr)
			c.start("1", q)
			if o := c.ends(ctx, 1)["1"]; o.code != "RATE_LIMITED" || !strings.Contains(o.message, "rate limit exceeded: at most 0.001 requests a second") {
				t.Errorf("an operation on a socket after its upgrade spent the bucket: %+v", o)
			}
			refused(t, do(t, e.h, "", addr+":4000", doc(q)), "RATE_LIMITED", "rate limit exceeded")
			// A request over HTTP spends it: no socket opens.
			addr = fmt.Sprintf("203.0.113.1%d", 2*i+1)
			if r := do(t, e.h, "", addr+":4000", doc(q)); r.status != http.StatusOK {
				t.Fatalf("the address's first request: %d %+v", r.status, r.Errors)
			}
			if _, res, err := dialSocket(ctx, srv, proto, "", addr); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
				t.Errorf("a socket after the address's request spent the bucket: %v %v", err, res)
			}
		})
	}
}

// TestSocketOperationsAreCostedAndHeld: an operation on a socket is
// costed, depth- and field-limited as over HTTP, and heavy operations on
// one socket take the caller's operation slots (the rest are refused at
// once) and the request's deadline, while a bystander is answered.
func TestSocketOperationsAreCostedAndHeld(t *testing.T) {
	t.Parallel()
	e, srv := streamEnv(t, httpapi.Config{RateAnonymous: -1, RateAddress: -1})
	var aliases, deep, frags strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&aliases, ` p%d: people(name: "an%d") { totalCount }`, i, i)
	}
	deep.WriteString(`{ body(id: "body:stockton-on-tees/cabinet") {` + strings.Repeat(" parent {", 13) + " id" + strings.Repeat(" }", 14) + " }")
	frags.WriteString("{ areas { ...F24 } } fragment F0 on Area { id name }")
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&frags, " fragment F%d on Area { ...F%d ...F%d }", i, i-1, i-1)
	}
	heavy := `{ meetings(first: 20) { edges { node { agendaItems { reports { title } } attendance { person { name } } } } } }`
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			addr := map[string]string{"graphql-transport-ws": "203.0.113.20", "graphql-ws": "203.0.113.21"}[proto]
			c := socket(t, ctx, srv, proto, "", addr)
			// The same verdicts as over HTTP.
			for q, want := range map[string]string{
				"{" + aliases.String() + " }": "which exceeds the limit of 10000 for public callers",
				deep.String():                 "which exceeds the limit of 12",
				frags.String():                "fields once its fragments are expanded, which exceeds the limit of 5000",
			} {
				over := do(t, e.h, "", "203.0.113.99:4000", doc(q))
				refused(t, over, "BAD_USER_INPUT", want)
				c.start("q", q)
				o := c.ends(ctx, 1)["q"]
				if o.code != over.Errors[0].Extensions["code"] || o.message != over.Errors[0].Message {
					t.Errorf("on a socket: %s %q; over HTTP: %v %q", o.code, o.message, over.Errors[0].Extensions["code"], over.Errors[0].Message)
				}
			}
			stop := make(chan struct{})
			looked := bystander(e, stop)
			const n = 40
			for i := range n {
				c.start(fmt.Sprint(i), heavy)
			}
			got := c.ends(ctx, n)
			close(stop)
			logLookups(t, <-looked)
			busy := 0
			for _, o := range got {
				switch {
				case o.code == "RATE_LIMITED" && strings.Contains(o.message, "too many requests at once from this caller: at most 1 run and 2 wait"):
					busy++
				case o.code == "" && o.results == 1, o.code == "SERVICE_UNAVAILABLE":
				default:
					t.Errorf("a heavy query ended %+v", o)
				}
			}
			if busy == 0 {
				t.Errorf("%d heavy queries sent at once on one socket: none refused for want of a slot", n)
			}
		})
	}
}

// TestSocketDeadline: a query on a socket has the request's deadline, and
// is answered SERVICE_UNAVAILABLE when it passes, while the socket (which
// lives longer) stays open for the next.
func TestSocketDeadline(t *testing.T) {
	t.Parallel()
	_, srv := streamEnv(t, httpapi.Config{Timeout: time.Nanosecond})
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			c := socket(t, ctx, srv, proto, "", "203.0.113.30")
			for i := range 2 {
				c.start(fmt.Sprint(i), `{ areas { id } }`)
				if o := c.ends(ctx, 1)[fmt.Sprint(i)]; o.code != "SERVICE_UNAVAILABLE" || !strings.Contains(o.message, "took too long") {
					t.Errorf("a query past its deadline: %+v", o)
				}
			}
		})
	}
}

// TestSocketSubscriptionsAreCapped: 500 subscriptions on one socket are
// refused past the socket's cap, and those kept are fed from one reader of
// the change log: a change reaches 8 of them on two sockets for the
// database reads it costs 4 on one.
func TestSocketSubscriptionsAreCapped(t *testing.T) {
	t.Parallel()
	e, srv := writingStreamEnv(t, httpapi.Config{RateAnonymous: -1, RateAddress: -1, GenerationPoll: time.Hour})
	ctx := testCtx(t)
	kept := map[*wsClient][]string{}
	// change writes a person and waits for its change on every kept
	// subscription; it returns the finds the database was sent meanwhile.
	change := func(id string) int {
		t.Helper()
		before := e.counter.Count("find")
		putPerson(t, ctx, e.s, id)
		for c, ids := range kept {
			seen := map[string]bool{}
			for len(seen) < len(ids) {
				m := c.event(ctx)
				if m.Type != "next" && m.Type != "data" || !strings.Contains(string(m.Payload), id) {
					t.Fatalf("got %+v, want the change to %s", m, id)
				}
				seen[m.ID] = true
			}
		}
		return e.counter.Count("find") - before
	}
	var finds []int
	for i, proto := range subprotocols {
		c := socket(t, ctx, srv, proto, "", fmt.Sprintf("203.0.113.4%d", i))
		for j := range 500 {
			c.start(fmt.Sprint(j), `subscription { changes(types: ["Person"]) { kind id } }`)
		}
		refusals := c.ends(ctx, 500-4)
		for id, o := range refusals {
			if o.code != "RATE_LIMITED" || !strings.Contains(o.message, "too many subscriptions on this WebSocket: at most 4") {
				t.Fatalf("subscription %s: %+v", id, o)
			}
		}
		var ids []string
		for j := range 500 {
			if refusals[fmt.Sprint(j)] == nil {
				ids = append(ids, fmt.Sprint(j))
			}
		}
		kept[c] = ids
		prime(t, ctx, e.s, kept)
		// The socket still answers a query beside its subscriptions.
		c.start("q", `{ areas { id } }`)
		for {
			m := c.next(ctx)
			if m.ID != "q" {
				continue // a probe's change
			}
			if m.Type != "next" && m.Type != "data" || m.code() != "" {
				t.Fatalf("a query beside four subscriptions: %+v", m)
			}
			if m := c.next(ctx); m.ID != "q" || m.Type != "complete" {
				t.Fatalf("after the query's answer: %+v", m)
			}
			break
		}
		finds = append(finds, change(fmt.Sprintf("person:change-%d", i)))
	}
	t.Logf("finds for a change: %v (4 subscriptions on one socket, then 8 on two)", finds)
	// Polling the log on its own, each subscription read it in three finds
	// (the counter, the pending marks, the entries) and its records in a
	// fourth: 16 more for the second socket's four.
	if finds[1] > finds[0]+2 {
		t.Errorf("a change cost %d finds for 4 subscriptions and %d for 8: more than one reader's", finds[0], finds[1])
	}
}

// TestIdleSocketsAreClosed: sockets that never send connection_init are
// closed after the init timeout, hold no subscription meanwhile, and are
// capped per address; a subscriber from another address is served
// throughout.
func TestIdleSocketsAreClosed(t *testing.T) {
	t.Parallel()
	e, srv := writingStreamEnv(t, httpapi.Config{RateAnonymous: -1, RateAddress: -1, SocketInitTimeout: 300 * time.Millisecond})
	ctx := testCtx(t)
	var idle []*wsClient
	for i := range 32 {
		c, res, err := dialSocket(ctx, srv, subprotocols[i%2], "", fmt.Sprintf("203.0.113.%d", 100+i%16))
		if err != nil {
			t.Fatalf("idle socket %d: %v (%v)", i, err, res)
		}
		c.t = t
		t.Cleanup(func() { c.conn.CloseNow() })
		idle = append(idle, c)
	}
	// A new subscriber, from another address, is served while they are
	// open: its subscription is taken (a change reaches it).
	sub := socket(t, ctx, srv, "graphql-transport-ws", "", "203.0.113.200")
	sub.start("s", `subscription { changes(types: ["Person"]) { id } }`)
	prime(t, ctx, e.s, map[*wsClient][]string{sub: {"s"}})
	e.lookup()
	for _, c := range idle {
		<-c.done
		if status := websocket.CloseStatus(c.err); status != 1002 || !strings.Contains(c.err.Error(), "connection initialisation timeout") {
			t.Errorf("an idle socket ended with %v, want a close for its init timeout", c.err)
		}
	}
	putPerson(t, ctx, e.s, "person:idle-test")
	if m := sub.event(ctx); m.Type != "next" || !strings.Contains(string(m.Payload), "person:idle-test") {
		t.Errorf("the subscriber got %+v", m)
	}
	// One address may hold 8 sockets; a 9th is refused at the upgrade.
	for i := range 8 {
		socket(t, ctx, srv, "graphql-transport-ws", "", "203.0.113.201").start(fmt.Sprint(i), `subscription { changes { id } }`)
	}
	_, res, err := dialSocket(ctx, srv, "graphql-transport-ws", "", "203.0.113.201")
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a 9th socket from one address: %v %v, want 429", err, res)
	}
	var body struct{ Errors []gqlErr }
	_ = json.NewDecoder(res.Body).Decode(&body)
	if len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "RATE_LIMITED" || !strings.Contains(body.Errors[0].Message, "too many WebSockets open: at most 8 from one caller") {
		t.Errorf("a 9th socket: %+v", body.Errors)
	}
}

// TestRevokedKeyStopsItsSocket: when a key is revoked, the sockets that
// opened with it have their operations stopped with UNAUTHENTICATED and
// are closed; a socket with another key goes on.
func TestRevokedKeyStopsItsSocket(t *testing.T) {
	t.Parallel()
	e, srv := writingStreamEnv(t, httpapi.Config{GenerationPoll: 10 * time.Millisecond})
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			key, client, err := auth.CreateKey(ctx, e.s, "soon revoked", "", []string{auth.ScopePartner}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			other, _, err := auth.CreateKey(ctx, e.s, "kept", "", []string{auth.ScopePartner}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			c := socket(t, ctx, srv, proto, key, "203.0.113.50")
			kept := socket(t, ctx, srv, proto, other, "203.0.113.51")
			c.start("q", `{ areas { id } }`)
			if o := c.ends(ctx, 1)["q"]; o.code != "" || o.results != 1 {
				t.Fatalf("a query with a good key: %+v", o)
			}
			c.start("s", `subscription { changes(types: ["Person"]) { id } }`)
			kept.start("s", `subscription { changes(types: ["Person"]) { id } }`)
			prime(t, ctx, e.s, map[*wsClient][]string{c: {"s"}, kept: {"s"}})
			if _, err := e.s.RevokeClient(ctx, client.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if o := c.endsSkippingProbes(ctx, 1)["s"]; o.code != "UNAUTHENTICATED" || !strings.Contains(o.message, "the API key has been revoked") {
				t.Errorf("the revoked key's subscription ended %+v", o)
			}
			<-c.done
			if status := websocket.CloseStatus(c.err); status != 4403 || !strings.Contains(c.err.Error(), "revoked") {
				t.Errorf("the revoked key's socket ended with %v, want 4403", c.err)
			}
			putPerson(t, ctx, e.s, "person:after-"+proto)
			if m := kept.event(ctx); m.Type != "next" && m.Type != "data" || !strings.Contains(string(m.Payload), "person:after-"+proto) {
				t.Errorf("the other key's subscription got %+v", m)
			}
		})
	}
}

// primeStream writes probe people until the event stream res has
// received one (see prime), and so is known to be subscribed.
func primeStream(t *testing.T, ctx context.Context, s *store.Store, res *http.Response) {
	t.Helper()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	for range 40 {
		putPerson(t, ctx, s, fmt.Sprintf("person:probe-%d", probes.Add(1)))
		wait := time.NewTimer(probeWait)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("the stream ended")
				}
				if strings.HasPrefix(l, "data: ") && strings.Contains(l, "person:probe-") {
					wait.Stop()
					return
				}
				continue
			case <-wait.C:
			}
			break
		}
	}
	t.Fatal("the stream never received a change")
}

// TestEventStreams: only a subscription is a stream. A query sent with
// Accept: text/event-stream, by POST or GET, has the request's deadline;
// a subscription over SSE has a lifetime of its own, and its refusals
// carry a code.
func TestEventStreams(t *testing.T) {
	t.Parallel()
	e, srv := writingStreamEnv(t, httpapi.Config{Timeout: time.Nanosecond})
	ctx := testCtx(t)
	post := func(body, addr string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("X-Forwarded-For", addr)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	readUntil := func(res *http.Response, want string) string {
		t.Helper()
		var got strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(got.String(), want) {
			n, err := res.Body.Read(buf)
			got.Write(buf[:n])
			if err != nil && !strings.Contains(got.String(), want) {
				t.Fatalf("the stream ended before %q: %v\n%s", want, err, got.String())
			}
		}
		return got.String()
	}
	// A query over SSE is held to the deadline (here, already past).
	res := post(`{"query":"{ areas { id } }"}`, "203.0.113.60")
	if body := readUntil(res, "took too long"); !strings.Contains(body, `"code":"SERVICE_UNAVAILABLE"`) {
		t.Errorf("a query over SSE past its deadline: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/graphql?query="+strings.ReplaceAll("{ areas { id } }", " ", "%20"), nil)
	req.Header.Set("Accept", "text/event-stream")
	get, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	if body := readUntil(get, "took too long"); get.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"SERVICE_UNAVAILABLE"`) {
		t.Errorf("a GET accepting an event stream past its deadline: %d %s", get.StatusCode, body)
	}
	// A subscription is not: it is open, and gets a change.
	sub := post(`{"query":"subscription { changes(types: [\"Person\"]) { id } }"}`, "203.0.113.61")
	if sub.StatusCode != http.StatusOK || !strings.HasPrefix(sub.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("a subscription over SSE: %d %s", sub.StatusCode, sub.Header.Get("Content-Type"))
	}
	primeStream(t, ctx, e.s, sub)
	// A subscription's error carries its code.
	bad := post(`{"query":"subscription { changes(types: [\"Nope\"]) { id } }"}`, "203.0.113.62")
	if body := readUntil(bad, "Nope"); !strings.Contains(body, `"code":"BAD_USER_INPUT"`) {
		t.Errorf("a bad subscription over SSE: %s", body)
	}
	// One caller's subscriptions are capped; the refusal is coded.
	var open []*http.Response
	for range 8 {
		r := post(`{"query":"subscription { changes { id } }"}`, "203.0.113.63")
		readUntil(r, ":\n")
		open = append(open, r)
	}
	over := post(`{"query":"subscription { changes { id } }"}`, "203.0.113.63")
	var body struct{ Errors []gqlErr }
	_ = json.NewDecoder(over.Body).Decode(&body)
	if over.StatusCode != http.StatusTooManyRequests || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != "RATE_LIMITED" {
		t.Errorf("a 9th subscription from one caller: %d %+v", over.StatusCode, body.Errors)
	}
	for _, r := range open {
		r.Body.Close()
	}
}

// TestSocketErrorsCarryCodes: every error a socket sends has a code, as
// over HTTP, including those gqlgen's transport raises itself (a document
// that does not validate, a payload that is not an operation), and keeps
// the schema's names to itself as over HTTP when introspection is off.
func TestSocketErrorsCarryCodes(t *testing.T) {
	t.Parallel()
	_, srv := streamEnv(t, httpapi.Config{Introspection: "off"})
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			ctx := testCtx(t)
			c := socket(t, ctx, srv, proto, "", "203.0.113.70")
			c.start("v", `{ areaz { id } }`)
			if o := c.ends(ctx, 1)["v"]; o.code != "BAD_USER_INPUT" || !strings.Contains(o.message, `Cannot query field "areaz"`) || strings.Contains(o.message, "Did you mean") {
				t.Errorf("a document that does not validate: %+v", o)
			}
			typ := map[string]string{"graphql-transport-ws": "subscribe", "graphql-ws": "start"}[proto]
			c.send(wsMsg{ID: "j", Type: typ, Payload: json.RawMessage(`"not an operation"`)})
			if o := c.ends(ctx, 1)["j"]; o.code != "BAD_USER_INPUT" || o.message != "invalid json" {
				t.Errorf("a payload that is not an operation: %+v", o)
			}
		})
	}
}

// TestRefusedUpgradesAreCoded: an upgrade the WebSocket library refuses (a
// page on another origin, a request that is not a WebSocket handshake) is
// answered as every other refusal: JSON with a code.
func TestRefusedUpgradesAreCoded(t *testing.T) {
	t.Parallel()
	_, srv := streamEnv(t, httpapi.Config{})
	ctx := testCtx(t)
	for _, c := range []struct {
		name    string
		headers map[string]string
		status  int
		code    string
		msg     string
	}{
		{"another origin", map[string]string{"Origin": "http://elsewhere.example"}, http.StatusForbidden, "FORBIDDEN", `could not open a WebSocket: request Origin "elsewhere.example" is not authorized`},
		{"not a handshake", map[string]string{"Connection": "Upgrade", "Upgrade": "h2c"}, http.StatusUpgradeRequired, "BAD_USER_INPUT", "could not open a WebSocket: WebSocket protocol violation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var res *http.Response
			if c.name == "another origin" {
				_, r, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", &websocket.DialOptions{
					Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: http.Header{"Origin": {c.headers["Origin"]}}})
				if err == nil {
					t.Fatal("a socket opened from another origin")
				}
				res = r
			} else {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/graphql", nil)
				for k, v := range c.headers {
					req.Header.Set(k, v)
				}
				r, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Body.Close()
				res = r
			}
			var body struct{ Errors []gqlErr }
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatalf("status %d, body not JSON: %v", res.StatusCode, err)
			}
			if res.StatusCode != c.status || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] != c.code || !strings.Contains(body.Errors[0].Message, c.msg) {
				t.Errorf("got %d %+v, want %d %s %q", res.StatusCode, body.Errors, c.status, c.code, c.msg)
			}
		})
	}
}
