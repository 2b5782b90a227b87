package store

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Generations per council.
//
// Besides the data generation, every write of records raises a generation
// for each council it touches: the councils of the records written and of
// the records they refer to, before and after (a membership of council B
// that names a person of council A changes what A's person shows), and
// "shared" for a write of a shared registry's record. A read that a
// request makes notes which of these its answer depends on (Reads), from
// the read's own filter: records by ID depend on their IDs' councils,
// records that refer to given records on those records' councils, a list
// narrowed to one council on that council, and anything else on every
// council. So an answer cached for council B's records stays valid while
// council A is written: the response cache keeps it (httpapi).

// SharedGeneration is the key of the shared registries' generation.
const SharedGeneration = "shared"

// Generations is what the store has seen of the generations at one moment.
type Generations struct {
	// Records is the records' generation: raised by every write of records.
	Records int64
	// Keys counts the raises by API key changes.
	Keys int64
	// Councils holds each council's generation (and the shared
	// registries', under SharedGeneration); one not held is 0.
	Councils map[string]int64
	// Writes counts the writes that named the councils they touched.
	Writes int64
}

// councilsOf lists the councils among the generations in changed (all
// but the shared registries').
func councilsOf(changed map[string]bool) []string {
	var out []string
	for c := range changed {
		if c != SharedGeneration {
			out = append(out, c)
		}
	}
	return out
}

// changedSince returns the generations that moved since old, and whether
// every write since is known by them: false where a write named no
// council (a record whose ID names none, or an older version's write).
func (g Generations) changedSince(old Generations) (map[string]bool, bool) {
	if g.Records-old.Records != g.Writes-old.Writes {
		return nil, false
	}
	out := map[string]bool{}
	for c, v := range g.Councils {
		if old.Councils[c] != v {
			out[c] = true
		}
	}
	return out, true
}

// SeenGenerations returns the generations this process has written or seen.
func (s *Store) SeenGenerations() Generations {
	// Read in the order note raises them in reverse: the records'
	// generation first, so that what is read of the councils is at least
	// as new.
	records, seen := s.gen.records.Load(), s.gen.seen.Load()
	g := Generations{Records: records, Keys: seen - records, Writes: s.gen.writes.Load()}
	if m := s.gen.councils.Load(); m != nil {
		g.Councils = *m
	}
	return g
}

// Reads records what a request's reads depend on: every council (All) or
// the councils named.
type Reads struct {
	mu       sync.Mutex
	all      bool
	behind   bool
	councils map[string]struct{}
}

// WithReads returns a context whose store reads note what they depend on
// in the Reads returned.
func WithReads(ctx context.Context) (context.Context, *Reads) {
	r := &Reads{councils: map[string]struct{}{}}
	return derive(ctx, func(req *Request) { req.Reads = r }), r
}

// ReadsIn returns the Reads a context's store reads note into, or nil.
func ReadsIn(ctx context.Context) *Reads { return readsOf(ctx) }

func readsOf(ctx context.Context) *Reads {
	if r := RequestOf(ctx); r != nil {
		return r.Reads
	}
	return nil
}

// All reports whether the reads depend on every council's records.
func (r *Reads) All() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all
}

// Councils lists the generations the reads depend on (when not All).
func (r *Reads) Councils() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.councils))
	for c := range r.councils {
		out = append(out, c)
	}
	return out
}

// Behind reports whether a read was answered from data older than the
// generation the request saw (session.go): its answer must not be cached.
func (r *Reads) Behind() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.behind
}

func (r *Reads) noteBehind() {
	r.mu.Lock()
	r.behind = true
	r.mu.Unlock()
}

func (r *Reads) noteAll() {
	r.mu.Lock()
	r.all = true
	r.mu.Unlock()
}

func (r *Reads) note(keys ...string) {
	r.mu.Lock()
	for _, k := range keys {
		r.councils[k] = struct{}{}
	}
	r.mu.Unlock()
}

// dependsOnAll notes that what ctx's request reads depends on every
// council's records.
func dependsOnAll(ctx context.Context) {
	if r := readsOf(ctx); r != nil {
		r.noteAll()
	}
}

// dependsOn notes the generations a read depends on.
func dependsOn(ctx context.Context, keys ...string) {
	if r := readsOf(ctx); r != nil {
		r.note(keys...)
	}
}

// generationOf is the generation a record of kind k with ID id belongs to,
// or "" when the ID names no council (no such record can be written).
func generationOf(k *Kind, id string) string {
	if k.Shared {
		return SharedGeneration
	}
	return CouncilOf(id)
}

// noteWhere notes what a read of kind k with w depends on.
func noteWhere(ctx context.Context, k *Kind, w where) {
	r := readsOf(ctx)
	if r == nil {
		return
	}
	if gens, ok := whereGenerations(k, w); ok {
		r.note(gens...)
	} else {
		r.noteAll()
	}
}

// whereGenerations returns the generations a read of kind k with w
// depends on, from its top-level conditions: a council, IDs, or references
// to records of a council's; false for a read that depends on every
// council. A shared registry's read depends only on the registries: only
// writes of their own records change what they hold.
func whereGenerations(k *Kind, w where) ([]string, bool) {
	if k.Shared {
		return []string{SharedGeneration}, true
	}
	for _, c := range w {
		if c.in == nil {
			continue
		}
		switch {
		case c.field == "councilId":
			return c.in, true
		case c.field == "_id":
			if gens, ok := generationsOf(k, c.in); ok {
				return gens, true
			}
		default:
			ref, ok := k.Ref(c.field)
			if !ok {
				continue
			}
			if to := KindNamed(ref.To); !to.Shared {
				if gens, ok := generationsOf(to, c.in); ok {
					return gens, true
				}
			}
		}
	}
	return nil, false
}

// generationsOf returns the generations of the given IDs of kind k; false
// where one names no council.
func generationsOf(k *Kind, ids []string) ([]string, bool) {
	gens := make([]string, len(ids))
	for i, id := range ids {
		if gens[i] = generationOf(k, id); gens[i] == "" {
			return nil, false
		}
	}
	return gens, true
}

// touches returns the generations a write of docs (records of kind k)
// raises: each record's own, and those of the records it refers to.
func touches(k *Kind, docs []Doc, into map[string]bool) {
	for _, d := range docs {
		if g := generationOf(k, d.Base().ID); g != "" {
			into[g] = true
		}
		for _, r := range k.Refs {
			if KindNamed(r.To).Shared {
				continue
			}
			for _, id := range RefValues(d, r.Field) {
				if c := CouncilOf(id); c != "" {
					into[c] = true
				}
			}
		}
	}
}

// touchesStored reads the stored records of kind k with the given IDs,
// once for everything a write call needs of them: it adds the generations
// they belong to and refer to (what their replacement or deletion
// changes), notes the level each passes on (an ID with no record passes
// OFFICER) for the Writer's levels, and returns each stored record's
// effective level.
func (w *Writer) touchesStored(ctx context.Context, k *Kind, ids []string) (map[string]string, error) {
	var old []Doc
	effective := make(map[string]string, len(ids))
	err := w.s.eachByID(ctx, w.s.coll(k), ids, nil, func(raw bson.Raw) error {
		d, err := decodeStored(k, raw)
		if err != nil {
			return err
		}
		old = append(old, d)
		effective[d.Base().ID] = d.Base().Effective
		w.lv.passed[d.Base().ID] = passes(d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	touches(k, old, w.touched)
	for _, id := range ids {
		if g := generationOf(k, id); g != "" {
			w.touched[g] = true
		}
		if _, ok := effective[id]; !ok {
			w.lv.passed[id] = VisibilityOfficer
		}
	}
	return effective, nil
}
