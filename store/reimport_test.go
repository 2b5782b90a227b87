package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"councilgraph/importer"
	"councilgraph/importer/importertest"
)

// reimportGuard bounds a re-import far beyond what it takes on a loaded
// machine: it only stops a test that would otherwise hang.
const reimportGuard = 2 * time.Minute

// TestUnchangedReimportWritesNothing: importing the Stockton set again,
// unchanged, with its table of moved IDs (more than a thousand entries
// already stored), over a copy of a database it was imported into,
// finishes and changes no record, as an import into a running service's
// store must.
func TestUnchangedReimportWritesNothing(t *testing.T) {
	t.Parallel()
	s := importertest.StocktonCopy(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), reimportGuard)
	defer cancel()
	sum, err := importer.ImportFS(ctx, s, os.DirFS("../data/stockton"), importer.Options{Dataset: "stockton"})
	if err != nil {
		t.Fatalf("import the Stockton set again: %v", err)
	}
	if sum.Changed() != 0 {
		t.Errorf("the unchanged set changed %d records:\n%v", sum.Changed(), sum)
	}
}
