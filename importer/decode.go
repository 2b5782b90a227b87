// Package importer owns data set files: it decodes them strictly, validates
// every record and reference before anything is written, and writes with
// idempotent bulk upserts. A set with any problem writes nothing. A set
// that validates is written collection by collection; the database has no
// transactions (FerretDB), so one that fails part-way through the writes
// can leave them part-done, and running the same import again completes
// them, since every write is idempotent.
package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"councilgraph/store"
)

// Problem is one thing wrong with a data set, located in its file.
type Problem struct {
	File  string
	Line  int
	ID    string
	Field string
	Msg   string
}

// String formats the problem as file:line: record id: field: what is wrong.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	} else {
		b.WriteString(p.File + ": ")
	}
	if p.ID != "" {
		b.WriteString(p.ID + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is a list of problems; as an error it lists them all.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d problem(s):\n%s", len(ps), strings.Join(lines, "\n"))
}

// Item is one decoded record and where it stands in its file.
type Item struct {
	File  string
	Line  int
	Doc   store.Doc
	lines map[string]int // field name → line
	// partial says a value had the wrong type, so the record decoded only
	// in part: Validate counts its ID, so that references to it are not
	// reported missing, and checks nothing else of it, which would only
	// repeat the type problem in other words.
	partial bool
}

// Set is a decoded data set: its records by collection name.
type Set struct {
	// Manifest is the set's set.yaml; nil when the folder has none.
	Manifest *Manifest
	// Moves are the entries of its moved.yaml.
	Moves []moveItem
	Items map[string][]Item
	// Sources holds the set's source documents (sources/*.txt) by file
	// name, split into lines; text a record says is as published is
	// checked against them.
	Sources map[string][]string
}

// Count is the number of records in the set.
func (s *Set) Count() int {
	n := 0
	for _, items := range s.Items {
		n += len(items)
	}
	return n
}

// Load reads every collection file in fsys (`<collection>.yaml`) strictly. A
// file that is not a collection's, an unknown field, or a value of the wrong
// type is a problem. A record with such problems is still in the set, so that
// Validate can report its other problems, and the references to it, in the
// same run; a set with problems must not be written.
func Load(fsys fs.FS) (*Set, Problems) {
	set := &Set{Items: map[string][]Item{}, Sources: loadSources(fsys)}
	var problems Problems
	var ps Problems
	set.Manifest, ps = loadManifest(fsys)
	problems = append(problems, ps...)
	set.Moves, ps = loadMoves(fsys)
	problems = append(problems, ps...)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, Problems{{File: ".", Msg: "cannot read the folder: " + err.Error()}}
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".yaml") || name == ManifestFile || name == MovedFile {
			continue
		}
		k := kindOfFile(strings.TrimSuffix(name, ".yaml"))
		if k == nil {
			problems = append(problems, Problem{File: name, Line: 1, Msg: "not a collection file; expected one of " + strings.Join(collectionNames(), ", ") + " (.yaml)"})
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			problems = append(problems, Problem{File: name, Line: 1, Msg: "cannot read: " + err.Error()})
			continue
		}
		items, ps := Decode(name, data, k.New)
		set.Items[k.Collection] = append(set.Items[k.Collection], items...)
		problems = append(problems, ps...)
	}
	return set, problems
}

// Decode reads one collection file: a YAML sequence of mappings, each decoded
// into a fresh record from newDoc. Records with unknown fields or values of
// the wrong type are returned with their problems: the former whole (the
// unknown fields ignored), the latter in part, for their ID only.
func Decode(file string, data []byte, newDoc func() store.Doc) ([]Item, Problems) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: file, Line: yamlErrorLine(err), Msg: "malformed YAML: " + err.Error()}}
	}
	if root.Kind == 0 { // empty file
		return nil, nil
	}
	seq := root.Content[0]
	if seq.Kind != yaml.SequenceNode {
		return nil, Problems{{File: file, Line: seq.Line, Msg: "the file must be a list of records (a YAML sequence)"}}
	}
	var items []Item
	var problems Problems
	for _, n := range seq.Content {
		if n.Kind != yaml.MappingNode {
			problems = append(problems, Problem{File: file, Line: n.Line, Msg: "a record must be a mapping of field: value"})
			continue
		}
		doc := newDoc()
		id := scalarField(n, "id")
		problems = append(problems, unknownFields(file, id, n, reflect.TypeOf(doc).Elem(), "")...)
		item := Item{File: file, Line: n.Line, Doc: doc, lines: fieldLines(n)}
		if err := n.Decode(doc); err != nil {
			problems = append(problems, typeProblems(file, id, n.Line, err)...)
			item.partial = true
		}
		items = append(items, item)
	}
	return items, problems
}

// sortProblems puts problems in file and line order, keeping the order of
// those on one line.
func sortProblems(problems Problems) {
	slices.SortStableFunc(problems, func(a, b Problem) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
}

// unknownFields reports every key of mapping n that type t (a struct) has no
// field for, looking into nested records and lists of records.
func unknownFields(file, id string, n *yaml.Node, t reflect.Type, prefix string) Problems {
	fields := yamlFields(t)
	var problems Problems
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			problems = append(problems, Problem{File: file, Line: k.Line, ID: id, Field: prefix + k.Value, Msg: "unknown field"})
			continue
		}
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct || ft.PkgPath() == "time" {
			continue
		}
		switch v.Kind {
		case yaml.MappingNode:
			problems = append(problems, unknownFields(file, id, v, ft, prefix+k.Value+".")...)
		case yaml.SequenceNode:
			for j, e := range v.Content {
				if e.Kind == yaml.MappingNode {
					problems = append(problems, unknownFields(file, id, e, ft, fmt.Sprintf("%s%s[%d].", prefix, k.Value, j))...)
				}
			}
		}
	}
	return problems
}

// yamlFields maps each YAML field name of struct t (inline structs
// included) to its Go type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldsOf.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := structFields(t)
	fieldsOf.Store(t, f)
	return f
}

// fieldsOf holds yamlFields' answer for each type it was asked of: a data
// set asks the same few types once for every record.
var fieldsOf sync.Map // reflect.Type → map[string]reflect.Type

func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-":
		case strings.Contains(opts, "inline"):
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
		case f.IsExported():
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			out[name] = f.Type
		}
	}
	return out
}

func scalarField(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func fieldLines(n *yaml.Node) map[string]int {
	m := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		m[n.Content[i].Value] = n.Content[i].Line
	}
	return m
}

// typeProblems turns a yaml.TypeError's lines ("line 7: cannot unmarshal
// !!str `x` into float64") into problems.
func typeProblems(file, id string, line int, err error) Problems {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Problems{{File: file, Line: line, ID: id, Msg: err.Error()}}
	}
	var out Problems
	for _, msg := range te.Errors {
		l := line
		if _, err := fmt.Sscanf(msg, "line %d:", &l); err == nil {
			_, msg, _ = strings.Cut(msg, ": ")
		}
		out = append(out, Problem{File: file, Line: l, ID: id, Msg: "wrong type: " + msg})
	}
	return out
}

func yamlErrorLine(err error) int {
	var l int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &l); e == nil {
		return l
	}
	return 1
}
