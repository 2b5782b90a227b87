package store

// The documents of the embedded store as FerretDB sends them.
//
// FerretDB's SQLite backend keeps each document as one JSON text, its
// "sjson": the document's fields as JSON, preceded by a schema ("$s") that
// gives each field's BSON type and the fields' order. A find decodes that
// text with encoding/json into FerretDB's own values, one allocation per
// field and many per document, and encodes those as BSON: at a million
// records most of a model's build, on one core per find. appendSJSON turns
// the text into the very same BSON bytes directly, the schema of each
// shape of document parsed once (schemaCache), so that the model's first
// build can read the tables itself (sqliteread.go). Anything it is not
// sure of is an error, and the caller reads through FerretDB instead;
// TestStoredDocumentsAreFerretDBs holds the two to the same bytes.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sjsonSchema is a document's schema as FerretDB stores it.
type sjsonSchema struct {
	Properties map[string]*sjsonElem `json:"p"`
	Keys       []string              `json:"$k"`
}

// sjsonElem is one value's schema.
type sjsonElem struct {
	Type    string       `json:"t"`
	Schema  *sjsonSchema `json:"$s,omitempty"`
	Options *string      `json:"o,omitempty"`
	Items   []*sjsonElem `json:"i,omitempty"`
	Subtype *byte        `json:"s,omitempty"`
}

// errSJSON says a stored text is not as expected: read it through FerretDB.
var errSJSON = errors.New("unexpected stored document")

func sjsonErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errSJSON, fmt.Sprintf(format, a...))
}

// schemaCache holds the schemas parsed so far, by their text: a kind's
// documents share a few shapes (they differ by their lists' lengths).
type schemaCache struct {
	m map[string]*sjsonSchema
	// spare is room for the members and items of the documents turned,
	// kept from one to the next.
	spare scratch
}

// scratch is room to split objects and arrays into: each nested value
// takes what its parent leaves past its own.
type scratch struct {
	fields []field
	items  [][]byte
}

// schemaCacheMax bounds a cache: past it, a schema is parsed each time.
const schemaCacheMax = 1 << 12

func (c *schemaCache) get(text []byte) (*sjsonSchema, error) {
	if sch, ok := c.m[string(text)]; ok {
		return sch, nil
	}
	var sch sjsonSchema
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sch); err != nil {
		return nil, sjsonErrorf("schema: %v", err)
	}
	if dec.More() {
		return nil, sjsonErrorf("schema: trailing data")
	}
	if !sch.unique() {
		// FerretDB would keep one field of a key named twice.
		return nil, sjsonErrorf("schema: a key named twice")
	}
	if c.m == nil {
		c.m = map[string]*sjsonSchema{}
	}
	if len(c.m) < schemaCacheMax {
		c.m[string(text)] = &sch
	}
	return &sch, nil
}

// unique reports whether no document of the schema names a key twice.
func (sch *sjsonSchema) unique() bool {
	if sch == nil {
		return true
	}
	seen := make(map[string]bool, len(sch.Keys))
	for _, k := range sch.Keys {
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	for _, e := range sch.Properties {
		if !e.unique() {
			return false
		}
	}
	return true
}

func (e *sjsonElem) unique() bool {
	if e == nil {
		return true
	}
	if !e.Schema.unique() {
		return false
	}
	for _, it := range e.Items {
		if !it.unique() {
			return false
		}
	}
	return true
}

// field is one member of a JSON object: its key, undecoded (without
// quotes), whether it holds escapes, and its value's text.
type field struct {
	key     []byte
	escaped bool
	val     []byte
}

// appendSJSON appends to dst the BSON document FerretDB sends for the
// stored text b: its fields in the schema's order, but _id first, as
// FerretDB's find puts it.
func appendSJSON(dst, b []byte, cache *schemaCache) ([]byte, error) {
	if len(b) == 0 || b[len(b)-1] != '}' {
		// FerretDB's decoding refuses anything after the document.
		return dst, sjsonErrorf("not a document")
	}
	if cap(cache.spare.fields) == 0 {
		cache.spare = scratch{fields: make([]field, 0, 256), items: make([][]byte, 0, 256)}
	}
	fields, err := objectFields(b, cache.spare.fields[:0])
	if err != nil {
		return dst, err
	}
	if len(fields) == 0 || string(fields[0].key) != "$s" || fields[0].escaped {
		return dst, sjsonErrorf("no schema first")
	}
	schemaText := fields[0].val
	fields = fields[1:]
	for _, f := range fields {
		if (!f.escaped && string(f.key) == "$s") || (f.escaped && fieldKey(f) == "$s") {
			return dst, sjsonErrorf("a second schema")
		}
	}
	sch, err := cache.get(schemaText)
	if err != nil {
		return dst, err
	}
	if !slices.Contains(sch.Keys, "_id") {
		return dst, sjsonErrorf("no _id")
	}
	return appendDocument(dst, fields, sch, true, scratch{fields: fields[len(fields):], items: cache.spare.items[:0]})
}

// appendDocument appends the document of fields, in the order of the
// schema's keys (with _id first where idFirst), as FerretDB's decoding
// does (an object's members by key).
func appendDocument(dst []byte, fields []field, sch *sjsonSchema, idFirst bool, sp scratch) ([]byte, error) {
	if len(fields) == 0 {
		return append(dst, 5, 0, 0, 0, 0), nil
	}
	if sch == nil {
		return dst, sjsonErrorf("no schema for a document")
	}
	if len(sch.Keys) != len(fields) {
		return dst, sjsonErrorf("%d keys in the schema, %d fields", len(sch.Keys), len(fields))
	}
	// Stored in the schema's order, each key once (the schema's keys are
	// unique): each field is where its key is. Otherwise each key's value
	// is looked up as FerretDB's map would keep it (the last of a key).
	inOrder := true
	for i, key := range sch.Keys {
		if f := fields[i]; f.escaped || string(f.key) != key {
			inOrder = false
			break
		}
	}
	var byKey map[string][]byte
	if !inOrder {
		byKey = make(map[string][]byte, len(fields))
		for _, f := range fields {
			byKey[fieldKey(f)] = f.val
		}
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	add := func(i int, key string) error {
		val := fields[i].val
		if !inOrder {
			v, ok := byKey[key]
			if !ok {
				return sjsonErrorf("missing key %q", key)
			}
			val = v
		}
		var err error
		dst, err = appendElement(dst, key, val, sch.Properties[key], sp)
		return err
	}
	if idFirst {
		if i := slices.Index(sch.Keys, "_id"); i >= 0 {
			if err := add(i, "_id"); err != nil {
				return dst, err
			}
		}
	}
	for i, key := range sch.Keys {
		if idFirst && key == "_id" {
			continue
		}
		if err := add(i, key); err != nil {
			return dst, err
		}
	}
	dst = append(dst, 0)
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

// fieldKey is f's key decoded.
func fieldKey(f field) string {
	if !f.escaped {
		return string(f.key)
	}
	s, err := unquote(f.key, true)
	if err != nil {
		return "\x00" // matches no key of a schema (a BSON key holds no NUL)
	}
	return s
}

// BSON's element types.
const (
	bsonDouble    = 0x01
	bsonString    = 0x02
	bsonDocument  = 0x03
	bsonArray     = 0x04
	bsonBinary    = 0x05
	bsonObjectID  = 0x07
	bsonBool      = 0x08
	bsonDateTime  = 0x09
	bsonNull      = 0x0A
	bsonRegex     = 0x0B
	bsonInt32     = 0x10
	bsonTimestamp = 0x11
	bsonInt64     = 0x12
)

// appendElement appends the element named key holding the stored value
// text val of schema sch.
func appendElement(dst []byte, key string, val []byte, sch *sjsonElem, sp scratch) ([]byte, error) {
	if strings.IndexByte(key, 0) >= 0 {
		return dst, sjsonErrorf("a key holds NUL")
	}
	if string(val) == "null" {
		dst = appendKey(dst, bsonNull, key)
		return dst, nil
	}
	if sch == nil {
		return dst, sjsonErrorf("no schema for %q", key)
	}
	switch sch.Type {
	case "object":
		if sch.Schema == nil {
			return dst, sjsonErrorf("no schema for %q", key)
		}
		fields, err := objectFields(val, sp.fields[:0])
		if err != nil {
			return dst, err
		}
		dst = appendKey(dst, bsonDocument, key)
		return appendDocument(dst, fields, sch.Schema, false, scratch{fields: fields[len(fields):], items: sp.items})
	case "array":
		if sch.Items == nil {
			return dst, sjsonErrorf("no schema for the items of %q", key)
		}
		items, err := arrayItems(val, sp.items[:0])
		if err != nil {
			return dst, err
		}
		if len(items) != len(sch.Items) {
			return dst, sjsonErrorf("%d items in the schema, %d in the array", len(sch.Items), len(items))
		}
		dst = appendKey(dst, bsonArray, key)
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		for i, it := range items {
			if dst, err = appendElement(dst, arrayKey(i), it, sch.Items[i], scratch{fields: sp.fields, items: items[len(items):]}); err != nil {
				return dst, err
			}
		}
		dst = append(dst, 0)
		binary.LittleEndian.PutUint32(dst[start:], uint32(len(dst)-start))
		return dst, nil
	case "double":
		if !isNumber(val) {
			return dst, sjsonErrorf("double %q", val)
		}
		f, err := strconv.ParseFloat(string(val), 64)
		if err != nil {
			return dst, sjsonErrorf("double %q", val)
		}
		dst = appendKey(dst, bsonDouble, key)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f)), nil
	case "string":
		s, err := unquoted(val, false)
		if err != nil {
			return dst, err
		}
		dst = appendKey(dst, bsonString, key)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)+1))
		return append(append(dst, s...), 0), nil
	case "binData":
		s, err := unquote(val, false)
		if err != nil {
			return dst, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || sch.Subtype == nil {
			return dst, sjsonErrorf("binData %q", val)
		}
		dst = appendKey(dst, bsonBinary, key)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
		return append(append(dst, *sch.Subtype), b...), nil
	case "objectId":
		s, err := unquote(val, false)
		if err != nil {
			return dst, err
		}
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 12 {
			return dst, sjsonErrorf("objectId %q", val)
		}
		dst = appendKey(dst, bsonObjectID, key)
		return append(dst, b...), nil
	case "bool":
		switch string(val) {
		case "true":
			dst = appendKey(dst, bsonBool, key)
			return append(dst, 1), nil
		case "false":
			dst = appendKey(dst, bsonBool, key)
			return append(dst, 0), nil
		}
		return dst, sjsonErrorf("bool %q", val)
	case "date":
		n, err := integer(val, 64)
		if err != nil {
			return dst, err
		}
		dst = appendKey(dst, bsonDateTime, key)
		return binary.LittleEndian.AppendUint64(dst, uint64(n)), nil
	case "regex":
		s, err := unquote(val, false)
		if err != nil {
			return dst, err
		}
		if sch.Options == nil || strings.IndexByte(s, 0) >= 0 || strings.IndexByte(*sch.Options, 0) >= 0 {
			return dst, sjsonErrorf("regex %q", val)
		}
		dst = appendKey(dst, bsonRegex, key)
		dst = append(append(dst, s...), 0)
		return append(append(dst, *sch.Options...), 0), nil
	case "int":
		n, err := integer(val, 32)
		if err != nil {
			return dst, err
		}
		dst = appendKey(dst, bsonInt32, key)
		return binary.LittleEndian.AppendUint32(dst, uint32(int32(n))), nil
	case "long":
		n, err := integer(val, 64)
		if err != nil {
			return dst, err
		}
		dst = appendKey(dst, bsonInt64, key)
		return binary.LittleEndian.AppendUint64(dst, uint64(n)), nil
	case "timestamp":
		if !isDigits(val) {
			return dst, sjsonErrorf("timestamp %q", val)
		}
		n, err := strconv.ParseUint(string(val), 10, 64)
		if err != nil {
			return dst, sjsonErrorf("timestamp %q", val)
		}
		dst = appendKey(dst, bsonTimestamp, key)
		return binary.LittleEndian.AppendUint64(dst, n), nil
	}
	return dst, sjsonErrorf("type %q", sch.Type)
}

// appendKey appends an element's type and name.
func appendKey(dst []byte, t byte, key string) []byte {
	return append(append(append(dst, t), key...), 0)
}

// arrayKeys are the names of an array's first elements.
var arrayKeys = func() []string {
	out := make([]string, 1<<10)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

// arrayKey is the name of an array's ith element.
func arrayKey(i int) string {
	if i < len(arrayKeys) {
		return arrayKeys[i]
	}
	return strconv.Itoa(i)
}

// integer parses a JSON integer of at most bits bits.
func integer(val []byte, bits int) (int64, error) {
	digits := val
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if !isDigits(digits) {
		return 0, sjsonErrorf("integer %q", val)
	}
	n, err := strconv.ParseInt(string(val), 10, bits)
	if err != nil {
		return 0, sjsonErrorf("integer %q", val)
	}
	return n, nil
}

// isDigits reports whether b is a JSON number with no sign, fraction or
// exponent: digits, with no leading zero.
func isDigits(b []byte) bool {
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isNumber reports whether b is a number in JSON's grammar.
func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

// unquote decodes the JSON string val (with its quotes, or without them
// where bare) as encoding/json does.
func unquote(val []byte, bare bool) (string, error) {
	b, err := unquoted(val, bare)
	return string(b), err
}

// unquoted is the JSON string val decoded (with its quotes, or without
// them where bare), as encoding/json decodes it: a string with no escapes
// and valid UTF-8 is its own bytes (val's, not a copy); any other goes
// through encoding/json itself.
func unquoted(val []byte, bare bool) ([]byte, error) {
	inner := val
	if !bare {
		if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
			return nil, sjsonErrorf("string %q", val)
		}
		inner = val[1 : len(val)-1]
	}
	plain := true
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || (utf8.Valid(inner) && !bytes.ContainsAny(inner, "\\\"") && !hasControl(inner)) {
		return inner, nil
	}
	quoted := val
	if bare {
		quoted = append(append([]byte{'"'}, val...), '"')
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, sjsonErrorf("string %q: %v", val, err)
	}
	return []byte(s), nil
}

// hasControl reports whether b holds a byte JSON does not allow in a
// string unescaped.
func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// objectFields splits the JSON object b into its members, appended to
// out.
func objectFields(b []byte, out []field) ([]field, error) {
	err := eachMember(b, '{', '}', "object", func(i int) (int, error) {
		end, escaped, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		f := field{key: b[i+1 : end-1], escaped: escaped}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, sjsonErrorf("no colon")
		}
		i = skipSpace(b, i+1)
		if end, err = valueEnd(b, i); err != nil {
			return 0, err
		}
		f.val = b[i:end]
		out = append(out, f)
		return end, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// arrayItems splits the JSON array b into its items' texts, appended to
// out.
func arrayItems(b []byte, out [][]byte) ([][]byte, error) {
	err := eachMember(b, '[', ']', "array", func(i int) (int, error) {
		end, err := valueEnd(b, i)
		if err != nil {
			return 0, err
		}
		out = append(out, b[i:end])
		return end, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachMember walks the JSON object or array b, opened by open and closed
// by close, with nothing after it: member reads the member starting at
// index i and returns the index just past it.
func eachMember(b []byte, open, close byte, what string, member func(i int) (int, error)) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != open {
		return sjsonErrorf("not an %s", what)
	}
	i = skipSpace(b, i+1)
	for first := true; ; first = false {
		if first && i < len(b) && b[i] == close {
			break
		}
		end, err := member(i)
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return sjsonErrorf("unterminated %s", what)
		}
		if b[i] == close {
			break
		}
		if b[i] != ',' {
			return sjsonErrorf("no comma")
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i+1) != len(b) {
		return sjsonErrorf("trailing data")
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the index after the JSON string starting at b[i], and
// whether it holds escapes.
func stringEnd(b []byte, i int) (int, bool, error) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, sjsonErrorf("not a string")
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, nil
		}
	}
	return 0, false, sjsonErrorf("unterminated string")
}

// valueEnd is the index after the JSON value starting at b[i]. Only the
// value's extent is checked here; its contents are when it is decoded.
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, sjsonErrorf("no value")
	}
	switch b[i] {
	case '"':
		end, _, err := stringEnd(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, sjsonErrorf("unterminated value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, sjsonErrorf("no value")
	}
	return j, nil
}
