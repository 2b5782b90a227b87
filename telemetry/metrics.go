package telemetry

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's own series.
type metrics struct {
	requests       *prometheus.HistogramVec
	inFlight       prometheus.Gauge
	queued         prometheus.Gauge
	refused        *prometheus.CounterVec
	graphqlErrors  *prometheus.CounterVec
	commands       *prometheus.HistogramVec
	batchSize      *prometheus.HistogramVec
	batchesPerReq  prometheus.Histogram
	dbUp           prometheus.Gauge
	collectionSeen *capped
	commandSeen    *capped
}

func newMetrics() metrics {
	return metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "councilgraph_http_request_duration_seconds",
			Help:    "Time to answer a GraphQL request, by operation, transport (GET or POST) and HTTP status; its _count is the number of requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "transport", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "councilgraph_http_requests_in_flight",
			Help: "GraphQL requests being handled, queued ones included.",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "councilgraph_http_requests_queued",
			Help: "GraphQL requests waiting for a slot to run in (--max-in-flight).",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "councilgraph_requests_refused_total",
			Help: "Requests refused by a limit, by limit: rate, caller_in_flight, body_size, queue_deadline, depth, fields, cost, persisted_only, database_unreachable.",
		}, []string{"limit"}),
		graphqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "councilgraph_graphql_errors_total",
			Help: "Errors in GraphQL responses, by extensions.code.",
		}, []string{"code"}),
		commands: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "councilgraph_mongodb_command_duration_seconds",
			Help:    "Time of each MongoDB command, by command, collection and outcome (ok or error); its _count is the number of commands.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"command", "collection", "outcome"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "councilgraph_loader_batch_keys",
			Help:    "Keys in each batch a dataloader fetches, by loader.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}, []string{"loader"}),
		batchesPerReq: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "councilgraph_loader_batches_per_request",
			Help:    "Dataloader batches each GraphQL request fetched.",
			Buckets: []float64{0, 1, 2, 4, 8, 16, 32, 64, 128},
		}),
		dbUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "councilgraph_database_up",
			Help: "1 while the database answers the readiness query, 0 while it does not.",
		}),
		collectionSeen: newCapped(64),
		commandSeen:    newCapped(64),
	}
}

func (m metrics) register(reg *prometheus.Registry) {
	reg.MustRegister(m.requests, m.inFlight, m.queued, m.refused, m.graphqlErrors,
		m.commands, m.batchSize, m.batchesPerReq, m.dbUp)
}

// capped admits at most n distinct label values; the rest become "other".
type capped struct {
	mu   sync.Mutex
	n    int
	seen map[string]bool
}

func newCapped(n int) *capped { return &capped{n: n, seen: map[string]bool{}} }

func (c *capped) value(v string) string {
	if v == "" {
		return "none"
	}
	if len(v) > 64 {
		return "other"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[v] {
		return v
	}
	if len(c.seen) >= c.n {
		return "other"
	}
	c.seen[v] = true
	return v
}
