// Command sets writes synthetic data sets (bench/gen) as folders the
// importer reads: by default one folder per council, each a data set of
// its own (set.yaml name synthetic-c007, councils [council:c007]) holding
// the council's records and the shared records it states, so that any one
// council imports alone (councilgraph import OUT/c007) or beside the
// others. The seed is the benchmarks' (bench.Seed), so the folders hold
// the records bench.Open's stores hold.
//
//	go run ./bench/gen/sets -scale L -out var/bench/sets-L
//	go run ./bench/gen/sets -scale L -council 7 -out var/bench/sets-L
//	go run ./bench/gen/sets -councils 11 -one -out var/bench/import-files-11
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"councilgraph/bench"
	"councilgraph/bench/gen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sets:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.String("scale", "S", "how many councils: S (1), M (10) or L (100)")
	councils := fs.Int("councils", 0, "how many councils, instead of -scale")
	council := fs.Int("council", -1, "write only this council's folder (0-based), of the -scale or -councils set")
	seed := fs.Uint64("seed", bench.Seed, "generator seed; the benchmarks' by default")
	out := fs.String("out", "", "where to write (default var/bench/sets-SCALE, or var/bench/sets-N with -councils)")
	one := fs.Bool("one", false, "write every council as one set, \"synthetic\", into -out itself")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	n, ok := gen.Scales[*scale]
	if !ok {
		return fmt.Errorf("-scale %q: want S, M or L", *scale)
	}
	name := *scale
	if *councils > 0 {
		n, name = *councils, fmt.Sprint(*councils)
	}
	if *council >= n {
		return fmt.Errorf("-council %d: the set has councils 0 to %d", *council, n-1)
	}
	if *one && *council >= 0 {
		return fmt.Errorf("-one writes every council; leave out -council")
	}
	dir := *out
	if dir == "" {
		dir = "var/bench/sets-" + name
	}
	cfg := gen.Config{Seed: *seed, Councils: n}
	if *one {
		records, err := gen.WriteDir(dir, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d councils' %d records as one set, synthetic, in %s\n", n, records, dir)
		return nil
	}
	var only func(int) bool
	if *council >= 0 {
		only = func(c int) bool { return c == *council }
	}
	dirs, records, err := gen.WriteSets(dir, cfg, only)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d set(s), %d records, in %s (%s", len(dirs), records, dir, dirs[0])
	if len(dirs) > 1 {
		fmt.Fprintf(stdout, " to %s", dirs[len(dirs)-1])
	}
	fmt.Fprintln(stdout, ")")
	return nil
}
