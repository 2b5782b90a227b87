package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/store"
)

// errExpired is a batch's error when the endpoint's cursor is older than
// the change log's retention.
var errExpired = errors.New("the change log no longer holds the changes after the endpoint's cursor")

// batch is one delivery: the changes after an endpoint's cursor up to
// end, as its client may see them.
type batch struct {
	// ID is the webhook-id: the endpoint, its replays and the range of
	// the change log the batch covers, so that a retry carries the same
	// ID and two batches of different changes never do (nor a replay).
	ID string
	// Body is what is posted.
	Body []byte
	// Changes is how many changes the body carries (0: none the client
	// may see; nothing is posted).
	Changes int
	// End is the last change log entry the batch covers.
	End int64
	// More says whether entries remain after End.
	More bool
}

// Payload is the body of every delivery, as the Standard Webhooks
// specification suggests: a type, a timestamp and the data, here the
// changes exactly as the change feed answers them (Query.changes), with
// the cursor to read on from.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		Changes     []json.RawMessage `json:"changes"`
		EndCursor   string            `json:"endCursor"`
		HasNextPage bool              `json:"hasNextPage"`
	} `json:"data"`
}

// PayloadType is the type of every delivery's payload.
const PayloadType = "councilgraph.changes"

// budget bounds what one batch may read, as MaxRecords bounds one answer.
const budget = 20_000

// build runs the change feed's operation as client c would, after e's
// cursor, and makes the batch; with a batch in flight (e.BatchEnd) it
// covers the same range. Visibility is the store's, as for the feed.
func (w *Worker) build(ctx context.Context, e *store.WebhookEndpoint, c *store.Client, now time.Time) (*batch, error) {
	vars := map[string]any{"since": graph.ChangeCursor(e.Cursor), "first": w.cfg.BatchSize}
	if len(e.Types) > 0 {
		vars["types"] = e.Types
	}
	if e.Council != "" {
		vars["council"] = e.Council
	}
	ctx = graph.Requests{Store: w.s, MaxRecords: budget}.New(ctx, "", auth.CallerFor(c))
	ctx = graphql.StartOperationTrace(ctx)
	oc, errs := w.exec.CreateOperationContext(ctx, &graphql.RawParams{Query: w.op, Variables: vars})
	if len(errs) > 0 {
		return nil, fmt.Errorf("build webhook batch: %v", errs)
	}
	handle, ctx := w.exec.DispatchOperation(ctx, oc)
	resp := handle(ctx)
	if resp == nil {
		return nil, errors.New("build webhook batch: no answer")
	}
	for _, err := range resp.Errors {
		if code, _ := err.Extensions["code"].(string); code == string(apierr.ChangesExpired) {
			return nil, errExpired
		}
	}
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("build webhook batch: %v", resp.Errors)
	}
	var page struct {
		Changes struct {
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node json.RawMessage }
		}
	}
	if err := json.Unmarshal(resp.Data, &page); err != nil {
		return nil, fmt.Errorf("build webhook batch: %w", err)
	}
	end, err := graph.ParseChangeCursor(page.Changes.PageInfo.EndCursor)
	if err != nil {
		return nil, fmt.Errorf("build webhook batch: end cursor: %w", err)
	}
	b := &batch{End: end, More: page.Changes.PageInfo.HasNextPage}
	if e.BatchEnd > e.Cursor && (end >= e.BatchEnd || !b.More) {
		// A retry: the same range as the first attempt.
		b.End, b.More = e.BatchEnd, b.More || end > e.BatchEnd
	}
	var p Payload
	p.Type, p.Timestamp = PayloadType, now.UTC().Truncate(time.Millisecond)
	p.Data.Changes = []json.RawMessage{}
	for _, edge := range page.Changes.Edges {
		var node map[string]json.RawMessage
		var cursor string
		if err := json.Unmarshal(edge.Node, &node); err != nil || json.Unmarshal(node["cursor"], &cursor) != nil {
			return nil, fmt.Errorf("build webhook batch: a change reads %s", edge.Node)
		}
		seq, err := graph.ParseChangeCursor(cursor)
		if err != nil {
			return nil, fmt.Errorf("build webhook batch: change cursor: %w", err)
		}
		if seq > b.End {
			continue
		}
		if node["record"], err = unalias(node["record"]); err != nil {
			return nil, fmt.Errorf("build webhook batch: %w", err)
		}
		raw, err := json.Marshal(node)
		if err != nil {
			return nil, fmt.Errorf("build webhook batch: %w", err)
		}
		p.Data.Changes = append(p.Data.Changes, raw)
	}
	p.Data.EndCursor, p.Data.HasNextPage = graph.ChangeCursor(b.End), b.More
	b.Changes = len(p.Data.Changes)
	b.ID = fmt.Sprintf("msg_%s_%d_%d_%d", strings.TrimPrefix(e.ID, "webhook:"), e.Replays, e.Cursor, b.End)
	if b.Body, err = json.Marshal(p); err != nil {
		return nil, fmt.Errorf("build webhook batch: %w", err)
	}
	return b, nil
}
