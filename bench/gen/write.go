package gen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"gopkg.in/yaml.v3"

	"councilgraph/store"
)

// batchSize is how many records Write hands store.Put at a time.
const batchSize = 5000

// Write generates the set into st through store.Put, batchSize records at a
// time, stamping records with now. It returns how many records it wrote.
func Write(ctx context.Context, st *store.Store, cfg Config, now time.Time) (int, error) {
	n := 0
	err := Generate(cfg, func(docs []store.Doc) error {
		for start := 0; start < len(docs); start += batchSize {
			batch := docs[start:min(start+batchSize, len(docs))]
			if err := st.Put(ctx, now, batch...); err != nil {
				return fmt.Errorf("generate: %w", err)
			}
			n += len(batch)
		}
		return nil
	})
	return n, err
}

// Insert generates the set into an empty database: each record is
// prepared by store.Prepare, exactly as store.Put prepares it, stamped with
// now, and inserted with unordered InsertMany, 1,000 to a batch. It is for
// the larger scales: store.Put's replace-one upserts slow down on FerretDB
// as a collection grows (see BENCHMARKS.md), while the documents are the
// same either way. It returns how many records it wrote.
func Insert(ctx context.Context, st *store.Store, cfg Config, now time.Time) (int, error) {
	n := 0
	stamp := now.UTC().Truncate(time.Millisecond)
	err := Generate(cfg, func(docs []store.Doc) error {
		byColl := map[string][]any{}
		var order []string
		for _, d := range docs {
			if d.Base().UpdatedAt.IsZero() {
				d.Base().UpdatedAt = stamp
			}
			if err := store.Prepare(d); err != nil {
				return err
			}
			c := store.CollectionOf(d)
			if _, ok := byColl[c]; !ok {
				order = append(order, c)
			}
			byColl[c] = append(byColl[c], d)
		}
		for _, c := range order {
			list := byColl[c]
			for start := 0; start < len(list); start += 1000 {
				batch := list[start:min(start+1000, len(list))]
				if _, err := st.Collection(c).InsertMany(ctx, batch, options.InsertMany().SetOrdered(false)); err != nil {
					return fmt.Errorf("generate: insert %s: %w", c, err)
				}
				n += len(batch)
			}
		}
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
