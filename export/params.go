package export

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"councilgraph/graph"
	"councilgraph/store"
)

// param is one filter a download takes: its name and what its value must
// be ("name", "id", "text", checked as the graph checks them by
// graph.CheckFilter; "date"; or the name of an enum of the schema).
type param struct{ name, kind string }

// params are each download's filters: the graph list's own arguments,
// updatedSince for every collection, and council for every collection of
// council-owned records.
var params = map[string][]param{
	"people":        {{"name", "name"}, {"organisation", "id"}},
	"organisations": {{"kind", "OrganisationKind"}},
	"bodies":        {{"kind", "BodyKind"}},
	"meetings":      {{"body", "id"}, {"from", "date"}, {"to", "date"}, {"status", "MeetingStatus"}},
	"reports":       {{"body", "id"}},
	"actions":       {{"status", "RAG"}, {"owner", "id"}, {"dueBefore", "date"}},
	"indicators":    {{"theme", "text"}},
	"observations":  {{"indicator", "id"}, {"area", "id"}},
	AnalysisFile:    {{"indicator", "id"}, {"area", "id"}},
}

// query is a download's parsed filters.
type query struct {
	filter store.Filter
	// figures is the filter of the observations' analysis layout.
	figures store.ExportFilter
	// suffix names the filters in the file name, e.g. "-body-cabinet".
	suffix string
}

// parse checks the query parameters of a download of name and makes its
// filter: an unknown parameter, one given twice, or a value of the wrong
// form is an error that says which and what is allowed.
func (h *Handler) parse(ctx context.Context, name string, values url.Values) (query, error) {
	allowed := append(slices.Clone(params[name]), param{"updatedSince", "dateTime"})
	if k := store.KindNamed(name); k == nil || !k.Shared {
		allowed = append(allowed, param{"council", "id"})
	}
	v := map[string]*string{}
	var q query
	for key, vals := range values {
		i := slices.IndexFunc(allowed, func(p param) bool { return p.name == key })
		if i < 0 {
			var list []string
			for _, p := range allowed {
				list = append(list, p.name)
			}
			return q, fmt.Errorf("unknown parameter %q for %s: it takes %s", key, name, strings.Join(list, ", "))
		}
		if len(vals) != 1 {
			return q, fmt.Errorf("give %s once, not %d times", key, len(vals))
		}
		val := vals[0]
		switch kind := allowed[i].kind; kind {
		case graph.FilterName, graph.FilterID, graph.FilterText:
			if err := graph.CheckFilter(key, kind, val); err != nil {
				return q, err
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, val); err != nil {
				return q, fmt.Errorf("%s must be a date as YYYY-MM-DD, got %q", key, val)
			}
		case "dateTime":
			if _, err := time.Parse(time.RFC3339, val); err != nil {
				return q, fmt.Errorf("%s must be an RFC 3339 date and time such as 2023-06-15T12:00:00Z, got %q", key, val)
			}
		default:
			if !slices.Contains(h.enums[kind], val) {
				return q, fmt.Errorf("%s must be one of %s, got %q", key, strings.Join(h.enums[kind], ", "), val)
			}
		}
		v[key] = &val
	}
	var updated *time.Time
	if s := v["updatedSince"]; s != nil {
		t, _ := time.Parse(time.RFC3339, *s)
		updated = &t
	}
	for _, p := range allowed {
		if s := v[p.name]; s != nil && p.name != "updatedSince" {
			q.suffix += "-" + slug(p.name) + "-" + slug(strings.TrimPrefix(*s, strings.SplitN(*s, ":", 2)[0]+":"))
		}
	}
	if updated != nil {
		q.suffix += "-since-" + updated.UTC().Format("2006-01-02t150405z")
	}
	switch name {
	case "people":
		q.filter = store.PersonFilter{Name: v["name"], OrganisationID: v["organisation"], Council: v["council"], UpdatedSince: updated}
	case "organisations":
		q.filter = store.OrganisationFilter{Kind: v["kind"], UpdatedSince: updated}
	case "bodies":
		q.filter = store.BodyFilter{Kind: v["kind"], Council: v["council"], UpdatedSince: updated}
	case "meetings":
		q.filter = store.MeetingFilter{BodyID: v["body"], From: v["from"], To: v["to"], Status: v["status"], Council: v["council"], UpdatedSince: updated}
	case "reports":
		f := store.ReportFilter{Council: v["council"], UpdatedSince: updated}
		if b := v["body"]; b != nil {
			ids, err := h.store.MeetingIDsOfBody(ctx, *b)
			if err != nil {
				return q, err
			}
			f.MeetingIDs = append([]string{}, ids...)
		}
		q.filter = f
	case "actions":
		q.filter = store.ActionFilter{Status: v["status"], OwnerID: v["owner"], DueBefore: v["dueBefore"], Council: v["council"], UpdatedSince: updated}
	case "indicators":
		q.filter = store.IndicatorFilter{Theme: v["theme"], UpdatedSince: updated}
	case "plans":
		q.filter = store.PlanFilter{Council: v["council"], UpdatedSince: updated}
	default:
		q.figures = store.ExportFilter{UpdatedSince: updated, IndicatorID: v["indicator"], AreaID: v["area"], Council: v["council"]}
		q.filter = q.figures
	}
	return q, nil
}
