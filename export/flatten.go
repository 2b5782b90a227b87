package export

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"councilgraph/store"
)

// column is one field of a record type as the downloads show it: its
// storage name and where it is in the Go struct.
type column struct {
	name  string
	index []int
}

// skipped are the store's bookkeeping fields, which no download shows.
var skipped = map[string]bool{"dataset": true, "hash": true, "search": true}

// recordLast are the fields every record shares, shown after its own.
var recordLast = []string{"notes", "sources", "visibility", "updatedAt"}

// columnsOf lists the columns of a record type: id, the type's own fields
// in the order the store declares them, then notes, sources, visibility
// and updatedAt.
func columnsOf(t reflect.Type) []column {
	var own, shared []column
	var walk func(t reflect.Type, index []int, inRecord bool)
	walk = func(t reflect.Type, index []int, inRecord bool) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("bson"), ",")
			idx := append(append([]int{}, index...), i)
			if strings.Contains(f.Tag.Get("bson"), "inline") {
				walk(f.Type, idx, f.Type == reflect.TypeFor[store.Record]())
				continue
			}
			if tag == "" || tag == "-" || skipped[tag] {
				continue
			}
			if tag == "_id" {
				tag = "id"
			}
			c := column{name: tag, index: idx}
			if inRecord {
				shared = append(shared, c)
			} else {
				own = append(own, c)
			}
		}
	}
	walk(t, nil, false)
	out := []column{}
	for _, c := range shared {
		if c.name == "id" {
			out = append(out, c)
		}
	}
	out = append(out, own...)
	for _, name := range recordLast {
		for _, c := range shared {
			if c.name == name {
				out = append(out, c)
			}
		}
	}
	return out
}

// cell is a field's value as one CSV cell: numbers as written, dates as
// YYYY-MM-DD, times in RFC 3339 UTC, lists joined by "; ", sources as
// "document locator", nested records as JSON; nothing for a null.
func cell(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339)
	case []string:
		return joinCell(x)
	case []store.Source:
		return sourcesCell(x)
	}
	b, _ := json.Marshal(jsonValue(v))
	return string(b)
}

// sourcesCell prints sources as "document locator", joined by "; " (each
// defused, as joinCell does).
func sourcesCell(sources []store.Source) string {
	parts := make([]string, len(sources))
	for i, s := range sources {
		parts[i] = s.Document
		if s.Locator != nil {
			parts[i] += " " + *s.Locator
		}
	}
	return joinCell(parts)
}

// object is a JSON object that keeps its keys in order.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// record is a record as one NDJSON object, with the CSV's columns as keys.
func record(cols []column, v reflect.Value) object {
	o := make(object, len(cols))
	for i, c := range cols {
		o[i] = member{c.name, jsonValue(v.FieldByIndex(c.index))}
	}
	return o
}

func reflectOf(v any) reflect.Value { return reflect.ValueOf(v) }

// jsonValue is v as JSON sees it, with the store's field names for nested
// records (sources, progress updates).
func jsonValue(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return x.UTC().Format(time.RFC3339)
	}
	switch v.Kind() {
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = jsonValue(v.Index(i))
		}
		return out
	case reflect.Struct:
		o := object{}
		t := v.Type()
		for i := range t.NumField() {
			tag, opts, _ := strings.Cut(t.Field(i).Tag.Get("bson"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			fv := v.Field(i)
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			o = append(o, member{tag, jsonValue(fv)})
		}
		return o
	}
	return v.Interface()
}
