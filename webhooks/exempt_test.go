package webhooks_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestDeliveriesKeepTheExemptRule delivers the Stockton set to a public, a
// partner and an officer client and checks the rule for exempt business on
// what each receives: every client gets the exempt agenda item TVCA 44/22
// as the public agenda pack prints it (minute reference, Schedule 12A
// paragraph, minute and decision), and only the officer gets anything of
// the records below it (its exempt report), not even their IDs.
func TestDeliveriesKeepTheExemptRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	scopes := []string{auth.ScopePublic, auth.ScopePartner, auth.ScopeOfficer}
	receivers := map[string]*receiver{}
	endpoints := map[string]*store.WebhookEndpoint{}
	for _, scope := range scopes {
		receivers[scope] = newReceiver(t, nil)
		// The kinds an agenda item and what belongs to it are, so that a
		// delivery carries no more of the set than the rule concerns.
		endpoints[scope] = add(t, s, client(t, s, scope), receivers[scope].URL, "AgendaItem", "Report", "Action", "Declaration")
	}
	importDir(t, s, "../data/stockton", "stockton")

	const item = "agendaItem:tees-valley-combined-authority/tvca-cabinet/2023-03-17/tvca-44-22"
	officer := store.WithLevel(ctx, store.Officer)
	var withheld []string
	for _, k := range store.Kinds() {
		if _, ok := k.Ref("agendaItemId"); !ok {
			continue
		}
		below, err := s.FindByRef(officer, k, "agendaItemId", []string{item})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range below {
			withheld = append(withheld, d.Base().ID)
			if d.Base().Notes != nil {
				withheld = append(withheld, *d.Base().Notes)
			}
		}
	}
	if len(withheld) == 0 {
		t.Fatalf("nothing below %s to withhold", item)
	}

	cfg := fast()
	cfg.BatchSize = 100
	cfg.Timeout = 5 * time.Second
	startWorker(t, s, cfg)
	for _, scope := range scopes {
		waitCaughtUp(t, s, endpoints[scope].ID)
		var bodies strings.Builder
		var record map[string]any
		for _, d := range receivers[scope].accepted() {
			bodies.Write(d.Body)
			for _, c := range d.payload(t).Data.Changes {
				if c.ID == item && c.Kind == "UPSERT" {
					record = c.Record
				}
			}
		}
		printed := map[string]any{
			"minuteRef":          "TVCA 44/22",
			"exemptionParagraph": float64(3),
			"exempt":             true,
			"decision":           "RESOLVED that Cabinet approved the recommendation in the report.",
			"outcome":            "APPROVED",
		}
		for field, want := range printed {
			if record[field] != want {
				got, _ := json.Marshal(record)
				t.Errorf("%s client: %s delivered with %s = %v, want %v: %s", scope, item, field, record[field], want, got)
			}
		}
		if m, _ := record["minutes"].(string); !strings.Contains(m, "paragraph 3 of schedule 12a") {
			t.Errorf("%s client: %s delivered without its printed minute: %q", scope, item, m)
		}
		for _, w := range withheld {
			if shown := strings.Contains(bodies.String(), w); shown != (scope == auth.ScopeOfficer) {
				t.Errorf("%s client: %q, below the exempt item, delivered = %v", scope, w, shown)
			}
		}
	}
}
