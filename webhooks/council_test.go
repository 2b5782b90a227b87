package webhooks_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
	"councilgraph/webhooks"
)

// TestDeliveriesByCouncil: an endpoint added for one council receives
// exactly the changes to that council's records that its client may see,
// at every scope: nothing of another council, nothing above the client's
// level, and nothing at all of a council the client may not see.
func TestDeliveriesByCouncil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	councils := []string{"council:testshire", "council:board-zzpartner17", "council:inquiry-zzofficer31"}
	levels := map[string]store.Level{auth.ScopePublic: store.Public, auth.ScopePartner: store.Partner, auth.ScopeOfficer: store.Officer}
	type hook struct {
		scope, council string
		rc             *receiver
		e              *store.WebhookEndpoint
	}
	var hooks []hook
	for scope := range levels {
		c := client(t, s, scope)
		for _, council := range councils {
			rc := newReceiver(t, nil)
			e, err := webhooks.Add(ctx, s, c, rc.URL, nil, council, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			hooks = append(hooks, hook{scope, council, rc, e})
		}
	}
	protected := os.DirFS(visibilitytest.Protected())
	importDir(t, s, visibilitytest.Protected(), "protected")
	set, problems := importer.Load(protected)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	stop := startWorker(t, s, fast())
	defer stop()
	delivered := 0
	for _, h := range hooks {
		waitCaughtUp(t, s, h.e.ID)
		allowed := visibilitytest.Allowed("before", h.scope)
		var want, got []string
		for _, items := range set.Items {
			for _, it := range items {
				id := it.Doc.Base().ID
				if store.CouncilOf(id) != h.council {
					continue
				}
				found, err := s.FindByIDs(store.WithLevel(ctx, levels[h.scope]), store.KindOfID(id), []string{id})
				if err != nil {
					t.Fatal(err)
				}
				if len(found) == 1 {
					want = append(want, id)
				}
			}
		}
		for _, d := range h.rc.accepted() {
			for _, m := range visibilitytest.Marker.FindAllStringSubmatch(string(d.Body), -1) {
				if !slices.Contains(allowed, m[1]) {
					t.Errorf("%s client's endpoint for %s receives %s", h.scope, h.council, m[0])
				}
			}
			for _, c := range d.payload(t).Data.Changes {
				if store.CouncilOf(c.ID) != h.council {
					t.Errorf("%s client's endpoint for %s receives a change to %s", h.scope, h.council, c.ID)
				}
				if c.Kind == "UPSERT" && !slices.Contains(got, c.ID) {
					got = append(got, c.ID)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s client's endpoint for %s:\n got %q\nwant %q", h.scope, h.council, got, want)
		}
		delivered += len(got)
	}
	if delivered == 0 {
		t.Fatal("no endpoint received anything: the test proves nothing")
	}
}

// TestBadCouncilEndpoint: an endpoint cannot be added for a council
// argument that is not a council's ID, or if it can, it receives nothing.
func TestBadCouncilEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	c := client(t, s, auth.ScopeOfficer)
	var added []*receiver
	var endpoints []*store.WebhookEndpoint
	for _, bad := range []string{"not an id", ".*", "council:.*", "body:testshire/cabinet", "testshire", "council:TESTSHIRE", "council:testshire/x"} {
		rc := newReceiver(t, nil)
		e, err := webhooks.Add(ctx, s, c, rc.URL, nil, bad, time.Now())
		if err != nil {
			t.Logf("council %q refused: %v", bad, err)
			continue
		}
		added = append(added, rc)
		endpoints = append(endpoints, e)
	}
	importDir(t, s, visibilitytest.Protected(), "protected")
	stop := startWorker(t, s, fast())
	defer stop()
	for i, e := range endpoints {
		waitCaughtUp(t, s, e.ID)
		for _, d := range added[i].accepted() {
			if n := len(d.payload(t).Data.Changes); n > 0 {
				t.Errorf("an endpoint for council %q receives %d changes", e.Council, n)
			}
		}
	}
}
