package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// The attack suite: each refusal the hardening promises, tried as an
// attacker would, anonymous, on the Stockton set as `serve` runs it on the
// embedded store (four operations at once). Each case checks the refusal's
// code and message, and that a simple lookup by another caller, made while
// the attack runs, is answered without waiting for the attack to end.

type attackEnv struct {
	s       *store.Store
	h       http.Handler
	lookup  func()
	counter *storetest.Counter
	hold    *holder
}

// bystanderQuery is the bystander's lookup.
const bystanderQuery = `{ body(id: "body:stockton-on-tees/cabinet") { name } }`

// holder holds the first operation other than the bystander's to reach
// its fields while it is armed, until it is released: the attack then has
// an operation running, with its slot, for as long as the bystander looks,
// as a slow one would, whatever the machine's speed.
type holder struct {
	mu      sync.Mutex
	armed   bool
	held    chan struct{} // closed once an operation is held
	release chan struct{}
}

// ExtensionName names the holder among the server's extensions.
func (*holder) ExtensionName() string { return "AttackHolder" }

// Validate accepts any schema.
func (*holder) Validate(graphql.ExecutableSchema) error { return nil }

// arm makes the next operation other than the bystander's wait in its first
// field until the returned release is called; held is closed when it does.
func (h *holder) arm() (held <-chan struct{}, release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed, h.held, h.release = true, make(chan struct{}), make(chan struct{})
	rel := h.release
	return h.held, func() {
		h.mu.Lock()
		h.armed = false
		h.mu.Unlock()
		close(rel)
	}
}

// InterceptField holds the operation it is armed for.
func (h *holder) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if graphql.HasOperationContext(ctx) && graphql.GetOperationContext(ctx).RawQuery != bystanderQuery {
		h.mu.Lock()
		hold, held, release := h.armed, h.held, h.release
		h.armed = false
		h.mu.Unlock()
		if hold {
			close(held)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
	return next(ctx)
}

// newAttackEnv serves the Stockton database the package's readers share:
// an attack only reads.
func newAttackEnv(t *testing.T, cfg httpapi.Config) *attackEnv {
	t.Helper()
	counter := &storetest.Counter{}
	s, _ := sharedStockton(t, counter.Monitor())
	return attackEnvOn(t, cfg, s, counter)
}

// newWritingAttackEnv serves a database of the test's own holding the
// Stockton set (a copy of the shared one), for tests that write (people
// whose changes prime subscriptions, keys).
func newWritingAttackEnv(t *testing.T, cfg httpapi.Config) *attackEnv {
	t.Helper()
	counter := &storetest.Counter{}
	s, _ := ownStockton(t, counter.Monitor())
	return attackEnvOn(t, cfg, s, counter)
}

// attackEnvOn serves s as the attack suite's environment; counter counts
// the commands of s.
func attackEnvOn(t *testing.T, cfg httpapi.Config, s *store.Store, counter *storetest.Counter) *attackEnv {
	t.Helper()
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 4
	}
	// The bystander's lookup measures the store under attack: answered
	// from the response cache, it would measure nothing. The attacks are
	// on the database path, which every data set too large for a snapshot
	// takes, and whose finds they count.
	cfg.ResponseCacheSize = -1
	if cfg.SnapshotSize == 0 {
		cfg.SnapshotSize = -1
	}
	// What is under test is what an attack leaves the bystander, not the
	// service's deadline: on a starved machine a lookup may take longer
	// than the default 10 s, and would be refused for it.
	if cfg.Timeout == 0 {
		cfg.Timeout = attackGuard
	}
	hold := &holder{}
	cfg.Extensions = append(cfg.Extensions, hold)
	h := httpapitest.New(s, cfg, quiet())
	e := &attackEnv{s: s, h: h, counter: counter, hold: hold}
	q := doc(bystanderQuery)
	// Each lookup comes from an address of its own: the bystander stands
	// for other callers, and its lookups, a few milliseconds each, would
	// otherwise pass one address's rate limit.
	var bystander atomic.Int32
	e.lookup = func() {
		r := do(t, h, "", fmt.Sprintf("198.51.%d.%d:1234", 100+bystander.Load()/250, bystander.Add(1)%250), q)
		if r.status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("the bystander's lookup failed: %d %+v", r.status, r.Errors)
		}
	}
	return e
}

// attackGuard bounds the waits of underAttack: far longer than any step
// takes on a loaded machine, it only stops a test that would otherwise
// hang, as a bystander starved until the attack ends would.
const attackGuard = 2 * time.Minute

// underAttack runs attack from workers goroutines, and once it is under
// way (an attack operation running, held by e.hold until the bystander is
// done, or, for attacks refused before they run, two refusals a worker)
// has the bystander make seven lookups; the attack goes on until they are
// answered. The lookups must succeed while the attack runs: a bystander
// that had to wait for the attack to end would never be answered. Whether
// they are fast is a matter for the benchmarks, not for a test that must
// pass on any machine.
func (e *attackEnv) underAttack(t *testing.T, workers int, attack func(i int)) {
	t.Helper()
	e.underAttackUntil(t, workers, func(i int) bool { attack(i); return true })
}

// underAttackUntil is underAttack for an attack that ends: a worker stops
// once attack returns false, rather than spin beside the bystander.
func (e *attackEnv) underAttackUntil(t *testing.T, workers int, attack func(i int) bool) {
	t.Helper()
	held, release := e.hold.arm()
	stop := make(chan struct{})
	var sent atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				more := attack(w*1_000_000 + i)
				sent.Add(1)
				if !more {
					return
				}
			}
		}()
	}
	finish := func() {
		release()
		close(stop)
		wg.Wait()
	}
	deadline := time.Now().Add(attackGuard)
under:
	for sent.Load() < int64(2*workers) {
		select {
		case <-held:
			break under
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			finish()
			t.Fatalf("the attack was not under way within %s", attackGuard)
		}
	}
	looked := make(chan struct{})
	go func() {
		defer close(looked)
		for range 7 {
			e.lookup()
		}
	}()
	select {
	case <-looked:
	case <-time.After(attackGuard):
		t.Errorf("the bystander's lookups were not answered within %s of an attack", attackGuard)
	}
	finish()
	<-looked
}

// refused checks one response's refusal.
func refused(t *testing.T, r result, code, msg string) {
	t.Helper()
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != code || !strings.Contains(r.Errors[0].Message, msg) {
		t.Fatalf("got %d %+v, want %s %q", r.status, r.Errors, code, msg)
	}
}

func TestAttacks(t *testing.T) {
	t.Parallel()
	t.Run("database", func(t *testing.T) { attacks(t, newAttackEnv(t, httpapi.Config{})) })
	// From the snapshot the same limits hold and the bystander is as
	// safe: the attacks cost the server's CPU instead of the database's.
	t.Run("snapshot", func(t *testing.T) {
		e := newAttackEnv(t, httpapi.Config{SnapshotSize: store.DefaultSnapshotSize})
		if !e.s.WaitSnapshot(context.Background()) {
			t.Fatal("no snapshot")
		}
		attacks(t, e)
	})
}

func attacks(t *testing.T, e *attackEnv) {
	anon := func(i int) string { return fmt.Sprintf("203.0.%d.%d:4000", (i/250)%250, i%250) }

	t.Run("unpaged lists nested", func(t *testing.T) {
		q := doc(`{ plans(first: 100) { edges { node { priorities { reports { priorities { reports { priorities { reports { priorities { id } } } } } } } } } } }`)
		refused(t, do(t, e.h, "", anon(0), q), "BAD_USER_INPUT", "which exceeds the limit of 10000 for public callers")
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), q) })
	})
	t.Run("entities counted per representation", func(t *testing.T) {
		body, _ := json.Marshal(map[string]any{"query": `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { name organisation { name people { totalCount } } } } }`,
			"variables": map[string]any{"r": jsonReps(20_000)}})
		refused(t, do(t, e.h, "", anon(1), body), "BAD_USER_INPUT", "which exceeds the limit of 10000")
		e.underAttack(t, 2, func(i int) { do(t, e.h, "", anon(i), body) })
	})
	t.Run("aliases multiply", func(t *testing.T) {
		var a []string
		for i := range 100 {
			a = append(a, fmt.Sprintf(`s%d: search(query: "an", first: 1) { __typename }`, i))
		}
		q := doc("{ " + strings.Join(a, " ") + " }")
		refused(t, do(t, e.h, "", anon(2), q), "BAD_USER_INPUT", "which exceeds the limit of 10000")
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), q) })
	})
	t.Run("fragments spread into each other", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{ areas { ...F0 } } fragment F0 on Area { id name }")
		for i := 1; i <= 24; i++ {
			fmt.Fprintf(&b, " fragment F%d on Area { ...F%d ...F%d }", i, i-1, i-1)
		}
		q := strings.Replace(b.String(), "...F0 }", "...F24 }", 1)
		r := do(t, e.h, "", anon(3), doc(q))
		refused(t, r, "BAD_USER_INPUT", "fields once its fragments are expanded, which exceeds the limit of 5000")
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), doc(q)) })
	})
	t.Run("search string without a limit", func(t *testing.T) {
		q, _ := json.Marshal(map[string]any{"query": `query($q: String!) { search(query: $q) { __typename } }`, "variables": map[string]any{"q": strings.Repeat("ab", 125_000)}})
		refused(t, do(t, e.h, "", anon(4), q), "BAD_USER_INPUT", "query must be at most 200 characters")
		e.underAttack(t, 4, func(i int) { do(t, e.h, "", anon(i), q) })
	})
	t.Run("accents alone match everything", func(t *testing.T) {
		refused(t, do(t, e.h, "", anon(5), doc(`{ search(query: "\u0301\u0301\u0301") { __typename } }`)), "BAD_USER_INPUT", "at least 2 characters besides accents")
	})
	t.Run("one address floods the store", func(t *testing.T) {
		q := doc(`{ meetings(first: 100) { edges { node { agendaItems { reports { title } } attendance { person { name } } } } } }`)
		var limited atomic.Int64
		e.underAttack(t, 64, func(i int) {
			if r := do(t, e.h, "", "192.0.2.1:5000", q); r.status == http.StatusTooManyRequests {
				limited.Add(1)
				// A client a network away cannot send again sooner than
				// its round trip; in process, a refused request would
				// return at once and 63 loops spinning on refusals would
				// only measure this machine's two cores.
				time.Sleep(5 * time.Millisecond)
			}
		})
		if limited.Load() == 0 {
			t.Error("64 clients from one address were never refused")
		}
	})
	t.Run("made-up keys are not looked up past the address's limit", func(t *testing.T) {
		before := e.counter.Count("find")
		statuses := map[int]int{}
		for i := range 3000 {
			r := do(t, e.h, fmt.Sprintf("cgk_%043d", i), "192.0.2.9:5000", doc(`{ areas { id } }`))
			statuses[r.status]++
		}
		if statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusUnauthorized] > 200 {
			t.Errorf("3,000 made-up keys from one address: %v, want 429s after the burst", statuses)
		}
		if looked := e.counter.Count("find") - before; looked > 200 {
			t.Errorf("%d finds for 3,000 made-up keys", looked)
		}
	})
	t.Run("reports of a body", func(t *testing.T) {
		r := do(t, e.h, "", anon(6), doc(`{ reports(body: "body:stockton-on-tees/cabinet") { totalCount } }`))
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":`) {
			t.Errorf("reports(body:): %+v %s", r.Errors, r.Data)
		}
	})
	t.Run("error texts", func(t *testing.T) {
		refused(t, do(t, e.h, "", anon(7), []byte(`[{"query":"{ areas { id } }"}]`)), "BAD_USER_INPUT", "batched requests are not supported")
		refused(t, do(t, e.h, "", anon(7), []byte(`{"query":"query($n: Int) { people(first: $n) { totalCount } }","variables":{"n":1.5}}`)), "BAD_USER_INPUT", "variable $n must be a whole number (an Int)")
		r := do(t, e.h, "", anon(7), []byte(`{"query": 5}`))
		refused(t, r, "BAD_USER_INPUT", "query must be a string, not number")
		if strings.Contains(r.Errors[0].Message, "Go ") || strings.Contains(r.Errors[0].Message, "struct") {
			t.Errorf("the error names Go types: %s", r.Errors[0].Message)
		}
	})
}

func jsonReps(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"__typename": "Person", "id": fmt.Sprintf("person:p%d", i)}
	}
	return out
}

// TestDeadlineStopsTheWork: once the deadline passes, the request answers
// SERVICE_UNAVAILABLE and the store is sent nothing more for it. What the
// request leaves running when it is answered (its loaders' batches) is
// waited for to end; a find it starts meanwhile is sent only if its
// context is still live, since the driver refuses, unsent, a command whose
// context has ended (it tells the monitor of it first). Every context of
// the request has ended once it is answered, so a live one after the
// answer is work that outlived the deadline.
func TestDeadlineStopsTheWork(t *testing.T) {
	lenient := map[string]int{"public": 1 << 30} // what is under test is the deadline, not the cost
	var answered atomic.Bool
	var late atomic.Int64
	monitor := &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		// The generation's reads (the collection meta) are the store's
		// watcher's, which runs beside the test at any moment.
		if coll, _ := e.Command.Lookup("find").StringValueOK(); e.CommandName == "find" && coll != "meta" && answered.Load() && ctx.Err() == nil {
			late.Add(1)
		}
	}}
	s, _ := sharedStockton(t, monitor)
	// The stats are read once, before the request: their reads are not the
	// request's.
	e := attackEnvOn(t, httpapi.Config{Timeout: 30 * time.Millisecond, RateAnonymous: -1, RateAddress: -1, CostCeilings: lenient, MaxRecords: 1 << 30, StatsMaxAge: 24 * time.Hour},
		s, &storetest.Counter{})
	waitReadyz(t, e.h)
	q := doc(`{ people(first: 100) { edges { node { memberships { body { meetings(first: 100) { edges { node { agendaItems { reports { title } } attendance { person { name } } } } } } } } } } }`)
	r := do(t, e.h, "", "", q)
	answered.Store(true)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "SERVICE_UNAVAILABLE" {
		t.Fatalf("got %d %+v, want SERVICE_UNAVAILABLE", r.status, r.Errors)
	}
	waitLoadersIdle(t)
	if n := late.Load(); n > 0 {
		t.Errorf("%d finds were sent after the request was answered", n)
	}
}

// waitLoadersIdle waits until no goroutine runs a loader's batch: the only
// work of a request that outlives its handler, which waits for its
// resolvers. Tests that call it run alone (not in parallel).
func waitLoadersIdle(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for guard := time.Now().Add(attackGuard); ; time.Sleep(time.Millisecond) {
		n := runtime.Stack(buf, true)
		for n == len(buf) {
			buf = make([]byte, 2*len(buf))
			n = runtime.Stack(buf, true)
		}
		if !bytes.Contains(buf[:n], []byte("councilgraph/loaders.(*Loader[")) {
			return
		}
		if time.Now().After(guard) {
			t.Fatalf("a loader's batch still ran %s after the request was answered", attackGuard)
		}
	}
}

// TestSlowBodiesAreCutOff: a body trickled slower than the server's read
// timeout does not keep its connection.
func TestSlowBodiesAreCutOff(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	srv := httpapi.NewServer(httpapitest.New(s, httpapi.Config{}, quiet()), httpapi.Config{ReadTimeout: 200 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			buf := make([]byte, 512)
			_ = conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if n, err := conn.Read(buf); n > 0 || (err != nil && !isTimeout(err)) {
				return
			}
		}
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a trickled body kept its connection for 10 s past a 200 ms read timeout")
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestPersistedOnlyIsHeldApart: documents refused to a held scope are not
// stored, cannot evict the trusted ones, and a large manifest loads whole.
func TestPersistedOnlyIsHeldApart(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	var ops []map[string]string
	for i := range 1500 {
		body := fmt.Sprintf(`query Op%d { areas { id } }`, i)
		ops = append(ops, map[string]string{"id": hash(body), "name": fmt.Sprintf("Op%d", i), "body": body})
	}
	manifest := t.TempDir() + "/manifest.json"
	m, _ := json.Marshal(map[string]any{"scopes": []string{"public"}, "operations": ops})
	if err := writeFile(manifest, m); err != nil {
		t.Fatal(err)
	}
	trusted, err := httpapi.LoadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	h := httpapitest.New(s, httpapi.Config{Trusted: trusted, RateAnonymous: -1, RateAddress: -1}, quiet())
	for i := range 1100 {
		q := fmt.Sprintf(`{ a%d: areas { id } }`, i)
		full, _ := json.Marshal(map[string]any{"query": q, "extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash(q)}}})
		refused(t, do(t, h, "", "", full), "FORBIDDEN", "only trusted documents run")
	}
	for _, i := range []int{0, 999, 1499} {
		byHash, _ := json.Marshal(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": ops[i]["id"]}}})
		if r := do(t, h, "", "", byHash); len(r.Errors) > 0 {
			t.Errorf("trusted operation %d by hash: %+v", i, r.Errors)
		}
	}
}

// TestNoSuggestionsWithoutIntrospection: when not everyone may introspect,
// errors name no field or value the caller did not send.
func TestNoSuggestionsWithoutIntrospection(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	for _, mode := range []string{"off", "authenticated"} {
		h := httpapitest.New(s, httpapi.Config{Introspection: mode}, quiet())
		for _, q := range []string{`{ person(id: "person:x") { emai } }`, `{ bodies(kind: CABINE) { totalCount } }`} {
			r := do(t, h, "", "", doc(q))
			if len(r.Errors) == 0 {
				t.Fatalf("%s: no error", q)
			}
			if m := r.Errors[0].Message; strings.Contains(m, "Did you mean") || strings.Contains(m, "email") || strings.Contains(m, "CABINET") {
				t.Errorf("introspection %s: %q suggests", mode, m)
			}
		}
	}
	h := httpapitest.New(s, httpapi.Config{}, quiet())
	if r := do(t, h, "", "", doc(`{ person(id: "person:x") { emai } }`)); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("with introspection on, suggestions help: %+v", r.Errors)
	}
}
