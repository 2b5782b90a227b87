package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// benchRoot is where benchmark data sets live: BENCH_ROOT, default
// ../var/bench (ignored by git, like every embedded store's files).
func benchRoot() string {
	if d := os.Getenv("BENCH_ROOT"); d != "" {
		return d
	}
	return filepath.Join("..", "var", "bench")
}

// runsWay reports whether BenchmarkOps runs the way named: BENCH_WAYS, a
// comma-separated list of graphql, snapshot and driver, default all. Where
// graphql or driver is left out, the answers are not checked against the
// baseline first: at scale L each of the baseline's finds scans a
// collection of a hundred councils, minutes an operation.
func runsWay(way string) bool {
	ways := os.Getenv("BENCH_WAYS")
	return ways == "" || slices.Contains(strings.Split(ways, ","), way)
}
