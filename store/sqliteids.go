package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses
)

// An index FerretDB's SQLite backend does not make.
//
// FerretDB 1.24 keeps each collection in a SQLite table, one JSON document
// a row, and sends a find, update or delete whose filter is exactly
// {_id: <string>} to SQLite as WHERE _ferretdb_sjson->'$._id' = ?. The
// unique index it makes for _id is on _ferretdb_sjson->"_id", an
// expression SQLite's planner does not take for the same one, so each of
// those statements scans the table: 20 ms a lookup in a collection of
// 6,000 meetings, and an import's replace of each record (a lookup, then
// an update) two scans. The embedded store therefore adds, to each table,
// an index on the expression the statements use (13 µs a lookup, measured
// in the same table). FerretDB neither lists nor drops it, except with its
// table. A store opened on an embedded server of this process does this
// once it has made its collections; it also indexes each record table by
// the data set holding a record and by each reference field of one ID,
// and its change log by the number of each block's last entry. A
// collection made later (a small one, as the webhooks') is indexed when a
// store next opens.

// embeddedDirs maps the URI of each embedded server this process runs to
// its directory.
var embeddedDirs sync.Map

// idIndexPrefix names the indexes: FerretDB's own are named after their
// table, whose name starts with a letter, or with "__" where the
// collection's would take its reserved prefix.
const idIndexPrefix = "_id_lookup_"

// indexSQLiteIDs adds the _id lookup index to every table of database db
// of the embedded server in dir that lacks it.
func indexSQLiteIDs(ctx context.Context, dir, db string) error {
	u := url.URL{Scheme: "file", Path: filepath.Join(dir, db+".sqlite"), RawQuery: "_pragma=busy_timeout(10000)"}
	conn, err := sql.Open("sqlite", u.String())
	if err != nil {
		return fmt.Errorf("index the embedded store's IDs: %w", err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, `SELECT name, table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("index the embedded store's IDs: %w", err)
	}
	var tables []string
	recordTables := map[string]*Kind{}
	logTable := ""
	for rows.Next() {
		var name, t string
		if err := rows.Scan(&name, &t); err != nil {
			rows.Close()
			return fmt.Errorf("index the embedded store's IDs: %w", err)
		}
		tables = append(tables, t)
		if name == changeLogCollection {
			logTable = t
		}
		if i := kindIndex(name); i >= 0 {
			recordTables[t] = kinds[i]
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("index the embedded store's IDs: %w", err)
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, idIndexPrefix+t, t)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index the embedded store's IDs in %s: %w", t, err)
		}
	}
	for t, k := range recordTables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->>'$.dataset')`, datasetIndexPrefix+t, t)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index the embedded store's data sets in %s: %w", t, err)
		}
		for _, r := range k.Refs {
			if r.Many() || !plainField.MatchString(r.Field) {
				continue
			}
			q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (%s)`, refIndexPrefix+r.Field+"_"+t, t, refExpr(r.Field))
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("index the embedded store's references in %s: %w", t, err)
			}
		}
	}
	if logTable != "" {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->>'$.last')`, logIndexPrefix+logTable, logTable)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index the embedded store's change log: %w", err)
		}
	}
	return nil
}

// logIndexPrefix names the change log's index on the number of each
// block's last entry, as a number (->>), by which the store reads the log
// from its file (sqliteread.go): FerretDB hands SQLite no filter but an
// _id, so each of its reads of the log decoded every block.
const logIndexPrefix = "_log_last_"

// refIndexPrefix names each record table's index on a reference field of
// one ID, by which an import finds what refers to the records it deletes
// or moves between levels (sqliteread.go) without reading every row.
const refIndexPrefix = "_ref_"

// datasetIndexPrefix names each record table's index on the data set that
// holds a record, by which an import reads its own records from the file
// (sqliteread.go) at the cost of their number, not the table's.
const datasetIndexPrefix = "_dataset_"
