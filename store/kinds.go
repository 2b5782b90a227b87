package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Kind is one type of record. Its entry in the kinds table is the one place
// the code names it: the store derives its collection, indexes, search and
// reference finds from it, the importer its file, ID prefix and reference
// checks, the graph its node lookups and the loaders their batches.
//
// Adding a kind is its document type, its entry below and its schema.
type Kind struct {
	// Name is the GraphQL type's name ("Person").
	Name string
	// Collection is the MongoDB collection holding the kind ("people").
	Collection string
	// Prefix starts every ID of the kind: "person" in "person:stockton-on-tees/carol-clark".
	Prefix string
	// Refs are the fields that name records of other kinds.
	Refs []Ref
	// Indexes lists the indexes beyond _id, each as its fields in order
	// (ascending). Every reference field is indexed whether listed or not.
	Indexes [][]string
	// Order sorts the records a relation returns ("the meetings of these
	// bodies"): by date for meetings, by name for people, by ID otherwise.
	Order Order
	// Sort, when set, orders a relation's records in memory after the
	// store's Order: agenda items as printed, priorities by number.
	Sort func(a, b Doc) int
	// Node says the kind implements the GraphQL Node interface (and is a
	// federation entity), so node(id:) and _entities reach it.
	Node bool
	// Shared says the kind is a shared registry that no council owns
	// (areas, organisations, indicators): its IDs carry no council slug,
	// and a set may state a record another set owns with the same facts.
	Shared bool

	typ reflect.Type
	// refField is the index of each reference field in typ.
	refField map[string][]int
	// fields is the index of each stored field in typ, by its stored name.
	fields map[string][]int
	// compares holds the comparison of each order records are sorted by,
	// made once (compare).
	compares sync.Map
}

// Ref is a field of a record that names other records.
type Ref struct {
	// Field is the stored field: "bodyId", or "priorityIds" for a list.
	Field string
	// To names the kind referred to.
	To string
	// Carries says the record cannot be shown without the one referred to:
	// a caller who may not see that one may not see this one either. Every
	// required reference carries (an attendance without its person would
	// break the schema's promise of one), and so do those the record's ID
	// embeds or whose content it belongs to (a membership's person, the
	// agenda item a report was put under).
	Carries bool
}

// Many reports whether the field holds a list of IDs.
func (r Ref) Many() bool { return strings.HasSuffix(r.Field, "Ids") }

// New makes an empty record of the kind.
func (k *Kind) New() Doc { return reflect.New(k.typ).Interface().(Doc) }

// Searchable reports whether search finds records of the kind.
func (k *Kind) Searchable() bool {
	_, ok := k.New().(Searchable)
	return ok
}

// Ref returns the kind's reference field named field, or false.
func (k *Kind) Ref(field string) (Ref, bool) {
	for _, r := range k.Refs {
		if r.Field == field {
			return r, true
		}
	}
	return Ref{}, false
}

// kind makes a table entry for the document type T.
func kind[T any, PT interface {
	*T
	Doc
}](name, collection, prefix string, node bool, order Order, refs []Ref, indexes ...[]string) *Kind {
	k := &Kind{Name: name, Collection: collection, Prefix: prefix, Node: node, Order: order, Refs: refs,
		Indexes: indexes, typ: reflect.TypeFor[T](), refField: map[string][]int{}}
	k.fields = storedFields(k.typ)
	for i, r := range refs {
		f, ok := bsonField(k.typ, r.Field)
		if !ok || !(f.Type == reflect.TypeFor[string]() || f.Type == reflect.TypeFor[*string]() || f.Type == reflect.TypeFor[[]string]()) {
			panic(fmt.Sprintf("store: %s has no reference field %s of type string, *string or []string", name, r.Field))
		}
		k.refField[r.Field] = f.Index
		if f.Type == reflect.TypeFor[string]() {
			k.Refs[i].Carries = true
		}
	}
	return k
}

// bsonField finds the struct field stored as name.
func bsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if tag, _, _ := strings.Cut(f.Tag.Get("bson"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// RefValues returns the IDs a record's reference field holds: none, one or
// a list.
func RefValues(d Doc, field string) []string {
	k := KindOf(d)
	idx, ok := k.refField[field]
	if !ok {
		panic(fmt.Sprintf("store: %s has no reference %s", k.Name, field))
	}
	switch v := reflect.ValueOf(d).Elem().FieldByIndex(idx).Interface().(type) {
	case string:
		return []string{v}
	case *string:
		if v == nil {
			return nil
		}
		return []string{*v}
	case []string:
		return v
	}
	return nil
}

// shared marks the kind as a shared registry.
func (k *Kind) shared() *Kind {
	k.Shared = true
	return k
}

// sorted sets the kind's in-memory order.
func (k *Kind) sorted(cmp func(a, b Doc) int) *Kind {
	k.Sort = cmp
	return k
}

// refs builds a reference list from field/kind pairs. A field written with
// a trailing "!" carries (see Ref.Carries) though it is optional; required
// fields carry anyway.
func refs(pairs ...string) []Ref {
	out := make([]Ref, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		field, carries := strings.CutSuffix(pairs[i], "!")
		out = append(out, Ref{Field: field, To: pairs[i+1], Carries: carries})
	}
	return out
}

// kinds is the table of record kinds, in the order an import writes them and
// search lists its hits on a tie. (An import checks every reference before
// it writes, so the order need not follow the references.)
var kinds = []*Kind{
	kind[Person]("Person", "people", "person", true, byName, refs("organisationId", "Organisation"),
		[]string{"name", "_id"}),
	kind[Organisation]("Organisation", "organisations", "organisation", true, byName, nil,
		[]string{"name", "_id"}, []string{"kind"}).shared(),
	kind[Body]("Body", "bodies", "body", true, byName, refs("organisationId", "Organisation", "parentId", "Body"),
		[]string{"name", "_id"}, []string{"kind"}),
	kind[Membership]("Membership", "memberships", "membership", false, byID,
		refs("personId!", "Person", "bodyId", "Body", "representingId", "Organisation", "areaId", "Area")),
	kind[Meeting]("Meeting", "meetings", "meeting", true, byDate, refs("bodyId", "Body"),
		[]string{"date", "_id"}, []string{"bodyId", "date"}, []string{"status"}),
	kind[Attendance]("Attendance", "attendance", "attendance", false, byID,
		refs("meetingId", "Meeting", "personId", "Person", "representingId", "Organisation")),
	kind[AgendaItem]("AgendaItem", "agendaItems", "agendaItem", true, byID,
		refs("meetingId", "Meeting", "presenterId", "Person")).sorted(agendaOrder),
	kind[Report]("Report", "reports", "report", true, byID,
		refs("meetingId!", "Meeting", "agendaItemId!", "AgendaItem", "authorId", "Person", "leadMemberId", "Person",
			"priorityIds", "Priority", "indicatorIds", "Indicator")),
	kind[Declaration]("Declaration", "declarations", "declaration", false, byID,
		refs("personId", "Person", "agendaItemId", "AgendaItem")),
	kind[Plan]("Plan", "plans", "plan", true, byID, refs("ownerId", "Body")),
	kind[Priority]("Priority", "priorities", "priority", true, byID,
		refs("planId", "Plan", "indicatorIds", "Indicator", "leadIds", "Body")).sorted(priorityOrder),
	kind[Action]("Action", "actions", "action", true, byID,
		refs("ownerId", "Person", "ownerBodyId", "Body", "priorityId", "Priority", "planId", "Plan", "agendaItemId!", "AgendaItem"),
		[]string{"status"}, []string{"dueDate"}),
	kind[Indicator]("Indicator", "indicators", "indicator", true, byName, nil,
		[]string{"name", "_id"}, []string{"theme"}).shared(),
	kind[Area]("Area", "areas", "area", true, byName, nil, []string{"name", "_id"}).shared(),
	kind[Observation]("Observation", "observations", "observation", false, byID,
		refs("indicatorId", "Indicator", "areaId", "Area"), []string{"indicatorId", "period"}),
	kind[Inspection]("Inspection", "inspections", "inspection", true, byID,
		refs("inspectorateId", "Organisation", "subjectId", "Organisation", "leadInspectorId", "Person"), []string{"framework"}),
	kind[OrganisationAttendance]("OrganisationAttendance", "organisationAttendance", "organisationAttendance", false, byID,
		refs("meetingId", "Meeting", "organisationId", "Organisation")),
	kind[Council]("Council", "councils", "council", true, byName, refs("organisationId", "Organisation", "areaId", "Area"),
		[]string{"name", "_id"}),
	kind[Document]("Document", "documents", "document", true, byID, refs("meetingId!", "Meeting", "agendaItemId!", "AgendaItem")),
}

// Kinds lists every kind of record, in the order an import writes them.
// The kinds are shared: read them, never change them.
func Kinds() []*Kind { return slices.Clone(kinds) }

// KindFor returns the kind of document type T (store.Person for Person).
func KindFor[T any]() *Kind { return kindFor[T]() }

// KindNamed returns the kind with the GraphQL name, collection or ID prefix
// given, or nil.
func KindNamed(name string) *Kind {
	for _, k := range kinds {
		if k.Name == name || k.Collection == name || k.Prefix == name {
			return k
		}
	}
	return nil
}

// kindIndex is the place of the kind stored in collection in the table.
func kindIndex(collection string) int {
	return slices.IndexFunc(kinds, func(k *Kind) bool { return k.Collection == collection })
}

// KindOfID returns the kind an ID's prefix names, or nil.
func KindOfID(id string) *Kind {
	prefix, _, ok := strings.Cut(id, ":")
	if !ok {
		return nil
	}
	for _, k := range kinds {
		if k.Prefix == prefix {
			return k
		}
	}
	return nil
}

// KindOf returns the kind of a record.
func KindOf(d Doc) *Kind {
	t := reflect.TypeOf(d).Elem()
	for _, k := range kinds {
		if k.typ == t {
			return k
		}
	}
	panic(fmt.Sprintf("store: %T is not a record kind", d))
}

// kindFor is the kind of document type T.
func kindFor[T any]() *Kind {
	t := reflect.TypeFor[T]()
	for _, k := range kinds {
		if k.typ == t {
			return k
		}
	}
	panic(fmt.Sprintf("store: %v is not a record kind", t))
}

// indexesOf lists every index of a kind: those it names, one on each
// reference field, and those every kind has (updatedAt for updatedSince,
// dataset for imports, visibility for scoped finds).
func indexesOf(k *Kind) [][]string {
	out := append([][]string{}, k.Indexes...)
	have := map[string]bool{}
	for _, ix := range out {
		have[strings.Join(ix, ",")] = true
	}
	add := func(f ...string) {
		if key := strings.Join(f, ","); !have[key] {
			have[key] = true
			out = append(out, f)
		}
	}
	for _, r := range k.Refs {
		// A reference leading a compound index is served by it.
		led := false
		for _, ix := range k.Indexes {
			led = led || ix[0] == r.Field
		}
		if !led {
			add(r.Field)
		}
	}
	add("updatedAt")
	add("dataset")
	if !k.Shared {
		add("councilId")
	}
	return out
}

// agendaOrder puts agenda items in the order printed: by number, else by
// minute reference, comparing runs of digits as numbers.
func agendaOrder(a, b Doc) int {
	return Natural(agendaKey(a.(*AgendaItem)), agendaKey(b.(*AgendaItem)))
}

func agendaKey(a *AgendaItem) string {
	switch {
	case a.Number != nil:
		return *a.Number
	case a.MinuteRef != nil:
		return *a.MinuteRef
	}
	return a.ID
}

// priorityOrder puts priorities in their printed number order.
func priorityOrder(a, b Doc) int {
	pa, pb := a.(*Priority), b.(*Priority)
	ka, kb := pa.ID, pb.ID
	if pa.Number != nil && pb.Number != nil {
		ka, kb = *pa.Number, *pb.Number
	}
	return Natural(ka, kb)
}

// Natural compares two strings with runs of digits compared as numbers, so
// that "2" sorts before "10" and "CAB 9/22" before "CAB 10/22".
func Natural(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
