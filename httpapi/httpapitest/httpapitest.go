// Package httpapitest builds the service's handler for tests and
// benchmarks as the service's main does: the store kept current (its
// generation watcher and snapshot started) before the handler is built.
package httpapitest

import (
	"log/slog"
	"net/http"

	"councilgraph/httpapi"
	"councilgraph/store"
)

// New starts what keeps s current, as configured in cfg, and returns
// httpapi.New's handler over it.
func New(s *store.Store, cfg httpapi.Config, log *slog.Logger) http.Handler {
	cfg = cfg.WithDefaults()
	s.KeepCurrent(cfg.GenerationPoll, cfg.SnapshotSize, log)
	return httpapi.New(s, cfg, log)
}
