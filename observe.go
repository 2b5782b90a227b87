package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"councilgraph/health"
	"councilgraph/httpapi"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// observability is what serve adds so an operator can see inside it:
// metrics, traces and profiles (package telemetry), and the database
// watch behind /readyz and the gate that fails requests fast while the
// database is away (package health).
type observability struct {
	tel           *telemetry.Telemetry
	shutdownTrace func(context.Context) error
	log           *slog.Logger
}

// startObservability makes the telemetry: traces only when the OTEL_*
// variables ask for them.
func startObservability(ctx context.Context, getenv func(string) string, trusted *httpapi.Manifest, log *slog.Logger) (*observability, error) {
	tp, shutdown, err := telemetry.TracerFromEnv(ctx, getenv, "dev")
	if err != nil {
		return nil, err
	}
	if tp != nil {
		log.Info("sending traces over OTLP", "endpoint", envOr(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", getenv("OTEL_EXPORTER_OTLP_ENDPOINT")))
	}
	persisted := map[string]string{}
	if trusted != nil {
		for _, op := range trusted.Operations {
			persisted[op.ID] = op.Name
		}
	}
	return &observability{tel: telemetry.New(telemetry.Options{TracerProvider: tp, Persisted: persisted}), shutdownTrace: shutdown, log: log}, nil
}

// wire watches the store and plugs the telemetry and the watch into cfg.
// The watch runs until ctx ends.
func (o *observability) wire(ctx context.Context, s *store.Store, cfg *httpapi.Config) {
	checker := health.New(s.Check, o.log, health.Options{OnChange: o.tel.SetDatabaseUp})
	checker.CheckNow(ctx)
	o.tel.SetDatabaseUp(checker.Err() == nil)
	go checker.Run(ctx)
	cfg.Observe = o.tel.Middleware
	cfg.Extensions = append(cfg.Extensions, o.tel.Extension())
	cfg.Gate = checker.Gate
	cfg.Ready = checker.Ready
}

// serveDebug serves metrics and profiles on addr, unless it is empty; stop
// closes the listener, and bound is the address it listens on ("" for
// none).
func (o *observability) serveDebug(addr string) (stop func(), bound string, err error) {
	if addr == "" {
		return func() {}, "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("debug listener on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: o.tel.DebugHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.log.Error("debug listener", "error", err)
		}
	}()
	o.log.Info("debug listening", "addr", ln.Addr().String(), "metrics", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }, ln.Addr().String(), nil
}

// close flushes the spans not yet sent.
func (o *observability) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.shutdownTrace(ctx); err != nil {
		o.log.Warn("flushing traces", "error", err)
	}
}

// shutdown stops srv taking requests and waits for the running ones for at
// most bound; past it, it ends their contexts (abort) and gives them a
// second to answer before closing their connections.
func shutdown(srv *http.Server, bound time.Duration, abort context.CancelFunc, log *slog.Logger) error {
	sctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("requests still running after the drain bound; stopping them", "bound", bound.String())
		abort()
		time.Sleep(time.Second)
		err = srv.Close()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
