package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Embedded is a FerretDB server running in this process, keeping its data in
// SQLite files under a directory. It is the default database when no MongoDB
// URI is configured.
//
// It listens only on a Unix socket (ferretdb.sock in the directory), and the
// directory, the socket and the files in it are its owner's alone (0700 and
// 0600): FerretDB asks no credentials, so the file system is what keeps
// other local users out.
//
// One process at a time serves a directory: it holds a lock on the
// directory's LOCK file and writes its address to ADDR, so that other
// commands (import, keys) run by the same user talk to the running server
// instead of opening the same files a second time.
type Embedded struct {
	srv  *FerretServer
	dir  string
	lock *os.File
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
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: create data dir: %w", err)
	}
	if err := private(abs); err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(abs, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		addr, _ := os.ReadFile(filepath.Join(abs, "ADDR"))
		return nil, &InUseError{Dir: abs, URI: strings.TrimSpace(string(addr))}
	}
	sock, err := socketPath(abs)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	_ = os.Remove(sock) // left by a process that was killed; the lock says none runs
	srv, err := StartFerretDB(context.Background(), FerretConfig{
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: abs + "/"}).String(),
		Unix:      sock,
		Logger:    logger,
	})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("embedded store in %s: %w", abs, err)
	}
	e := &Embedded{srv: srv, dir: abs, lock: lock}
	// SQLite makes its files with the process's umask; the directory is
	// private already, and the files are made so as well.
	if err := private(abs); err != nil {
		e.Stop()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	if err := os.WriteFile(filepath.Join(abs, "ADDR"), []byte(e.URI()+"\n"), 0o600); err != nil {
		e.Stop()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	embeddedDirs.Store(e.URI(), abs)
	return e, nil
}

// private makes dir 0700 and every file in it 0600.
func private(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if en.Type().IsRegular() || en.Type()&os.ModeSocket != 0 {
			if err := os.Chmod(filepath.Join(dir, en.Name()), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxSocketPath is the longest Unix socket path Linux accepts, less its
// terminating NUL.
const maxSocketPath = 107

// socketPath is where the server of dir listens: ferretdb.sock in dir, or,
// when that path is too long for a socket, in a private directory of the
// system's temporary directory named after dir.
func socketPath(dir string) (string, error) {
	p := filepath.Join(dir, "ferretdb.sock")
	if len(p) <= maxSocketPath {
		return p, nil
	}
	sum := sha256.Sum256([]byte(dir))
	short := filepath.Join(os.TempDir(), "councilgraph-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(short, 0o700); err != nil {
		return "", err
	}
	if err := os.Chmod(short, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(short, "ferretdb.sock"), nil
}

func chmodSocket(path string) error { return os.Chmod(path, 0o600) }

// URI is the connection string of the embedded server.
func (e *Embedded) URI() string { return e.srv.URI() + "?maxPoolSize=" + strconv.Itoa(embeddedPool) }

// Dir is the directory of the server's files.
func (e *Embedded) Dir() string { return e.dir }

// embeddedPool is the most connections a client keeps to the embedded
// store. Each command FerretDB serves holds one SQLite connection, each
// with its own page cache (2 MiB) outside Go's heap, and FerretDB keeps up
// to 100 open: with the driver's default pool of 100, a busy server's
// memory crept up for minutes as concurrent finds opened more (13 % in a
// four-minute soak). Eight commands at a time already outrun two cores'
// worth of SQLite scanning.
const embeddedPool = 8

// Stop shuts the embedded server down, waits until its files are closed and
// releases the directory.
func (e *Embedded) Stop() {
	embeddedDirs.Delete(e.URI())
	e.srv.Stop()
	_ = os.Remove(filepath.Join(e.dir, "ADDR"))
	_ = e.lock.Close()
}
