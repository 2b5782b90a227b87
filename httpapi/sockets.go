package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// WebSockets are held to the rules of a request, operation by operation.
//
// The HTTP middleware sees only a socket's upgrade: it works out the
// caller (auth), counts the socket against the caller's and everyone's
// sockets (inFlight.sockets), and notes a socket in the context. Each
// operation sent on the socket then spends a token of the caller's rate
// (the same buckets as HTTP: socketLimits.MutateOperationParameters), and
// is costed, depth- and field-limited by the same extensions as a query
// over HTTP, which gqlgen runs for every operation whatever its
// transport. A query or mutation takes an operation slot while it runs and
// has the request deadline; a subscription takes one of the caller's
// subscriptions and one of the socket's, and lives at most
// StreamLifetime (socketLimits.InterceptOperation). A key is checked again
// whenever keys change: a socket whose key was revoked (or whose client
// changed) has its operations stopped with an UNAUTHENTICATED error and is
// closed (socketRegistry.watch).

// DefaultSocketInitTimeout is how long a WebSocket may stay open without
// sending connection_init.
const DefaultSocketInitTimeout = 5 * time.Second

// socketRevokedCloseCode closes a socket whose key no longer holds: 4403
// is graphql-transport-ws's Forbidden.
const socketRevokedCloseCode = 4403

// socketEndWait bounds how long a revoked socket waits for its operations'
// last messages (their UNAUTHENTICATED errors) to go out before it closes.
const socketEndWait = 5 * time.Second

// socket is one open WebSocket: who it acts for, and what runs on it.
type socket struct {
	key       string // who its operations count against (callerKey)
	anonymous bool
	addr      string // the address the upgrade came from
	client    *store.Client
	scope     string
	// keysSeen is the key generation the socket's caller was last checked
	// at.
	keysSeen int64

	mu   sync.Mutex
	ops  map[*socketOp]struct{}
	subs int
	// refusal, once set, is why the socket's key no longer holds: every
	// operation is refused with it and the socket closes.
	refusal *gqlerror.Error
	conn    *socketConn
	// ending counts the operations stopped by a refusal whose last message
	// has not gone out yet; ended is closed when it reaches zero.
	ending int
	ended  chan struct{}
}

// socketOp is one operation running on a socket.
type socketOp struct {
	ctx    context.Context
	cancel context.CancelFunc
}

type socketKey struct{}

// socketFrom is the socket ctx's operation runs on, or nil off a socket.
func socketFrom(ctx context.Context) *socket {
	st, _ := ctx.Value(socketKey{}).(*socket)
	return st
}

// refused is the refusal every operation gets, nil while the key holds.
func (st *socket) refused() *gqlerror.Error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.refusal
}

// start registers an operation, unless the socket's key no longer holds.
func (st *socket) start(ctx context.Context, cancel context.CancelFunc) (*socketOp, *gqlerror.Error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.refusal != nil {
		return nil, st.refusal
	}
	op := &socketOp{ctx: ctx, cancel: cancel}
	st.ops[op] = struct{}{}
	return op, nil
}

// finish removes an operation that has sent its last response.
func (st *socket) finish(op *socketOp) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.ops, op)
}

// acquireSubscription takes one of the socket's subscriptions and one of
// the caller's (streams), or says which is spent.
func (st *socket) acquireSubscription(streams *streamLimit) (release func(), refusal *gqlerror.Error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.subs >= maxSubscriptionsPerSocket {
		return nil, codedError(apierr.RateLimited, "too many subscriptions on this WebSocket: at most %d; stop one first", maxSubscriptionsPerSocket)
	}
	rel, ok := streams.acquire(st.key, st.anonymous)
	if !ok {
		return nil, codedError(apierr.RateLimited, "too many subscriptions open: at most %d from one caller, %d without a key and %d in all; stop one or retry later", streams.perCaller, streams.anonymousTotal(), streams.total)
	}
	st.subs++
	return sync.OnceFunc(func() {
		st.mu.Lock()
		st.subs--
		st.mu.Unlock()
		rel()
	}), nil
}

// revoke stops every operation on the socket with an UNAUTHENTICATED error
// saying msg, refuses any more, and closes the socket once their errors
// have gone out (within socketEndWait).
func (st *socket) revoke(msg string) {
	err := codedError(apierr.Unauthenticated, "%s", msg)
	st.mu.Lock()
	if st.refusal != nil {
		st.mu.Unlock()
		return
	}
	st.refusal = err
	st.ending = len(st.ops)
	st.ended = make(chan struct{})
	if st.ending == 0 {
		close(st.ended)
	}
	for op := range st.ops {
		// Under st.mu, so that the operation has not yet read its errors:
		// it reads them after its last response, which finish follows.
		transport.AddSubscriptionError(op.ctx, err)
		op.cancel()
	}
	conn, ended := st.conn, st.ended
	st.mu.Unlock()
	if conn != nil {
		go conn.closeWhen(ended, msg)
	}
}

// attach notes the socket's connection once it is accepted; a socket whose
// key was revoked before then closes at once.
func (st *socket) attach(c *socketConn) {
	st.mu.Lock()
	st.conn = c
	refusal := st.refusal
	st.mu.Unlock()
	if refusal != nil {
		go c.closeWhen(nil, refusal.Message)
	}
}

// sent notes a message the socket sent, while it is closing: an operation's
// last message (error or complete) counts down those awaited.
func (st *socket) sent(v any) {
	st.mu.Lock()
	closing := st.refusal != nil && st.ending > 0
	st.mu.Unlock()
	if !closing {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(b, &m) != nil || m.ID == "" || m.Type != "error" && m.Type != "complete" {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ending > 0 {
		if st.ending--; st.ending == 0 {
			close(st.ended)
		}
	}
}

// socketConn is a socket's connection as gqlgen's transport writes to it:
// it sees what goes out, so that a revoked socket closes after its
// operations' errors, and so that every error it carries has a code.
type socketConn struct {
	transport.WebsocketConn
	st      *socket
	present graphql.ErrorPresenterFunc
	once    sync.Once
}

// WriteJSON sends one message.
func (c *socketConn) WriteJSON(v any) error {
	if coded, ok := c.coded(v); ok {
		v = coded
	}
	err := c.WebsocketConn.WriteJSON(v)
	c.st.sent(v)
	return err
}

// coded is message v with a code given to each error that has none, as
// the error presenter gives the errors of a request; ok is false where
// v needs none. gqlgen's WebSocket transport sends some errors as they
// were raised: a document that does not validate, a message that is not
// JSON, a connection's errors.
func (c *socketConn) coded(v any) (_ any, ok bool) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return nil, false
	}
	f := rv.FieldByName("Payload")
	if !f.IsValid() {
		return nil, false
	}
	payload, _ := f.Interface().(json.RawMessage)
	if !bytes.Contains(payload, []byte(`"message"`)) {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	fix := func(e any) any {
		obj, isObj := e.(map[string]any)
		if !isObj {
			return e
		}
		if ext, _ := obj["extensions"].(map[string]any); ext != nil && ext["code"] != nil {
			return e
		}
		ok = true
		ge := &gqlerror.Error{}
		raw, _ := json.Marshal(obj)
		if json.Unmarshal(raw, ge) != nil {
			return e
		}
		return c.present(context.Background(), ge)
	}
	switch p := m["payload"].(type) {
	case []any: // an error message: its errors
		for i, e := range p {
			p[i] = fix(e)
		}
	case map[string]any:
		if list, isList := p["errors"].([]any); isList { // a result
			for i, e := range list {
				list[i] = fix(e)
			}
		} else if _, isErr := p["message"]; isErr { // a connection's error
			m["payload"] = fix(p)
		}
	}
	if !ok {
		return nil, false
	}
	return m, true
}

// SetReadLimit passes gqlgen's read limit on.
func (c *socketConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes gqlgen's read deadline on.
func (c *socketConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// closeWhen closes the connection, saying why, once ended is closed (nil:
// at once) or socketEndWait has passed.
func (c *socketConn) closeWhen(ended <-chan struct{}, why string) {
	if ended != nil {
		t := time.NewTimer(socketEndWait)
		select {
		case <-ended:
		case <-t.C:
		}
		t.Stop()
	}
	c.once.Do(func() {
		// A close frame's reason is at most 123 bytes.
		reason := "Forbidden: " + why
		if len(reason) > 123 {
			reason = reason[:123]
		}
		_ = c.WebsocketConn.WriteClose(socketRevokedCloseCode, reason)
		_ = c.WebsocketConn.Close()
	})
}

// socketAccepter accepts WebSockets as gqlgen's default does, and notes
// each connection in its socket. present gives uncoded errors their code
// (socketConn.coded).
type socketAccepter struct {
	inner   transport.CoderWebsocketImplementation
	present graphql.ErrorPresenterFunc
}

// Accept upgrades the request.
func (a socketAccepter) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := a.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	st := socketFrom(r.Context())
	if st == nil {
		st = &socket{ops: map[*socketOp]struct{}{}}
	}
	sc := &socketConn{WebsocketConn: c, st: st, present: a.present}
	st.attach(sc)
	return sc, nil
}

// socketRegistry knows the open sockets that carry a key, and checks
// their keys again whenever keys change.
type socketRegistry struct {
	s    *store.Store
	poll time.Duration
	log  *slog.Logger

	mu      sync.Mutex
	keyed   map[*socket]struct{}
	running bool
}

func newSocketRegistry(s *store.Store, poll time.Duration, log *slog.Logger) *socketRegistry {
	return &socketRegistry{s: s, poll: poll, log: log, keyed: map[*socket]struct{}{}}
}

// keysGeneration is the number of key changes this process has seen:
// the data generation less the records' (store/generation.go).
func keysGeneration(s *store.Store) int64 { return s.SeenGeneration() - s.SeenRecordsGeneration() }

// middleware notes a socket in the context of a WebSocket's upgrade, and
// keeps it while the socket is open; other requests pass untouched.
func (g *socketRegistry) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kindOf(r) != socketUpgrade {
			next.ServeHTTP(w, r)
			return
		}
		key, anonymous := callerKey(r)
		addr, _ := r.Context().Value(addrKey{}).(string)
		caller := auth.CallerFrom(r.Context())
		st := &socket{key: key, anonymous: anonymous, addr: addr, client: caller.Client, scope: caller.Scope,
			keysSeen: keysGeneration(g.s), ops: map[*socketOp]struct{}{}}
		if st.client != nil {
			g.add(st)
			defer g.remove(st)
		}
		uw := &upgradeWriter{ResponseWriter: w}
		next.ServeHTTP(uw, r.WithContext(context.WithValue(r.Context(), socketKey{}, st)))
		uw.refuse()
	})
}

// upgradeWriter holds back a refused upgrade's answer (coder/websocket's
// plain text, then gqlgen's uncoded "unable to upgrade") so that the
// refusal goes out as every other error does: JSON with a code.
type upgradeWriter struct {
	http.ResponseWriter
	status int // the refusal's status; 0 while there is none
	sealed bool
	msg    bytes.Buffer
}

func (u *upgradeWriter) WriteHeader(code int) {
	switch {
	case u.status != 0:
		u.sealed = true // what follows the first refusal is not its text
	case code >= http.StatusBadRequest:
		u.status = code
	default:
		u.ResponseWriter.WriteHeader(code)
	}
}

func (u *upgradeWriter) Write(p []byte) (int, error) {
	if u.status == 0 {
		return u.ResponseWriter.Write(p)
	}
	if !u.sealed && u.msg.Len() < 1024 {
		u.msg.Write(p)
	}
	return len(p), nil
}

// Hijack passes the hijack that opens the socket on.
func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(u.ResponseWriter).Hijack()
}

func (u *upgradeWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// refuse sends the refusal held back, if there was one.
func (u *upgradeWriter) refuse() {
	if u.status == 0 {
		return
	}
	code := apierr.BadUserInput
	if u.status == http.StatusForbidden {
		code = apierr.Forbidden
	}
	u.ResponseWriter.Header().Del("Content-Length")
	apierr.Write(u.ResponseWriter, u.status, apierr.New(code, "could not open a WebSocket: "+strings.TrimSpace(u.msg.String())))
}

func (g *socketRegistry) add(st *socket) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.keyed[st] = struct{}{}
	if !g.running {
		g.running = true
		go g.watch()
	}
}

func (g *socketRegistry) remove(st *socket) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.keyed, st)
}

// watch checks the keyed sockets' keys again each time the key generation
// moves (read every poll from what the store's generation watcher has
// seen, without a read of the database), until no keyed socket is open.
func (g *socketRegistry) watch() {
	t := time.NewTicker(g.poll)
	defer t.Stop()
	for range t.C {
		g.mu.Lock()
		if len(g.keyed) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		socks := make([]*socket, 0, len(g.keyed))
		for st := range g.keyed {
			socks = append(socks, st)
		}
		g.mu.Unlock()
		now := keysGeneration(g.s)
		for _, st := range socks {
			if st.keysSeen != now && g.recheck(st) {
				st.keysSeen = now
			}
		}
	}
}

// recheck looks st's client up again and revokes the socket when its key
// no longer holds as it did; it reports whether it could look.
func (g *socketRegistry) recheck(st *socket) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := g.s.FindClient(ctx, st.client.ID)
	if err != nil {
		g.log.Warn("recheck a WebSocket's key", "client_id", st.client.ID, "error", err)
		return false
	}
	switch {
	case c == nil || c.RevokedAt != nil:
		st.revoke(auth.ErrRevokedKey.Error())
	case auth.CallerFor(c).Scope != st.scope || !slices.Equal(c.Scopes, st.client.Scopes):
		st.revoke("the API key's scopes have changed; connect again to use them")
	}
	return true
}

// socketLimits holds each operation on a WebSocket to the rules of a
// request (see the top of this file). Operations over HTTP pass through.
type socketLimits struct {
	coarse, limiter *rateLimiter
	inflight        *inFlight
	timeout         time.Duration
	requests        graph.Requests
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationInterceptor
} = socketLimits{}

// ExtensionName names the extension.
func (socketLimits) ExtensionName() string { return "SocketLimits" }

// Validate accepts any schema.
func (socketLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses an operation on a socket whose key no
// longer holds, and spends a token of the address's and of the caller's
// rate, before the document is even parsed.
func (x socketLimits) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	st := socketFrom(ctx)
	if st == nil {
		return nil
	}
	if refusal := st.refused(); refusal != nil {
		return refusal
	}
	if _, refusal := x.coarse.allow(st.addr, true); refusal != nil {
		telemetry.Refused(ctx, "rate")
		return &gqlerror.Error{Message: refusal.Message, Extensions: refusal.Extensions}
	}
	if _, refusal := x.limiter.allow(st.key, st.anonymous); refusal != nil {
		telemetry.Refused(ctx, "rate")
		return &gqlerror.Error{Message: refusal.Message, Extensions: refusal.Extensions}
	}
	return nil
}

// InterceptOperation gives a query or mutation on a socket an operation
// slot and the request deadline, with loaders and a record budget of its
// own, and a subscription one of the caller's and the socket's
// subscriptions and a lifetime.
func (x socketLimits) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	st := socketFrom(ctx)
	if st == nil {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	sub := oc.Operation != nil && oc.Operation.Operation == ast.Subscription
	var release func()
	var cancel context.CancelFunc
	if sub {
		rel, refusal := st.acquireSubscription(&x.inflight.streams)
		if refusal != nil {
			telemetry.Refused(ctx, "subscriptions")
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{refusal}})
		}
		release = rel
		ctx, cancel = context.WithTimeout(ctx, StreamLifetime)
		opCtx := ctx
		ctx = graph.WithSubscriptionEnd(ctx, func(err *gqlerror.Error) {
			st.mu.Lock() // as revoke adds its error
			defer st.mu.Unlock()
			transport.AddSubscriptionError(opCtx, err)
		})
	} else {
		ctx, cancel = context.WithTimeout(ctx, x.timeout)
		dequeued := telemetry.Queued(ctx)
		rel, err := x.inflight.acquire(ctx, st.key, st.anonymous)
		dequeued()
		if err == nil && ctx.Err() != nil {
			rel()
			err = ctx.Err()
		}
		if err != nil {
			cancel()
			var refusal *gqlerror.Error
			if err == errBusy {
				telemetry.Refused(ctx, "caller_in_flight")
				refusal = codedError(apierr.RateLimited, "too many requests at once from this caller: at most %d run and %d wait; retry shortly", x.inflight.perCaller, x.inflight.perCaller*queuePerSlot)
			} else {
				telemetry.Refused(ctx, "queue_deadline")
				refusal = codedError(apierr.ServiceUnavailable, "%s", tooLong.Message)
			}
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{refusal}})
		}
		release = rel
		// The loaders the upgrade was given would cache for the socket's
		// life: each operation reads afresh, within a budget of its own.
		ctx = x.requests.Again(ctx)
	}
	op, refusal := st.start(ctx, cancel)
	if refusal != nil {
		release()
		cancel()
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{refusal}})
	}
	done := sync.OnceFunc(func() {
		st.finish(op)
		release()
		cancel()
	})
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		r := h(ctx)
		if r == nil || !sub {
			// A query's one answer is complete when it is returned; a
			// subscription's last is the nil that ends it.
			done()
		}
		return r
	}
}
