package loaders

import "context"

// BatchObserver is told of each batch a loader fetches, with the loader's
// name (the kind it loads by ID, "Person", or the kind and the reference it
// loads by, "Meeting by bodyId") and the number of keys. The context it returns is the fetch's (a span's, say); done is
// called with the fetch's error when it ends.
type BatchObserver func(ctx context.Context, loader string, keys int) (_ context.Context, done func(error))

type observerKey struct{}

// WithBatchObserver returns a context whose loader batches obs sees. A
// batch is fetched with the context of the first load that joined it, so
// the observer is that request's.
func WithBatchObserver(ctx context.Context, obs BatchObserver) context.Context {
	return context.WithValue(ctx, observerKey{}, obs)
}

// observe tells ctx's observer, if any, of a batch of keys of loader name.
func observe(ctx context.Context, name string, keys int) (context.Context, func(error)) {
	obs, _ := ctx.Value(observerKey{}).(BatchObserver)
	if obs == nil || ctx.Value(inMemoryKey{}) != nil {
		return ctx, func(error) {}
	}
	return obs(ctx, name, keys)
}
