package importer

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"councilgraph/store"
)

// checkOwnership holds an import to what its set owns: it may change only
// its own records, state another set's shared record (an area, an
// organisation, an indicator) only with the same facts, move only its own
// IDs, and delete (--prune) only what nothing else refers to. It returns
// every refusal, each naming the record and its owner.
func checkOwnership(ctx context.Context, st *store.Store, set *Set, o Options) (Problems, error) {
	var problems Problems
	inSet := map[string]bool{}
	// stale holds what the import would delete, and why: pruned, or the
	// old ID of a record the set moved.
	stale := map[string]string{}
	staleOf := map[*store.Kind][]string{}
	moved := map[string]moveItem{}
	for _, m := range set.Moves {
		moved[m.From] = m
	}
	for _, k := range store.Kinds() {
		items := set.Items[k.Collection]
		existing, err := st.FindStamps(ctx, k.Collection, stampIDs(items, set.Moves), o.Dataset)
		if err != nil {
			return nil, err
		}
		if o.stamps != nil {
			o.stamps[k.Collection] = existing
		}
		for _, it := range items {
			base := it.Doc.Base()
			inSet[base.ID] = true
			old, ok := existing[base.ID]
			if !ok || old.Dataset == "" || old.Dataset == o.Dataset {
				continue
			}
			base.Dataset = o.Dataset
			if err := store.Prepare(it.Doc); err != nil {
				return nil, err
			}
			p := Problem{File: it.File, Line: it.Line, ID: base.ID}
			switch {
			case k.Shared && old.Facts == base.Facts:
				continue // stated again: its sources are added
			case k.Shared:
				p.Msg = fmt.Sprintf("owned by %s, which states it with other facts: a set may state another's shared record only as its owner does (change it there, or leave it out here)", old.Dataset)
			default:
				p.Msg = "owned by " + old.Dataset
			}
			problems = append(problems, p)
		}
		for id, old := range existing {
			m, isMoved := moved[id]
			switch {
			case isMoved && old.Dataset != "" && old.Dataset != o.Dataset:
				problems = append(problems, Problem{File: MovedFile, Line: m.Line, ID: id,
					Msg: "owned by " + old.Dataset + ": a set moves only its own records' IDs"})
			case isMoved && !inSet[id]:
				stale[id] = "which this set moves to " + m.To
				staleOf[k] = append(staleOf[k], id)
			case o.Prune && old.Dataset == o.Dataset && !inSet[id] && o.stale(id):
				stale[id] = "which the prune would delete (it is no longer in the files)"
				staleOf[k] = append(staleOf[k], id)
			}
		}
	}
	ps, err := checkCouncilLevels(ctx, st, set)
	if err != nil {
		return nil, err
	}
	problems = append(problems, ps...)
	ps, err = checkMoves(ctx, st, set, o.Dataset, inSet)
	if err != nil {
		return nil, err
	}
	problems = append(problems, ps...)
	ps, err = checkDangling(ctx, st, set, o.Dataset, stale, staleOf)
	return append(problems, ps...), err
}

// checkMoves holds moved.yaml to the set's own IDs: each entry moves to a
// record of the set, and no other set has moved the same ID.
func checkMoves(ctx context.Context, st *store.Store, set *Set, dataset string, inSet map[string]bool) (Problems, error) {
	if len(set.Moves) == 0 {
		return nil, nil
	}
	from := make([]string, len(set.Moves))
	for i, m := range set.Moves {
		from[i] = m.From
	}
	have, err := st.FindMovesFrom(ctx, from)
	if err != nil {
		return nil, err
	}
	var problems Problems
	for _, m := range set.Moves {
		p := Problem{File: MovedFile, Line: m.Line, ID: m.From}
		switch {
		case have[m.From].Dataset != "" && have[m.From].Dataset != dataset:
			p.Msg = "owned by " + have[m.From].Dataset + ", which moved this ID to " + have[m.From].To
		case inSet[m.From]:
			p.Msg = "is a record of this set, so it cannot also have moved"
		case !inSet[m.To]:
			p.Msg = fmt.Sprintf("moves to %s, which is not a record of this set", m.To)
		default:
			continue
		}
		problems = append(problems, p)
	}
	return problems, nil
}

// checkDangling refuses a prune that would delete a record others refer
// to: each reference, from this set's files (by file and line) or from a
// stored record of another set, is a problem.
func checkDangling(ctx context.Context, st *store.Store, set *Set, dataset string, stale map[string]string, staleOf map[*store.Kind][]string) (Problems, error) {
	if len(stale) == 0 {
		return nil, nil
	}
	var problems Problems
	why := func(id string) string { return fmt.Sprintf("refers to %s, %s; nothing was deleted", id, stale[id]) }
	for _, k := range store.Kinds() {
		for _, it := range set.Items[k.Collection] {
			for _, r := range k.Refs {
				for _, id := range store.RefValues(it.Doc, r.Field) {
					if stale[id] != "" {
						problems = append(problems, Problem{File: it.File, Line: lineOf(it, r.Field), ID: it.Doc.Base().ID, Field: r.Field, Msg: why(id)})
					}
				}
			}
		}
	}
	for k, ids := range staleOf {
		refs, err := st.Referrers(ctx, k, ids)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if r.Dataset == dataset {
				// Its version in the files was checked above, and one
				// no longer in them is deleted with what it refers to.
				continue
			}
			owner := r.Dataset
			if owner == "" {
				owner = "no set"
			}
			problems = append(problems, Problem{File: "(" + owner + ")", ID: r.ID, Field: r.Field, Msg: why(r.To)})
		}
	}
	return problems, nil
}

// lineOf is the line of an item's field, or the item's own line.
func lineOf(it Item, field string) int {
	if l, ok := it.lines[field]; ok {
		return l
	}
	return it.Line
}

// statements adds this set's sources to the shared records it states with
// their owners' facts, and returns those whose statement changed.
func statements(ctx context.Context, st *store.Store, k *store.Kind, stated []Item, dataset string, stamp time.Time) ([]store.Doc, error) {
	if len(stated) == 0 {
		return nil, nil
	}
	ids := make([]string, len(stated))
	sources := map[string][]store.Source{}
	for i, it := range stated {
		ids[i] = it.Doc.Base().ID
		sources[ids[i]] = it.Doc.Base().Sources
	}
	docs, err := st.FindOwn(ctx, k, ids)
	if err != nil {
		return nil, err
	}
	var out []store.Doc
	for _, d := range docs {
		base := d.Base()
		want := store.Statement{Dataset: dataset, Sources: sources[base.ID]}
		i := slices.IndexFunc(base.StatedBy, func(s store.Statement) bool { return s.Dataset == dataset })
		switch {
		case i < 0:
			base.StatedBy = append(base.StatedBy, want)
		case reflect.DeepEqual(base.StatedBy[i].Sources, want.Sources):
			continue
		default:
			base.StatedBy[i] = want
		}
		if err := store.Prepare(d); err != nil {
			return nil, err
		}
		base.UpdatedAt = stamp
		out = append(out, d)
	}
	return out, nil
}

// writeMoves records the set's moved IDs.
func writeMoves(ctx context.Context, st *store.Store, set *Set, dataset string) error {
	if len(set.Moves) == 0 {
		return nil
	}
	from := make([]string, len(set.Moves))
	for i, m := range set.Moves {
		from[i] = m.From
	}
	have, err := st.FindMovesFrom(ctx, from)
	if err != nil {
		return err
	}
	var moves []store.Move
	for _, m := range set.Moves {
		mv := m.Move
		mv.Dataset = dataset
		if have[m.From] != mv {
			moves = append(moves, mv)
		}
	}
	return st.PutMoves(ctx, moves)
}

// writeFeeds records, for each council the set writes, that the set was
// read to the end and how many of the council's records it holds in the
// store now, at each level (a caller is told the count it may see).
func writeFeeds(ctx context.Context, st *store.Store, set *Set, o Options, at time.Time) error {
	held, err := st.CountHeld(ctx, o.Dataset)
	if err != nil {
		return err
	}
	if set.Manifest != nil {
		for _, c := range set.Manifest.Councils {
			if _, ok := held[c]; !ok {
				held[c] = [3]int{}
			}
		}
	}
	feed := o.Feed
	if feed.Kind == "" || feed.Kind == "dataset" {
		feed.Kind, feed.Name = "dataset", o.Dataset
	}
	if feed.Status == "" {
		feed.Status = "ok"
	}
	if feed.LastRead == nil && feed.Status == "ok" {
		feed.LastRead = &at
	}
	for c, n := range held {
		f := feed
		f.Council, f.Visible, f.Records = c, n, n[store.Officer]
		if err := st.PutFeed(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// checkCouncilLevels holds each record to its council's level: a record
// shows no wider than the council that publishes it (the council every
// record names), so a record of a PARTNER council must be PARTNER or
// OFFICER itself. The council's level is read from the set, else from the
// store.
func checkCouncilLevels(ctx context.Context, st *store.Store, set *Set) (Problems, error) {
	level := map[string]string{}
	for _, it := range set.Items["councils"] {
		level[it.Doc.Base().ID] = it.Doc.Base().Visibility
	}
	var want []string
	for _, k := range store.Kinds() {
		if k.Shared || k.Name == "Council" {
			continue
		}
		for _, it := range set.Items[k.Collection] {
			if c := store.CouncilOf(it.Doc.Base().ID); c != "" {
				if _, ok := level[c]; !ok {
					level[c] = ""
					want = append(want, c)
				}
			}
		}
	}
	if len(want) > 0 {
		stored, err := st.FindOwn(ctx, store.KindNamed("Council"), want)
		if err != nil {
			return nil, err
		}
		for _, d := range stored {
			level[d.Base().ID] = d.Base().Visibility
		}
	}
	var problems Problems
	for _, k := range store.Kinds() {
		if k.Shared || k.Name == "Council" {
			continue
		}
		for _, it := range set.Items[k.Collection] {
			base := it.Doc.Base()
			c := store.CouncilOf(base.ID)
			if store.VisibilityRank(level[c]) > store.VisibilityRank(base.Visibility) {
				problems = append(problems, Problem{File: it.File, Line: lineOf(it, "visibility"), ID: base.ID, Field: "visibility",
					Msg: fmt.Sprintf("its council %s is %s: a record shows no wider than its council; give it visibility %s or OFFICER", c, level[c], level[c])})
			}
		}
	}
	return problems, nil
}

// stampIDs are the IDs whose stored stamps an import of items (one
// collection's) checks: the items', and those the set moves.
func stampIDs(items []Item, moves []moveItem) []string {
	ids := make([]string, 0, len(items)+len(moves))
	for _, it := range items {
		ids = append(ids, it.Doc.Base().ID)
	}
	for _, m := range moves {
		ids = append(ids, m.From)
	}
	return ids
}
