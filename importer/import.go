package importer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"
	"time"

	"councilgraph/store"
)

// Options configure an import.
type Options struct {
	// Dataset names the set when its folder has no manifest (set.yaml):
	// records are tagged with it, and Prune removes records of this set
	// that are no longer in the files. A folder's manifest always names
	// its set; RequireManifest refuses a folder without one.
	Dataset string
	// RequireManifest refuses a folder without set.yaml, as the import
	// command does: a set's identity is never taken from its folder.
	RequireManifest bool
	// Prune deletes the set's records that the files no longer hold.
	Prune bool
	// DryRun validates and counts what would change, writing nothing.
	DryRun bool
	// Progress, when set, receives a line per batch on large imports.
	Progress io.Writer
	// BatchSize is the number of records per bulk write (default 1000).
	BatchSize int
	// Now stamps changed records' updatedAt (default time.Now).
	Now func() time.Time
	// KeepChanges is how long the store's change log keeps its entries
	// (default store.DefaultChangeRetention); older ones are pruned after
	// the import.
	KeepChanges time.Duration
	// PruneOnly, with Prune, limits the prune to the set's stale records
	// it answers true for: a sync deletes only what vanished from the part
	// of the publishing system it read, never what lies outside it.
	PruneOnly func(id string) bool
	// Feed names the feed the records are read from: Kind "dataset" (the
	// default, Name the set's name) or a synchronised publishing system
	// ("moderngov", Name its address); Status says how the read went ("ok"
	// when empty), and LastRead when it was last read to the end (the
	// write's time when nil and Status is ok). For a publishing system the
	// feed's record count is the records the set holds in the store after
	// the write, not only those of this read.
	Feed store.Feed

	// stamps are the stored records' stamps by collection, as the
	// ownership check read them, so that the write does not read them
	// again.
	stamps map[string]map[string]store.Stamp
}

// stale reports whether a stored record of the set, absent from the
// files, is to be deleted.
func (o Options) stale(id string) bool {
	return o.Prune && (o.PruneOnly == nil || o.PruneOnly(id))
}

// Counts says what an import did, or would do, to one collection.
type Counts struct {
	Collection                            string
	Inserted, Updated, Unchanged, Deleted int
}

// Summary is what an import did to each collection.
type Summary []Counts

// Changed is the number of records inserted, updated or deleted.
func (s Summary) Changed() int {
	n := 0
	for _, c := range s {
		n += c.Inserted + c.Updated + c.Deleted
	}
	return n
}

// Write prints the summary as a table.
func (s Summary) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "collection\tinserted\tupdated\tunchanged\tdeleted\t")
	for _, c := range s {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", c.Collection, c.Inserted, c.Updated, c.Unchanged, c.Deleted)
	}
	_ = tw.Flush()
}

// progressThreshold is the size above which an import reports progress.
const progressThreshold = 5000

// ImportFS loads, validates and writes the data set in fsys. When any record
// has a problem it returns them all as Problems, in file and line order, and
// writes nothing: the files' problems (unknown fields, wrong types) and the
// records' (references, values) together, so that one run lists everything
// to fix.
func ImportFS(ctx context.Context, st *store.Store, fsys fs.FS, o Options) (Summary, error) {
	set, problems := Load(fsys)
	if set == nil {
		return nil, problems
	}
	switch {
	case set.Manifest != nil:
		o.Dataset = set.Manifest.Name
	case o.RequireManifest:
		problems = append(problems, Problem{File: ManifestFile, Line: 1, Msg: "missing: a data set's folder holds a manifest, set.yaml, " +
			"with name: (the set's identity, whatever folder it sits in) and councils: (the council IDs whose records it writes); see data/FORMAT.md"})
	}
	return importSet(ctx, st, set, o, problems)
}

// ImportSet validates and writes a set built in memory (a synchronised
// publishing system's read) as ImportFS does a folder: every record and
// reference is checked, the set may change only what it owns (o.Dataset,
// or its manifest's name), and a set with any problem writes nothing and
// returns them all as Problems.
func ImportSet(ctx context.Context, st *store.Store, set *Set, o Options) (Summary, error) {
	if set.Manifest != nil {
		o.Dataset = set.Manifest.Name
	}
	return importSet(ctx, st, set, o, nil)
}

func importSet(ctx context.Context, st *store.Store, set *Set, o Options, problems Problems) (Summary, error) {
	checked, err := Validate(ctx, set, st.ExistingIDs)
	if err != nil {
		return nil, err
	}
	problems = append(problems, checked...)
	if len(problems) == 0 {
		o.stamps = map[string]map[string]store.Stamp{}
		if problems, err = checkOwnership(ctx, st, set, o); err != nil {
			return nil, err
		}
	}
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, problems
	}
	return Write(ctx, st, set, o)
}

// Write upserts a validated set: new records are inserted, changed ones
// replaced with a fresh updatedAt, unchanged ones left alone.
func Write(ctx context.Context, st *store.Store, set *Set, o Options) (Summary, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	stamp := now().UTC().Truncate(time.Millisecond)
	total, done := set.Count(), 0
	var summary Summary
	if !o.DryRun {
		// Settle what an interrupted import left of the change log.
		if err := st.RecoverChanges(ctx); err != nil {
			return summary, err
		}
	}
	moved := map[string]bool{}
	for _, m := range set.Moves {
		moved[m.From] = true
	}
	// One session: readers see the set's writes together, once it is
	// written (store/session.go).
	w := st.Writer()
	defer w.Close()
	for _, k := range store.Kinds() {
		name := k.Collection
		items := set.Items[name]
		existing, ok := o.stamps[name]
		if !ok {
			var err error
			if existing, err = st.FindStamps(ctx, name, stampIDs(items, set.Moves), o.Dataset); err != nil {
				return summary, err
			}
		}
		counts := Counts{Collection: name}
		inSet := make(map[string]bool, len(items))
		var inserts, updates []store.Doc
		var stated []Item
		for _, it := range items {
			base := it.Doc.Base()
			base.Dataset = o.Dataset
			if err := store.Prepare(it.Doc); err != nil {
				return summary, err
			}
			inSet[base.ID] = true
			old, ok := existing[base.ID]
			switch {
			case ok && old.Dataset != "" && old.Dataset != o.Dataset:
				// Another set's shared record, stated with the same
				// facts (checkOwnership refused any other case).
				stated = append(stated, it)
				continue
			case !ok:
				counts.Inserted++
				inserts = append(inserts, it.Doc)
			case old.Hash == base.Hash:
				counts.Unchanged++
				continue
			default:
				counts.Updated++
				updates = append(updates, it.Doc)
				base.StatedBy = old.StatedBy
			}
			base.UpdatedAt = stamp
		}
		amended, err := statements(ctx, st, k, stated, o.Dataset, stamp)
		if err != nil {
			return summary, err
		}
		counts.Updated += len(amended)
		counts.Unchanged += len(stated) - len(amended)
		updates = append(updates, amended...)
		var stale []string
		for id, old := range existing {
			if old.Dataset == o.Dataset && !inSet[id] {
				if o.stale(id) || moved[id] {
					stale = append(stale, id)
				}
			}
		}
		counts.Deleted = len(stale)
		if !o.DryRun {
			var progress func(int)
			if o.Progress != nil && total > progressThreshold {
				changed := len(inserts) + len(updates)
				progress = func(n int) { fmt.Fprintf(o.Progress, "%s: wrote %d of %d changed records\n", name, n, changed) }
			}
			if err := w.WriteInBatches(ctx, name, inserts, updates, o.BatchSize, progress); err != nil {
				return summary, err
			}
			if err := w.Delete(ctx, name, stale); err != nil {
				return summary, err
			}
		}

		done += len(items)
		if o.Progress != nil && total > progressThreshold {
			fmt.Fprintf(o.Progress, "%d of %d records checked\n", done, total)
		}
		summary = append(summary, counts)
	}
	w.Close()
	if !o.DryRun {
		if err := writeMoves(ctx, st, set, o.Dataset); err != nil {
			return summary, err
		}
		if err := writeFeeds(ctx, st, set, o, stamp); err != nil {
			return summary, err
		}
		if _, err := st.PruneChanges(ctx, now(), o.KeepChanges); err != nil {
			return summary, err
		}
	}
	return summary, nil
}
