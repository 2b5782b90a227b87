package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
)

// TestAnalystsCostBoundsTheWork runs the indicator pages' queries and the
// analysts' fields alone, each within a store budget of exactly its cost:
// trends and comparisons read more than the fields they select, and their
// cost must say so.
func TestAnalystsCostBoundsTheWork(t *testing.T) {
	t.Parallel()
	s, _ := sharedStockton(t, nil)
	lenient := map[string]int{}
	for _, sc := range auth.Scopes() {
		lenient[sc] = 1 << 30
	}
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, CostCeilings: lenient, MaxRecords: 1 << 30, LoaderWait: time.Millisecond}, quiet())
	for _, q := range []string{
		`{ indicator(id: "indicator:repeat-child-protection-plans") { trend { method } } }`,
		`{ indicator(id: "indicator:repeat-child-protection-plans") { trend { area { name } } } }`,
		`{ indicator(id: "indicator:repeat-child-protection-plans") { observations(area: "area:E06000004") { comparisons { method } } } }`,
		`{ indicator(id: "indicator:domestic-abuse-repeat-victim-rate") { observations { comparisons { assessment comparator { value area { name } } } } trend(area: "area:tees") { direction } } }`,
		`{ indicators(first: 50) { edges { node { id trend { direction area { id } } observations { id comparisons { assessment comparator { value area { name } } } } } } } }`,
	} {
		res := do(t, h, "", "", doc(q))
		for _, e := range res.Errors {
			if strings.Contains(e.Message, "than its cost admits") {
				t.Errorf("read more than its cost: %s\n%s", e.Message, q)
			}
		}
		if len(res.Errors) > 0 {
			t.Errorf("%s: %v", q, res.Errors)
		}
	}
}
