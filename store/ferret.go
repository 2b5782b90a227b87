package store

import (
	"context"
	"errors"
	"fmt"

	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FerretConfig says how to run a FerretDB server in this process.
type FerretConfig struct {
	// Handler is "sqlite" or "postgresql".
	Handler string
	// SQLiteURL is the directory URL of the sqlite handler (file:/dir/).
	SQLiteURL string
	// PostgreSQLURL is the database of the postgresql handler.
	PostgreSQLURL string
	// TCP is a TCP address to listen on ("127.0.0.1:0" picks a port).
	TCP string
	// Unix is the path of a Unix socket to listen on; it is made
	// readable and writable by its owner only.
	Unix string
	// Logger receives FerretDB's log; nil discards it.
	Logger *slog.Logger
	// StartTimeout bounds how long StartFerretDB waits for the server to
	// answer (default 10 s).
	StartTimeout time.Duration
}

// FerretServer is a FerretDB server running in this process.
type FerretServer struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartFerretDB starts FerretDB and returns once it answers a command that
// reaches its backend (listCollections), so that a server that cannot use its
// storage fails here, with FerretDB's own error, rather than at the first
// query. It is the one place councilgraph starts FerretDB: the embedded
// store, the tests' outage server and the benchmarks over PostgreSQL use it.
func StartFerretDB(ctx context.Context, c FerretConfig) (*FerretServer, error) {
	if c.StartTimeout == 0 {
		c.StartTimeout = 10 * time.Second
	}
	rec := &errorRecorder{}
	var h slog.Handler = rec
	if c.Logger != nil {
		h = teeHandler{rec, c.Logger.Handler()}
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: c.TCP, Unix: c.Unix},
		Logger:        slog.New(h),
		Handler:       c.Handler,
		SQLiteURL:     c.SQLiteURL,
		PostgreSQLURL: c.PostgreSQLURL,
	})
	if err != nil {
		return nil, fmt.Errorf("start FerretDB (%s): %w", c.Handler, err)
	}
	if c.Unix != "" {
		if err := chmodSocket(c.Unix); err != nil {
			return nil, fmt.Errorf("start FerretDB: %w", err)
		}
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &FerretServer{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(rctx)
	}()
	if c.TCP != "" {
		s.uri = f.MongoDBURI()
	} else {
		// FerretDB's own URI puts the socket path in the host unescaped;
		// the driver wants it percent-encoded.
		s.uri = "mongodb://" + url.PathEscape(c.Unix) + "/"
	}
	if err := s.await(ctx, c.StartTimeout, rec); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// await waits until the server answers listCollections, which reaches
// the backend (over PostgreSQL, a connection to it; on SQLite, the files
// FerretDB opened as it started). Not listDatabases: FerretDB reckons each
// database's size for it, on SQLite by reading every page of its file
// (1.8 GB, and seconds of CPU, at a million records) even for names only.
// When it does not answer, the error is the last one FerretDB logged, if
// any: that says why.
func (s *FerretServer) await(ctx context.Context, d time.Duration, rec *errorRecorder) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(s.uri).SetServerSelectionTimeout(d).SetRetryReads(false))
	if err != nil {
		return fmt.Errorf("start FerretDB: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	err = client.Database("admin").RunCommand(ctx, bson.D{{Key: "listCollections", Value: 1}, {Key: "nameOnly", Value: true}}).Err()
	if err == nil {
		return nil
	}
	if own := rec.last(); own != "" {
		return fmt.Errorf("start FerretDB: %s", own)
	}
	return fmt.Errorf("start FerretDB: it did not answer within %s: %w", d, err)
}

// URI is the server's connection string.
func (s *FerretServer) URI() string { return s.uri }

// Stop shuts the server down and waits until its listeners, connections
// and backend are closed.
func (s *FerretServer) Stop() {
	s.cancel()
	<-s.done
}

// errorRecorder keeps the last error FerretDB logged.
type errorRecorder struct {
	mu  sync.Mutex
	msg string
}

func (r *errorRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (r *errorRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "error" {
			fmt.Fprintf(&b, ": %v", a.Value)
		}
		return true
	})
	r.mu.Lock()
	r.msg = b.String()
	r.mu.Unlock()
	return nil
}

func (r *errorRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *errorRecorder) WithGroup(string) slog.Handler      { return r }

func (r *errorRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msg
}

// teeHandler sends records to both handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	if t.a.Enabled(ctx, r.Level) {
		errs = append(errs, t.a.Handle(ctx, r.Clone()))
	}
	if t.b.Enabled(ctx, r.Level) {
		errs = append(errs, t.b.Handle(ctx, r))
	}
	return errors.Join(errs...)
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
