package gen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"councilgraph/store"
)

// Write generates the set into st through store.Put, one call per council
// (and one for the shared records), stamping records with now. It returns
// how many records it wrote. One call per council keeps memory bounded by a
// council while Put looks up each collection's stored IDs (FindStamps, a
// scan of the collection) as few times as it can.
func Write(ctx context.Context, st *store.Store, cfg Config, now time.Time) (int, error) {
	n := 0
	err := Generate(cfg, func(docs []store.Doc) error {
		if err := st.Put(ctx, now, docs...); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		n += len(docs)
		return nil
	})
	return n, err
}

// WriteDir writes the set as data set files (one <collection>.yaml per
// collection, the format the importer reads) into dir, and returns how many
// records it wrote. It holds one collection's YAML at a time per council.
func WriteDir(dir string, cfg Config) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	n := 0
	err := Generate(cfg, func(docs []store.Doc) error {
		byColl := map[string][]store.Doc{}
		var order []string
		for _, d := range docs {
			c := store.CollectionOf(d)
			if _, ok := byColl[c]; !ok {
				order = append(order, c)
			}
			byColl[c] = append(byColl[c], d)
		}
		for _, c := range order {
			f := files[c]
			if f == nil {
				var err error
				if f, err = os.Create(filepath.Join(dir, c+".yaml")); err != nil {
					return err
				}
				files[c] = f
			}
			out, err := yaml.Marshal(byColl[c])
			if err != nil {
				return fmt.Errorf("encode %s: %w", c, err)
			}
			if _, err := f.Write(out); err != nil {
				return err
			}
			n += len(byColl[c])
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	for c, f := range files {
		if err := f.Close(); err != nil {
			return n, fmt.Errorf("write %s: %w", c, err)
		}
		delete(files, c)
	}
	return n, nil
}
