package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"

	"councilgraph/store"
)

// Cost reckons an honest upper bound of the work an operation can make the
// store do: every record it can decode and every command it can send. It
// runs on the parsed document before validation, and it expands each
// fragment once, so that neither a large document nor fragments spread
// into each other cost anything to refuse.
//
// A field that leads to one record costs one command and one record, plus
// what is selected under it; a lookup by an ID the caller gives (a Query
// field with an id, node) three more, for an ID that names no record: the
// find of the moved IDs' table, its entry and the find by the new ID. A list costs one command and, per record, one
// plus what is selected under it, for as many records as it can hold: a
// page its `first` (default 20; the store reads one more), any other list
// the most the store's records hold (Stats, kept by the store), and
// `nodes` and `_entities` one per ID or representation. search costs its
// ten finds, the `first` hits each may return, and a tenth of the records
// it scans; a name filter (people(name:)) every record of its collection,
// each once more for every 50 characters of the name, since the store
// matches the pattern against each (search a hundredth of what it scans
// where its query is long enough for the search index; see
// store/searchgrams.go); totalCount one count and a hundredth
// of its collection. Introspection costs what it lists: each list under
// __schema or __type as long as the served schema's longest such list.
// Scalars cost nothing, and every alias costs again.
type Cost struct {
	Schema *ast.Schema
	Stats  *store.Stats
}

// saturate bounds every sum and product, so that a document built to
// overflow the count still reads as too costly.
const saturate = math.MaxInt32

func add(a, b int) int { return min(saturate, a+b) }
func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > saturate/b {
		return saturate
	}
	return a * b
}

// Of is the cost of the operation named op (the only one when "") of doc,
// with vars, and the number of fields it selects once fragments are
// expanded.
func (c Cost) Of(doc *ast.QueryDocument, op string, vars map[string]any) (cost, fields int, err error) {
	var o *ast.OperationDefinition
	switch {
	case op != "":
		o = doc.Operations.ForName(op)
	case len(doc.Operations) == 1:
		o = doc.Operations[0]
	}
	if o == nil {
		return 0, 0, nil // validation says what is wrong
	}
	root := c.Schema.Query
	switch o.Operation {
	case ast.Mutation:
		root = c.Schema.Mutation
	case ast.Subscription:
		root = c.Schema.Subscription
	}
	w := &walk{c: c, doc: doc, vars: vars, memo: map[string]result{}, busy: map[string]bool{}, introMemo: map[introKey]int{}}
	r := w.set(root, o.SelectionSet)
	return r.cost, r.fields, w.err
}

type result struct{ cost, fields int }

type walk struct {
	c    Cost
	doc  *ast.QueryDocument
	vars map[string]any
	memo map[string]result
	busy map[string]bool
	err  error
	// introMemo holds introspection's costs, by selection set and type.
	introMemo map[introKey]int
}

// set is the cost of a selection set on type t.
func (w *walk) set(t *ast.Definition, sels ast.SelectionSet) result {
	var r result
	for _, sel := range sels {
		var s result
		switch x := sel.(type) {
		case *ast.Field:
			s = w.field(t, x)
		case *ast.InlineFragment:
			s = w.set(w.typeOr(x.TypeCondition, t), x.SelectionSet)
		case *ast.FragmentSpread:
			s = w.fragment(x.Name)
		}
		r = result{add(r.cost, s.cost), add(r.fields, s.fields)}
	}
	return r
}

// fragment is the cost of a named fragment, reckoned once.
func (w *walk) fragment(name string) result {
	if r, ok := w.memo[name]; ok {
		return r
	}
	f := w.doc.Fragments.ForName(name)
	if f == nil || w.busy[name] {
		return result{} // unknown or cyclic: validation refuses it
	}
	w.busy[name] = true
	r := w.set(w.typeOr(f.TypeCondition, nil), f.SelectionSet)
	w.busy[name] = false
	w.memo[name] = r
	return r
}

func (w *walk) typeOr(name string, def *ast.Definition) *ast.Definition {
	if t := w.c.Schema.Types[name]; t != nil {
		return t
	}
	return def
}

// field is the cost of one field of type t and what it selects.
func (w *walk) field(t *ast.Definition, f *ast.Field) result {
	if len(f.Name) > 1 && f.Name[:2] == "__" {
		return w.introField(t, f)
	}
	if t == nil {
		return result{fields: 1}
	}
	def := t.Fields.ForName(f.Name)
	if def == nil {
		// On an interface or union the field belongs to a possible type.
		for _, pt := range w.c.Schema.GetPossibleTypes(t) {
			if def = pt.Fields.ForName(f.Name); def != nil {
				break
			}
		}
	}
	if def == nil {
		return result{fields: 1} // validation refuses it
	}
	ft := w.c.Schema.Types[def.Type.Name()]
	key := t.Name + "." + f.Name
	if rule, ok := listRules[key]; ok && ft != nil && strings.HasSuffix(ft.Name, "Connection") {
		perRecord, once := w.connection(ft, f.SelectionSet)
		load, shown := rule(w, f)
		return result{add(add(1, load), add(mul(shown, perRecord.cost), once.cost)), add(1, add(perRecord.fields, once.fields))}
	}
	child := w.set(ft, f.SelectionSet)
	child.fields = add(child.fields, 1)
	if ft == nil || ft.Kind == ast.Scalar || ft.Kind == ast.Enum {
		return child
	}
	if rule, ok := listRules[key]; ok {
		load, shown := rule(w, f)
		return result{add(add(1, load), mul(shown, child.cost)), child.fields}
	}
	if !isRecord(ft) {
		// Embedded (Source, ProgressUpdate, PageInfo, an edge): no command
		// of its own; a list of them is as long as its records allow.
		n := 1
		if def.Type.Elem != nil {
			n = w.embedded(key)
		}
		return result{mul(n, child.cost), child.fields}
	}
	n := 1
	if def.Type.Elem != nil {
		n = w.c.Stats.Max() // a list with no rule: the largest any relation holds
	}
	cost := add(1, mul(n, add(1, child.cost)))
	if t == w.c.Schema.Query && def.Arguments.ForName("id") != nil {
		cost = add(cost, movedLookup)
	}
	return result{cost, child.fields}
}

// movedLookup is what a lookup by an ID that names no record adds: the
// find of the moved IDs' table, the entry found and the find by the ID it
// names.
const movedLookup = 3

// isRecord says whether values of t are records the store reads.
func isRecord(t *ast.Definition) bool {
	if t.Kind == ast.Union || t.Kind == ast.Interface {
		return true
	}
	return store.KindNamed(t.Name) != nil && store.KindNamed(t.Name).Name == t.Name
}

// embedded is the longest embedded list key names ("Priority.updates").
func (w *walk) embedded(key string) int {
	if n, ok := w.c.Stats.Fanout[key+"[]"]; ok {
		return n
	}
	return 1
}

// fanout is the largest number of records of a relation.
func (w *walk) fanout(keys ...string) int {
	n := 0
	for _, k := range keys {
		n = add(n, w.c.Stats.Fanout[k])
	}
	return n
}

// intArg is an integer argument's value (from a literal or a variable), or
// def when absent.
func (w *walk) intArg(f *ast.Field, name string, def int) int {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return def
	}
	v := a.Value
	raw := v.Raw
	if v.Kind == ast.Variable {
		val, ok := w.vars[raw]
		if !ok || val == nil {
			return def
		}
		raw = fmt.Sprint(val)
		if n, ok := val.(json.Number); ok {
			raw = n.String()
		}
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return def // coercion refuses it
	}
	return n
}

// selects says whether sels selects a field named name at its own level,
// fragments included, each looked into once (seen), however often and
// however deeply they are spread.
func (w *walk) selects(sels ast.SelectionSet, name string, seen map[string]bool) bool {
	for _, sel := range sels {
		switch x := sel.(type) {
		case *ast.Field:
			if x.Name == name {
				return true
			}
		case *ast.InlineFragment:
			if w.selects(x.SelectionSet, name, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[x.Name] {
				continue
			}
			seen[x.Name] = true
			if fr := w.doc.Fragments.ForName(x.Name); fr != nil && w.selects(fr.SelectionSet, name, seen) {
				return true
			}
		}
	}
	return false
}

// strArg is a string argument's value (from a literal or a variable), and
// whether it is given.
func (w *walk) strArg(f *ast.Field, name string) (string, bool) {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind == ast.NullValue {
		return "", false
	}
	if a.Value.Kind == ast.Variable {
		v, ok := w.vars[a.Value.Raw]
		if !ok || v == nil {
			return "", false
		}
		s, _ := v.(string)
		return s, true
	}
	return a.Value.Raw, true
}

// scanPer is how many characters of a pattern cost one more pass over
// the records it is matched against.
const scanPer = 50

// scan is the cost of matching pattern against every record of kind: the
// store reads each, and the match takes longer the longer the pattern. A
// pattern longer than any filter takes is costed at that length: the
// argument's own check refuses it, and says why.
func (w *walk) scan(kind, pattern string) int {
	n := min(utf8.RuneCountInString(pattern), maxSearchLen)
	return mul(w.c.Stats.Counts[kind], 1+n/scanPer)
}

// listLen is the length of a list argument (a literal or a variable).
func (w *walk) listLen(f *ast.Field, name string) int {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return 0
	}
	if a.Value.Kind == ast.Variable {
		switch v := w.vars[a.Value.Raw].(type) {
		case []any:
			return len(v)
		case []map[string]any:
			return len(v)
		}
		return 1
	}
	return max(1, len(a.Value.Children))
}

// page is the rule of a page the store finds: first records and one more.
func page(w *walk, f *ast.Field) (load, shown int) {
	n := w.intArg(f, "first", defaultFirst)
	return n + 1, n
}

// loaded is the rule of a list loaded whole through a relation and paged
// in memory (keys are its fan-outs).
func loaded(keys ...string) func(*walk, *ast.Field) (int, int) {
	return func(w *walk, f *ast.Field) (int, int) {
		all := w.fanout(keys...)
		return all, min(all, w.intArg(f, "first", defaultFirst))
	}
}

// related is the rule of a plain list of related records.
func related(keys ...string) func(*walk, *ast.Field) (int, int) {
	return func(w *walk, f *ast.Field) (int, int) {
		n := w.fanout(keys...)
		return n, n
	}
}

// one is the rule of a single record found through a whole relation (a
// meeting's neighbours read its body's calendar, then the one meeting): the
// relation's records, a second command and the record.
func one(keys ...string) func(*walk, *ast.Field) (int, int) {
	return func(w *walk, f *ast.Field) (int, int) { return add(w.fanout(keys...), 2), 1 }
}

// listRules says how many records each list field can make the store read
// (load) and return (shown, each costing what is selected under it). A
// test checks that every list of records in the schema has a rule.
var listRules = map[string]func(*walk, *ast.Field) (load, shown int){
	"Query.people": func(w *walk, f *ast.Field) (int, int) {
		load, shown := page(w, f)
		if name, ok := w.strArg(f, "name"); ok {
			load = add(load, w.scan("Person", name))
			if w.selects(f.SelectionSet, "totalCount", map[string]bool{}) { // the count matches again
				load = add(load, w.scan("Person", name))
			}
		}
		return load, shown
	},
	"Query.organisations": page,
	"Query.bodies":        page,
	"Query.meetings":      page,
	"Query.reports": func(w *walk, f *ast.Field) (int, int) {
		load, shown := page(w, f)
		if f.Arguments.ForName("body") != nil { // the body's meetings first
			load = add(load, add(1, w.fanout("Meeting.bodyId")))
		}
		return load, shown
	},
	"Query.plans":      page,
	"Query.actions":    page,
	"Query.indicators": page,
	"Query.areas": func(w *walk, _ *ast.Field) (int, int) {
		n := w.c.Stats.Counts["Area"]
		return n, n
	},
	// One find per type asked for, at most one per ID, and the records;
	// and for the IDs that name none, what their moved lookups add.
	"Query.nodes": func(w *walk, f *ast.Field) (int, int) {
		n := w.listLen(f, "ids")
		return mul(2+movedLookup, n), n
	},
	"Query._entities": func(w *walk, f *ast.Field) (int, int) {
		n := w.listLen(f, "representations")
		return mul(2+movedLookup, n), n
	},
	// The page of entries, then one find per type on it, and the records.
	"Query.changes": func(w *walk, f *ast.Field) (int, int) {
		n := w.intArg(f, "first", defaultFirst)
		return add(add(n, 1), len(store.Kinds())), n
	},
	"Query.search": func(w *walk, f *ast.Field) (int, int) {
		first, kinds, scanned := w.intArg(f, "first", defaultFirst), 0, 0
		for _, k := range store.Kinds() {
			if k.Searchable() {
				kinds++
				scanned = add(scanned, w.c.Stats.Counts[k.Name])
			}
		}
		// A query of three characters or more is narrowed by the model's
		// search index to the records holding its every run of three: a
		// hundredth of the records for the lists it reads. A shorter one
		// (or one not known here) is tested against every record.
		share := 10
		if q, ok := w.strArg(f, "query"); ok && store.Indexable(q) {
			share = 100
		}
		return add(mul(kinds, add(first, 1)), scanned/share), first
	},

	"Organisation.people":     loaded("Person.organisationId"),
	"Organisation.bodies":     related("Body.organisationId"),
	"Person.memberships":      related("Membership.personId"),
	"Person.attendance":       loaded("Attendance.personId"),
	"Person.reports":          related("Report.authorId", "Report.leadMemberId"),
	"Person.actions":          related("Action.ownerId"),
	"Person.declarations":     related("Declaration.personId"),
	"Body.children":           related("Body.parentId"),
	"Body.memberships":        related("Membership.bodyId"),
	"Body.meetings":           loaded("Meeting.bodyId"),
	"Body.plans":              related("Plan.ownerId"),
	"Meeting.agendaItems":     related("AgendaItem.meetingId"),
	"Meeting.attendance":      related("Attendance.meetingId"),
	"Meeting.reports":         related("Report.meetingId"),
	"Meeting.previous":        one("Meeting.bodyId"),
	"Meeting.next":            one("Meeting.bodyId"),
	"AgendaItem.reports":      related("Report.agendaItemId"),
	"AgendaItem.declarations": related("Declaration.agendaItemId"),
	"AgendaItem.actions":      related("Action.agendaItemId"),
	"Report.priorities":       related("Report.priorityIds[]"),
	"Report.indicators":       related("Report.indicatorIds[]"),
	"Plan.priorities":         related("Priority.planId"),
	"Priority.actions":        related("Action.priorityId"),
	"Priority.indicators":     related("Priority.indicatorIds[]"),
	"Priority.leads":          related("Priority.leadIds[]"),
	"Priority.reports":        related("Report.priorityIds"),
	"Indicator.observations":  related("Observation.indicatorId"),
	"Indicator.latest":        one("Observation.indicatorId"),
	"Indicator.priorities":    related("Priority.indicatorIds"),
	"Observation.comparators": related("Observation.indicatorId"),
	// The analysts' fields: a trend reads the indicator's figures, and for
	// its default area their areas and the one chosen; comparisons read the
	// indicator and the period's figures, one comparison for each.
	"Indicator.trend": func(w *walk, _ *ast.Field) (int, int) {
		return add(w.fanout("Observation.indicatorId"), add(3, w.c.Stats.Counts["Area"])), 1
	},
	"Observation.comparisons": func(w *walk, _ *ast.Field) (int, int) {
		n := w.fanout("Observation.indicatorId")
		return add(n, 2), n
	},

	"Query.inspections": page,
	"Query.councils":    page,
	// A council's feeds: one find, at most store.MaxFeeds of them.
	"Council.feeds":                  func(*walk, *ast.Field) (int, int) { return store.MaxFeeds, store.MaxFeeds },
	"Organisation.inspections":       related("Inspection.subjectId"),
	"Meeting.organisationAttendance": related("OrganisationAttendance.meetingId"),
	"Meeting.documents":              related("Document.meetingId"),
	"AgendaItem.documents":           related("Document.agendaItemId"),
}

// connection is the cost of a page's selection, split into what each of
// its records costs (its edges) and what the page costs once (totalCount,
// pageInfo). A fragment on the page counts per record: more, never less.
func (w *walk) connection(t *ast.Definition, sels ast.SelectionSet) (perRecord, once result) {
	for _, sel := range sels {
		f, ok := sel.(*ast.Field)
		if !ok {
			var s result
			switch x := sel.(type) {
			case *ast.InlineFragment:
				s = w.set(w.typeOr(x.TypeCondition, t), x.SelectionSet)
			case *ast.FragmentSpread:
				s = w.fragment(x.Name)
			}
			perRecord = result{add(perRecord.cost, s.cost), add(perRecord.fields, s.fields)}
			continue
		}
		s := w.field(t, f)
		if f.Name == "edges" {
			perRecord = result{add(perRecord.cost, s.cost), add(perRecord.fields, s.fields)}
			continue
		}
		if f.Name == "totalCount" {
			// A count, which scans the collection where no index serves it.
			s.cost = add(s.cost, 1+w.c.Stats.Max()/100)
		}
		once = result{add(once.cost, s.cost), add(once.fields, s.fields)}
	}
	return perRecord, once
}
