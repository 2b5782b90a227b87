package bench

import (
	"os"
	"path/filepath"
)

// benchRoot is where benchmark data sets live: BENCH_ROOT, default
// ../var/bench (ignored by git, like every embedded store's files).
func benchRoot() string {
	if d := os.Getenv("BENCH_ROOT"); d != "" {
		return d
	}
	return filepath.Join("..", "var", "bench")
}
