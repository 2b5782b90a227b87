package telemetry

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// CommandMonitor measures every command the MongoDB driver sends: its
// duration by command, collection and outcome, and a client span, child of
// the span of the context the command was sent with (a loader batch, a
// resolver, the request). Spans carry the command, collection and database
// names only, never the command's documents.
//
// (opentelemetry-go-contrib's otelmongo does the same for the driver's v1;
// its v2 module is not served by the module proxy this project builds from.)
func (t *Telemetry) CommandMonitor() *event.CommandMonitor {
	var inflight sync.Map // request ID -> *command
	end := func(id int64, d time.Duration, err error, msg string) {
		v, ok := inflight.LoadAndDelete(id)
		if !ok {
			return
		}
		c := v.(*command)
		outcome := "ok"
		if err != nil || msg != "" {
			outcome = "error"
			c.span.SetStatus(codes.Error, msg)
		}
		t.m.commands.WithLabelValues(c.name, c.collection, outcome).Observe(d.Seconds())
		c.span.End()
	}
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			name := t.m.commandSeen.value(e.CommandName)
			coll := t.m.collectionSeen.value(collectionOf(e.CommandName, e.Command))
			spanName := name
			if coll != "none" {
				spanName = name + " " + coll
			}
			_, span := t.tracer.Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("db.system", "mongodb"),
				attribute.String("db.operation.name", name),
				attribute.String("db.collection.name", coll),
				attribute.String("db.namespace", e.DatabaseName),
				attribute.String("server.address", e.ConnectionID),
			))
			inflight.Store(e.RequestID, &command{name: name, collection: coll, span: span})
		},
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			end(e.RequestID, e.Duration, nil, "")
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			end(e.RequestID, e.Duration, e.Failure, e.Failure.Error())
		},
	}
}

type command struct {
	name, collection string
	span             trace.Span
}

// collectionOf reads the collection a command names: the value of its first
// element for the commands that work on one, "collection" for getMore.
func collectionOf(name string, cmd bson.Raw) string {
	if name == "getMore" {
		if v, err := cmd.LookupErr("collection"); err == nil {
			s, _ := v.StringValueOK()
			return s
		}
		return ""
	}
	els, err := cmd.Elements()
	if err != nil || len(els) == 0 || els[0].Key() != name {
		return ""
	}
	s, _ := els[0].Value().StringValueOK()
	return s
}

// ComposeMonitors returns a monitor that tells each of ms (nils skipped) of
// every event, in order.
func ComposeMonitors(ms ...*event.CommandMonitor) *event.CommandMonitor {
	var live []*event.CommandMonitor
	for _, m := range ms {
		if m != nil {
			live = append(live, m)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return &event.CommandMonitor{
		Started: func(ctx context.Context, e *event.CommandStartedEvent) {
			for _, m := range live {
				if m.Started != nil {
					m.Started(ctx, e)
				}
			}
		},
		Succeeded: func(ctx context.Context, e *event.CommandSucceededEvent) {
			for _, m := range live {
				if m.Succeeded != nil {
					m.Succeeded(ctx, e)
				}
			}
		},
		Failed: func(ctx context.Context, e *event.CommandFailedEvent) {
			for _, m := range live {
				if m.Failed != nil {
					m.Failed(ctx, e)
				}
			}
		},
	}
}
