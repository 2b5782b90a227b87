package graph

import "time"

// Complexity prices each query by how much it can fetch: a page of a list
// costs its `first` (default 20) times what each record's fields cost, so
// nesting wide pages multiplies. Other fields cost one plus their children.
func Complexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.People = func(child int, _, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Organisations = func(child int, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Bodies = func(child int, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Meetings = func(child int, _, _, _, _ *string, _ *time.Time, first *int, _ *string) int {
		return page(child, first)
	}
	c.Query.Reports = func(child int, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Plans = func(child int, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Actions = func(child int, _, _, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Indicators = func(child int, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Inspections = func(child int, _, _ *string, _ *time.Time, first *int, _ *string) int { return page(child, first) }
	c.Query.Search = func(child int, _ string, first *int) int { return page(child, first) }
	c.Query.Nodes = func(child int, ids []string) int { return 1 + child*max(1, len(ids)) }
	c.Body.Meetings = func(child int, _, _, _ *string, first *int, _ *string) int { return page(child, first) }
	c.Organisation.People = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Person.Attendance = func(child int, first *int, _ *string) int { return page(child, first) }
	return c
}

// page is the cost of a page of first records each costing child.
func page(child int, first *int) int {
	n := defaultFirst
	if first != nil && *first > 0 {
		n = *first
	}
	return 1 + n*max(1, child)
}
