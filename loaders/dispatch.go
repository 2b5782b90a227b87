package loaders

// When a batch goes to the store.
//
// A loader's batch is complete when no resolver that could still add a key
// to it is running. The dispatcher knows when that is by counting, as
// graphql-java's per-level dispatch does: it counts the fields the
// operation will resolve (outstanding) and the goroutines blocked on a
// loader (waiting), and sends every pending batch the moment each
// outstanding field is finished or waiting. Nothing is timed, so the batches
// do not depend on how busy the machine is: one batch per loader per level,
// with GOMAXPROCS=1 or beside a CPU-bound goroutine alike.
//
// The count comes from gqlgen's field middleware (the Dispatch extension):
// the operation starts with its root fields outstanding; when a field's
// resolver returns, the field is done and the fields gqlgen will resolve on
// its result (one per selected field of each object in it, found with
// gqlgen's own CollectFields) become outstanding, before any of them runs.
// So the count never drops to "everyone waits" while a level is still being
// spread over goroutines, the gap a count of running resolvers alone would
// have. A waiter stops counting when its batch is delivered, not when its
// goroutine next runs, and all of a batch's waiters stop at once, so that
// neither a slow scheduler nor a fast first waker can make a woken resolver
// look blocked.
//
// gqlgen resolves an object's plain fields (not resolvers: a connection's
// edges, an edge's node) one after another in one goroutine, each with its
// whole subtree, and its resolver fields concurrently after them. A field
// queued behind a plain sibling whose subtree waits on a loader cannot run
// until that batch is sent, so it does not hold the batch back: the count
// keeps, per object, which plain field is running (count.go), and leaves
// the fields queued behind it out until its subtree is complete.
//
// gqlgen 0.17.98's batch resolvers (@goField(batch: true)) were the other
// way: they hand a field all its sibling parents in one call. They batch
// one list's parents, not a level (the agenda items of 3 bodies' meetings
// would be 3 calls, one per meetings list), do not apply to single-object
// fields (a report's author), and would change the signature of every
// relation resolver and the generated code, so counting was chosen.
//
// Batching saves round trips to the database. An operation that starts
// while the store answers from its model in memory (store.InMemory) has
// none to save: each of its lookups is fetched as it is asked, in the
// asking goroutine, and nothing is counted or waits. Should a write make the
// model stale during the operation, its later loads are batched again, sent
// by the ceiling (the count was not kept), until the model is current.
//
// A timer remains only as a ceiling (loaders.New's wait, `serve
// --loader-wait`): a batch is sent at the latest that long after its first
// key. For loads outside a counted operation, or when the count is lost (a
// result whose GraphQL type cannot be told), the ceiling is what sends them.

import (
	"context"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/store"
)

// flusher is a loader with a batch waiting to be sent.
type flusher interface{ flush() }

// signal is one key's result becoming ready, with the goroutines waiting
// for it (guarded by the dispatcher's lock).
type signal struct {
	done      chan struct{}
	waiters   int
	delivered bool
}

// dispatcher decides when one request's batches are sent.
type dispatcher struct {
	maxWait time.Duration

	mu sync.Mutex
	// counting is set while an operation's fields are being counted.
	counting bool
	// outstanding counts the fields counted and not finished; waiting the
	// goroutines blocked on a loader; blocked the outstanding fields that
	// cannot start until a batch is sent (queued behind a plain sibling).
	outstanding, waiting, blocked int
	tree                          tree
	pendingSet                    map[flusher]bool
	// even says the last operation's count came out even; ceiling that
	// a batch was sent by the ceiling during it.
	even, ceiling bool
	// memory reports whether the store answers a read of ctx from its
	// model in memory now; nil: never. now is set while an operation runs
	// that found it did when it started: its loads are answered at once.
	memory func(context.Context) bool
	now    atomic.Bool
}

func newDispatcher(ceiling time.Duration) *dispatcher {
	return &dispatcher{maxWait: ceiling, pendingSet: map[flusher]bool{}}
}

// pending notes that f started a batch, and says when the batch must be
// sent at the latest.
func (d *dispatcher) pending(f flusher) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pendingSet[f] = true
	return d.maxWait
}

// wait blocks until s is delivered, counting the caller as waiting (and
// sending the batches when that leaves nobody running) meanwhile.
func (d *dispatcher) wait(s *signal) {
	select {
	case <-s.done:
		return
	default:
	}
	d.mu.Lock()
	if s.delivered {
		d.mu.Unlock()
		<-s.done
		return
	}
	s.waiters++
	d.waiting++
	ready := d.readyLocked()
	d.mu.Unlock()
	d.flush(ready)
	<-s.done
}

// deliver marks a batch's signals delivered, all under one lock: their
// waiters are running again from now on. Then it wakes them.
func (d *dispatcher) deliver(signals []*signal) {
	d.mu.Lock()
	for _, s := range signals {
		s.delivered = true
		d.waiting -= s.waiters
		s.waiters = 0
	}
	d.mu.Unlock()
	for _, s := range signals {
		close(s.done)
	}
}

// readyLocked takes the pending loaders when the operation is counted and
// every outstanding field is waiting, so that the caller sends them outside
// the lock. Uncounted loads wait for the ceiling.
func (d *dispatcher) readyLocked() []flusher {
	if !d.counting || d.waiting < d.outstanding-d.blocked {
		return nil
	}
	return d.takeLocked()
}

// takeLocked takes every pending loader.
func (d *dispatcher) takeLocked() []flusher {
	if len(d.pendingSet) == 0 {
		return nil
	}
	out := make([]flusher, 0, len(d.pendingSet))
	for f := range d.pendingSet {
		out = append(out, f)
	}
	clear(d.pendingSet)
	return out
}

func (d *dispatcher) flush(fs []flusher) {
	for _, f := range fs {
		f.flush()
	}
}

// sent notes that f's batch went (by the ceiling).
func (d *dispatcher) sent(f flusher) {
	d.mu.Lock()
	delete(d.pendingSet, f)
	d.mu.Unlock()
}

// ceilingReached notes that a batch was sent by the ceiling.
func (d *dispatcher) ceilingReached() {
	d.mu.Lock()
	d.ceiling = true
	d.mu.Unlock()
}

// start begins counting an operation with n root fields.
func (d *dispatcher) start(n int) {
	d.mu.Lock()
	d.counting, d.ceiling = true, false
	d.outstanding, d.blocked = n, 0
	d.tree = newTree(n)
	d.mu.Unlock()
}

// began notes that the field of fc started.
func (d *dispatcher) began(fc *graphql.FieldContext) {
	d.mu.Lock()
	if d.counting && !d.tree.began(d, fc) {
		d.counting = false
	}
	d.mu.Unlock()
}

// finished notes that the field of fc returned, and that gqlgen will
// resolve kids on its result (nil when kids < 0: they cannot be counted,
// which stops counting).
func (d *dispatcher) finished(fc *graphql.FieldContext, kids []objectFields) {
	d.mu.Lock()
	if !d.counting {
		d.mu.Unlock()
		return
	}
	total := 0
	for _, k := range kids {
		if k.n < 0 {
			total = -1
			break
		}
		total += k.n
	}
	if total < 0 || !d.tree.finished(d, fc, kids, total) {
		d.counting = false
	} else if d.outstanding += total - 1; d.outstanding < 0 {
		d.counting = false
	}
	ready := d.readyLocked()
	d.mu.Unlock()
	d.flush(ready)
}

// failed notes an error reported on the field of fc: when the field never
// started (its arguments did not parse), it never will, and is done.
func (d *dispatcher) failed(fc *graphql.FieldContext) {
	d.mu.Lock()
	started := !d.counting || fc.Index != nil || d.tree.has(fc)
	d.mu.Unlock()
	if !started {
		d.began(fc)
		d.finished(fc, nil)
	}
}

// stop ends counting and reports whether the count came out even, which
// it does when every field was counted.
func (d *dispatcher) stop() bool {
	d.mu.Lock()
	even := d.counting && d.outstanding == 0
	d.counting, d.even = false, even
	ready := d.takeLocked()
	d.mu.Unlock()
	d.flush(ready)
	return even
}

func (d *dispatcher) isCounting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counting
}

// Dispatch is the gqlgen extension that counts an operation's fields for
// its request's loaders (see the top of this file). Use a fresh one per
// server: it learns the schema when the server is built. Its fields pass
// Field from the graph's one field middleware, not a middleware of its
// own, which every field would pay for even when nothing is counted.
type Dispatch struct {
	schema *ast.Schema
	// implements lists, for each object type, the names a fragment on it
	// may use: itself, its interfaces and its unions.
	implements map[string][]string
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*Dispatch)(nil)

// ExtensionName names the extension.
func (*Dispatch) ExtensionName() string { return "LoaderDispatch" }

// Validate learns the schema's types.
func (x *Dispatch) Validate(s graphql.ExecutableSchema) error {
	x.schema = s.Schema()
	x.implements = map[string][]string{}
	for name, def := range x.schema.Types {
		if def.Kind != ast.Object {
			continue
		}
		names := append([]string{name}, def.Interfaces...)
		for _, u := range x.schema.Types {
			if u.Kind == ast.Union && containsString(u.Types, name) {
				names = append(names, u.Name)
			}
		}
		x.implements[name] = names
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// InterceptResponse counts a query's root fields before they run.
func (x *Dispatch) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	d := dispatcherOf(ctx)
	if d == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	if d.memory != nil && d.memory(ctx) {
		// Every lookup is answered from memory as it is asked: no batch
		// saves a round trip, so nothing waits for a level to complete,
		// and nothing is counted.
		d.now.Store(true)
		defer d.now.Store(false)
		return next(ctx)
	}
	d.start(countFields(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"})))
	resp := next(ctx)
	d.stop()
	return resp
}

// Counting reports whether the request's operation is being counted, so
// that its fields must pass Field.
func (x *Dispatch) Counting(ctx context.Context) bool {
	d := dispatcherOf(ctx)
	return d != nil && d.isCounting()
}

// Field marks the field done when its resolver returns, and the fields
// gqlgen will resolve on its result outstanding. It is the graph's field
// middleware's to call (graph.Configure), for every field while Counting.
func (x *Dispatch) Field(ctx context.Context, next graphql.Resolver) (res any, err error) {
	d := dispatcherOf(ctx)
	if d == nil || !d.isCounting() {
		return next(ctx)
	}
	fc := graphql.GetFieldContext(ctx)
	d.began(fc)
	var kids []objectFields
	defer func() { d.finished(fc, kids) }()
	if fc.Object == "Query" && fc.Field.Name == "_entities" {
		enqueueRepresentations(ctx, fc.Args["representations"])
	}
	res, err = next(ctx)
	if err == nil && fc.Field.Definition != nil {
		x.children(graphql.GetOperationContext(ctx), fc.Field.Selections, fc.Field.Definition.Type, reflect.ValueOf(res), "", &kids)
	}
	return res, err
}

// Presenter wraps an error presenter so that the dispatcher learns of
// fields that fail before they start (arguments that do not parse): such
// a field never reaches the field middleware.
func Presenter(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if d := dispatcherOf(ctx); d != nil {
			if fc := graphql.GetFieldContext(ctx); fc != nil {
				d.failed(fc)
			}
		}
		return next(ctx, err)
	}
}

// children adds to kids the fields gqlgen resolves on each object of v, a
// value of GraphQL type t with selections sel at list position path ("" for
// a single object, "2,0" in a list of lists): n is -1 where it cannot tell.
func (x *Dispatch) children(oc *graphql.OperationContext, sel ast.SelectionSet, t *ast.Type, v reflect.Value, path string, kids *[]objectFields) {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() || len(sel) == 0 {
		return
	}
	if t.Elem != nil {
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			*kids = append(*kids, objectFields{path, -1})
			return
		}
		for i := range v.Len() {
			x.children(oc, sel, t.Elem, v.Index(i), path+strconv.Itoa(i)+",", kids)
		}
		return
	}
	def := x.schema.Types[t.NamedType]
	if def == nil {
		*kids = append(*kids, objectFields{path, -1})
		return
	}
	name := def.Name
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return
	case ast.Interface, ast.Union:
		// The concrete type of an abstract result is its Go type's name
		// (store.Person is Person), checked against the schema.
		name = v.Type().Name()
		if !containsString(x.implements[name], def.Name) {
			*kids = append(*kids, objectFields{path, -1})
			return
		}
	}
	names, ok := x.implements[name]
	if !ok {
		*kids = append(*kids, objectFields{path, -1})
		return
	}
	if n := countFields(graphql.CollectFields(oc, sel, names)); n > 0 {
		*kids = append(*kids, objectFields{path, n})
	}
}

// countFields counts the fields gqlgen resolves through the field
// middleware: all but __typename, which it writes itself.
func countFields(fields []graphql.CollectedField) int {
	n := 0
	for _, f := range fields {
		if f.Name != "__typename" {
			n++
		}
	}
	return n
}

// dispatcherOf is the dispatcher of the request's loaders, nil without any.
func dispatcherOf(ctx context.Context) *dispatcher {
	if l := loadersOf(ctx); l != nil {
		return l.d
	}
	return nil
}

// Counted reports whether the request's last operation was counted to the
// end: every field it resolved was seen, none was missed and no result's type
// was unknown, so every batch was sent by the count and none by the ceiling.
func (l *Loaders) Counted() bool {
	l.d.mu.Lock()
	defer l.d.mu.Unlock()
	return l.d.even && !l.d.ceiling
}

// enqueueRepresentations adds the key of every representation to its
// kind's loader before _entities resolves them. gqlgen's federation code
// resolves each type's representations in a goroutine of its own, which the
// count does not see (they are one field, _entities): without this, the
// first type to wait on its loader would send the other types' batches
// before they had all their keys, and one batch a type would be a matter of
// scheduling.
func enqueueRepresentations(ctx context.Context, reps any) {
	list, _ := reps.([]map[string]any)
	if len(list) == 0 {
		return
	}
	ls := For(ctx)
	for _, r := range list {
		name, _ := r["__typename"].(string)
		id, _ := r["id"].(string)
		if k := store.KindNamed(name); k != nil && k.Node && id != "" {
			ls.lookedUp(k).add(ctx, id)
		} else if code, _ := r["code"].(string); name == "Area" && code != "" {
			ls.AreasByCode.add(ctx, code) // an area by its second key
		}
	}
}
