package graph

import (
	"context"

	"councilgraph/graph/model"
	"councilgraph/store"
)

// connection is a page of any list. Its fields are those of every generated
// XConnection type, so a *connection[*model.XEdge] converts to
// *model.XConnection.
type connection[E any] struct {
	Edges      []E
	PageInfo   *model.PageInfo
	TotalCount int
}

// list pages through a list the store holds: it checks first and after,
// finds one page, and counts the whole list only when the caller asked for
// totalCount.
func list[T, E any](ctx context.Context, first *int, after *string, edge func(string, *T) E,
	find func(store.Page) (*store.Result[T], error), count func() (int, error)) (*connection[E], error) {
	p, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	res, err := find(p)
	if err != nil {
		return nil, err
	}
	c := fromResult(res, edge)
	c.TotalCount, err = total(ctx, count)
	return c, err
}

// inMemory pages through a list a loader already fetched in full. Its
// cursors are those of the store's list of the same name, so that a cursor
// from body.meetings also works in meetings(body:).
func inMemory[T, E any](name string, all []*T, key func(*T) []string, first *int, after *string, edge func(string, *T) E) (*connection[E], error) {
	p, err := pageArgs(first, after)
	if err != nil {
		return nil, err
	}
	res, err := store.PageOf(name, all, key, p)
	if err != nil {
		return nil, err
	}
	c := fromResult(res, edge)
	c.TotalCount = len(all)
	return c, nil
}

func fromResult[T, E any](res *store.Result[T], edge func(string, *T) E) *connection[E] {
	c := &connection[E]{Edges: make([]E, len(res.Nodes)), PageInfo: &model.PageInfo{HasNextPage: res.HasNext}}
	for i, n := range res.Nodes {
		c.Edges[i] = edge(res.Cursors[i], n)
	}
	if len(res.Cursors) > 0 {
		c.PageInfo.EndCursor = &res.Cursors[len(res.Cursors)-1]
	}
	return c
}

// The edge of each list type.

func personEdge(c string, n *store.Person) *model.PersonEdge {
	return &model.PersonEdge{Cursor: c, Node: n}
}
func organisationEdge(c string, n *store.Organisation) *model.OrganisationEdge {
	return &model.OrganisationEdge{Cursor: c, Node: n}
}
func councilEdge(c string, n *store.Council) *model.CouncilEdge {
	return &model.CouncilEdge{Cursor: c, Node: n}
}
func bodyEdge(c string, n *store.Body) *model.BodyEdge { return &model.BodyEdge{Cursor: c, Node: n} }
func meetingEdge(c string, n *store.Meeting) *model.MeetingEdge {
	return &model.MeetingEdge{Cursor: c, Node: n}
}
func attendanceEdge(c string, n *store.Attendance) *model.AttendanceEdge {
	return &model.AttendanceEdge{Cursor: c, Node: n}
}
func reportEdge(c string, n *store.Report) *model.ReportEdge {
	return &model.ReportEdge{Cursor: c, Node: n}
}
func planEdge(c string, n *store.Plan) *model.PlanEdge { return &model.PlanEdge{Cursor: c, Node: n} }
func actionEdge(c string, n *store.Action) *model.ActionEdge {
	return &model.ActionEdge{Cursor: c, Node: n}
}
func inspectionEdge(c string, n *store.Inspection) *model.InspectionEdge {
	return &model.InspectionEdge{Cursor: c, Node: n}
}
func indicatorEdge(c string, n *store.Indicator) *model.IndicatorEdge {
	return &model.IndicatorEdge{Cursor: c, Node: n}
}

// The sort keys of lists paged in memory, matching the store's orders.

func meetingKey(m *store.Meeting) []string       { return []string{m.Date, m.ID} }
func personKey(p *store.Person) []string         { return []string{p.Name, p.ID} }
func attendanceKey(a *store.Attendance) []string { return []string{a.ID} }
