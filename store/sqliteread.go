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
// decoded as every other read's documents are. Each table is read by one
// statement, as a find would be, and its texts are turned and decoded on
// as many cores as there are.
//
// What it reads is what a find begun at the same moment would: the
// statement sees the rows committed when it starts, as FerretDB's would.
// (Not ranges of rowids read apart: SQLite may number a table's rows
// anew, by VACUUM, between two statements.) A build reads its collections
// at different moments whichever way it reads them, and is filed under
// the generations read before it began (snapshot.go). A stored text it
// does not understand stops the direct read of its kind, which is read
// through FerretDB instead.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

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

// closeSQLiteFile closes the file sqliteFile opened, if any: for good, or
// to be opened again when next asked for (a dropped database's file is
// removed, and one made anew).
func (s *Store) closeSQLiteFile(forGood bool) {
	s.sqliteMu.Lock()
	defer s.sqliteMu.Unlock()
	s.sqliteClosed = s.sqliteClosed || forGood
	if s.sqlite != nil {
		_ = s.sqlite.Close()
		s.sqlite = nil
	}
}

// storedTable is the store's file and collection coll's table in it: a
// nil file where the store has none, "" where coll has no table.
func (s *Store) storedTable(ctx context.Context, coll string) (*sql.DB, string, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return nil, "", err
	}
	table, err := storedTableOf(ctx, db, coll)
	return db, table, err
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

// Records by ID, read from the file.
//
// FerretDB's SQLite backend passes SQLite a find's filter only where it
// is exactly one _id, and scans for any other: a write that names a
// thousand records, or a model taking them in, asked a thousand finds.
// The store asks SQLite for them itself, a thousand IDs a statement, by
// the same expression and the same JSON of each ID as FerretDB's lookup
// (and so by the index the store made for it).

// storedIDsAStatement is the most IDs one statement asks for, far below
// SQLite's limit on a statement's parameters.
const storedIDsAStatement = 1000

// storedCond is a condition on the rows of a collection's table, with its
// arguments.
type storedCond struct {
	where string
	args  []any
}

// byIDs is the conditions that select the records of ids (strings, as
// records' are), a thousand a statement.
func byIDs(ids []string) []storedCond {
	return inStatements(ids, func(id string) any {
		b, _ := json.Marshal(id) // a string always marshals
		return string(b)
	}, func(in string) string { return fmt.Sprintf(`_ferretdb_sjson->'$._id' IN (%s)`, in) })
}

// inStatements is the conditions that select what matches one of ids, a
// thousand a statement: where of each statement's list of placeholders
// ("?, ?"), arg of each ID.
func inStatements(ids []string, arg func(string) any, where func(in string) string) []storedCond {
	var conds []storedCond
	for start := 0; start < len(ids); start += storedIDsAStatement {
		part := ids[start:min(start+storedIDsAStatement, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = arg(id)
		}
		conds = append(conds, storedCond{where: where(strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")), args: args})
	}
	return conds
}

// storedWhere reads the stored documents of collection coll that each of
// conds selects, one statement each, as FerretDB's find would send them;
// false, with none read, where the store has no file or a document read
// is not as FerretDB stores it.
func (s *Store) storedWhere(ctx context.Context, coll string, conds []storedCond) ([]bson.Raw, bool, error) {
	db, table, err := s.storedTable(ctx, coll)
	if table == "" || err != nil {
		return nil, db != nil && err == nil, err // no table: no records
	}
	var texts [][]byte
	for _, c := range conds {
		q := fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE %s`, table, c.where)
		if err := eachRow(ctx, db, q, c.args, func(text []byte) error {
			texts = append(texts, bytes.Clone(text))
			return nil
		}); err != nil {
			return nil, false, fmt.Errorf("find %s: %w", coll, err)
		}
	}
	docs := make([]bson.Raw, len(texts))
	var cache schemaCache
	for i, text := range texts {
		if docs[i], err = appendSJSON(nil, text, &cache); err != nil {
			return nil, false, nil
		}
	}
	return docs, true, nil
}

// storedByIDs calls fn with each stored document of collection coll whose
// _id is one of ids, as FerretDB's find by _id would send it; false, with
// fn not called, as storedWhere. fn may keep the document only by copying
// it.
func (s *Store) storedByIDs(ctx context.Context, coll string, ids []string, fn func(bson.Raw) error) (bool, error) {
	docs, ok, err := s.storedWhere(ctx, coll, byIDs(ids))
	if !ok || err != nil {
		return ok, err
	}
	for _, d := range docs {
		if err := fn(d); err != nil {
			return true, err
		}
	}
	return true, nil
}

// readsFile reports whether the store reads records from its embedded
// server's file: by ID, whatever their number, at the cost of the records
// asked for.
func (s *Store) readsFile() bool {
	_, ok, err := s.sqliteFile()
	return ok && err == nil
}

// byDatasetWhere selects the records of the data set its one argument
// names, by the index on the same expression (sqliteids.go).
const byDatasetWhere = `_ferretdb_sjson->>'$.dataset' = ?`

// storedStamps is FindStamps read from the file: the records of ids by
// the _id index, and those of dataset by the data set's (sqliteids.go);
// false as storedWhere.
func (s *Store) storedStamps(ctx context.Context, coll string, ids []string, dataset string) (map[string]Stamp, bool, error) {
	out := map[string]Stamp{}
	add := func(conds []storedCond) (bool, error) {
		docs, ok, err := s.storedWhere(ctx, coll, conds)
		if !ok || err != nil {
			return ok, err
		}
		for _, d := range docs {
			var st Stamp
			if err := bson.Unmarshal(d, &st); err != nil {
				return true, fmt.Errorf("read the stamps of %s: %w", coll, err)
			}
			out[st.ID] = st
		}
		return true, nil
	}
	// The data set's records first, then only the IDs they leave: most of
	// an import's IDs are its own records, read once, not twice.
	if dataset != "" {
		if ok, err := add([]storedCond{{where: byDatasetWhere, args: []any{dataset}}}); !ok || err != nil {
			return nil, ok, err
		}
	}
	rest := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			rest = append(rest, id)
		}
	}
	if ok, err := add(byIDs(rest)); !ok || err != nil {
		return nil, ok, err
	}
	return out, true, nil
}

// storedHeld calls fn with the council and visibility of each record of
// collection coll that dataset holds, read by the data set's index: what
// CountHeld's find of them projects, without FerretDB decoding every
// document of the collection. False, with fn not called, where the store
// has no file.
func (s *Store) storedHeld(ctx context.Context, coll, dataset string, fn func(council, visibility string)) (bool, error) {
	db, table, err := s.storedTable(ctx, coll)
	if table == "" || err != nil {
		return db != nil && err == nil, err // no table: no records
	}
	q := fmt.Sprintf(`SELECT coalesce(_ferretdb_sjson->>'$.councilId', ''), coalesce(_ferretdb_sjson->>'$.visibility', '')
		FROM %q WHERE %s`, table, byDatasetWhere)
	rows, err := db.QueryContext(ctx, q, dataset)
	if err != nil {
		return false, fmt.Errorf("count %s: %w", coll, err)
	}
	defer rows.Close()
	for rows.Next() {
		var council, visibility string
		if err := rows.Scan(&council, &visibility); err != nil {
			return false, fmt.Errorf("count %s: %w", coll, err)
		}
		fn(council, visibility)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("count %s: %w", coll, err)
	}
	return true, nil
}

// storedReferring is the stored records of kind k whose reference field
// (one ID or a list) names one of ids, whole, each once, read from the
// file by statements SQLite answers itself (byRefs); false, with none
// read, where the store has no file, field is not a plain name or a
// document is not as FerretDB stores it.
func (s *Store) storedReferring(ctx context.Context, k *Kind, field string, ids []string) ([]Doc, bool, error) {
	if !plainField.MatchString(field) {
		return nil, false, nil
	}
	raws, ok, err := s.storedWhere(ctx, k.Collection, byRefs(field, ids))
	if !ok || err != nil {
		return nil, ok, err
	}
	seen := make(map[string]bool, len(raws))
	out := make([]Doc, 0, len(raws))
	for _, raw := range raws {
		d, err := decodeAs(k, raw)
		if err != nil {
			return nil, true, err
		}
		if id := d.Base().ID; !seen[id] {
			seen[id] = true
			out = append(out, d)
		}
	}
	return out, true, nil
}

// byRefs is the conditions that select the records whose reference field
// names one of ids, a thousand a statement: a field of one ID by its
// index (sqliteids.go), a list by its items (json_each), reading every
// row of the table, as lists are held only by kinds of few records.
func byRefs(field string, ids []string) []storedCond {
	where := func(in string) string { return fmt.Sprintf(`%s IN (%s)`, refExpr(field), in) }
	if (Ref{Field: field}).Many() {
		where = func(in string) string {
			return fmt.Sprintf(`EXISTS (SELECT 1 FROM json_each(_ferretdb_sjson, '$.%s') WHERE value IN (%s))`, field, in)
		}
	}
	return inStatements(ids, func(id string) any { return id }, where)
}

// refExpr is the expression of reference field, one ID, that its index
// and the statements reading by it share.
func refExpr(field string) string { return fmt.Sprintf(`_ferretdb_sjson->>'$.%s'`, field) }

// plainField is a stored field's name a statement may hold as it is.
var plainField = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*$`)

// The change log, read from the file.
//
// FerretDB's SQLite backend hands SQLite no filter but an _id, and sorts
// in Go: each read of the log decoded every block of it (a thousand IDs
// each), 0.6 s for the last entry and 5 s for a page of the feed at a
// million records. The store reads the log's table itself, by the index
// on each block's last entry that it makes (sqliteids.go): blocks do not
// overlap, so their order by last entry is their order by _id. _id and
// last are stored as longs, JSON integers, which ->> gives as SQLite's
// integers, ordered as numbers. A block not as the log writes it stops
// the read, and the find answers instead.

// storedLog is the change log's table in the store's file (storedTable).
func (s *Store) storedLog(ctx context.Context) (*sql.DB, string, error) {
	return s.storedTable(ctx, s.changes().Name())
}

// storedLastChange is the last entry of the change log's block with the
// greatest _id, as LastChange's find would have it; false where the store
// has no file, the log no block, or the block found is not as the log
// writes it.
func (s *Store) storedLastChange(ctx context.Context) (int64, bool, error) {
	db, table, err := s.storedLog(ctx)
	if table == "" || err != nil {
		return 0, false, err
	}
	q := fmt.Sprintf(`SELECT typeof(_ferretdb_sjson->>'$._id'), typeof(_ferretdb_sjson->>'$.last'), _ferretdb_sjson->>'$.last'
		FROM %q ORDER BY _ferretdb_sjson->>'$.last' DESC LIMIT 1`, table)
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

// storedEntriesAfter is entriesAfter read from the file; false where the
// store has no file, or a block read is not as the log writes it.
func (s *Store) storedEntriesAfter(ctx context.Context, since, upTo int64, types []string, n int) ([]changeEntry, bool, error) {
	db, table, err := s.storedLog(ctx)
	if table == "" || err != nil {
		return nil, false, err
	}
	q := fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->>'$.last' > ? ORDER BY _ferretdb_sjson->>'$.last'`, table)
	rows, err := db.QueryContext(ctx, q, since)
	if err != nil {
		return nil, false, fmt.Errorf("find changes: %w", err)
	}
	defer rows.Close()
	var out []changeEntry
	var cache schemaCache
	var text sql.RawBytes
	var raw []byte
	for len(out) < n && rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return nil, false, fmt.Errorf("find changes: %w", err)
		}
		if raw, err = appendSJSON(raw[:0], text, &cache); err != nil {
			return nil, false, nil
		}
		var b changeBlock
		if err := bson.Unmarshal(raw, &b); err != nil {
			return nil, false, nil
		}
		if b.First > upTo {
			break
		}
		if len(types) > 0 && !slices.Contains(types, b.Type) {
			continue
		}
		out = b.appendAfter(out, since, n)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("find changes: %w", err)
	}
	return out, true, nil
}

// eachStoredText calls fn with the stored text of each row of table, in
// the table's order, from one statement: what one find begun at the same
// moment would read. fn may keep the text only by copying it; an error
// from fn stops the read and is wrapped in the one returned.
func eachStoredText(ctx context.Context, db *sql.DB, table string, fn func([]byte) error) error {
	if err := eachRow(ctx, db, fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q`, table), nil, fn); err != nil {
		return fmt.Errorf("read the embedded store's table %s: %w", table, err)
	}
	return nil
}

// eachRow calls fn with the one column of each row query q selects, given
// args. fn may keep the text only by copying it; an error from fn stops
// the read and is returned.
func eachRow(ctx context.Context, db *sql.DB, q string, args []any, fn func([]byte) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var text sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&text); err != nil {
			return err
		}
		if err := fn(text); err != nil {
			return err
		}
	}
	return rows.Err()
}

// storedBatch is a run of one kind's stored texts, in its table's order,
// and the part of the kind's collection their records go to.
type storedBatch struct {
	kind  int
	texts []byte
	ends  []int
	part  *snapColl
}

// storedBatchRows is how many texts a batch holds: enough that handing
// one over costs nothing beside its records, few enough that a kind's
// last batch leaves the other cores little to wait for.
const storedBatchRows = 1 << 10

// errSkip stops the read of a kind that is to be read through FerretDB.
var errSkip = errors.New("read through FerretDB")

// readStored reads every record of each of ks from the embedded store's
// file into new collections, as readKind would with no filter. One
// goroutine reads the tables, one statement each, and hands their texts
// in batches to parallel others, which turn them into FerretDB's bytes and
// decode them; a kind's batches are joined in its table's order. It
// returns the collections read, by collection name, and leaves out a kind
// whose stored documents it could not turn into FerretDB's, and every kind
// where the store has no file of its own (the caller reads those through
// FerretDB). total counts the bytes the build holds, and the read stops
// with errTooBig once it passes maxBytes.
func (s *Store) readStored(ctx context.Context, ks []*Kind, parallel int, total *atomic.Int64, maxBytes int64) (map[string]*snapColl, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return nil, err
	}
	tables := make([]string, len(ks))
	for i, k := range ks {
		if tables[i], err = storedTableOf(ctx, db, k.Collection); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := make([][]*snapColl, len(ks))
	failed := make([]atomic.Bool, len(ks))
	batches := make(chan storedBatch, 2*parallel)
	free := make(chan []byte, 2*parallel+2)
	errs := make([]error, parallel+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(batches)
		for i, table := range tables {
			if table == "" {
				continue // no table yet: no records
			}
			b := storedBatch{kind: i}
			send := func() error {
				b.part = &snapColl{k: ks[i]}
				parts[i] = append(parts[i], b.part)
				select {
				case batches <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
				b = storedBatch{kind: i}
				select {
				case buf := <-free:
					b.texts = buf[:0]
				default:
				}
				return nil
			}
			err := eachStoredText(ctx, db, table, func(text []byte) error {
				if failed[i].Load() {
					return errSkip
				}
				b.texts = append(b.texts, text...)
				b.ends = append(b.ends, len(b.texts))
				if len(b.ends) == storedBatchRows {
					return send()
				}
				return nil
			})
			if err == nil && len(b.ends) > 0 {
				err = send()
			}
			if err != nil && !errors.Is(err, errSkip) {
				errs[parallel] = err
				cancel()
				return
			}
		}
	}()
	for w := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			caches := make([]schemaCache, len(ks))
			var buf []byte
			for b := range batches {
				if ctx.Err() != nil || failed[b.kind].Load() {
					continue
				}
				start := 0
				for _, end := range b.ends {
					var err error
					buf, err = appendSJSON(buf[:0], b.texts[start:end], &caches[b.kind])
					start = end
					if errors.Is(err, errSJSON) {
						failed[b.kind].Store(true)
						break
					}
					if err == nil {
						err = b.part.add(buf, total, maxBytes)
					}
					if err != nil {
						errs[w] = err
						cancel()
						break
					}
				}
				select {
				case free <- b.texts:
				default:
				}
			}
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	out := map[string]*snapColl{}
	var done []*snapColl
	for i, k := range ks {
		if failed[i].Load() {
			// What it held leaves the build's count: FerretDB reads it.
			for _, part := range parts[i] {
				total.Add(-part.bytes)
			}
			continue
		}
		c := &snapColl{k: k, db: s.coll(k)}
		for _, part := range parts[i] {
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
