package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/store/storetest"
)

// feedQuery asks the feed over HTTP for some fields of some types, with
// the names a delivery uses.
const feedQuery = `{ changes(first: 100) { edges { node { cursor kind type id record {
  __typename
  ... on Person { id name honorific email aliases organisation { id } }
  ... on Meeting { id title date status body { id } sources { document locator } }
  ... on AgendaItem { id title exempt minutes decision meeting { id } }
  ... on Declaration { id text person { id } agendaItem { id } }
} } } } }`

// TestDeliveriesAreTheFeedsJSON: what a delivery carries of each change
// is what the feed answers the same client over HTTP, field for field.
func TestDeliveriesAreTheFeedsJSON(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	key, c, err := auth.CreateKey(ctx, s, "partner", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, nil)
	e := add(t, s, c.ID, rc.URL)
	importDir(t, s, visibilitytest.Protected(), "protected")
	importDir(t, s, visibilitytest.Moved(), "protected")
	startWorker(t, s, fast())
	waitCaughtUp(t, s, e.ID)

	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, Timeout: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	body, _ := json.Marshal(map[string]string{"query": feedQuery})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	res := httptest.NewRecorder()
	h.ServeHTTP(res, req)
	var answer struct {
		Data struct {
			Changes struct {
				Edges []struct{ Node map[string]any }
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(res.Body.Bytes(), &answer); err != nil || len(answer.Errors) > 0 {
		t.Fatalf("feed: %v %s", err, res.Body.String())
	}
	delivered := map[string]map[string]any{}
	for _, d := range rc.accepted() {
		var p struct {
			Data struct{ Changes []map[string]any }
		}
		if err := json.Unmarshal(d.Body, &p); err != nil {
			t.Fatal(err)
		}
		for _, ch := range p.Data.Changes {
			delivered[ch["cursor"].(string)] = ch
		}
	}
	if len(answer.Data.Changes.Edges) == 0 || len(answer.Data.Changes.Edges) != len(delivered) {
		t.Fatalf("the feed holds %d changes, the deliveries %d", len(answer.Data.Changes.Edges), len(delivered))
	}
	compared := 0
	for _, edge := range answer.Data.Changes.Edges {
		want := edge.Node
		got, ok := delivered[want["cursor"].(string)]
		if !ok {
			t.Errorf("change %v was not delivered", want)
			continue
		}
		for _, k := range []string{"kind", "type", "id"} {
			if got[k] != want[k] {
				t.Errorf("change %s: %s is %v delivered, %v in the feed", want["cursor"], k, got[k], want[k])
			}
		}
		wr, _ := want["record"].(map[string]any)
		gr, _ := got["record"].(map[string]any)
		if (wr == nil) != (gr == nil) {
			t.Errorf("change %s: record %v delivered, %v in the feed", want["cursor"], gr, wr)
			continue
		}
		for k, v := range wr {
			if len(wr) == 1 {
				break // a type the query selects nothing of
			}
			compared++
			if diff := cmp.Diff(v, shaped(v, gr[k])); diff != "" {
				t.Errorf("change %s (%s): field %s differs (-feed +delivered):\n%s", want["cursor"], want["id"], k, diff)
			}
		}
	}
	if compared < 20 {
		t.Errorf("only %d fields compared", compared)
	}
}

// shaped is got with only the fields want has (a delivery selects more of
// nested objects than feedQuery does).
func shaped(want, got any) any {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := map[string]any{}
		for k, v := range w {
			if gv, ok := g[k]; ok {
				out[k] = shaped(v, gv)
			}
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return got
		}
		out := make([]any, len(g))
		for i := range g {
			out[i] = shaped(w[i], g[i])
		}
		return out
	}
	return got
}
