// Command councilgraph serves one GraphQL graph over a council's published
// record, stored in MongoDB or, by default, an embedded FerretDB.
//
//	councilgraph [serve] [flags]   serve the graph (the default)
//	councilgraph import [flags] DIR  import a data set folder
//	councilgraph sync moderngov ...  synchronise a council from modern.gov
//	councilgraph keys ...          create, list and revoke API keys
//	councilgraph webhooks ...      add, list, remove and replay webhooks
//	councilgraph schema            print the GraphQL schema
package main

//go:generate go tool gqlgen generate

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/httpapi"
	"councilgraph/loaders"
	"councilgraph/schema"
	"councilgraph/store"
	"councilgraph/telemetry"
)

func main() {
	// Every file councilgraph makes (the embedded store's SQLite files
	// above all, which SQLite creates with the umask) is its user's alone.
	syscall.Umask(0o077)
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "councilgraph:", err)
		os.Exit(1)
	}
}

// run is the whole program: it reads its arguments and environment only from
// its parameters, so tests can run it as a user would.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args, getenv, stdout, stderr)
	case "keys":
		return keysCmd(ctx, args, getenv, stdout, stderr)
	case "sync":
		return syncCmd(ctx, args, getenv, stdout, stderr)
	case "webhooks":
		return webhooksCmd(ctx, args, getenv, stdout, stderr)
	case "schema":
		_, err := io.WriteString(stdout, schema.SDL)
		return err
	case "help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  councilgraph [serve] [flags]      serve the graph (default)
  councilgraph import [flags] DIR   import a data set folder
  councilgraph sync moderngov [flags]  synchronise a council from its modern.gov site
  councilgraph keys create|list|revoke  manage API keys
  councilgraph webhooks add|list|remove|replay|resume  manage webhooks
  councilgraph schema               print the GraphQL schema
Run a command with -h for its flags.
`

// dbConfig says which database to use.
type dbConfig struct {
	URI      string
	Database string
	DataDir  string
	// ConnectTimeout bounds the wait for the database at start.
	ConnectTimeout time.Duration
	// Monitor, when set, sees every command the store's client sends.
	Monitor *event.CommandMonitor
}

// dbFlags registers the database flags, defaulting from the environment.
func dbFlags(fs *flag.FlagSet, getenv func(string) string) *dbConfig {
	c := &dbConfig{}
	fs.StringVar(&c.URI, "mongodb-uri", getenv("MONGODB_URI"), "MongoDB connection string (env MONGODB_URI); empty starts the embedded store")
	fs.StringVar(&c.Database, "mongodb-database", envOr(getenv, "MONGODB_DATABASE", "councilgraph"), "database name (env MONGODB_DATABASE)")
	fs.StringVar(&c.DataDir, "data-dir", envOr(getenv, "DATA_DIR", "./var/db"), "where the embedded store keeps its files (env DATA_DIR)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 10*time.Second, "how long to wait at start for the database to answer")
	return c
}

// openForCommand opens the store for a command other than serve (import,
// keys, webhooks): shared with a running service, logging warnings and
// errors to stderr.
func openForCommand(ctx context.Context, c *dbConfig, stderr io.Writer) (*store.Store, func(), error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, _, closeStore, err := openStore(ctx, c, log, true)
	return s, closeStore, err
}

// openStore connects to the configured MongoDB, or starts the embedded store
// when none is configured. close releases both.
//
// With share, a data directory already served by a running councilgraph is
// reached through that process's store rather than opened twice; import and
// keys use this so they work while the service runs. The store still reads
// records from that server's file, as the process serving it does.
func openStore(ctx context.Context, c *dbConfig, log *slog.Logger, share bool) (s *store.Store, embedded bool, close func(), err error) {
	uri := c.URI
	var emb *store.Embedded
	var otherDir string
	if uri == "" {
		// FerretDB logs routine conditions (such as commands it does not
		// implement) as warnings; only its errors are worth a reader's time.
		flog := slog.New(&levelHandler{level: slog.LevelError, Handler: log.Handler()})
		emb, err = store.StartEmbedded(c.DataDir, flog.With("component", "ferretdb"))
		var inUse *store.InUseError
		switch {
		case share && errors.As(err, &inUse) && inUse.URI != "":
			log.Info("using the store of the councilgraph already serving this data dir", "data_dir", c.DataDir)
			uri, otherDir = inUse.URI, inUse.Dir
		case err != nil:
			return nil, false, nil, err
		default:
			uri = emb.URI()
			log.Info("using the embedded store (FerretDB on SQLite); set MONGODB_URI to use a MongoDB server instead", "data_dir", c.DataDir)
		}
	}
	s, err = store.Open(ctx, store.Options{URI: uri, Database: c.Database, Monitor: c.Monitor, ConnectTimeout: c.ConnectTimeout, EmbeddedDir: otherDir})
	if err != nil {
		if emb != nil {
			emb.Stop()
		}
		return nil, false, nil, err
	}
	return s, emb != nil, func() {
		_ = s.Close(context.Background())
		if emb != nil {
			emb.Stop()
		}
	}, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "ADDR", "127.0.0.1:8080"), "address to listen on (env ADDR)")
	origins := fs.String("cors-origins", getenv("CORS_ORIGINS"), "comma-separated origins allowed to call from a browser (env CORS_ORIGINS)")
	wait := fs.Duration("loader-wait", loaders.DefaultWait, "the longest a loader's batch waits for more keys; batches go as soon as their level is complete, this is only a ceiling")
	costDefault, _ := strconv.ParseBool(getenv("EXPOSE_COST"))
	exposeCost := fs.Bool("expose-cost", costDefault, "add extensions.cost (MongoDB round trips) and extensions.costLimit (the reckoned cost and the ceiling) to every response (env EXPOSE_COST)")
	timeout := fs.Duration("timeout", 10*time.Second, "longest a request may run, database queries included")
	maxDepth := fs.Int("max-depth", 12, "deepest nesting of selections an operation may have")
	rateAnon := fs.Float64("rate-limit", 20, "requests a second each anonymous address may make (bursts of twice as many; -1 for none)")
	rateKeyed := fs.Float64("rate-limit-key", 100, "requests a second each API client may make (bursts of twice as many; -1 for none)")
	introspection := fs.String("introspection", envOr(getenv, "INTROSPECTION", "on"), "who may introspect the schema: on, authenticated or off (env INTROSPECTION)")
	maxInFlight := fs.Int("max-in-flight", -1, "operations run at once, the rest queue within their deadline (default: 4 on the embedded store, no limit on MongoDB; 0 for no limit)")
	persistedOnly := fs.String("persisted-only", getenv("PERSISTED_ONLY"), "trusted-documents manifest: callers of the scopes it names run only its operations (env PERSISTED_ONLY)")
	rateAddr := fs.Float64("rate-limit-address", 50, "requests a second each address may make before any API key is looked up (bursts of twice as many; -1 for none)")
	perCaller := fs.Int("max-in-flight-per-caller", 0, "operations one address or API client may run at once (default: a quarter of --max-in-flight, at least 1, or 8)")
	proxies := fs.String("trusted-proxies", getenv("TRUSTED_PROXIES"), "comma-separated CIDR prefixes of proxies whose X-Forwarded-For names the caller (env TRUSTED_PROXIES)")
	cacheSize := fs.Int64("response-cache-size", httpapi.DefaultResponseCacheSize, "bytes of answers the response cache may hold (0 turns it off)")
	cacheMaxAge := fs.Duration("cache-max-age", time.Minute, "how long HTTP caches (a browser's, a CDN, a router's) may keep an anonymous query's answer, GET or POST (Cache-Control max-age)")
	snapSize := fs.Int64("snapshot-size", store.DefaultSnapshotSize, "bytes of documents kept in memory to answer reads from, per data generation; a larger data set is read from the database (0 turns it off)")
	genPoll := fs.Duration("generation-poll", store.DefaultGenerationPoll, "how often the data generation is read where the database has no change streams: the longest cached answers outlive a write by another process")
	debugAddr := fs.String("debug-addr", envOr(getenv, "DEBUG_ADDR", defaultDebugAddr), "address of the debug listener (metrics, profiles); keep it private; empty for none; when the default is taken, a free loopback port is used and logged (env DEBUG_ADDR)")
	drain := fs.Duration("drain-timeout", 12*time.Second, "longest shutdown waits for running requests")
	hooks := webhookFlags(fs)
	db := dbFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *exposeCost {
		db.Monitor = httpapi.CostMonitor()
	}
	cfg := httpapi.Config{
		CORSOrigins: splitList(*origins), LoaderWait: *wait, ExposeCost: *exposeCost,
		Timeout: *timeout, MaxDepth: *maxDepth, RateAnonymous: *rateAnon, RateKeyed: *rateKeyed,
		Introspection: *introspection, RateAddress: *rateAddr, MaxInFlightPerCaller: *perCaller,
		Sources:           stocktonSources(),
		ResponseCacheSize: *cacheSize, CacheMaxAge: *cacheMaxAge, GenerationPoll: *genPoll,
		SnapshotSize: *snapSize,
	}
	if *snapSize == 0 {
		cfg.SnapshotSize = -1
	}
	if *cacheSize == 0 {
		cfg.ResponseCacheSize = -1
	}
	if *cacheMaxAge == 0 {
		cfg.CacheMaxAge = -1
	}
	trusted, err := httpapi.ParseTrustedProxies(*proxies)
	if err != nil {
		return err
	}
	cfg.TrustedProxies = trusted
	if *persistedOnly != "" {
		m, err := httpapi.LoadManifest(*persistedOnly)
		if err != nil {
			return err
		}
		cfg.Trusted = m
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	obs, err := startObservability(ctx, getenv, cfg.Trusted, log)
	if err != nil {
		return err
	}
	defer obs.close()
	db.Monitor = telemetry.ComposeMonitors(obs.tel.CommandMonitor(), db.Monitor)
	s, embedded, closeStore, err := openStore(ctx, db, log, false)
	if err != nil {
		return err
	}
	defer closeStore()
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	obs.wire(watch, s, &cfg)
	stopDebug, debugBound, err := obs.serveDebug(*debugAddr)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) && !flagGiven(fs, getenv, "debug-addr", "DEBUG_ADDR") {
		// Another server on this machine has the default: this one's
		// metrics and profiles go on a free loopback port rather than
		// keeping the whole service from starting. An address the
		// operator chose is theirs to fix.
		log.Warn("the debug listener's default address is taken, perhaps by another server on this machine; using a free loopback port (see debug listening); set --debug-addr to choose one",
			"default", *debugAddr, "error", err.Error())
		stopDebug, debugBound, err = obs.serveDebug("127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	defer stopDebug()
	if err := seedIfEmpty(ctx, s, embedded, log); err != nil {
		return err
	}
	defer hooks.start(ctx, s, log)()

	cfg.MaxInFlight = *maxInFlight
	if cfg.MaxInFlight < 0 {
		cfg.MaxInFlight = 0
		if embedded {
			cfg.MaxInFlight = 4
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	// Requests' contexts end when a shutdown outlasts its bound, so that
	// whatever still runs stops.
	base, abort := context.WithCancel(context.Background())
	defer abort()
	registerDataMetrics(obs.tel.Registry(), s)
	if cfg.ResponseCacheSize > 0 {
		cfg.ResponseCache = httpapi.NewResponseCache(s, cfg.ResponseCacheSize, cfg.Introspection == "on")
		registerCacheMetrics(obs.tel.Registry(), cfg.ResponseCache)
	}
	// The generation keys the response cache and the store's model, and
	// is on /metrics: it is followed whether or not they are on.
	cfg = cfg.WithDefaults()
	s.KeepCurrent(cfg.GenerationPoll, cfg.SnapshotSize, log)
	srv := httpapi.NewServer(httpapi.New(s, cfg, log), cfg)
	srv.BaseContext = func(net.Listener) context.Context { return base }
	home := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "explorer", home+"/", "graphql", home+"/graphql", "indicators", home+"/indicators")
	printAddresses(stdout, home, debugBound)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests", "bound", drain.String())
	return shutdown(srv, *drain, abort, log)
}

// defaultDebugAddr is the debug listener's address unless one is given.
const defaultDebugAddr = "127.0.0.1:6060"

// flagGiven says whether the operator chose a flag's value, on the
// command line or in its environment variable.
func flagGiven(fs *flag.FlagSet, getenv func(string) string, name, env string) bool {
	given := getenv(env) != ""
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// levelHandler passes on only records at or above level.
type levelHandler struct {
	level slog.Level
	slog.Handler
}

func (h *levelHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{level: h.level, Handler: h.Handler.WithAttrs(as)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{level: h.level, Handler: h.Handler.WithGroup(name)}
}

// printAddresses tells the person who started the server, on stdout, where
// to go: the explorer, the API and the indicator pages on the public
// listener, and the debug listener's metrics, which should stay private.
// The JSON log on stderr holds the same addresses for machines.
func printAddresses(w io.Writer, home, debug string) {
	fmt.Fprintf(w, "councilgraph is serving:\n"+
		"  explorer    %s/\n"+
		"  GraphQL API %s/graphql\n"+
		"  indicators  %s/indicators\n", home, home, home)
	if debug != "" {
		fmt.Fprintf(w, "  metrics     http://%s/metrics  (debug listener, keep it private: --debug-addr \"\" turns it off)\n", debug)
	}
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}
