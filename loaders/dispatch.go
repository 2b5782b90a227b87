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
// goroutine next runs, so a slow scheduler cannot make a woken resolver look
// blocked.
//
// gqlgen 0.17.98's batch resolvers (@goField(batch: true)) were the other
// way: they hand a field all its sibling parents in one call. They batch
// one list's parents, not a level (the agenda items of 3 bodies' meetings
// would be 3 calls, one per meetings list), do not apply to single-object
// fields (a report's author), and would change the signature of every
// relation resolver and the generated code, so counting was chosen.
//
// A timer remains only as a ceiling (loaders.New's wait, `serve
// --loader-wait`): a batch is sent at the latest that long after its first
// key. For loads outside a counted operation, or when the count is lost (a
// result whose GraphQL type cannot be told), the ceiling is what sends them.

import (
	"context"
	"reflect"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
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
	counting    bool
	outstanding int
	waiting     int
	pendingSet  map[flusher]bool
	// even says the last operation's count came out even; ceiling that
	// a batch was sent by the ceiling during it.
	even, ceiling bool
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

// deliver marks s delivered: its waiters are running again from now on.
func (d *dispatcher) deliver(s *signal) {
	d.mu.Lock()
	s.delivered = true
	d.waiting -= s.waiters
	s.waiters = 0
	d.mu.Unlock()
	close(s.done)
}

// readyLocked takes the pending loaders when every outstanding field is
// waiting (or counting is off), so that the caller sends them outside
// the lock.
func (d *dispatcher) readyLocked() []flusher {
	if len(d.pendingSet) == 0 || (d.counting && d.waiting < d.outstanding) {
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
	d.outstanding = n
	d.mu.Unlock()
}

// finished notes that a field's resolver returned and that children fields
// will be resolved on its result; children < 0 means they cannot be
// counted, which stops counting.
func (d *dispatcher) finished(children int) {
	d.mu.Lock()
	if !d.counting {
		d.mu.Unlock()
		return
	}
	d.outstanding += children - 1
	if children < 0 || d.outstanding < 0 {
		d.counting = false
	}
	ready := d.readyLocked()
	d.mu.Unlock()
	d.flush(ready)
}

// stop ends counting and reports whether the count came out even, which
// it does when every field was counted.
func (d *dispatcher) stop() bool {
	d.mu.Lock()
	even := d.counting && d.outstanding == 0
	d.counting, d.even = false, even
	ready := d.readyLocked()
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
// server: it learns the schema when the server is built.
type Dispatch struct {
	schema *ast.Schema
	// implements lists, for each object type, the names a fragment on it
	// may use: itself, its interfaces and its unions.
	implements map[string][]string
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
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
	d.start(countFields(graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"})))
	resp := next(ctx)
	d.stop()
	return resp
}

// InterceptField marks the field done when its resolver returns, and the
// fields gqlgen will resolve on its result outstanding.
func (x *Dispatch) InterceptField(ctx context.Context, next graphql.Resolver) (res any, err error) {
	d := dispatcherOf(ctx)
	if d == nil || !d.isCounting() {
		return next(ctx)
	}
	children := 0
	defer func() { d.finished(children) }()
	res, err = next(ctx)
	fc := graphql.GetFieldContext(ctx)
	if err == nil && fc != nil && fc.Field.Definition != nil {
		children = x.children(graphql.GetOperationContext(ctx), fc.Field.Selections, fc.Field.Definition.Type, reflect.ValueOf(res))
	}
	return res, err
}

// children counts the fields gqlgen resolves on v, a value of GraphQL type
// t with selections sel: -1 when it cannot tell.
func (x *Dispatch) children(oc *graphql.OperationContext, sel ast.SelectionSet, t *ast.Type, v reflect.Value) int {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return 0
		}
		v = v.Elem()
	}
	if !v.IsValid() || len(sel) == 0 {
		return 0
	}
	if t.Elem != nil {
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return -1
		}
		n := 0
		for i := range v.Len() {
			c := x.children(oc, sel, t.Elem, v.Index(i))
			if c < 0 {
				return -1
			}
			n += c
		}
		return n
	}
	def := x.schema.Types[t.NamedType]
	if def == nil {
		return -1
	}
	name := def.Name
	switch def.Kind {
	case ast.Scalar, ast.Enum:
		return 0
	case ast.Interface, ast.Union:
		// The concrete type of an abstract result is its Go type's name
		// (store.Person is Person), checked against the schema.
		name = v.Type().Name()
		if !containsString(x.implements[name], def.Name) {
			return -1
		}
	}
	names, ok := x.implements[name]
	if !ok {
		return -1
	}
	return countFields(graphql.CollectFields(oc, sel, names))
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
	if l, ok := ctx.Value(ctxKey{}).(*Loaders); ok {
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
