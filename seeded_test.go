package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// seeded is a data dir, made once per test binary, holding what serve's
// first start leaves in an empty one: the embedded store's files with the
// bundled Stockton set loaded. Loading the set costs seconds of CPU; the
// tests whose subject is not that first load (TestRunServesAndShutsDown's
// is) start from a copy of this dir instead.
var seeded struct {
	once sync.Once
	dir  string
	err  error
}

// seededDataDir is a data dir of t's own (removed when t ends) holding a
// copy of the seeded one: serve, import and keys find the Stockton set
// loaded in database councilgraph, and serve loads nothing.
func seededDataDir(t *testing.T) string {
	t.Helper()
	seeded.once.Do(func() {
		if seeded.dir, seeded.err = os.MkdirTemp("", "councilgraph-seeded-"); seeded.err == nil {
			seeded.err = seed(seeded.dir)
		}
	})
	if seeded.err != nil {
		t.Fatalf("seed a data dir: %v", seeded.err)
	}
	dir := t.TempDir()
	if err := copyStoreFiles(dir, seeded.dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// seed starts the embedded store in dir as serve does, loads the bundled
// set into it as serve's first start does, and stops the store, which
// closes its files.
func seed(dir string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	c := dbFlags(fs, func(string) string { return "" })
	if err := fs.Parse([]string{"--data-dir", dir}); err != nil {
		return err
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, embedded, closeStore, err := openStore(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer closeStore()
	if !embedded {
		return fmt.Errorf("%s: not the embedded store", dir)
	}
	return seedIfEmpty(ctx, s, embedded, log)
}

// copyStoreFiles copies the regular files of a stopped embedded store's
// dir from into dir to, but its lock (each process makes its own).
func copyStoreFiles(to, from string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if !en.Type().IsRegular() || en.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, en.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, en.Name()), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
