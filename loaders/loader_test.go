package loaders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fetches records the batches a loader sends.
type fetches struct {
	mu      sync.Mutex
	batches [][]string
}

func (f *fetches) fetch(_ context.Context, keys []string) ([]string, []error) {
	f.mu.Lock()
	f.batches = append(f.batches, append([]string(nil), keys...))
	f.mu.Unlock()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = "v:" + k
	}
	return out, nil
}

// TestUncountedLoadsGoAtTheCeiling: outside a counted operation, the keys
// asked for within the ceiling go in one batch, sent when the ceiling
// passes after the first. The keys are asked for one after another, as a
// resolver starting several loads does: asked for from goroutines of their
// own, a loaded machine could start one past the ceiling.
func TestUncountedLoadsGoAtTheCeiling(t *testing.T) {
	var f fetches
	const ceiling = 200 * time.Millisecond
	l := newLoader(newDispatcher(ceiling), f.fetch)
	ctx := context.Background()
	start := time.Now()
	var thunks []func() (string, error)
	for i := range 3 {
		thunks = append(thunks, l.LoadThunk(ctx, fmt.Sprint(i)))
	}
	got := make([]string, 3)
	for i, th := range thunks {
		v, err := th()
		if err != nil {
			t.Error(err)
		}
		got[i] = v
	}
	// A lower bound only: the timer never fires early.
	if d := time.Since(start); d < ceiling {
		t.Errorf("the batch went after %s, before the ceiling", d)
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 3 {
		t.Errorf("batches %v, want one of 3 keys", f.batches)
	}
	for i, v := range got {
		if v != fmt.Sprint("v:", i) {
			t.Errorf("key %d = %q", i, v)
		}
	}
	// A cached key asks for nothing.
	if v, _ := l.Load(ctx, "1"); v != "v:1" || len(f.batches) != 1 {
		t.Errorf("cached load = %q after %d batches", v, len(f.batches))
	}
}

// TestCountedLoadsGoWhenAllWait: while an operation is counted, the batch
// goes the moment every outstanding field waits, long before the ceiling.
func TestCountedLoadsGoWhenAllWait(t *testing.T) {
	var f fetches
	d := newDispatcher(time.Hour)
	l := newLoader(d, f.fetch)
	d.start(2)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Load(ctx, fmt.Sprint(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch was not sent when both fields waited")
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 2 {
		t.Errorf("batches %v, want one of 2 keys", f.batches)
	}
}

// TestPrimeAndErrors: a primed key is not fetched; a failed batch fails
// each of its keys, and a panicking fetch is an error, not a crash.
func TestPrimeAndErrors(t *testing.T) {
	ctx := context.Background()
	var f fetches
	l := newLoader(newDispatcher(time.Millisecond), f.fetch)
	l.Prime("p", "primed")
	if v, err := l.Load(ctx, "p"); v != "primed" || err != nil || len(f.batches) != 0 {
		t.Errorf("primed load = %q, %v after %d batches", v, err, len(f.batches))
	}
	boom := errors.New("boom")
	failing := newLoader(newDispatcher(time.Millisecond), func(context.Context, []string) ([]string, []error) { return nil, []error{boom} })
	if _, err := failing.LoadAll(ctx, []string{"a", "b"}); !errors.Is(err, boom) {
		t.Errorf("failed batch: %v, want boom", err)
	}
	panicking := newLoader(newDispatcher(time.Millisecond), func(context.Context, []string) ([]string, []error) { panic("bad") })
	if _, err := panicking.Load(ctx, "a"); err == nil {
		t.Error("a panicking fetch gave no error")
	}
}

// TestManyListsARecordOnceForEachKeyItHolds: a record that holds a key
// twice (a report whose author is its lead member) is listed once for it,
// whether the key is fetched alone or in a batch.
func TestManyListsARecordOnceForEachKeyItHolds(t *testing.T) {
	type report struct{ id, author, lead string }
	all := []report{{"r1", "p1", "p1"}, {"r2", "p1", "p2"}, {"r3", "p2", "p3"}}
	find := func(_ context.Context, keys []string) ([]report, error) {
		var out []report
		for _, r := range all {
			for _, k := range keys {
				if r.author == k || r.lead == k {
					out = append(out, r)
					break
				}
			}
		}
		return out, nil
	}
	fetch := many("Report by person", find, func(r report) []string { return []string{r.author, r.lead} })
	want := map[string]string{"p1": "[r1 r2]", "p2": "[r2 r3]", "p3": "[r3]", "p4": "[]"}
	ids := func(rs []report) string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.id)
		}
		return fmt.Sprint(out)
	}
	batch, _ := fetch(context.Background(), []string{"p1", "p2", "p3", "p4"})
	for i, k := range []string{"p1", "p2", "p3", "p4"} {
		alone, _ := fetch(context.Background(), []string{k})
		if got := ids(batch[i]); got != want[k] {
			t.Errorf("%s in a batch: %s, want %s", k, got, want[k])
		}
		if got := ids(alone[0]); got != want[k] {
			t.Errorf("%s alone: %s, want %s", k, got, want[k])
		}
	}
}
