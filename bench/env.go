// Package bench measures councilgraph: benchmarks of the GraphQL operations
// front ends and partners run, each against a hand-written driver baseline
// that fetches the same data, on synthetic data sets made by bench/gen.
// The benchmarks live in its tests (go test -bench . ./bench); this file
// and its siblings hold what the benchmarks and the load tool share: the
// operations, the baselines and the database set-up.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"councilgraph/bench/gen"
	"councilgraph/store"
)

// Database is the database name the benchmarks use: the server's default,
// so that `councilgraph serve --data-dir DIR` serves a benchmark directory.
const Database = "councilgraph"

// markerCollection holds the generated set's marker in its database.
const markerCollection = "benchMarker"

// Seed is the generator seed every benchmark data set is made with.
const Seed = 20240601

// Now stamps the generated records' updatedAt, so that a set is the same
// whenever it is made.
var Now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// Version changes whenever the generator, the way it writes or the store's
// document shape changes, so that older data sets are made again (4: council-scoped IDs; 3: every
// scale written through store.Put).
const Version = 4

// Marker is what a data directory's generated.json holds once its data set
// is complete.
type Marker struct {
	Version  int     `json:"version"`
	Scale    string  `json:"scale"`
	Councils int     `json:"councils"`
	Seed     uint64  `json:"seed"`
	Records  int     `json:"records"`
	Seconds  float64 `json:"seconds"`
	Writer   string  `json:"writer"`
}

// Env is a database holding a generated set, opened with a command counter.
type Env struct {
	Store *store.Store
	// DB is the same database on a driver client of its own, for the
	// baselines, which read the collections directly.
	DB       *mongo.Database
	Councils int
	Marker   Marker
	// URI is the server's, for another client of the same database.
	URI      string
	commands atomic.Int64
	embedded *store.Embedded
	stop     func()
}

// Commands is the number of commands (round trips) sent so far.
func (e *Env) Commands() int64 { return e.commands.Load() }

// Close disconnects and stops the embedded server, if any.
func (e *Env) Close() {
	if e.DB != nil {
		_ = e.DB.Client().Disconnect(context.Background())
	}
	if e.Store != nil {
		_ = e.Store.Close(context.Background())
	}
	if e.embedded != nil {
		e.embedded.Stop()
	}
	if e.stop != nil {
		e.stop()
	}
}

// Open opens the set for scale (S, M or L) in the embedded store under dir
// (or at uri when it is not empty), generating it first when dir holds no
// complete set. log receives progress lines.
func Open(ctx context.Context, scale, dir, uri string, log func(string, ...any)) (*Env, error) {
	return open(ctx, scale, dir, uri, nil, log)
}

// OpenPostgreSQL is Open on FerretDB over the PostgreSQL database at pgURL,
// run in this process; dir only keeps the marker.
func OpenPostgreSQL(ctx context.Context, scale, dir, pgURL string, log func(string, ...any)) (*Env, error) {
	f, err := store.StartFerretDB(ctx, store.FerretConfig{Handler: "postgresql", PostgreSQLURL: pgURL, TCP: "127.0.0.1:0"})
	if err != nil {
		return nil, fmt.Errorf("ferretdb over postgresql: %w", err)
	}
	stop := f.Stop
	e, err := open(ctx, scale, dir, f.URI(), stop, log)
	if err != nil {
		stop()
	}
	return e, err
}

func open(ctx context.Context, scale, dir, uri string, stop func(), log func(string, ...any)) (*Env, error) {
	councils, ok := gen.Scales[scale]
	if !ok {
		return nil, fmt.Errorf("unknown scale %q: want S, M or L", scale)
	}
	e := &Env{Councils: councils, stop: stop}
	if uri == "" {
		emb, err := store.StartEmbedded(dir, nil)
		if err != nil {
			return nil, err
		}
		e.embedded, uri = emb, emb.URI()
	}
	e.URI = uri
	mon := &event.CommandMonitor{Started: func(context.Context, *event.CommandStartedEvent) { e.commands.Add(1) }}
	st, err := store.Open(ctx, store.Options{URI: uri, Database: Database, Monitor: mon})
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Store = st
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetMonitor(mon))
	if err != nil {
		e.Close()
		return nil, err
	}
	e.DB = client.Database(Database)
	markerPath := filepath.Join(dir, "generated.json")
	// The marker is kept in the database too: over PostgreSQL (or a
	// MongoDB URI) every scale's directory names the same database, which
	// holds whichever scale was generated last.
	marked := func(m Marker) bool {
		var held Marker
		err := e.DB.Collection(markerCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "marker"}}).Decode(&held)
		return err == nil && held == m
	}
	if b, err := os.ReadFile(markerPath); err == nil && json.Unmarshal(b, &e.Marker) == nil &&
		e.Marker.Councils == councils && e.Marker.Seed == Seed && e.Marker.Version == Version && marked(e.Marker) {
		return e, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		e.Close()
		return nil, err
	}
	log("generating scale %s (%d councils, %d records) into %s", scale, councils, gen.Config{Councils: councils}.Total(), dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.Close()
		return nil, err
	}
	if err := st.Drop(ctx); err != nil {
		e.Close()
		return nil, err
	}
	if err := st.EnsureIndexes(ctx); err != nil {
		e.Close()
		return nil, err
	}
	start := time.Now()
	// Every scale is written through store.Put, as tests and the importer
	// write (Put inserts new records; see BENCHMARKS.md for its rate).
	const how = "store.Put"
	n, err := gen.Write(ctx, st, gen.Config{Seed: Seed, Councils: councils}, Now)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Marker = Marker{Version: Version, Scale: scale, Councils: councils, Seed: Seed, Records: n, Seconds: time.Since(start).Seconds(), Writer: how}
	log("generated %d records in %.0f s (%.0f records/s) through %s", n, e.Marker.Seconds, float64(n)/e.Marker.Seconds, how)
	if _, err := e.DB.Collection(markerCollection).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "marker"}}, e.Marker, options.Replace().SetUpsert(true)); err != nil {
		e.Close()
		return nil, err
	}
	b, _ := json.MarshalIndent(e.Marker, "", "  ")
	if err := os.WriteFile(markerPath, b, 0o644); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}
