package store

import (
	"context"
	"fmt"
	"sync/atomic"

	"councilgraph/apierr"
)

// ErrOverBudget is returned by a store read once a request has read more
// than its budget: the records decoded and the commands sent, together.
var ErrOverBudget = apierr.Errorf(apierr.BadUserInput, "the operation read more from the database than its cost admits")

// OverBudgetError says how large the budget was.
type OverBudgetError struct{ Budget int64 }

func (e *OverBudgetError) Error() string {
	return fmt.Sprintf("%v (%d records and commands); ask for fewer records or fewer levels", ErrOverBudget, e.Budget)
}

func (e *OverBudgetError) Unwrap() error { return ErrOverBudget }

// Budget is how much a request's reads may, in all, decode and send: past
// it they fail with ErrOverBudget. It holds an operation to the work its
// cost admitted, whatever the cost's reckoning missed.
type Budget struct {
	limit int64
	used  atomic.Int64
}

// NewBudget is a budget of n records and commands.
func NewBudget(n int) *Budget { return &Budget{limit: int64(n)} }

// WithBudget returns a context whose store reads may, in all, decode n
// records and send n commands.
func WithBudget(ctx context.Context, n int) context.Context {
	return derive(ctx, func(r *Request) { r.Budget = NewBudget(n) })
}

// spend takes n from the context's budget. It is the first thing every
// read does, so it also refuses to start one for a request whose deadline
// has passed or whose caller has gone: a loader's batch that fires late
// sends nothing.
func spend(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := RequestOf(ctx)
	if r == nil || r.Budget == nil {
		return nil
	}
	if b := r.Budget; b.used.Add(int64(n)) > b.limit {
		return &OverBudgetError{Budget: b.limit}
	}
	return nil
}
