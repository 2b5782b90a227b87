package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// SetShape makes s send its batches in shape sh whatever its server, so that
// each shape's commands and answers can be tested on the servers at hand.
func SetShape(s *Store, sh Shape) { s.shape = sh }

// HoldSnapshotBuilds keeps s from starting a snapshot build until the
// returned release is called, so that a test can read while the snapshot
// in hand is behind the store (as it is while a build runs) for as long as
// it needs to.
func HoldSnapshotBuilds(s *Store) (release func()) {
	x := &s.snap
	x.mu.Lock()
	x.retryAt = time.Now().Add(24 * time.Hour)
	x.mu.Unlock()
	return func() {
		x.mu.Lock()
		x.retryAt = time.Time{}
		x.mu.Unlock()
	}
}

// StoredDocuments reads every document of collection coll from the
// embedded store's file as a model's first build does, in the table's
// order, each as the bytes it would decode; false where s is not on an
// embedded server of this process.
func StoredDocuments(ctx context.Context, s *Store, coll string) ([]bson.Raw, bool, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return nil, ok, err
	}
	table, err := storedTableOf(ctx, db, coll)
	if table == "" || err != nil {
		return nil, true, err
	}
	var out []bson.Raw
	var cache schemaCache
	err = eachStoredText(ctx, db, table, func(text []byte) error {
		raw, err := appendSJSON(nil, text, &cache)
		out = append(out, raw)
		return err
	})
	return out, true, err
}

// StoredAsFerretDB turns the text FerretDB's SQLite backend stores for a
// document into the BSON its find sends, as a model's build does.
func StoredAsFerretDB(text []byte) (bson.Raw, error) {
	return appendSJSON(nil, text, &schemaCache{})
}

// LastChanges are the log's last entry as read from the embedded store's
// file (false where it is not read so) and as found by the server.
func LastChanges(ctx context.Context, s *Store) (stored int64, ok bool, found int64, err error) {
	if stored, ok, err = s.storedLastChange(ctx); err != nil {
		return
	}
	found, err = s.lastLogged(ctx)
	return
}

// StoredText is the text the embedded store's file holds for the document
// of collection coll whose _id is the string id.
func StoredText(ctx context.Context, s *Store, coll, id string) (string, error) {
	db, _, err := s.sqliteFile()
	if err != nil {
		return "", err
	}
	table, err := storedTableOf(ctx, db, coll)
	if err != nil {
		return "", err
	}
	var text string
	err = db.QueryRowContext(ctx, fmt.Sprintf(`SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->>'$._id' = ?`, table), id).Scan(&text)
	return text, err
}

// StoreText adds text to the table of collection coll in the embedded
// store's file, as FerretDB's SQLite backend keeps a document, past
// FerretDB.
func StoreText(ctx context.Context, s *Store, coll, text string) error {
	u := url.URL{Scheme: "file", Path: filepath.Join(s.sqliteDir, s.db.Name()+".sqlite"), RawQuery: "_pragma=busy_timeout(10000)"}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	table, err := storedTableOf(ctx, db, coll)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %q (_ferretdb_sjson) VALUES (?)`, table), text)
	return err
}

// BetweenLogReads has f run whenever a reader of s's change log has read
// the log and not yet the pending marks. Set it before s is read from.
func BetweenLogReads(s *Store, f func()) { s.betweenLogReads = f }

// LogEntries reads the change log's entries as entriesAfter does, from the
// embedded store's file (false where it cannot) and through the server,
// each entry as "number kind type id from→to time".
func LogEntries(ctx context.Context, s *Store, since, upTo int64, types []string, n int) (stored []string, ok bool, found []string, err error) {
	show := func(es []changeEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, fmt.Sprintf("%d %s %s %s %s→%s %s", e.Seq, e.Kind, e.Type, e.ID, e.From, e.To, e.At.Format(time.RFC3339Nano)))
		}
		return out
	}
	fromFile, ok, err := s.storedEntriesAfter(ctx, since, upTo, types, n)
	if err != nil {
		return nil, ok, nil, err
	}
	byFind, err := s.foundEntriesAfter(ctx, since, upTo, types, n)
	return show(fromFile), ok, show(byFind), err
}

// StoredByIDs reads the documents of collection coll with the given IDs
// from the embedded store's file, as a write's or a model's read by ID
// does; false where s is not on an embedded server of this process, or a
// document is not as FerretDB stores it.
func StoredByIDs(ctx context.Context, s *Store, coll string, ids []string) ([]bson.Raw, bool, error) {
	var out []bson.Raw
	ok, err := s.storedByIDs(ctx, coll, ids, func(d bson.Raw) error {
		out = append(out, slices.Clone(d))
		return nil
	})
	return out, ok, err
}

// StampsBothWays is FindStamps read from the embedded store's file and by
// FerretDB's find; ok false where s has no file to read.
func StampsBothWays(ctx context.Context, s *Store, coll string, ids []string, dataset string) (fromFile, found map[string]Stamp, ok bool, err error) {
	if fromFile, ok, err = s.storedStamps(ctx, coll, ids, dataset); !ok || err != nil {
		return nil, nil, ok, err
	}
	c, err := s.collNamed(coll)
	if err != nil {
		return nil, nil, true, err
	}
	found, err = foundStamps(ctx, c, ids, dataset)
	return fromFile, found, true, err
}

// HeldBothWays is CountHeld, with no model, read from the embedded store's
// file and by FerretDB's finds; ok false where s has no file to read.
func HeldBothWays(ctx context.Context, s *Store, dataset string) (fromFile, found map[string][3]int, ok bool, err error) {
	if !s.readsFile() {
		return nil, nil, false, nil
	}
	if fromFile, err = s.countHeld(ctx, nil, dataset, true); err != nil {
		return nil, nil, true, err
	}
	found, err = s.countHeld(ctx, nil, dataset, false)
	return fromFile, found, true, err
}

// StoredPlan is how SQLite would read the rows of collection coll that
// where selects from the embedded store's file: its EXPLAIN QUERY PLAN's
// details, one a line.
func StoredPlan(ctx context.Context, s *Store, coll, where string, args ...any) (string, error) {
	db, ok, err := s.sqliteFile()
	if !ok || err != nil {
		return "", fmt.Errorf("no file to read (%v)", err)
	}
	table, err := storedTableOf(ctx, db, coll)
	if table == "" || err != nil {
		return "", fmt.Errorf("no table of %s (%v)", coll, err)
	}
	rows, err := db.QueryContext(ctx, fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE %s`, table, where), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", err
		}
		plan = append(plan, detail)
	}
	return strings.Join(plan, "\n"), rows.Err()
}

// ByDatasetWhere and ByIDsWhere are the conditions the store's reads from
// the file select a data set's records and records by ID with.
const ByDatasetWhere = byDatasetWhere

func ByIDsWhere(ids []string) (string, []any) { c := byIDs(ids)[0]; return c.where, c.args }

func ByRefsWhere(field string, ids []string) (string, []any) {
	c := byRefs(field, ids)[0]
	return c.where, c.args
}

// ReferrersBothWays is Referrers read from the embedded store's file and
// by FerretDB's finds, each sorted; ok false where s has no file to read.
func ReferrersBothWays(ctx context.Context, s *Store, to *Kind, ids []string) (fromFile, found []Referrer, ok bool, err error) {
	if !s.readsFile() {
		return nil, nil, false, nil
	}
	sorted := func(rs []Referrer) []Referrer {
		slices.SortFunc(rs, func(a, b Referrer) int {
			return strings.Compare(a.ID+"\x00"+a.Field+"\x00"+a.To, b.ID+"\x00"+b.Field+"\x00"+b.To)
		})
		return slices.Compact(rs)
	}
	if fromFile, err = s.referrers(ctx, to, ids, true); err != nil {
		return nil, nil, true, err
	}
	found, err = s.referrers(ctx, to, ids, false)
	return sorted(fromFile), sorted(found), true, err
}
