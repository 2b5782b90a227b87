package store

// Finds answered in memory: the part of MongoDB's query language the
// store's reads use (equality, $in, $nin, $ne, ranges, $exists, $regex,
// $or, $and; sort, limit, skip and inclusion projections on top-level
// fields), evaluated on BSON documents as MongoDB evaluates it. A filter or
// option outside that part is errUnsupported, never a guess: the snapshot
// then sends the find to the server (snapshot.go).

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// errUnsupported is a filter, sort or projection the matcher does not
// evaluate.
var errUnsupported = errors.New("not answered in memory")

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUnsupported}, a...)...)
}

// matcher evaluates one find's filter over its documents. It compiles each
// regular expression of the filter once, the first time a document needs
// it, and keeps it for the rest of the find: compiling a long pattern
// again for every document scanned would cost more than the scan.
type matcher struct {
	res map[string]*regexp.Regexp
}

// regexp is pattern compiled, from the find's own cache.
func (m *matcher) regexp(pattern string) (*regexp.Regexp, error) {
	if re, ok := m.res[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	if m.res == nil {
		m.res = map[string]*regexp.Regexp{}
	}
	m.res[pattern] = re
	return re, nil
}

// matches reports whether doc passes filter, a whole filter document.
func (m *matcher) matches(doc, filter bson.Raw) (bool, error) {
	elems, err := filter.Elements()
	if err != nil {
		return false, err
	}
	for _, e := range elems {
		ok, err := m.matchElem(doc, e.Key(), e.Value())
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// matchElem is one condition of a filter document: a field's, or $or/$and.
func (m *matcher) matchElem(doc bson.Raw, key string, cond bson.RawValue) (bool, error) {
	switch {
	case key == "$or" || key == "$and":
		branches, err := subFilters(cond)
		if err != nil {
			return false, err
		}
		for _, b := range branches {
			ok, err := m.matches(doc, b)
			if err != nil {
				return false, err
			}
			if ok == (key == "$or") {
				return ok, nil
			}
		}
		return key == "$and", nil
	case strings.HasPrefix(key, "$") || strings.Contains(key, "."):
		return false, unsupported("filter key %s", key)
	}
	v, err := doc.LookupErr(key)
	present := err == nil
	if ops, ok := operators(cond); ok {
		return m.matchOps(v, present, ops)
	}
	if cond.Type == bson.TypeEmbeddedDocument {
		return false, unsupported("document equality on %s", key)
	}
	return m.equal(v, present, cond)
}

// subFilters are the documents of an $or or $and.
func subFilters(cond bson.RawValue) ([]bson.Raw, error) {
	arr, ok := cond.ArrayOK()
	if !ok {
		return nil, unsupported("$or/$and of a %s", cond.Type)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, err
	}
	out := make([]bson.Raw, len(vals))
	for i, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			return nil, unsupported("$or/$and element %s", v.Type)
		}
		out[i] = d
	}
	return out, nil
}

// operators returns cond's elements when it is an operator document
// ({$gte: …, $lte: …}).
func operators(cond bson.RawValue) ([]bson.RawElement, bool) {
	d, ok := cond.DocumentOK()
	if !ok {
		return nil, false
	}
	elems, err := d.Elements()
	if err != nil || len(elems) == 0 || !strings.HasPrefix(elems[0].Key(), "$") {
		return nil, false
	}
	return elems, true
}

func (m *matcher) matchOps(v bson.RawValue, present bool, ops []bson.RawElement) (bool, error) {
	var pattern, options string
	hasRegex := false
	for _, op := range ops {
		arg := op.Value()
		var ok bool
		var err error
		switch op.Key() {
		case "$eq":
			ok, err = m.equal(v, present, arg)
		case "$ne":
			ok, err = m.equal(v, present, arg)
			ok = !ok
		case "$in", "$nin":
			ok, err = m.in(v, present, arg)
			if op.Key() == "$nin" {
				ok = !ok
			}
		case "$gt", "$gte", "$lt", "$lte":
			ok, err = inRange(v, present, op.Key(), arg)
		case "$exists":
			want, isBool := arg.BooleanOK()
			if !isBool {
				return false, unsupported("$exists of a %s", arg.Type)
			}
			ok = present == want
		case "$regex":
			hasRegex = true
			switch arg.Type {
			case bson.TypeString:
				pattern = arg.StringValue()
			case bson.TypeRegex:
				pattern, options = arg.Regex()
			default:
				return false, unsupported("$regex of a %s", arg.Type)
			}
			continue
		case "$options":
			options = arg.StringValue()
			continue
		default:
			return false, unsupported("operator %s", op.Key())
		}
		if err != nil || !ok {
			return false, err
		}
	}
	if hasRegex {
		return m.regexMatch(v, present, pattern, options)
	}
	return true, nil
}

// equal is MongoDB's equality: a field holding an array matches a value
// any element equals; a missing field equals only null.
func (m *matcher) equal(v bson.RawValue, present bool, want bson.RawValue) (bool, error) {
	switch want.Type {
	case bson.TypeRegex:
		p, o := want.Regex()
		return m.regexMatch(v, present, p, o)
	case bson.TypeArray, bson.TypeEmbeddedDocument:
		return false, unsupported("equality with a %s", want.Type)
	}
	if !present || v.Type == bson.TypeNull {
		return want.Type == bson.TypeNull, nil
	}
	if arr, ok := v.ArrayOK(); ok {
		return anyElement(arr, func(e bson.RawValue) (bool, error) { return m.equal(e, true, want) })
	}
	c, err := compareValues(v, want)
	return c == 0 && err == nil && bracket(v.Type) == bracket(want.Type), err
}

func (m *matcher) in(v bson.RawValue, present bool, list bson.RawValue) (bool, error) {
	arr, ok := list.ArrayOK()
	if !ok {
		return false, unsupported("$in of a %s", list.Type)
	}
	vals, err := arr.Values()
	if err != nil {
		return false, err
	}
	for _, w := range vals {
		ok, err := m.equal(v, present, w)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// inRange is $gt, $gte, $lt or $lte: true only for a value of the bound's
// own type bracket, as MongoDB compares.
func inRange(v bson.RawValue, present bool, op string, bound bson.RawValue) (bool, error) {
	switch bound.Type {
	case bson.TypeNull, bson.TypeArray, bson.TypeEmbeddedDocument, bson.TypeMinKey, bson.TypeMaxKey:
		return false, unsupported("%s of a %s", op, bound.Type)
	}
	if !present {
		return false, nil
	}
	if arr, ok := v.ArrayOK(); ok {
		return anyElement(arr, func(e bson.RawValue) (bool, error) { return inRange(e, true, op, bound) })
	}
	if bracket(v.Type) != bracket(bound.Type) {
		return false, nil
	}
	c, err := compareValues(v, bound)
	if err != nil {
		return false, err
	}
	switch op {
	case "$gt":
		return c > 0, nil
	case "$gte":
		return c >= 0, nil
	case "$lt":
		return c < 0, nil
	}
	return c <= 0, nil
}

func (m *matcher) regexMatch(v bson.RawValue, present bool, pattern, options string) (bool, error) {
	if !present {
		return false, nil
	}
	flags := ""
	for _, o := range options {
		switch o {
		case 'i', 'm', 's':
			flags += string(o)
		default:
			return false, unsupported("regex option %c", o)
		}
	}
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	re, err := m.regexp(pattern)
	if err != nil {
		return false, unsupported("regex %q", pattern)
	}
	if arr, ok := v.ArrayOK(); ok {
		return anyElement(arr, func(e bson.RawValue) (bool, error) { return m.regexMatch(e, true, pattern, "") })
	}
	s, ok := v.StringValueOK()
	return ok && re.MatchString(s), nil
}

func anyElement(arr bson.RawArray, f func(bson.RawValue) (bool, error)) (bool, error) {
	vals, err := arr.Values()
	if err != nil {
		return false, err
	}
	for _, e := range vals {
		ok, err := f(e)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// bracket is a type's place in MongoDB's order of types: values of
// different brackets never compare equal, and sort by bracket.
func bracket(t bson.Type) int {
	switch t {
	case bson.TypeMinKey:
		return 0
	case bson.TypeNull, bson.TypeUndefined:
		return 1
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return 2
	case bson.TypeString, bson.TypeSymbol:
		return 3
	case bson.TypeEmbeddedDocument:
		return 4
	case bson.TypeArray:
		return 5
	case bson.TypeBinary:
		return 6
	case bson.TypeObjectID:
		return 7
	case bson.TypeBoolean:
		return 8
	case bson.TypeDateTime:
		return 9
	case bson.TypeTimestamp:
		return 10
	case bson.TypeRegex:
		return 11
	}
	return 12
}

// compareValues orders two scalars as MongoDB does (by bracket, then by
// value; strings bytewise, as without a collation).
func compareValues(a, b bson.RawValue) (int, error) {
	if c := cmp.Compare(bracket(a.Type), bracket(b.Type)); c != 0 {
		return c, nil
	}
	switch bracket(a.Type) {
	case 1:
		return 0, nil
	case 2:
		x, okx := number(a)
		y, oky := number(b)
		if !okx || !oky {
			return 0, unsupported("comparison of %s and %s", a.Type, b.Type)
		}
		return cmp.Compare(x, y), nil
	case 3:
		return strings.Compare(a.StringValue(), b.StringValue()), nil
	case 7:
		x, y := a.ObjectID(), b.ObjectID()
		return bytes.Compare(x[:], y[:]), nil
	case 8:
		return cmp.Compare(boolInt(a.Boolean()), boolInt(b.Boolean())), nil
	case 9:
		return cmp.Compare(a.DateTime(), b.DateTime()), nil
	}
	return 0, unsupported("comparison of %s", a.Type)
}

func number(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32()), true
	case bson.TypeInt64:
		return float64(v.Int64()), true
	case bson.TypeDouble:
		f := v.Double()
		return f, !math.IsNaN(f)
	}
	return 0, false
}

// elements are the fields of a document given as any the driver
// marshals (bson.D, a map, a struct).
func elements(doc any) ([]bson.RawElement, error) {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return bson.Raw(raw).Elements()
}

// sortKey is one field of a sort: its name and direction.
type sortKey struct {
	field string
	desc  bool
}

// sortSpec reads a sort document ({date: 1, _id: 1}).
func sortSpec(sort any) ([]sortKey, error) {
	if sort == nil {
		return nil, nil
	}
	elems, err := elements(sort)
	if err != nil {
		return nil, err
	}
	out := make([]sortKey, len(elems))
	for i, e := range elems {
		dir, ok := number(e.Value())
		if !ok || (dir != 1 && dir != -1) || strings.HasPrefix(e.Key(), "$") || strings.Contains(e.Key(), ".") {
			return nil, unsupported("sort on %s", e.Key())
		}
		out[i] = sortKey{field: e.Key(), desc: dir == -1}
	}
	return out, nil
}

// sortValue is a document's value of a sort field, null when missing.
func sortValue(d bson.Raw, field string) bson.RawValue {
	v, err := d.LookupErr(field)
	if err != nil {
		return bson.RawValue{Type: bson.TypeNull}
	}
	return v
}

// projection reads an inclusion projection ({bodyId: 1, date: 1}): the
// top-level fields to keep, and whether _id is kept (it is unless
// excluded).
func projection(p any) (fields map[string]bool, id bool, err error) {
	if p == nil {
		return nil, true, nil
	}
	elems, err := elements(p)
	if err != nil {
		return nil, false, err
	}
	fields, id = map[string]bool{}, true
	for _, e := range elems {
		keep, isNum := number(e.Value())
		if b, isBool := e.Value().BooleanOK(); isBool {
			keep, isNum = float64(boolInt(b)), true
		}
		switch {
		case !isNum || strings.ContainsAny(e.Key(), ".$"):
			return nil, false, unsupported("projection of %s", e.Key())
		case e.Key() == "_id":
			id = keep != 0
		case keep == 0:
			return nil, false, unsupported("exclusion of %s", e.Key())
		default:
			fields[e.Key()] = true
		}
	}
	if len(fields) == 0 && !id {
		// {_id: 0} alone excludes _id and keeps the rest.
		return nil, false, unsupported("exclusion of _id")
	}
	return fields, id, nil
}

// project keeps the projection's fields of d, in d's order.
func project(d bson.Raw, fields map[string]bool, id bool) (bson.Raw, error) {
	elems, err := d.Elements()
	if err != nil {
		return nil, err
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if k := e.Key(); (k == "_id" && id) || fields[k] {
			out = append(out, e...)
		}
	}
	out, err = bsoncore.AppendDocumentEnd(out, idx)
	return bson.Raw(out), err
}
