package loaders

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Loader batches and caches the loads of one request for one kind of key.
// A batch is sent when the request's dispatcher finds every resolver of the
// level finished or waiting on a loader (dispatch.go), or, for loads the
// dispatcher cannot account for, when the ceiling passes after its first
// key.
type Loader[K comparable, V any] struct {
	fetch func(context.Context, []K) ([]V, []error)
	d     *dispatcher
	// inMemory says fetch reads what the store's model holds, so that it
	// is answered at once in an operation that reads from memory.
	inMemory bool

	mu    sync.Mutex
	cache map[K]*result[V]
	batch *batch[K, V]
}

// result is one key's answer, ready once its signal is delivered.
type result[V any] struct {
	*signal
	v   V
	err error
}

func newResult[V any]() *result[V] {
	return &result[V]{signal: &signal{done: make(chan struct{})}}
}

// batch is the keys gathered and not yet sent.
type batch[K comparable, V any] struct {
	ctx   context.Context
	keys  []K
	res   []*result[V]
	timer *time.Timer
}

func newLoader[K comparable, V any](d *dispatcher, fetch func(context.Context, []K) ([]V, []error)) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, d: d, cache: map[K]*result[V]{}, inMemory: true}
}

// Load loads the value of key, waiting for its batch.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, error) {
	return l.LoadThunk(ctx, key)()
}

// LoadThunk adds key to the current batch (unless it is cached) and returns
// a function that waits for its value, so that one resolver can start
// several loads before it waits for any.
func (l *Loader[K, V]) LoadThunk(ctx context.Context, key K) func() (V, error) {
	var r *result[V]
	if l.now(ctx) {
		r = l.loadOneNow(ctx, key)
	} else {
		r = l.add(ctx, key)
	}
	return func() (V, error) {
		l.d.wait(r.signal)
		return r.v, r.err
	}
}

// LoadAll loads the values of keys, in order, in one batch: the first error
// is returned with whatever was found.
func (l *Loader[K, V]) LoadAll(ctx context.Context, keys []K) ([]V, error) {
	var rs []*result[V]
	if l.now(ctx) {
		rs = l.loadNow(ctx, keys)
	} else {
		rs = make([]*result[V], len(keys))
		for i, k := range keys {
			rs[i] = l.add(ctx, k)
		}
	}
	out := make([]V, len(keys))
	var first error
	for i, r := range rs {
		l.d.wait(r.signal)
		out[i] = r.v
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	return out, first
}

// Prime caches v for key, unless key is cached or being loaded already.
func (l *Loader[K, V]) Prime(key K, v V) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cache[key]; ok {
		return false
	}
	r := newResult[V]()
	r.v, r.delivered = v, true
	close(r.done)
	l.cache[key] = r
	return true
}

// now reports whether a load of ctx is answered at once: the loader reads
// the model, the operation started reading from memory, and the model is
// still current (after a write, loads are batched again until it is).
func (l *Loader[K, V]) now(ctx context.Context) bool {
	return l.inMemory && l.d.now.Load() && l.d.memory(ctx)
}

// loadNow returns the results of keys, fetching those not cached at once,
// in one call.
func (l *Loader[K, V]) loadNow(ctx context.Context, keys []K) []*result[V] {
	out := make([]*result[V], len(keys))
	var missing []K
	at := map[K]int{} // each missing key's place in missing
	l.mu.Lock()
	for i, k := range keys {
		if r, ok := l.cache[k]; ok {
			out[i] = r
		} else if _, ok := at[k]; !ok {
			at[k] = len(missing)
			missing = append(missing, k)
		}
	}
	l.mu.Unlock()
	if len(missing) == 0 {
		return out
	}
	vs, errs := l.safeFetch(context.WithValue(ctx, inMemoryKey{}, true), missing)
	// Results made ready: nothing waits on them, so they share one closed
	// signal rather than each making its own. Two goroutines fetching the
	// same key at once both read memory; the first to file its result is
	// kept.
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range keys {
		if out[i] != nil {
			continue
		}
		j := at[k]
		r, ok := l.cache[k]
		if !ok {
			r = &result[V]{signal: ready}
			l.cache[k] = r
			r.v, r.err = answer(vs, errs, j, len(missing))
		}
		out[i] = r
	}
	return out
}

// loadOneNow is loadNow of one key, LoadThunk's (each list element asks
// for its own), without the map that keeps several keys apart: gqlgen runs
// each element on a goroutine of its own, whose young stack the runtime
// grows, and copies, each time a call goes deeper than it has been.
func (l *Loader[K, V]) loadOneNow(ctx context.Context, key K) *result[V] {
	l.mu.Lock()
	r, ok := l.cache[key]
	l.mu.Unlock()
	if ok {
		return r
	}
	vs, errs := l.safeFetch(context.WithValue(ctx, inMemoryKey{}, true), []K{key})
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.cache[key]; ok {
		return r
	}
	r = &result[V]{signal: ready}
	r.v, r.err = answer(vs, errs, 0, 1)
	l.cache[key] = r
	return r
}

// safeFetch is fetch, a panic in it an error of every key (a fetch runs
// on its own goroutine, or on the asker's: it must not take either down).
func (l *Loader[K, V]) safeFetch(ctx context.Context, keys []K) (vs []V, errs []error) {
	defer func() {
		if p := recover(); p != nil {
			vs, errs = nil, []error{fmt.Errorf("loader fetch panicked: %v", p)}
		}
	}()
	return l.fetch(ctx, keys)
}

// ready is the signal of every result made ready at once: closed, and
// delivered, so that waiting on it returns.
var ready = func() *signal {
	s := &signal{done: make(chan struct{}), delivered: true}
	close(s.done)
	return s
}()

// inMemoryKey marks the context of a fetch answered from memory at once:
// no batch, no round trip for an observer to hear of.
type inMemoryKey struct{}

// add returns key's cached result, or adds key to the current batch, which
// it starts (telling the dispatcher) when there is none.
func (l *Loader[K, V]) add(ctx context.Context, key K) *result[V] {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.cache[key]; ok {
		return r
	}
	r := newResult[V]()
	l.cache[key] = r
	if l.batch == nil {
		b := &batch[K, V]{ctx: ctx}
		l.batch = b
		if c := l.d.pending(l); c > 0 {
			b.timer = time.AfterFunc(c, func() {
				if l.send(b) {
					l.d.ceilingReached()
				}
			})
		}
	}
	l.batch.keys = append(l.batch.keys, key)
	l.batch.res = append(l.batch.res, r)
	return r
}

// flush sends the current batch, if any: the dispatcher calls it.
func (l *Loader[K, V]) flush() {
	l.mu.Lock()
	b := l.batch
	l.mu.Unlock()
	if b != nil {
		l.send(b)
	}
}

// send fetches b, unless it was sent already, and hands out its results;
// it reports whether it sent b.
func (l *Loader[K, V]) send(b *batch[K, V]) bool {
	l.mu.Lock()
	if l.batch != b {
		l.mu.Unlock()
		return false
	}
	l.batch = nil
	l.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
	}
	l.d.sent(l)
	go l.run(b)
	return true
}

func (l *Loader[K, V]) run(b *batch[K, V]) {
	vs, errs := l.safeFetch(b.ctx, b.keys)
	l.deliver(b, vs, errs)
}

// deliver hands each key of b its value and error (a single error goes to
// every key), and then wakes all of its waiters at once: were they woken
// key by key, the first woken could see the rest as still waiting and have
// the next level sent without them.
func (l *Loader[K, V]) deliver(b *batch[K, V], vs []V, errs []error) {
	signals := make([]*signal, len(b.res))
	for i, r := range b.res {
		signals[i] = r.signal
		r.v, r.err = answer(vs, errs, i, len(b.keys))
	}
	l.d.deliver(signals)
}

// answer is the ith of n keys' value and error in a fetch's results: a
// single error goes to every key.
func answer[V any](vs []V, errs []error, i, n int) (v V, err error) {
	switch {
	case len(errs) == 1 && errs[0] != nil:
		return v, errs[0]
	case len(errs) > i && errs[i] != nil:
		return v, errs[i]
	case len(vs) != n:
		return v, fmt.Errorf("loader fetch returned %d values for %d keys", len(vs), n)
	}
	return vs[i], nil
}
