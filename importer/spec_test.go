package importer

import (
	"testing"

	"councilgraph/store"
)

// TestChecksNameKinds fails on a check for a kind the store does not have,
// which would never run.
func TestChecksNameKinds(t *testing.T) {
	t.Parallel()
	for name := range checks {
		if k := store.KindNamed(name); k == nil || k.Name != name {
			t.Errorf("checks has %s, which is not a kind in the store's table", name)
		}
	}
	for _, k := range store.Kinds() {
		if kindOfFile(k.Collection) != k {
			t.Errorf("kind %s: file %s.yaml does not lead back to it", k.Name, k.Collection)
		}
	}
}
