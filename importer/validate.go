package importer

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"councilgraph/schema"
	"councilgraph/store"
)

// Known answers which of ids already exist in a collection of the database,
// for references that point outside the set being imported.
type Known func(ctx context.Context, collection string, ids []string) (map[string]bool, error)

var (
	segment   = `[a-z0-9][a-z0-9-]*`
	locatorRe = regexp.MustCompile(`^lines ([0-9]+)-([0-9]+)$`)
	enums     = enumValues()
)

// enumValues reads every enum's values from the GraphQL schema, so that the
// data set and the API cannot disagree on them.
func enumValues() map[string][]string {
	out := schema.Enums()
	out["Visibility"] = []string{store.VisibilityPublic, store.VisibilityPartner, store.VisibilityOfficer}
	return out
}

// pendingRef is a reference to check once every record's ID is known.
type pendingRef struct {
	at         Problem
	collection string
	id         string
}

// checker collects the problems of one record at a time.
type checker struct {
	item     Item
	id       string
	problems Problems
	pending  []pendingRef
	docs     map[string][]string // the set's source documents, by file name
}

func (c *checker) at(field string) Problem {
	line := c.item.Line
	top, _, _ := strings.Cut(strings.SplitN(field, "[", 2)[0], ".")
	if l, ok := c.item.lines[top]; ok {
		line = l
	}
	return Problem{File: c.item.File, Line: line, ID: c.id, Field: field}
}

func (c *checker) problem(field, msg string) {
	p := c.at(field)
	p.Msg = msg
	c.problems = append(c.problems, p)
}

func (c *checker) required(field, v string) {
	if v == "" {
		c.problem(field, "is required")
	}
}

func (c *checker) enum(field, enum string, v *string) {
	if v != nil && !slices.Contains(enums[enum], *v) {
		c.problem(field, fmt.Sprintf("%q is not a %s; expected one of %v", *v, enum, enums[enum]))
	}
}

func (c *checker) date(field string, v *string) {
	if v == nil || *v == "" {
		return
	}
	if _, err := time.Parse(time.DateOnly, *v); err != nil {
		c.problem(field, fmt.Sprintf("%q is not a date in the form YYYY-MM-DD", *v))
	}
}

func (c *checker) dateRange(fromField string, from *string, toField string, to *string) {
	c.date(fromField, from)
	c.date(toField, to)
	if from != nil && to != nil && *to < *from {
		c.problem(toField, fmt.Sprintf("%s is before %s", *to, *from))
	}
}

func (c *checker) ref(field, collection string, id *string) {
	if id == nil {
		return
	}
	if *id == "" {
		c.problem(field, "is empty; leave the field out instead")
		return
	}
	c.pending = append(c.pending, pendingRef{at: c.at(field), collection: collection, id: *id})
}

func (c *checker) nested(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

func (c *checker) sources(field string, sources []store.Source) {
	if len(sources) == 0 {
		c.problem(field, "every record needs at least one source")
	}
	for i, s := range sources {
		f := c.nested(field, i)
		if s.Document == "" {
			c.problem(f+".document", "is required")
		}
		if s.Locator == nil {
			continue
		}
		m := locatorRe.FindStringSubmatch(*s.Locator)
		if m == nil {
			c.problem(f+".locator", fmt.Sprintf("%q is not of the form 'lines A-B'", *s.Locator))
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if a < 1 || b < a {
			c.problem(f+".locator", fmt.Sprintf("%q: lines must start at 1 and run forwards", *s.Locator))
		}
	}
}

// Validate checks every record of the set: IDs, required fields, enum values,
// dates, sources, duplicates, and that every reference names a record in the
// set or, through known, already in the database.
func Validate(ctx context.Context, set *Set, known Known) (Problems, error) {
	var problems Problems
	var refs []pendingRef
	ids := map[string]map[string]bool{}
	for _, k := range store.Kinds() {
		idRe, form := idForm(k)
		ids[k.Collection] = map[string]bool{}
		for _, item := range set.Items[k.Collection] {
			base := item.Doc.Base()
			if item.partial {
				// Its type problems are reported already.
				if base.ID != "" {
					ids[k.Collection][base.ID] = true
				}
				continue
			}
			c := &checker{item: item, id: base.ID, docs: set.Sources}
			switch {
			case base.ID == "":
				c.problem("id", "is required")
			case !idRe.MatchString(base.ID):
				c.problem("id", fmt.Sprintf("%q is not an ID of the form %s, with a-z, 0-9 and - between the separators", base.ID, form))
			case set.Manifest != nil && !k.Shared && !set.Manifest.Writes(store.CouncilOf(base.ID)):
				c.problem("id", fmt.Sprintf("%s is not one of the councils this set writes (set.yaml councils: %s)", store.CouncilOf(base.ID), strings.Join(set.Manifest.Councils, ", ")))
			case ids[k.Collection][base.ID]:
				c.problem("id", "duplicate ID: another record in "+k.Collection+" has it")
			}
			ids[k.Collection][base.ID] = true
			c.enum("visibility", "Visibility", nonEmpty(base.Visibility))
			c.sources("sources", base.Sources)
			for _, r := range k.Refs {
				to := store.KindNamed(r.To).Collection
				for _, id := range store.RefValues(item.Doc, r.Field) {
					c.ref(r.Field, to, &id)
				}
			}
			if check := checks[k.Name]; check != nil {
				check(c, item.Doc)
			}
			problems = append(problems, c.problems...)
			refs = append(refs, c.pending...)
		}
	}
	problems = append(problems, periodsAgree(set.Items["observations"])...)
	problems = append(problems, ownersNamed(set)...)
	outside := map[string][]string{}
	for _, r := range refs {
		if !ids[r.collection][r.id] {
			outside[r.collection] = append(outside[r.collection], r.id)
		}
	}
	found := map[string]map[string]bool{}
	for coll, want := range outside {
		var err error
		if known == nil {
			found[coll] = map[string]bool{}
			continue
		}
		if found[coll], err = known(ctx, coll, want); err != nil {
			return nil, err
		}
	}
	for _, r := range refs {
		if !ids[r.collection][r.id] && !found[r.collection][r.id] {
			p := r.at
			p.Msg = fmt.Sprintf("no record in %s has ID %q", r.collection, r.id)
			problems = append(problems, p)
		}
	}
	sortProblems(problems)
	return problems, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
