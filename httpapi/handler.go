// Package httpapi owns the service's HTTP surface: the GraphQL endpoint with
// its transports and extensions, GraphiQL, health checks, CORS, body limits,
// request IDs and request logs.
package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/explorer"
	"councilgraph/export"
	"councilgraph/graph"
	"councilgraph/store"
	"councilgraph/telemetry"
)

// MaxBodyBytes is the largest request body the service reads.
const MaxBodyBytes = 1 << 20

// parserTokenLimit is the most tokens a document may have.
const parserTokenLimit = 15_000

// Config is what the HTTP layer needs to know.
type Config struct {
	// CORSOrigins are the origins browsers may call from; none by default.
	CORSOrigins []string
	// LoaderWait is the longest a loader's batch waits for more keys: a
	// ceiling, since batches go when their level is complete (loaders).
	LoaderWait time.Duration
	// ExposeCost adds extensions.cost (MongoDB round trips) to every
	// response, and extensions.costLimit (the operation's reckoned cost
	// and the caller's ceiling, see CostLimit) to every admitted
	// operation's; the store's client needs CostMonitor.
	ExposeCost bool
	// Timeout bounds each request, MongoDB queries included (default 10s).
	Timeout time.Duration
	// MaxDepth is the deepest selection nesting an operation may have
	// (default 12).
	MaxDepth int
	// RateAnonymous and RateKeyed are the requests a second each anonymous
	// address and each API client may make, with bursts of twice as many
	// (defaults 20 and 100; negative turns the limit off).
	RateAnonymous, RateKeyed float64
	// Introspection is who may introspect: "on" (default), "authenticated"
	// or "off".
	Introspection string
	// Trusted, when set, holds its scopes to its operations.
	Trusted *Manifest
	// APQCacheSize bounds the automatic persisted query cache (default 1000).
	APQCacheSize int
	// MaxInFlight is how many operations may run at once (0: no limit);
	// the rest queue within their deadline. Anonymous callers together may
	// use all but a quarter of them.
	MaxInFlight int
	// MaxInFlightPerCaller is how many operations one caller (an address,
	// or an API client) may run at once (default: a quarter of
	// MaxInFlight, at least one, or 8 with no MaxInFlight); twice as many
	// more may queue, and more are refused at once.
	MaxInFlightPerCaller int
	// RateAddress is the requests a second each address may make before
	// any key is looked up, with bursts of twice as many (default 50;
	// negative turns it off).
	RateAddress float64
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// caller's address.
	TrustedProxies []netip.Prefix
	// ReadTimeout bounds reading a whole request, body included (default
	// 15s): a body trickled slower loses its connection.
	ReadTimeout time.Duration
	// CostCeilings are the most one operation may cost, per scope
	// (default DefaultCostCeilings).
	CostCeilings map[string]int
	// Sources holds the published documents records cite, by file name,
	// for the explorer's line-numbered views at /sources; nil serves none.
	Sources fs.FS
	// MaxFields is the most fields an operation may select once its
	// fragments are expanded (default 5,000).
	MaxFields int
	// MaxRecords bounds what one operation may read, whatever its scope's
	// ceiling: records decoded and commands sent (default 20,000). It
	// bounds the memory one response takes.
	MaxRecords int
	// StatsMaxAge is how old the store's stats (the sizes costs are
	// reckoned from) may grow before they are read again (default 5m).
	StatsMaxAge time.Duration
	// ResponseCacheSize bounds the response cache, in bytes (default
	// DefaultResponseCacheSize; negative turns it off). See ResponseCache.
	ResponseCacheSize int64
	// ResponseCache, when set, is the cache to use (made by
	// NewResponseCache on the same store), so that its owner can read its
	// Stats, e.g. for metrics; ResponseCacheSize is then ignored.
	ResponseCache *ResponseCache
	// CacheMaxAge is the max-age of anonymous queries' answers, GET or POST (default 60s;
	// negative for 0).
	CacheMaxAge time.Duration
	// SnapshotSize is the most bytes of documents the store keeps in
	// memory to answer record reads from, per data generation (default
	// store.DefaultSnapshotSize; negative turns it off): a larger data set
	// is read from the database. The handler starts nothing: whoever
	// serves it passes this and GenerationPoll to store.KeepCurrent.
	SnapshotSize int64
	// GenerationPoll is how often the data generation is read where the
	// database offers no change stream (default
	// store.DefaultGenerationPoll): the longest a write
	// by another process (import, keys) leaves cached answers standing.
	// The handler's socket registry reads what the watcher has seen at
	// this interval.
	GenerationPoll time.Duration
	// SocketInitTimeout is how long a WebSocket may stay open without
	// sending connection_init before it is closed (default
	// DefaultSocketInitTimeout).
	SocketInitTimeout time.Duration

	// Observe, when set, wraps the GraphQL endpoint outermost (metrics and
	// traces); Extensions are added to the GraphQL server last.
	Observe    func(http.Handler) http.Handler
	Extensions []graphql.HandlerExtension
	// Gate, when set, wraps the GraphQL endpoint before identity and
	// limits, which may reach the database: it refuses requests while the
	// database is away.
	Gate func(http.Handler) http.Handler
	// Ready says whether the service can answer; /readyz is 503 while it
	// errs, and until the store's sizes for query costs are first read.
	// The default runs a cheap query within 2 s.
	Ready func(context.Context) error
}

// WithDefaults fills the zero fields of c.
func (c Config) WithDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxDepth == 0 {
		c.MaxDepth = 12
	}
	if c.RateAnonymous == 0 {
		c.RateAnonymous = 20
	}
	if c.RateKeyed == 0 {
		c.RateKeyed = 100
	}
	if c.Introspection == "" {
		c.Introspection = "on"
	}
	if c.APQCacheSize == 0 {
		c.APQCacheSize = 1000
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.MaxInFlightPerCaller == 0 {
		c.MaxInFlightPerCaller = 8
		if c.MaxInFlight > 0 {
			c.MaxInFlightPerCaller = max(1, c.MaxInFlight/4)
		}
	}
	if c.RateAddress == 0 {
		c.RateAddress = 50
	}
	if c.CostCeilings == nil {
		c.CostCeilings = DefaultCostCeilings()
	}
	if c.MaxFields == 0 {
		c.MaxFields = 5000
	}
	if c.MaxRecords == 0 {
		c.MaxRecords = 20_000
	}
	if c.ResponseCacheSize == 0 {
		c.ResponseCacheSize = DefaultResponseCacheSize
	}
	if c.CacheMaxAge == 0 {
		c.CacheMaxAge = time.Minute
	}
	c.CacheMaxAge = max(c.CacheMaxAge, 0)
	if c.SnapshotSize == 0 {
		c.SnapshotSize = store.DefaultSnapshotSize
	}
	if c.GenerationPoll <= 0 {
		c.GenerationPoll = store.DefaultGenerationPoll
	}
	if c.SocketInitTimeout <= 0 {
		c.SocketInitTimeout = DefaultSocketInitTimeout
	}
	if c.StatsMaxAge == 0 {
		c.StatsMaxAge = 5 * time.Minute
	}
	return c
}

// New builds the service's HTTP handler: GraphQL at /graphql, the
// explorer and the indicator pages at / (package explorer), downloads at
// /export (package export), and the health checks.
func New(s *store.Store, cfg Config, log *slog.Logger) http.Handler {
	cfg = cfg.WithDefaults()
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Store: s}})
	requests := graph.Requests{Store: s, LoaderWait: cfg.LoaderWait, MaxRecords: cfg.MaxRecords}
	gql := handler.New(schema)
	gql.AddTransport(transport.Options{})
	// Subscriptions (the change feed live): server-sent events, and
	// graphql-transport-ws or graphql-ws over WebSocket (same-origin only,
	// coder/websocket's default). A socket that does not initialise within
	// SocketInitTimeout is closed, so that idle sockets hold nothing.
	gql.AddTransport(transport.SSE{})
	gql.AddTransport(transport.Websocket{KeepAlivePingInterval: 15 * time.Second, InitTimeout: cfg.SocketInitTimeout,
		Implementation: socketAccepter{present: graph.ErrorPresenter(log, graph.Options{HideSuggestions: cfg.Introspection != "on"})}})
	gql.AddTransport(GraphQLHTTP{MaxAge: cfg.CacheMaxAge})
	// A subscription's events are resolved each in a request of its own
	// (graph.Requests.Again).
	gql.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if graphql.HasOperationContext(ctx) && graphql.GetOperationContext(ctx).Operation != nil && graphql.GetOperationContext(ctx).Operation.Operation == ast.Subscription {
			ctx = requests.Again(ctx)
		}
		return next(ctx)
	})
	coarse := newRateLimiter(cfg.RateAddress, cfg.RateAddress, addressOnly)
	limiter := newRateLimiter(cfg.RateAnonymous, cfg.RateKeyed, callerKey)
	inflight := newInFlight(cfg.MaxInFlight, cfg.MaxInFlightPerCaller)
	sockets := newSocketRegistry(s, cfg.GenerationPoll, log)
	// First, so that an operation on a WebSocket spends its rate before its
	// document is read, as a request does before its body is.
	gql.Use(socketLimits{coarse: coarse, limiter: limiter, inflight: inflight, timeout: cfg.Timeout,
		requests: requests})
	queries := lru.New[*ast.QueryDocument](1000)
	gql.SetQueryCache(queries)
	gql.SetParserTokenLimit(parserTokenLimit)
	gql.Use(Introspection{Mode: cfg.Introspection})
	gql.Use(extension.AutomaticPersistedQuery{Cache: newPersistedCache(cfg.APQCacheSize, cfg.Trusted)})
	if cfg.Trusted != nil {
		gql.Use(TrustedDocuments{Manifest: cfg.Trusted})
	}
	gql.Use(DepthLimit{Max: cfg.MaxDepth})
	stats := newStatsCache(s, log, cfg.StatsMaxAge)
	gql.Use(CostLimit{Schema: schema.Schema(), Ceilings: cfg.CostCeilings, MaxFields: cfg.MaxFields, MaxRecords: cfg.MaxRecords,
		TokenLimit: parserTokenLimit, Stats: stats, Cache: queries, Expose: cfg.ExposeCost})
	gql.Use(OperationLog{Log: log})
	if cfg.ExposeCost {
		gql.Use(Cost{})
	}
	for _, ext := range cfg.Extensions {
		gql.Use(ext)
	}
	var cache *ResponseCache
	if cache = cfg.ResponseCache; cache == nil && cfg.ResponseCacheSize > 0 {
		cache = NewResponseCache(s, cfg.ResponseCacheSize, cfg.Introspection == "on")
	}
	if cache != nil {
		gql.Use(cache)
	}
	// The subgraph schema routers compose from carries the cost
	// directives, reckoned with the stats the cost limit uses.
	graph.Configure(gql, log, graph.Options{HideSuggestions: cfg.Introspection != "on", ServiceStats: stats.get})

	cors := newCORS(cfg.CORSOrigins)
	// A request is made once its caller is known, named by the ID
	// withRequestLog gave it.
	beginWith := func(m graph.Requests) func(*http.Request, auth.Caller) context.Context {
		return func(r *http.Request, c auth.Caller) context.Context {
			return m.New(r.Context(), r.Header.Get("X-Request-Id"), c)
		}
	}
	begin := beginWith(requests)

	// A request to /graphql passes these in order, the first outermost:
	// identity and limits come before the body is read, so that a caller
	// who may not run anything costs no more than its headers, and the body
	// is read before an operation slot is taken, so that a slow sender
	// holds none. Observe (metrics, traces) sees every request, refusals
	// included; Gate refuses at once while the database is away, before
	// anything (a key lookup) waits on it.
	api := Chain(gql,
		optional(cfg.Observe),
		cors,
		optional(cfg.Gate),
		func(h http.Handler) http.Handler { return withCallerAddr(cfg.TrustedProxies, h) },
		coarse.middleware,
		func(h http.Handler) http.Handler { return auth.Middleware(s, log, begin, h) },
		limiter.middleware,
		limitBody,
		withKind,
		func(h http.Handler) http.Handler { return withDeadline(cfg.Timeout, h) },
		inflight.middleware,
		sockets.middleware,
	)
	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	// Downloads and source pages pass the same identity and rate limits as
	// the graph (a download or a page is one request against the caller's
	// rate); downloads bound how many stream at once themselves, in all and
	// per caller, so that none holds an operation slot. A download reads a
	// whole file's records, which no operation's budget would admit: its
	// request has none.
	beginDownload := beginWith(graph.Requests{Store: s, LoaderWait: cfg.LoaderWait})
	limited := func(h http.Handler) http.Handler {
		return Chain(h, cors,
			func(h http.Handler) http.Handler { return withCallerAddr(cfg.TrustedProxies, h) }, coarse.middleware,
			func(h http.Handler) http.Handler { return auth.Middleware(s, log, beginDownload, h) }, limiter.middleware)
	}
	downloadCaller := func(r *http.Request) string { k, _ := callerKey(r); return k }
	mux.Handle("GET /export/{file}", limited(export.New(s, export.Config{CallerKey: downloadCaller}, log)))
	pages := http.NewServeMux()
	explorer.Mount(pages, cfg.Sources)
	orNotFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := pages.Handler(r); pattern != "" {
			pages.ServeHTTP(w, r) // the explorer's pages, assets and sources
			return
		}
		apierr.Writef(w, apierr.NotFound, "no such path: %s; GraphQL is at /graphql", r.URL.Path)
	})
	mux.Handle("GET /sources/", limited(orNotFound))
	mux.Handle("/", orNotFound)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	ready := cfg.Ready
	if ready == nil {
		ready = func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			return s.Check(ctx)
		}
	}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			log.WarnContext(r.Context(), "not ready", "error", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		if !stats.loaded() {
			http.Error(w, "reading the store's sizes for query costs", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	return withRequestLog(log, cache, mux)
}

// newCORS is the service's cross-origin policy. The public record is
// public: a page on any origin may read it anonymously (Access-Control-
// Allow-Origin: *, without credentials, and without the headers that carry
// an API key). A page may send a key only from an origin listed in
// origins ("*" there lets any origin send one). Keys are not cookies, so no
// origin is ever sent Allow-Credentials.
func newCORS(origins []string) func(http.Handler) http.Handler {
	base := cors.Options{
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		ExposedHeaders: []string{"X-Request-Id", "ETag"},
		MaxAge:         600,
	}
	public := base
	public.AllowedOrigins = []string{"*"}
	public.AllowedHeaders = []string{"Content-Type", "Accept", "X-Request-Id", "If-None-Match"}
	keyed := base
	keyed.AllowedOrigins = origins
	keyed.AllowedHeaders = append(public.AllowedHeaders, "Authorization", "X-API-Key")
	pub, key := cors.New(public), cors.New(keyed)
	return func(next http.Handler) http.Handler {
		pubH, keyH := pub.Handler(next), key.Handler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" && (slices.Contains(origins, o) || slices.Contains(origins, "*")) {
				keyH.ServeHTTP(w, r)
				return
			}
			pubH.ServeHTTP(w, r)
		})
	}
}

// NewServer is the http.Server for h, with every timeout set: a header must
// arrive within 5 s and the whole request within cfg.ReadTimeout (a body
// trickled slower holds its connection no longer), the answer may take the request
// timeout and 5 s more, and an idle connection is closed after a minute.
func NewServer(h http.Handler, cfg Config) *http.Server {
	cfg = cfg.WithDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.Timeout + 5*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Chain wraps h in middleware, the first outermost: Chain(h, a, b) is
// a(b(h)).
func Chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// optional is mw, or no middleware when mw is nil.
func optional(mw func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	if mw == nil {
		return func(h http.Handler) http.Handler { return h }
	}
	return mw
}

// limitBody answers 413 to a request body over MaxBodyBytes, whether or not
// it declares its length.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			telemetry.Refused(r.Context(), "body_size")
			tooLarge(w)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				telemetry.Refused(r.Context(), "body_size")
				tooLarge(w)
				return
			}
			if err != nil {
				apierr.Writef(w, apierr.BadUserInput, "could not read the request body: %v", err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter) {
	apierr.Write(w, http.StatusRequestEntityTooLarge, apierr.New(apierr.BadUserInput, "request body is larger than 1 MiB"))
}

// withRequestLog gives each request an ID (X-Request-Id, the caller's
// when it is short and printable, otherwise generated; set on the request
// and its response) and logs one line when it ends, with what the
// response cache did (when one runs) and its counters.
func withRequestLog(log *slog.Logger, cache *ResponseCache, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(c rune) bool { return c < ' ' || c > '~' }) {
			id = graph.NewRequestID()
		}
		r.Header.Set("X-Request-Id", id)
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		ctx, note := withCacheNote(r.Context())
		next.ServeHTTP(rec, r.WithContext(ctx))
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", id}
		if cache != nil {
			st := cache.Stats()
			attrs = append(attrs, "cache", note.outcome, "cache_hits", st.Hits, "cache_misses", st.Misses,
				"cache_evictions", st.Evictions, "cache_bytes", st.Bytes)
		}
		log.InfoContext(r.Context(), "request", attrs...)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush passes a flush on, for event streams.
func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// Hijack passes a hijack on, for WebSockets.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
