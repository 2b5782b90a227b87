package importer

import (
	"context"

	"councilgraph/store"
)

// withholdExemptBusiness raises the reports and actions of exempt agenda
// items to OFFICER visibility, so that exempt business stays hidden on
// every path to it (lookups, lists, search, federation), not only under
// its agenda item. Items outside the set are looked up in the database.
func withholdExemptBusiness(ctx context.Context, st *store.Store, set *Set) error {
	type attachment struct {
		record *store.Record
		item   string
	}
	exempt := map[string]bool{}
	for _, it := range set.Items["agendaItems"] {
		a := it.Doc.(*store.AgendaItem)
		exempt[a.ID] = a.Exempt
	}
	var attached []attachment
	var unknown []string
	attach := func(r *store.Record, item *string) {
		if item == nil {
			return
		}
		if _, ok := exempt[*item]; !ok {
			unknown = append(unknown, *item)
		}
		attached = append(attached, attachment{r, *item})
	}
	for _, it := range set.Items["reports"] {
		r := it.Doc.(*store.Report)
		attach(&r.Record, r.AgendaItemID)
	}
	for _, it := range set.Items["actions"] {
		a := it.Doc.(*store.Action)
		attach(&a.Record, a.AgendaItemID)
	}
	if len(unknown) > 0 {
		found, err := st.FindByIDs(store.WithLevel(ctx, store.Officer), store.KindFor[store.AgendaItem](), unknown)
		if err != nil {
			return err
		}
		for _, d := range found {
			a := d.(*store.AgendaItem)
			exempt[a.ID] = a.Exempt
		}
	}
	for _, a := range attached {
		if exempt[a.item] {
			a.record.Visibility = store.VisibilityOfficer
		}
	}
	return nil
}
