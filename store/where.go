package store

// What a read asks for, written once.
//
// A read's conditions are a where: a list of conditions on stored fields,
// each made by one of the constructors below. Each condition has two
// forms, side by side in this file: the MongoDB filter the database
// evaluates (bson), and the test the model applies to a typed record in
// memory (test). They are the whole query language of the store's record
// reads: equality with one of a few strings (a list field holding one of
// them), inclusive and exclusive ranges of strings, "changed since", a
// substring of the folded search text, and an $or of wheres. A filter
// type of the API (MeetingFilter and the like) says what it means once,
// as a where, and both the model and the database answer it.

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// where is a read's conditions: a record passes when it passes every one.
type where []cond

// cond is one condition on one stored field, or an $or of wheres.
type cond struct {
	field string
	// in: the field equals one of these (a list field holds one).
	in []string
	// gte, lte, lt bound a string field (a record without it fails).
	gte, lte, lt *string
	// since: the field (a time) is at or after it.
	since *time.Time
	// contains: the field contains it.
	contains *string
	// or: the record passes one of these.
	or []where
}

// is is field = v.
func is(field, v string) cond { return cond{field: field, in: []string{v}} }

// oneOf is field = one of vs (none: nothing passes).
func oneOf(field string, vs []string) cond {
	if vs == nil {
		vs = []string{}
	}
	return cond{field: field, in: vs}
}

// anyOf passes a record that passes one of ws.
func anyOf(ws ...where) cond { return cond{or: ws} }

// eq adds field = *v when v is set.
func (w where) eq(field string, v *string) where {
	if v == nil {
		return w
	}
	return append(w, is(field, *v))
}

// between adds from <= field <= to, for each bound set.
func (w where) between(field string, from, to *string) where {
	if from == nil && to == nil {
		return w
	}
	return append(w, cond{field: field, gte: from, lte: to})
}

// before adds field < *v when v is set.
func (w where) before(field string, v *string) where {
	if v == nil {
		return w
	}
	return append(w, cond{field: field, lt: v})
}

// since adds updatedAt >= *t when t is set.
func (w where) since(t *time.Time) where {
	if t == nil {
		return w
	}
	u := t.UTC()
	return append(w, cond{field: "updatedAt", since: &u})
}

// council adds the council a list is narrowed to, when given.
func (w where) council(id *string) where { return w.eq("councilId", id) }

// containing adds: the folded search text contains q (already folded).
func (w where) containing(q string) where {
	return append(w, cond{field: "search", contains: &q})
}

// bson is the MongoDB filter of w.
func (w where) bson() bson.D {
	d := make(bson.D, 0, len(w))
	for _, c := range w {
		d = append(d, c.bson())
	}
	return d
}

func (c cond) bson() bson.E {
	switch {
	case c.or != nil:
		a := make(bson.A, len(c.or))
		for i, w := range c.or {
			a[i] = w.bson()
		}
		return bson.E{Key: "$or", Value: a}
	case c.in != nil:
		if len(c.in) == 1 {
			return bson.E{Key: c.field, Value: c.in[0]}
		}
		return bson.E{Key: c.field, Value: bson.D{{Key: "$in", Value: c.in}}}
	case c.since != nil:
		return bson.E{Key: c.field, Value: bson.D{{Key: "$gte", Value: *c.since}}}
	case c.contains != nil:
		return bson.E{Key: c.field, Value: bson.Regex{Pattern: regexp.QuoteMeta(*c.contains)}}
	}
	r := bson.D{}
	if c.gte != nil {
		r = append(r, bson.E{Key: "$gte", Value: *c.gte})
	}
	if c.lte != nil {
		r = append(r, bson.E{Key: "$lte", Value: *c.lte})
	}
	if c.lt != nil {
		r = append(r, bson.E{Key: "$lt", Value: *c.lt})
	}
	return bson.E{Key: c.field, Value: r}
}

// test reports whether d, a record of kind k, passes w.
func (w where) test(k *Kind, d Doc) bool {
	for i := range w {
		if !w[i].test(k, d) {
			return false
		}
	}
	return true
}

func (c *cond) test(k *Kind, d Doc) bool {
	switch {
	case c.or != nil:
		return slices.ContainsFunc(c.or, func(w where) bool { return w.test(k, d) })
	case c.since != nil:
		return !d.Base().UpdatedAt.Before(*c.since)
	}
	return k.anyString(d, c.field, func(v string) bool {
		switch {
		case c.in != nil:
			return slices.Contains(c.in, v)
		case c.contains != nil:
			return strings.Contains(v, *c.contains)
		}
		return (c.gte == nil || v >= *c.gte) && (c.lte == nil || v <= *c.lte) && (c.lt == nil || v < *c.lt)
	})
}

// anyString reports whether one of the strings record d (of kind k) holds
// in the stored field passes f: the field's value, or one element of a
// list. A field the record lacks (or a nil one) holds none.
func (k *Kind) anyString(d Doc, field string, f func(string) bool) bool {
	b := d.Base()
	switch field {
	case "_id":
		return f(b.ID)
	case "councilId":
		return f(b.CouncilID)
	case "dataset":
		return f(b.Dataset)
	case "visibility":
		return f(b.Effective)
	case "search":
		return f(b.Search)
	}
	idx, ok := k.fields[field]
	if !ok {
		panic("store: " + k.Name + " has no stored field " + field)
	}
	switch v := fieldValue(d, idx); v.Kind() {
	case reflect.String:
		return f(v.String())
	case reflect.Slice:
		for i := range v.Len() {
			if e := v.Index(i); e.Kind() == reflect.String && f(e.String()) {
				return true
			}
		}
	}
	return false
}

// fieldValue is record d's field at index idx, through a pointer: the
// zero Value (of kind Invalid) for a nil one. It is read through
// reflect's own kinds, since boxing it as an interface would allocate on
// every test and every comparison of a sort.
func fieldValue(d Doc, idx []int) reflect.Value {
	v := reflect.ValueOf(d).Elem().FieldByIndex(idx)
	if v.Kind() == reflect.Pointer {
		return v.Elem()
	}
	return v
}

// stringOf is the string a record holds in a scalar string field, and
// whether it holds one: what a sort or a cursor reads.
func (k *Kind) stringOf(d Doc, field string) (string, bool) {
	var out string
	found := k.anyString(d, field, func(v string) bool { out = v; return true })
	return out, found
}

// storedFields maps each stored field of t (by its bson name, those of an
// inline struct included) to its index.
func storedFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if name, _, _ := strings.Cut(f.Tag.Get("bson"), ","); name != "" && f.IsExported() {
			if _, ok := out[name]; !ok {
				out[name] = f.Index
			}
		}
	}
	return out
}
