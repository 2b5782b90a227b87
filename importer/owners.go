package importer

import (
	"fmt"
	"strings"

	"councilgraph/store"
)

// ownersNamed holds an action's owner fields to its printed owner: where
// the owner column (ownerText, split at ' / ') names exactly one person of
// the set by name or alias, ownerId is that person, and where it names
// exactly one body, ownerBodyId is that body. Where it names two people
// ('SBA / RK') or two bodies, neither field can hold them all, so the
// field is left out and ownerText keeps them.
func ownersNamed(set *Set) Problems {
	people := namesOf(set.Items["people"], func(d store.Doc) []string {
		p := d.(*store.Person)
		return append([]string{p.Name}, p.Aliases...)
	})
	bodies := namesOf(set.Items["bodies"], func(d store.Doc) []string {
		b := d.(*store.Body)
		return append([]string{b.Name}, b.Aliases...)
	})
	var problems Problems
	for _, it := range set.Items["actions"] {
		a, ok := it.Doc.(*store.Action)
		if !ok || a.OwnerText == nil {
			continue
		}
		var persons, groups []string
		for _, part := range strings.Split(*a.OwnerText, " / ") {
			if id, ok := people[store.Fold(part)]; ok {
				persons = append(persons, id)
			}
			if id, ok := bodies[store.Fold(part)]; ok {
				groups = append(groups, id)
			}
		}
		c := &checker{item: it, id: a.ID}
		if len(persons) == 1 && a.OwnerID == nil {
			c.problem("ownerId", fmt.Sprintf("ownerText %q names %s: set ownerId", *a.OwnerText, persons[0]))
		}
		if len(groups) == 1 && a.OwnerBodyID == nil {
			c.problem("ownerBodyId", fmt.Sprintf("ownerText %q names %s: set ownerBodyId", *a.OwnerText, groups[0]))
		}
		problems = append(problems, c.problems...)
	}
	return problems
}

// namesOf maps every folded name of the items to its record's ID; a name
// two records share maps to neither.
func namesOf(items []Item, names func(store.Doc) []string) map[string]string {
	out := map[string]string{}
	shared := map[string]bool{}
	for _, it := range items {
		for _, n := range names(it.Doc) {
			k := store.Fold(n)
			if id, ok := out[k]; ok && id != it.Doc.Base().ID {
				shared[k] = true
			}
			out[k] = it.Doc.Base().ID
		}
	}
	for k := range shared {
		delete(out, k)
	}
	return out
}
