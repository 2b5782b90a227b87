package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Embedded is a FerretDB server running in this process on a loopback port,
// keeping its data in SQLite files under a directory. It is the default
// database when no MongoDB URI is configured.
//
// One process at a time serves a directory: it holds a lock on the
// directory's LOCK file and writes its address to ADDR, so that other
// commands (import, keys) talk to the running server instead of opening the
// same files a second time.
type Embedded struct {
	uri  string
	dir  string
	lock *os.File
	stop context.CancelFunc
	done chan struct{}
}

// ErrInUse says another process serves the directory; InUseError carries its
// address.
var ErrInUse = errors.New("the embedded store's directory is in use by another process")

// InUseError is returned by StartEmbedded when another process holds dir.
type InUseError struct {
	Dir string
	// URI is the running server's address, "" when it could not be read.
	URI string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("%s is in use by another councilgraph process (its store answers at %s); stop it or choose another --data-dir", e.Dir, e.URI)
}

func (e *InUseError) Unwrap() error { return ErrInUse }

// StartEmbedded starts FerretDB with its files under dir (created when
// missing). logger receives FerretDB's log; nil discards it. When another
// process already serves dir it returns an *InUseError.
func StartEmbedded(dir string, logger *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("embedded store: create data dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(abs, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		addr, _ := os.ReadFile(filepath.Join(abs, "ADDR"))
		return nil, &InUseError{Dir: abs, URI: strings.TrimSpace(string(addr))}
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
		lock.Close()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{dir: abs, lock: lock, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	e.uri = f.MongoDBURI()
	if err := os.WriteFile(filepath.Join(abs, "ADDR"), []byte(e.uri+"\n"), 0o644); err != nil {
		e.Stop()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	return e, nil
}

// URI is the connection string of the embedded server.
func (e *Embedded) URI() string { return e.uri }

// Stop shuts the embedded server down, waits until its files are closed and
// releases the directory.
func (e *Embedded) Stop() {
	e.stop()
	<-e.done
	_ = os.Remove(filepath.Join(e.dir, "ADDR"))
	_ = e.lock.Close()
}
