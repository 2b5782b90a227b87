package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	"councilgraph/importer"
	"councilgraph/store"
)

// bundled is the Stockton data set and the published documents it cites,
// built into the binary so that a fresh embedded store starts with real
// data and every record's sources link to their lines (/sources).
//
//go:embed data/stockton/*.yaml data/stockton/sources/*.txt
var bundled embed.FS

// bundledDir is one folder of the bundled files.
func bundledDir(dir string) fs.FS {
	sub, err := fs.Sub(bundled, dir)
	if err != nil {
		panic(err) // the embed patterns guarantee the folders
	}
	return sub
}

// stocktonSet is the bundled Stockton data set (the importer passes over
// its sources folder, as it does any folder).
func stocktonSet() fs.FS { return bundledDir("data/stockton") }

// stocktonSources is the bundled Stockton documents, by file name.
func stocktonSources() fs.FS { return bundledDir("data/stockton/sources") }

func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: councilgraph import [flags] DIR")
		fs.PrintDefaults()
	}
	prune := fs.Bool("prune", false, "delete records of this data set that the files no longer hold")
	dryRun := fs.Bool("dry-run", false, "validate and report what would change, writing nothing")
	keepChanges := fs.Duration("keep-changes", store.DefaultChangeRetention, "how long the change log keeps its entries")
	db := dbFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import needs exactly one folder")
	}
	dir := fs.Arg(0)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	s, closeStore, err := openForCommand(ctx, db, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	summary, err := importer.ImportFS(ctx, s, os.DirFS(dir), importer.Options{
		RequireManifest: true, Prune: *prune, DryRun: *dryRun, Progress: stderr, KeepChanges: *keepChanges,
	})
	var problems importer.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		return fmt.Errorf("%s: %d problem(s); nothing was written", dir, len(problems))
	}
	if err != nil {
		return err
	}
	if *dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was written; this is what would change:")
	}
	summary.Write(stdout)
	return nil
}

// seedIfEmpty loads the bundled Stockton set into an empty embedded store,
// so that the first start shows real data.
func seedIfEmpty(ctx context.Context, s *store.Store, embedded bool, log *slog.Logger) error {
	if !embedded {
		return nil
	}
	empty, err := s.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	// Loading takes seconds (more on a busy machine) before the server
	// listens: say so, or a first start looks stuck.
	log.Info("the store is empty: loading the bundled Stockton data set, once")
	summary, err := importer.ImportFS(ctx, s, stocktonSet(), importer.Options{RequireManifest: true})
	if err != nil {
		return fmt.Errorf("load the bundled Stockton data set: %w", err)
	}
	log.Info("loaded the bundled Stockton data set into the empty store", "records", summary.Changed())
	return nil
}
