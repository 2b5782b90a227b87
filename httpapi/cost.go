package httpapi

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"go.mongodb.org/mongo-driver/v2/event"
)

// CostMonitor returns the MongoDB command monitor that counts each command
// against the GraphQL request it was sent for. Pass it as store.Options.Monitor
// when the service runs with Config.ExposeCost; commands sent outside a
// counted request (start-up, health checks) are not counted.
func CostMonitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		if c, ok := ctx.Value(costKey{}).(*roundTrips); ok {
			c.add(e)
		}
	}}
}

// Cost is the response extension behind Config.ExposeCost: each response
// carries extensions.cost, what the request cost the database:
//
//	"cost": {"mongoRoundTrips": 2, "mongoCommands": {"find organisations": 1, "find people": 1}}
//
// mongoRoundTrips counts every command sent (find, getMore, count,
// aggregate, ...); mongoCommands breaks them down by command and collection.
// The counts need CostMonitor on the store's client.
type Cost struct{}

var (
	_ graphql.HandlerExtension     = Cost{}
	_ graphql.OperationInterceptor = Cost{}
	_ graphql.ResponseInterceptor  = Cost{}
)

// ExtensionName names the extension.
func (Cost) ExtensionName() string { return "Cost" }

// Validate accepts any schema.
func (Cost) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation gives the operation its own counter.
func (Cost) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, costKey{}, &roundTrips{}))
}

// InterceptResponse adds the operation's counts to its response, once every
// resolver has run.
func (Cost) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	c, ok := ctx.Value(costKey{}).(*roundTrips)
	if !ok || resp == nil {
		return resp
	}
	if resp.Extensions == nil {
		resp.Extensions = map[string]any{}
	}
	resp.Extensions["cost"] = c.snapshot()
	return resp
}

type costKey struct{}

// roundTrips counts the commands one request sent. The driver calls the
// monitor from whichever goroutine ran the command, so it locks.
type roundTrips struct {
	mu       sync.Mutex
	total    int
	commands map[string]int
}

// CostReport is the value of extensions.cost.
type CostReport struct {
	// MongoRoundTrips is how many commands the request sent to MongoDB.
	MongoRoundTrips int `json:"mongoRoundTrips"`
	// MongoCommands counts them by command and collection, e.g.
	// "find people".
	MongoCommands map[string]int `json:"mongoCommands"`
}

func (c *roundTrips) add(e *event.CommandStartedEvent) {
	name := e.CommandName
	// Most commands name their collection as their first value; getMore
	// names it in "collection".
	if coll, ok := e.Command.Lookup(e.CommandName).StringValueOK(); ok {
		name += " " + coll
	} else if coll, ok := e.Command.Lookup("collection").StringValueOK(); ok {
		name += " " + coll
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commands == nil {
		c.commands = map[string]int{}
	}
	c.total++
	c.commands[name]++
}

func (c *roundTrips) snapshot() CostReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := CostReport{MongoRoundTrips: c.total, MongoCommands: make(map[string]int, len(c.commands))}
	for k, v := range c.commands {
		r.MongoCommands[k] = v
	}
	return r
}
