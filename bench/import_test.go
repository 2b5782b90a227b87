package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"councilgraph/bench/gen"
	"councilgraph/importer"
	"councilgraph/store"
)

// importCouncils is how many councils' records the import benchmark
// imports: BENCH_IMPORT_COUNCILS, default 11 (109,405 records: past
// 100,000, ten councils' worth, the size a shared partner graph reaches).
func importCouncils() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_IMPORT_COUNCILS")); err == nil && n > 0 {
		return n
	}
	return 11
}

// BenchmarkImport imports a generated data set from its files into a fresh
// database of a fresh embedded store, through importer.ImportFS: decoding,
// validation and the writes (new records are inserted). It reports records
// per second.
func BenchmarkImport(b *testing.B) {
	cfg := gen.Config{Seed: Seed, Councils: importCouncils()}
	files := filepath.Join(benchRoot(), "import-files-"+strconv.Itoa(cfg.Councils)+"-v"+strconv.Itoa(Version))
	if _, err := os.Stat(filepath.Join(files, "set.yaml")); err != nil {
		if _, err := gen.WriteDir(files, cfg); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	records := 0
	var elapsed time.Duration
	var stored int64
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dir := b.TempDir()
		emb, err := store.StartEmbedded(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(ctx, store.Options{URI: emb.URI(), Database: Database})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		sum, err := importer.ImportFS(ctx, st, os.DirFS(files), importer.Options{Dataset: "synthetic"})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		for _, c := range sum {
			records += c.Inserted
		}
		b.StopTimer()
		_ = st.Close(ctx)
		emb.Stop()
		stored += dirSize(b, dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(stored)/float64(b.N)/(1<<20), "MiB-stored/op")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}

// BenchmarkWrite compares ways of writing one council's records (9,954)
// into an empty database: store.Put (which looks up the stored IDs with
// FindStamps, then inserts the new records, as the importer does) against a
// bare InsertMany of the same prepared records, the floor.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	docs := gen.Council(Seed, 0)
	for _, way := range []string{"put", "insertMany"} {
		b.Run(way, func(b *testing.B) {
			emb, err := store.StartEmbedded(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer emb.Stop()
			records := 0
			var elapsed time.Duration
			for i := 0; b.Loop(); i++ {
				st, err := store.Open(ctx, store.Options{URI: emb.URI(), Database: "w" + strconv.Itoa(i)})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if way == "put" {
					err = st.Put(ctx, Now, docs...)
				} else {
					err = insertMany(ctx, st, docs)
				}
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				records += len(docs)
				_ = st.Close(ctx)
			}
			b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
		})
	}
}

// insertMany prepares docs as store.Put does and inserts them, 1000 to a
// batch, unordered.
func insertMany(ctx context.Context, st *store.Store, docs []store.Doc) error {
	byColl := map[string][]store.Doc{}
	for _, d := range docs {
		if d.Base().UpdatedAt.IsZero() {
			d.Base().UpdatedAt = Now
		}
		if err := store.Prepare(d); err != nil {
			return err
		}
		byColl[store.CollectionOf(d)] = append(byColl[store.CollectionOf(d)], d)
	}
	for name, list := range byColl {
		for start := 0; start < len(list); start += 1000 {
			if err := st.InsertDocs(ctx, name, list[start:min(start+1000, len(list))]); err != nil {
				return err
			}
		}
	}
	return nil
}

// dirSize is the size of the files under dir: the embedded store's
// database files once it has stopped.
func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
