package store

// Reading the embedded store's tables without FerretDB.
//
// A model's first build reads every document of every collection. Through
// FerretDB, each document of the embedded store is read from SQLite,
// decoded from its stored JSON into FerretDB's values, projected, encoded
// as BSON and sent over the socket, all on one core per find: at a million
// records that was most of two minutes. A store of this process's embedded
// server knows where its SQLite file is (sqliteids.go), so it reads the
// tables itself: the same SELECT FerretDB sends for a find with no filter,
// each stored text turned into the bytes FerretDB would send (sjson.go),
// decoded as every other read's documents are. A table is read in ranges
// of its rows, in their order, on as many connections as there are cores.
//
// What it reads is what a find begun at the same moment would: each
// statement sees the rows committed when it starts, as FerretDB's would;
// a build reads its collections at different moments whichever way it
// reads them, and is filed under the generations read before it began
// (snapshot.go). A stored text it does not understand stops the direct
// read, and the kind is read through FerretDB instead.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// storedRows is how many rows one range of a table holds: enough that a
// range's statement costs little beside its rows, few enough that a large
// table keeps every core busy to its end.
const storedRows = 1 << 14

// sqliteFile is the SQLite file of the store's database on its embedded
// server, opened for reading only the first time it is asked for; false
// where the store is not on an embedded server of this process, FerretDB
// has made no file for the database (opening it would make one), or the
// store is closed.
func (s *Store) sqliteFile() (*sql.DB, bool, error) {
	if s.sqliteDir == "" {
		return nil, false, nil
	}
	s.sqliteMu.Lock()
	defer s.sqliteMu.Unlock()
	if s.sqlite != nil || s.sqliteClosed {
		return s.sqlite, s.sqlite != nil, nil
	}
	path := filepath.Join(s.sqliteDir, s.db.Name()+".sqlite")
	if _, err := os.Stat(path); err != nil {
		return nil, false, nil
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: "_pragma=busy_timeout(10000)&_pragma=query_only(1)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, false, fmt.Errorf("open the embedded store's file: %w", err)
	}
	// As many reads at a time as a build runs; an idle connection keeps
	// SQLite's page cache (2 MiB) and the schema it parsed.
	conns := runtime.GOMAXPROCS(0)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(time.Minute)
	s.sqlite = db
	return db, true, nil
}

// closeSQLiteFile closes the file sqliteFile opened, if any, for good.
func (s *Store) closeSQLiteFile() {
	s.sqliteMu.Lock()
	defer s.sqliteMu.Unlock()
	s.sqliteClosed = true
	if s.sqlite != nil {
		_ = s.sqlite.Close()
		s.sqlite = nil
	}
}

// storedTableOf is the table of collection coll; "" where it has none.
func storedTableOf(ctx context.Context, db *sql.DB, coll string) (string, error) {
	var table string
	err := db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = ?`, coll).Scan(&table)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the embedded store's tables: %w", err)
	}
	return table, nil
}

// storedLastChange is the last entry of the change log's block with the
// greatest _id, as LastChange's find would have it, read with SQLite's own
// JSON functions: FerretDB's SQLite backend sorts in Go, so that find
// decoded every block of the log (a thousand IDs each; 6 s of CPU at a
// million records). false where the store has no file, the log no block,
// or the block found is not as the log writes it (the find then answers).
func (s *Store) storedLastChange(ctx context.Context) (int64, bool, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return 0, false, err
	}
	table, err := storedTableOf(ctx, db, s.changes().Name())
	if table == "" || err != nil {
		return 0, false, err
	}
	// _id and last are stored as longs: JSON integers, which ->> gives as
	// SQLite's integers, ordered as numbers.
	q := fmt.Sprintf(`SELECT typeof(_ferretdb_sjson->>'$._id'), typeof(_ferretdb_sjson->>'$.last'), _ferretdb_sjson->>'$.last'
		FROM %q ORDER BY _ferretdb_sjson->>'$._id' DESC LIMIT 1`, table)
	var idType, lastType string
	var last sql.NullInt64
	err = db.QueryRowContext(ctx, q).Scan(&idType, &lastType, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find last change: %w", err)
	}
	if idType != "integer" || lastType != "integer" || !last.Valid {
		return 0, false, nil
	}
	return last.Int64, true, nil
}

// storedTable is one collection's table and the ranges of its rows.
type storedTable struct {
	name   string
	ranges [][2]int64 // [first, last] rowids, in order
}

// storedTables finds the table of each named collection and splits its
// rows into ranges; a collection with no table (none made yet) has none.
func storedTables(ctx context.Context, db *sql.DB, colls []string) (map[string]storedTable, error) {
	out := map[string]storedTable{}
	for _, c := range colls {
		table, err := storedTableOf(ctx, db, c)
		if err != nil {
			return nil, err
		}
		t := storedTable{name: table}
		if table == "" {
			out[c] = t
			continue
		}
		var lo, hi sql.NullInt64
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT min(rowid), max(rowid) FROM %q`, table)).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("read the embedded store's table %s: %w", table, err)
		}
		if lo.Valid {
			for first := lo.Int64; first <= hi.Int64; first += storedRows {
				t.ranges = append(t.ranges, [2]int64{first, min(first+storedRows-1, hi.Int64)})
			}
			// Rows inserted after this read are past the last range:
			// the last reaches to the end.
			t.ranges[len(t.ranges)-1][1] = 1<<63 - 1
		}
		out[c] = t
	}
	return out, nil
}

// eachStoredRange calls fn with each document of table whose rowid is in
// r, in order, as FerretDB would send it; cache holds the schemas parsed.
// fn may keep the document only by copying it.
func eachStoredRange(ctx context.Context, db *sql.DB, table string, r [2]int64, cache *schemaCache, fn func(bson.Raw) error) error {
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE rowid BETWEEN ? AND ?`, table), r[0], r[1])
	if err != nil {
		return fmt.Errorf("read the embedded store's table %s: %w", table, err)
	}
	defer rows.Close()
	var text sql.RawBytes
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return fmt.Errorf("read the embedded store's table %s: %w", table, err)
		}
		if buf, err = appendSJSON(buf[:0], text, cache); err != nil {
			return err
		}
		if err := fn(buf); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the embedded store's table %s: %w", table, err)
	}
	return nil
}

// readStored reads every record of each of ks from the embedded store's
// file into new collections, as readKind would with no filter: the
// kinds' tables in ranges of rows, parallel at a time. It returns the
// collections read, by collection name, and leaves out a kind whose
// stored documents it could not turn into FerretDB's, and every kind
// where the store has no file of its own (the caller reads those through
// FerretDB).
// total counts the bytes the build holds, and the read stops with
// errTooBig once it passes maxBytes.
func (s *Store) readStored(ctx context.Context, ks []*Kind, parallel int, total *atomic.Int64, maxBytes int64) (map[string]*snapColl, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return nil, err
	}
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.Collection
	}
	tables, err := storedTables(ctx, db, names)
	if err != nil {
		return nil, err
	}
	// One task a range; each range's records are kept apart and joined in
	// the table's order once every range is read.
	type task struct{ kind, rng int }
	var tasks []task
	chunks := make([][]*snapColl, len(ks))
	for i, k := range ks {
		chunks[i] = make([]*snapColl, len(tables[k.Collection].ranges))
		for r := range chunks[i] {
			tasks = append(tasks, task{i, r})
		}
	}
	failed := make([]atomic.Bool, len(ks))
	var next atomic.Int64
	errs := inParallel(ctx, parallel, parallel, func(ctx context.Context, _ int) error {
		cache := make([]schemaCache, len(ks))
		for {
			n := int(next.Add(1)) - 1
			if n >= len(tasks) {
				return nil
			}
			t := tasks[n]
			k := ks[t.kind]
			if failed[t.kind].Load() {
				continue
			}
			c := &snapColl{k: k}
			chunks[t.kind][t.rng] = c
			err := eachStoredRange(ctx, db, tables[k.Collection].name, tables[k.Collection].ranges[t.rng], &cache[t.kind], func(raw bson.Raw) error {
				return c.add(raw, total, maxBytes)
			})
			if errors.Is(err, errSJSON) {
				failed[t.kind].Store(true)
				continue
			}
			if err != nil {
				return err
			}
		}
	})
	if err := firstError(errs); err != nil {
		return nil, err
	}
	out := map[string]*snapColl{}
	var done []*snapColl
	for i, k := range ks {
		if failed[i].Load() {
			// What it held leaves the build's count: FerretDB reads it.
			for _, c := range chunks[i] {
				if c != nil {
					total.Add(-c.bytes)
				}
			}
			continue
		}
		c := &snapColl{k: k, db: s.coll(k)}
		for _, part := range chunks[i] {
			c.recs = append(c.recs, part.recs...)
			c.sizes = append(c.sizes, part.sizes...)
			c.bytes += part.bytes
		}
		out[k.Collection] = c
		done = append(done, c)
	}
	inParallel(ctx, len(done), parallel, func(_ context.Context, i int) error {
		done[i].mapRecords()
		return nil
	})
	return out, nil
}

// firstError is the first of errs that is not nil, preferring errTooBig
// and any error to a cancellation that followed it.
func firstError(errs []error) error {
	for _, err := range errs {
		if errors.Is(err, errTooBig) {
			return err
		}
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
