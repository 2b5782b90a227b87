package store

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// How a record's effective visibility is kept.
//
// A record's Effective level is its own declared Visibility raised to the
// level every record it carries a reference to passes on (Ref.Carries): an
// attendance of a PARTNER person is PARTNER; a report under an exempt agenda
// item is OFFICER, because an exempt item passes OFFICER on to what belongs
// to it whatever its own level. The store works this out on every write,
// so a level that depends on another record follows it whichever data set
// changes that record: writing a record settles its level from the stored
// levels of what it refers to, and a record whose passed-on level changed
// raises or lowers the records that carry a reference to it, and theirs in
// turn. A record whose carried reference names nothing (pruned since) is
// shown to officers only.

// rank orders the visibility values, least first.
func rank(v string) int {
	switch v {
	case VisibilityPartner:
		return 1
	case VisibilityOfficer:
		return 2
	}
	return 0
}

// VisibilityRank orders the visibility values, least restricted first
// ("" is PUBLIC's).
func VisibilityRank(v string) int { return rank(v) }

// higher is the more restricted of two visibility values.
func higher(a, b string) string {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// withholder is a record that withholds what belongs to it beyond its own
// level.
type withholder interface{ withholds() bool }

// withholds: the reports, actions and declarations of an exempt item are
// for officers only. The item itself is shown as the public minutes print
// it (visibility.go); what hangs below it stands for the business taken in
// private: the exempt report, which is not published, and the actions and
// declarations of that private session. A declaration or action the public
// minutes print belongs under the item that prints it (the Stockton set
// keeps the declarations of TVCA Cabinet's 17 March 2023 meeting under its
// declarations minute, TVCA 37/22, not under the exempt TVCA 44/22).
func (a *AgendaItem) withholds() bool { return a.Exempt }

// passes is the level a record passes on to those carrying a reference to it.
func passes(d Doc) string {
	if w, ok := d.(withholder); ok && w.withholds() {
		return VisibilityOfficer
	}
	return d.Base().Effective
}

// levels remembers, for one Writer, the level each record passes on,
// reading the database for the records it has not yet seen: a few by ID,
// or the whole kind at once (a projection of three fields) when many are
// asked for, so that an import reads each referred kind at most once.
type levels struct {
	s      *Store
	passed map[string]string
	loaded map[*Kind]bool
	// moved, when set, is told of the records propagate is about to move,
	// before it moves them (the change log, changes.go).
	moved func(ctx context.Context, k *Kind, ids []string, before map[string]string, level string) error
}

// fewIDs is the most IDs levels looks up one by one before it reads a
// kind's levels whole (where the store cannot read its file by ID).
const fewIDs = 50

// of returns the level each of ids, records of kind k, passes on; one that
// does not exist passes OFFICER.
func (lv *levels) of(ctx context.Context, k *Kind, ids []string) (map[string]string, error) {
	var missing []string
	for _, id := range ids {
		if _, ok := lv.passed[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 && !lv.loaded[k] {
		keep := func(raw bson.Raw) error {
			d, err := decodeStored(k, raw)
			if err == nil {
				lv.passed[d.Base().ID] = passes(d)
			}
			return err
		}
		proj := bson.D{{Key: "visibility", Value: 1}, {Key: "exempt", Value: 1}}
		var err error
		switch {
		case len(missing) <= fewIDs || lv.s.idFinds(len(missing)) || lv.s.readsFile():
			err = lv.s.eachByID(ctx, lv.s.coll(k), missing, proj, keep)
		default:
			lv.loaded[k] = true
			err = eachFound(ctx, lv.s.coll(k), bson.D{}, proj, keep)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make(map[string]string, len(ids))
	for _, id := range ids {
		v, ok := lv.passed[id]
		if !ok {
			v = VisibilityOfficer
			lv.passed[id] = v
		}
		out[id] = v
	}
	return out, nil
}

// settle works out the Effective level of each of docs, records of kind k,
// from their declared levels and what their carried references pass on.
func (lv *levels) settle(ctx context.Context, k *Kind, docs []Doc) error {
	for _, d := range docs {
		b := d.Base()
		b.Effective = b.Visibility
		if b.Effective == "" {
			b.Effective = VisibilityPublic
		}
	}
	for _, r := range k.Refs {
		if !r.Carries {
			continue
		}
		var ids []string
		for _, d := range docs {
			ids = append(ids, RefValues(d, r.Field)...)
		}
		if len(ids) == 0 {
			continue
		}
		got, err := lv.of(ctx, KindNamed(r.To), ids)
		if err != nil {
			return err
		}
		for _, d := range docs {
			for _, id := range RefValues(d, r.Field) {
				d.Base().Effective = higher(d.Base().Effective, got[id])
			}
		}
	}
	return nil
}

// wrote records what the written docs now pass on, and returns the IDs
// whose passed-on level differs from before (old).
func (lv *levels) wrote(docs []Doc, old map[string]string) []string {
	var changed []string
	for _, d := range docs {
		id := d.Base().ID
		now := passes(d)
		if was, ok := old[id]; ok && was != now {
			changed = append(changed, id)
		}
		lv.passed[id] = now
	}
	return changed
}

// propagate settles again the records that carry a reference to one of ids
// (records of kind k whose passed-on level changed), writes those whose
// level changes, and goes on to what carries a reference to them.
func (lv *levels) propagate(ctx context.Context, k *Kind, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, dk := range kinds {
		for _, r := range dk.Refs {
			if !r.Carries || r.To != k.Name {
				continue
			}
			deps, err := lv.s.referring(ctx, dk, r.Field, ids, true)
			if err != nil {
				return err
			}
			old := map[string]string{}
			before := map[string]string{}
			for _, d := range deps {
				old[d.Base().ID] = passes(d)
				before[d.Base().ID] = d.Base().Effective
			}
			if err := lv.settle(ctx, dk, deps); err != nil {
				return err
			}
			byLevel := map[string][]string{}
			for _, d := range deps {
				if e := d.Base().Effective; e != before[d.Base().ID] {
					byLevel[e] = append(byLevel[e], d.Base().ID)
				}
			}
			for level, changedIDs := range byLevel {
				if lv.moved != nil {
					if err := lv.moved(ctx, dk, changedIDs, before, level); err != nil {
						return err
					}
				}
				err := lv.s.byEachID(ctx, lv.s.coll(dk), changedIDs, bson.D{{Key: "$set", Value: bson.D{{Key: "visibility", Value: level}}}})
				if err != nil {
					return dbError("update visibility of "+dk.Collection, err)
				}
			}
			if err := lv.propagate(ctx, dk, lv.wrote(deps, old)); err != nil {
				return err
			}
		}
	}
	return nil
}
