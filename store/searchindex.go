package store

import (
	"context"
	"slices"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The search index.
//
// Search matches a folded query anywhere in a record's folded names, which
// no MongoDB-compatible index answers: each search was a regular-expression
// scan of every searchable collection, and on FerretDB a scan decodes every
// document (70 ms on the bundled set of 1,100 records, a second at 10,000
// over PostgreSQL). So a server keeps, per data generation, what a search
// reads of each searchable record (its ID, folded text and effective
// level) in memory, read with one projected find per kind the first time
// it searches under a generation, and searches that.
//
// The index holds every level's records, and is consulted only for the
// caller's: an entry is a candidate only at a level the record's stored
// level admits, as the scan's filter was. The hits are then read with
// FindByIDs, under the caller's level, so a record hidden since the index
// was built is not shown, and what is shown is exactly what the scan
// returned for the same data.
//
// It is used only where the store learns of every write (WatchGeneration
// runs: another process's import raises the generation it sees), and only
// while the searchable records number at most searchIndexMax; otherwise
// Search scans as before.

// searchIndexMax is the most searchable records the index holds (about
// 150 bytes each: 30 MB at the most).
const searchIndexMax = 200_000

// searchEntry is what the index keeps of one record.
type searchEntry struct {
	ID         string `bson:"_id"`
	Search     string `bson:"search"`
	Visibility string `bson:"visibility"`
}

// searchIndex is the index of one generation.
type searchIndex struct {
	mu sync.Mutex
	// ready says entries are of generation gen: each searchable kind's
	// records in ID order, in the order of kinds, or nil when that
	// generation's records were too many to hold.
	ready   bool
	gen     int64
	entries [][]*searchEntry
	// gens are the generations it was read under: the next build reads
	// again only the councils written since (reads.go).
	gens Generations
}

// searchable is the searchable kinds, in the table's order.
func searchable() []*Kind {
	var out []*Kind
	for _, k := range kinds {
		if k.Searchable() {
			out = append(out, k)
		}
	}
	return out
}

// indexed returns the index of the store's current generation, building
// it if needed, or nil where it does not apply (see above).
func (s *Store) indexed(ctx context.Context) ([][]*searchEntry, error) {
	if s.GenerationSource() == "" {
		return nil, nil
	}
	x := &s.searchIdx
	x.mu.Lock()
	defer x.mu.Unlock()
	// Read before the records: a write after this raises the generation
	// again, so the index is never filed under a generation it is older
	// than.
	gens := s.SeenGenerations()
	gen := gens.Records
	if x.ready && x.gen == gen {
		return x.entries, nil
	}
	// A build after writes that each named their councils keeps the
	// entries of every council not written since, and reads again only
	// those of the councils written.
	var changed map[string]bool
	incremental := x.ready && x.entries != nil && x.gen < gen
	if incremental {
		changed, incremental = gens.changedSince(x.gens)
	}
	councils := councilsOf(changed)
	x.ready = false
	var entries [][]*searchEntry
	total := 0
	proj := options.Find().SetProjection(bson.D{{Key: "search", Value: 1}, {Key: "visibility", Value: 1}}).
		SetSort(byID.sort()).SetBatchSize(oneReply)
kinds:
	for i, k := range searchable() {
		var kept []*searchEntry
		filter := bson.D{}
		if incremental {
			old := x.entries[i]
			switch {
			case k.Shared && !changed[SharedGeneration], !k.Shared && len(councils) == 0:
				if total += len(old); total > searchIndexMax {
					entries = nil
					break kinds
				}
				entries = append(entries, old)
				continue
			case !k.Shared:
				for _, e := range old {
					if !changed[CouncilOf(e.ID)] {
						kept = append(kept, e)
					}
				}
				filter = bson.D{{Key: "councilId", Value: bson.D{{Key: "$in", Value: councils}}}}
			}
		}
		if err := spend(ctx, 1); err != nil {
			return nil, err
		}
		found, err := findUnscoped[searchEntry](ctx, s.source(ctx, k), filter, proj)
		if err != nil {
			return nil, err
		}
		if kept != nil {
			found = append(kept, found...)
			slices.SortFunc(found, func(a, b *searchEntry) int { return strings.Compare(a.ID, b.ID) })
		}
		if total += len(found); total > searchIndexMax {
			entries = nil
			break
		}
		entries = append(entries, found)
	}
	x.ready, x.gen, x.gens, x.entries = true, gen, gens, entries
	return entries, nil
}

// searchIndexed is Search answered from the index: per kind, the first
// matches in ID order that the caller's level admits, ranked as Search
// ranks them, then read under the caller's level.
func (s *Store) searchIndexed(ctx context.Context, entries [][]*searchEntry, q string, first int, council *string) ([]Searchable, error) {
	l := LevelOf(ctx)
	kinds := searchable()
	type hit struct {
		k    *Kind
		id   string
		rank int
	}
	var hits []hit
	for i, list := range entries {
		n := 0
		for _, e := range list {
			if n == first {
				break
			}
			if council != nil && !kinds[i].Shared && CouncilOf(e.ID) != *council {
				continue
			}
			if strings.Contains(e.Search, q) && admitsLevel(l, e.Visibility) {
				n++
				hits = append(hits, hit{kinds[i], e.ID, Rank(e.Search, q)})
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.rank - b.rank })
	hits = hits[:min(first, len(hits))]
	want := map[*Kind][]string{}
	for _, h := range hits {
		want[h.k] = append(want[h.k], h.id)
	}
	found := map[string]Doc{}
	for _, k := range kinds {
		if len(want[k]) == 0 {
			continue
		}
		docs, err := s.FindByIDs(ctx, k, want[k])
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			found[d.Base().ID] = d
		}
	}
	out := make([]Searchable, 0, len(hits))
	for _, h := range hits {
		if d, ok := found[h.id]; ok {
			out = append(out, d.(Searchable))
		}
	}
	return out, nil
}
