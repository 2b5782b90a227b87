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

type budgetKey struct{}

type budget struct {
	limit int64
	used  atomic.Int64
}

// WithBudget returns a context whose store reads may, in all, decode n
// records and send n commands; past that they fail with ErrOverBudget. It
// holds an operation to the work its cost admitted, whatever the cost's
// reckoning missed.
func WithBudget(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, budgetKey{}, &budget{limit: int64(n)})
}

// Spent is how much of the context's budget its reads have used (0 when
// it has none).
func Spent(ctx context.Context) int {
	if b, ok := ctx.Value(budgetKey{}).(*budget); ok {
		return int(b.used.Load())
	}
	return 0
}

// spend takes n from the context's budget. It is the first thing every
// read does, so it also refuses to start one for a request whose deadline
// has passed or whose caller has gone: a loader's batch that fires late
// sends nothing.
func spend(ctx context.Context, n int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return nil
	}
	if b.used.Add(int64(n)) > b.limit {
		return &OverBudgetError{Budget: b.limit}
	}
	return nil
}
