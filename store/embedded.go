package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is a FerretDB server running in this process on a loopback port,
// keeping its data in SQLite files under a directory. It is the default
// database when no MongoDB URI is configured.
type Embedded struct {
	uri  string
	stop context.CancelFunc
	done chan struct{}
}

// StartEmbedded starts FerretDB with its files under dir (created when
// missing). logger receives FerretDB's warnings and errors; nil discards them.
func StartEmbedded(dir string, logger *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("embedded store: create data dir: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	e.uri = f.MongoDBURI()
	return e, nil
}

// URI is the connection string of the embedded server.
func (e *Embedded) URI() string { return e.uri }

// Stop shuts the embedded server down and waits until its files are closed.
func (e *Embedded) Stop() {
	e.stop()
	<-e.done
}

func parseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	return u.Redacted(), nil
}
