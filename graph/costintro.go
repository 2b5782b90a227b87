package graph

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// Introspection's cost. An introspection answer is made from the served
// schema, not the store, but it can still be large: every type, field and
// argument can be listed again under every alias and at every level. Its
// cost is the number of list elements the answer would hold, counted
// exactly from the served schema, so that a tool's full introspection (a
// few thousand elements) passes while a document that lists the schema
// many times over is refused like any other costly operation.

// introKey names one selection set reckoned in one context: the schema,
// a named type, a type reference, a field, an input value or a directive.
type introKey struct {
	sels *ast.Selection
	ctx  any
}

// introField is the cost of a root introspection field (__schema,
// __type) or __typename anywhere, and the fields it selects.
func (w *walk) introField(t *ast.Definition, f *ast.Field) result {
	fields := 1
	if len(f.SelectionSet) > 0 {
		// Counted on the introspection types as any selection is; their
		// lists cost nothing there, introCost says what they cost.
		fields = add(fields, w.set(w.c.Schema.Types[introType(f.Name)], f.SelectionSet).fields)
	}
	switch {
	case f.Name == "__schema" && t == w.c.Schema.Query:
		return result{w.schemaCost(f.SelectionSet), fields}
	case f.Name == "__type" && t == w.c.Schema.Query:
		if name, ok := w.strArg(f, "name"); ok {
			if def := w.c.Schema.Types[name]; def != nil {
				return result{w.typeCost(def, f.SelectionSet), fields}
			}
			return result{0, fields} // no such type: null
		}
		most := 0
		for _, def := range w.c.Schema.Types {
			most = max(most, w.typeCost(def, f.SelectionSet))
		}
		return result{most, fields}
	}
	return result{0, fields}
}

// introType is the type an introspection root field returns.
func introType(name string) string {
	switch name {
	case "__schema":
		return "__Schema"
	case "__type":
		return "__Type"
	}
	return ""
}

// introSum is the cost of sels in the context ctx: field says what each
// field costs there. Inline fragments and fragment spreads count as their
// selections do (whatever their type condition: an upper bound), and each
// selection set is reckoned once in each context, so that fragments
// spread into each other cost the reckoning no more than once each.
func (w *walk) introSum(ctx any, sels ast.SelectionSet, field func(f *ast.Field) int) int {
	if len(sels) == 0 {
		return 0
	}
	key := introKey{&sels[0], ctx}
	if c, ok := w.introMemo[key]; ok {
		return c
	}
	cost := 0
	for _, sel := range sels {
		switch x := sel.(type) {
		case *ast.Field:
			cost = add(cost, field(x))
		case *ast.InlineFragment:
			cost = add(cost, w.introSum(ctx, x.SelectionSet, field))
		case *ast.FragmentSpread:
			fr := w.doc.Fragments.ForName(x.Name)
			if fr == nil || w.busy["intro:"+x.Name] {
				continue // unknown or cyclic: validation refuses it
			}
			w.busy["intro:"+x.Name] = true
			cost = add(cost, w.introSum(ctx, fr.SelectionSet, field))
			w.busy["intro:"+x.Name] = false
		}
	}
	w.introMemo[key] = cost
	return cost
}

// schemaCost is the cost of a selection on __Schema.
func (w *walk) schemaCost(sels ast.SelectionSet) int {
	s := w.c.Schema
	return w.introSum("schema", sels, func(f *ast.Field) int {
		cost := 0
		switch f.Name {
		case "types":
			for _, def := range s.Types {
				cost = add(cost, add(1, w.typeCost(def, f.SelectionSet)))
			}
		case "queryType":
			cost = w.typeCost(s.Query, f.SelectionSet)
		case "mutationType":
			cost = w.typeCost(s.Mutation, f.SelectionSet)
		case "subscriptionType":
			cost = w.typeCost(s.Subscription, f.SelectionSet)
		case "directives":
			for _, d := range s.Directives {
				cost = add(cost, add(1, w.directiveCost(d, f.SelectionSet)))
			}
		}
		return cost
	})
}

// typeCost is the cost of a selection on a named type's __Type.
func (w *walk) typeCost(def *ast.Definition, sels ast.SelectionSet) int {
	if def == nil {
		return 0
	}
	return w.introSum("type:"+def.Name, sels, func(f *ast.Field) int {
		cost := 0
		switch f.Name {
		case "fields":
			if def.Kind == ast.Object || def.Kind == ast.Interface {
				for _, fd := range def.Fields {
					if len(fd.Name) > 1 && fd.Name[:2] == "__" {
						continue // not listed
					}
					cost = add(cost, add(1, w.fieldDefCost(fd, f.SelectionSet)))
				}
			}
		case "inputFields":
			if def.Kind == ast.InputObject {
				for _, fd := range def.Fields {
					cost = add(cost, add(1, w.inputValueCost(fd.Type, f.SelectionSet)))
				}
			}
		case "interfaces":
			for _, name := range def.Interfaces {
				cost = add(cost, add(1, w.typeCost(w.c.Schema.Types[name], f.SelectionSet)))
			}
		case "possibleTypes":
			if def.Kind == ast.Interface || def.Kind == ast.Union {
				for _, pt := range w.c.Schema.GetPossibleTypes(def) {
					cost = add(cost, add(1, w.typeCost(pt, f.SelectionSet)))
				}
			}
		case "enumValues":
			cost = len(def.EnumValues)
		}
		return cost
	})
}

// refCost is the cost of a selection on the __Type of a type reference: a
// NON_NULL or LIST wrapper leads on through ofType, a name to its type.
func (w *walk) refCost(t *ast.Type, sels ast.SelectionSet) int {
	if t == nil {
		return 0
	}
	var inner *ast.Type
	switch {
	case t.NonNull:
		c := *t
		c.NonNull = false
		inner = &c
	case t.Elem != nil:
		inner = t.Elem
	default:
		return w.typeCost(w.c.Schema.Types[t.NamedType], sels)
	}
	return w.introSum("ref:"+t.String(), sels, func(f *ast.Field) int {
		if f.Name == "ofType" {
			return w.refCost(inner, f.SelectionSet)
		}
		return 0
	})
}

// fieldDefCost is the cost of a selection on a __Field.
func (w *walk) fieldDefCost(fd *ast.FieldDefinition, sels ast.SelectionSet) int {
	return w.introSum(fd, sels, func(f *ast.Field) int {
		cost := 0
		switch f.Name {
		case "args":
			cost = w.argsCost(fd.Arguments, f.SelectionSet)
		case "type":
			cost = w.refCost(fd.Type, f.SelectionSet)
		}
		return cost
	})
}

// argsCost is the cost of a selection on a field's or a directive's args:
// one per argument, and what is selected on each.
func (w *walk) argsCost(args ast.ArgumentDefinitionList, sels ast.SelectionSet) int {
	cost := 0
	for _, a := range args {
		cost = add(cost, add(1, w.inputValueCost(a.Type, sels)))
	}
	return cost
}

// inputValueCost is the cost of a selection on an __InputValue of type t.
func (w *walk) inputValueCost(t *ast.Type, sels ast.SelectionSet) int {
	return w.introSum("input:"+t.String(), sels, func(f *ast.Field) int {
		if f.Name == "type" {
			return w.refCost(t, f.SelectionSet)
		}
		return 0
	})
}

// directiveCost is the cost of a selection on a __Directive.
func (w *walk) directiveCost(d *ast.DirectiveDefinition, sels ast.SelectionSet) int {
	return w.introSum(d, sels, func(f *ast.Field) int {
		cost := 0
		switch f.Name {
		case "args":
			cost = w.argsCost(d.Arguments, f.SelectionSet)
		case "locations":
			cost = len(d.Locations)
		}
		return cost
	})
}
