package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Level is how much a caller may see. Every find and count the store runs
// for a request keeps to the level in its context, so that a record above
// the caller's level does not exist for them on any path: lookups, lists,
// counts, relations, search and federation entities alike.
type Level int

// The levels, each seeing all the one before it sees.
const (
	// Public sees PUBLIC records, without contact details or what belongs
	// to an exempt agenda item (its reports, actions and declarations).
	Public Level = iota
	// Partner also sees PARTNER records and people's contact details.
	Partner
	// Officer sees everything, the exempt business under exempt agenda
	// items included.
	Officer
)

// The visibility values records carry.
const (
	VisibilityPublic  = "PUBLIC"
	VisibilityPartner = "PARTNER"
	VisibilityOfficer = "OFFICER"
)

// WithLevel returns a context whose store queries keep to level l.
func WithLevel(ctx context.Context, l Level) context.Context {
	return derive(ctx, func(r *Request) { r.Level = l })
}

// LevelOf is the level the context's queries keep to: its request's, and
// Public when it carries none.
func LevelOf(ctx context.Context) Level {
	if r := RequestOf(ctx); r != nil {
		return r.Level
	}
	return Public
}

// visibleTo lists the visibility values level l may see.
func visibleTo(l Level) []string {
	return []string{VisibilityPublic, VisibilityPartner, VisibilityOfficer}[:l+1]
}

// scoped adds the caller's visibility condition to filter.
func scoped(ctx context.Context, filter bson.D) bson.D {
	l := LevelOf(ctx)
	if l >= Officer {
		return filter
	}
	return append(filter, bson.E{Key: "visibility", Value: bson.D{{Key: "$in", Value: visibleTo(l)}}})
}

// redactor is a record with fields some levels may not see.
type redactor interface {
	// hides reports whether redact blanks anything the record holds.
	hides(Level) bool
	redact(Level)
}

// redact blanks what level l may not see of v.
func redact(l Level, v any) {
	if r, ok := v.(redactor); ok && l < Officer {
		r.redact(l)
	}
}

func (p *Person) hides(l Level) bool { return l < Partner && (p.Email != nil || p.Phone != nil) }

// redact hides contact details from public callers.
func (p *Person) redact(l Level) {
	if l < Partner {
		p.Email, p.Phone = nil, nil
	}
}

// An exempt agenda item has no redact of its own: the rule for exempt
// business is that what a public document prints is public, and what is
// withheld is what it does not print. The item as the published agenda and
// minutes print it (its number, title, minute reference, the Schedule 12A
// paragraph the law requires to be published, the printed minute and
// decision, and the sources that print them) is shown at the item's own
// level like any record; the exempt report and whatever else belongs to
// the item (its reports, actions and declarations) is OFFICER, whatever
// its own level (see withholds in levels.go), and so is absent for others
// on every path: lookups, lists, counts, search, downloads and the change
// feed. A data set that holds a fact of an exempt item the public documents
// do not print keeps it off the item, in one of those records, or declares
// the item OFFICER.

// admits reports whether level l may see record d: the rule scoped sends to
// the server (on the stored visibility, d's Effective level), for the finds
// that must send a bare filter (shape.go).
func admits(l Level, d Doc) bool { return admitsLevel(l, d.Base().Effective) }

// admitsLevel is admits for a record whose stored visibility is v.
func admitsLevel(l Level, v string) bool {
	return l >= Officer || slices.Contains(visibleTo(l), v)
}

// refHider blanks, in the records of one kind a caller downloads, the
// references to records the caller may not see: a reference is shown only
// where the record it names is, so that the ID of a withheld record (the
// report of an exempt item, a PARTNER person owning a public action) never
// reaches a caller through a record that is not withheld. The graph needs
// no such step, since it resolves a reference to the record itself, under
// the caller's level (null where hidden); a download prints the ID. Only
// references that do not carry need it: a record the caller sees names
// through a carried reference only records the caller sees (levels.go).
type refHider struct {
	k *Kind
	// hidden holds, by kind name, the IDs of the records above the
	// caller's level, of each kind k's loose references name.
	hidden map[string]map[string]bool
}

// nestedRefs lists, by kind, the kinds its records name outside the kinds
// table's references: a priority's progress updates name their reports.
var nestedRefs = map[string][]string{"Priority": {"Report"}}

// newRefHider gathers, for a caller of ctx's level, the IDs of the records
// above that level that records of kind k can name through a reference
// that does not carry. An officer is hidden nothing and gets nil.
func (s *Store) newRefHider(ctx context.Context, k *Kind) (*refHider, error) {
	l := LevelOf(ctx)
	if l >= Officer {
		return nil, nil
	}
	named := slices.Clone(nestedRefs[k.Name])
	for _, r := range k.Refs {
		if !r.Carries {
			named = append(named, r.To)
		}
	}
	h := &refHider{k: k, hidden: map[string]map[string]bool{}}
	for _, to := range named {
		if _, ok := h.hidden[to]; ok {
			continue
		}
		ids, err := s.hiddenIDs(ctx, KindNamed(to), l)
		if err != nil {
			return nil, err
		}
		h.hidden[to] = ids
	}
	return h, nil
}

// hiddenCache keeps, per records generation, the IDs of each kind's
// records above each level, so that downloads read them once after each
// import rather than once each: on FerretDB's SQLite backend the find is a
// scan of the kind's collection (half a second and more at a few thousand
// records), which made a public download of a few dozen actions take 1.6 s
// rather than 30 ms. It holds as many IDs as a level hides of the kinds
// that are named loosely, the exception, not the data set. It is used only
// where the store learns of every write (WatchGeneration runs), as the
// model is; otherwise each download reads them anew.
type hiddenCache struct {
	mu  sync.Mutex
	gen int64
	ids map[hiddenKey]map[string]bool
}

// hiddenKey names one entry of the cache: a kind, and a level.
type hiddenKey struct {
	kind  string
	level Level
}

// hiddenIDs returns the IDs of the records of kind k above level l, from
// the cache where it applies.
func (s *Store) hiddenIDs(ctx context.Context, k *Kind, l Level) (map[string]bool, error) {
	if s.GenerationSource() == "" {
		return s.readHidden(ctx, k, l)
	}
	x := &s.hidden
	x.mu.Lock()
	defer x.mu.Unlock()
	// Read before the records, as the model is: a write after
	// this raises the generation again, so an entry is never filed under a
	// generation it is older than.
	gen := s.SeenRecordsGeneration()
	if x.ids == nil || x.gen != gen {
		x.gen, x.ids = gen, map[hiddenKey]map[string]bool{}
	}
	key := hiddenKey{k.Name, l}
	if ids, ok := x.ids[key]; ok {
		return ids, nil
	}
	ids, err := s.readHidden(ctx, k, l)
	if err != nil {
		return nil, err
	}
	x.ids[key] = ids
	return ids, nil
}

// readHidden reads the IDs of the records of kind k above level l, a
// download's batch at a time: embedded, the database works in this
// process, and a larger batch would hold more of the collection at once.
func (s *Store) readHidden(ctx context.Context, k *Kind, l Level) (map[string]bool, error) {
	c := s.coll(k)
	above := bson.D{{Key: "visibility", Value: bson.D{{Key: "$nin", Value: visibleTo(l)}}}}
	cur, err := c.Find(ctx, above, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(exportBatch))
	if err != nil {
		return nil, dbError("find hidden "+c.Name(), err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	ids := map[string]bool{}
	for cur.Next(ctx) {
		id, ok := cur.Current.Lookup("_id").StringValueOK()
		if !ok {
			return nil, dbError("find hidden "+c.Name(), fmt.Errorf("a record's _id is not a string"))
		}
		ids[id] = true
	}
	if err := cur.Err(); err != nil {
		return nil, dbError("find hidden "+c.Name(), err)
	}
	return ids, nil
}

// shown is d with its references to hidden records blanked (a single one
// null, a list without them): d itself where it names none, otherwise a
// copy, since d may be the model's own.
func (h *refHider) shown(d Doc) Doc {
	if h == nil || !h.names(d) {
		return d
	}
	d = copyOf(d)
	v := reflect.ValueOf(d).Elem()
	for _, r := range h.k.Refs {
		hidden := h.hidden[r.To]
		if r.Carries || len(hidden) == 0 {
			continue
		}
		f := v.FieldByIndex(h.k.refField[r.Field])
		switch x := f.Interface().(type) {
		case *string:
			if x != nil && hidden[*x] {
				f.Set(reflect.Zero(f.Type()))
			}
		case []string:
			if slices.ContainsFunc(x, func(id string) bool { return hidden[id] }) {
				f.Set(reflect.ValueOf(slices.DeleteFunc(slices.Clone(x), func(id string) bool { return hidden[id] })))
			}
		}
	}
	if p, ok := d.(*Priority); ok {
		hidden := h.hidden["Report"]
		p.Updates = slices.Clone(p.Updates)
		for i, u := range p.Updates {
			if u.ReportID != nil && hidden[*u.ReportID] {
				p.Updates[i].ReportID = nil
			}
		}
	}
	return d
}

// names reports whether d names a record hidden from the caller through a
// reference that does not carry.
func (h *refHider) names(d Doc) bool {
	for _, r := range h.k.Refs {
		if hidden := h.hidden[r.To]; !r.Carries && len(hidden) > 0 &&
			h.k.anyString(d, r.Field, func(id string) bool { return hidden[id] }) {
			return true
		}
	}
	if p, ok := d.(*Priority); ok {
		hidden := h.hidden["Report"]
		for _, u := range p.Updates {
			if u.ReportID != nil && hidden[*u.ReportID] {
				return true
			}
		}
	}
	return false
}
