package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// reimportGuard bounds a re-import far beyond what it takes on a loaded
// machine: it only stops a test that would otherwise hang.
const reimportGuard = 2 * time.Minute

// TestUnchangedReimportWritesNothing: importing the Stockton set again,
// unchanged, with its table of moved IDs (more than a thousand entries
// already stored), finishes and changes no record, as an import into a
// running service's store must.
func TestUnchangedReimportWritesNothing(t *testing.T) {
	s := storetest.New(t, nil)
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), reimportGuard)
		sum, err := importer.ImportFS(ctx, s, os.DirFS("../data/stockton"), importer.Options{Dataset: "stockton"})
		cancel()
		if err != nil {
			t.Fatalf("import %d of the Stockton set: %v", i+1, err)
		}
		if i == 1 && sum.Changed() != 0 {
			t.Errorf("the unchanged set changed %d records:\n%v", sum.Changed(), sum)
		}
	}
}
