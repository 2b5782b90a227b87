package graph_test

import (
	"context"
	"encoding/json"
	"os"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/importer"
	"councilgraph/importer/importertest"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// stockton loads the bundled Stockton data set into s.
func stockton(t *testing.T, s *store.Store) {
	t.Helper()
	if _, err := importer.ImportFS(context.Background(), s, os.DirFS("../data/stockton"), importer.Options{Dataset: "stockton"}); err != nil {
		t.Fatal(err)
	}
}

func TestComparisonsAndTrendsOnStockton(t *testing.T) {
	t.Parallel()
	s := importertest.Stockton(t, nil)
	h := server(s)
	tests := []struct {
		name, query, want string
	}{
		// Appendix 2 of the overview report of 17 February 2021, line 234:
		// 94% against the North East's 82%; higher is better, 12 points is
		// past 5% of 82 (4.1).
		{"a figure better than its region",
			`{ indicator(id: "indicator:assessments-within-45-days") { observations(area: "area:E06000004") { value comparisons { assessment method comparator { value area { id } } } } } }`,
			`{"indicator":{"observations":[{"value":94,"comparisons":[{"assessment":"BETTER","method":"difference of 5% of the comparator or more: 94 against 82, a difference of 12 where 5% of the comparator is 4.1; no confidence intervals published","comparator":{"value":82,"area":{"id":"area:E12000001"}}}]}]}}`},
		// The same line read from the region's side.
		{"the region's figure against the borough's",
			`{ indicator(id: "indicator:assessments-within-45-days") { observations(area: "area:E12000001") { comparisons { assessment comparator { area { id } } } } } }`,
			`{"indicator":{"observations":[{"comparisons":[{"assessment":"WORSE","comparator":{"area":{"id":"area:E06000004"}}}]}]}}`},
		// Line 241: repeat child protection plans at 38/1000 against 22/1000
		// regionally; lower is better.
		{"a figure worse than its region",
			`{ indicator(id: "indicator:repeat-child-protection-plans") { observations(area: "area:E06000004") { comparisons { assessment } } } }`,
			`{"indicator":{"observations":[{"comparisons":[{"assessment":"WORSE"}]}]}}`},
		// Line 235: 240 against 234 per 10,000; no polarity; 6 is under 11.7.
		{"a similar figure without polarity",
			`{ indicator(id: "indicator:section-47-enquiries-rate") { observations(area: "area:E06000004") { comparisons { assessment method } } } }`,
			`{"indicator":{"observations":[{"comparisons":[{"assessment":"SIMILAR","method":"difference under 5% of the comparator: 240 against 234, a difference of 6 where 5% of the comparator is 11.7; no confidence intervals published"}]}]}}`},
		{"a figure without comparators",
			`{ indicator(id: "indicator:population") { observations { comparisons { assessment } } } }`,
			`{"indicator":{"observations":[{"comparisons":[]}]}}`},
		// One figure for the borough, and Appendix 2 prints no period for
		// it: too few for a trend.
		{"a trend with too few periods",
			`{ indicator(id: "indicator:assessments-within-45-days") { trend { direction assessment periods method area { id } } } }`,
			`{"indicator":{"trend":{"direction":"CANNOT_BE_CALCULATED","assessment":"NOT_COMPARED","periods":[],"area":{"id":"area:E06000004"},
			  "method":"cannot be calculated: a trend needs figures for 5 periods that can be placed in time, and 0 are published; (no period printed) cannot be placed in time"}}}`},
		// The council website's transactions: 'now' in a report of June
		// 2023, and a figure at go-live that prints no period (listed in
		// the order of their IDs: .../now, .../published-2023-06-15).
		{"a trend over a period that cannot be placed",
			`{ indicator(id: "indicator:council-website-live-self-serve-transactions") { trend(last: 3) { direction method } } }`,
			`{"indicator":{"trend":{"direction":"CANNOT_BE_CALCULATED",
			  "method":"cannot be calculated: a trend needs figures for 3 periods that can be placed in time, and 0 are published; 'now', (no period printed) cannot be placed in time"}}}`},
		// Tees, Q3 2022/23: 48%, and a snapshot 'a figure around 40%' kept
		// beside it; neither is judged against the other.
		{"two figures for one area and period",
			`{ indicator(id: "indicator:domestic-abuse-repeat-victim-rate") { observations { value comparisons { assessment method } } } }`,
			`{"indicator":{"observations":[
			  {"value":48,"comparisons":[{"assessment":"NOT_COMPARED","method":"not compared: both figures are for the same area; where two are published for one period they are kept side by side, not judged"}]},
			  {"value":40,"comparisons":[{"assessment":"NOT_COMPARED","method":"not compared: both figures are for the same area; where two are published for one period they are kept side by side, not judged"}]}]}}`},
		// The safeguarding board's figures are for Tees, not the borough.
		{"a trend with no council figures to default to",
			`{ indicator(id: "indicator:domestic-abuse-repeat-victim-rate") { trend { direction area { id } method } tees: trend(area: "area:tees") { direction area { id } } } }`,
			`{"indicator":{"trend":{"direction":"CANNOT_BE_CALCULATED","area":null,"method":"cannot be calculated: the indicator has no figures for a single local authority to default to; name an area"},
			  "tees":{"direction":"CANNOT_BE_CALCULATED","area":{"id":"area:tees"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want any
			data(t, h, tt.query, nil, &got)
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrendArguments(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	world(t, s)
	h := server(s)
	for _, tt := range []struct{ query, arg, msg string }{
		{`{ indicator(id: "indicator:roads") { trend(last: 2) { direction } } }`, "last", "last must be between 3 and 20, got 2"},
		{`{ indicator(id: "indicator:roads") { trend(last: 21) { direction } } }`, "last", "last must be between 3 and 20, got 21"},
		{`{ indicator(id: "indicator:roads") { trend(area: "area:atlantis") { direction } } }`, "area", `area "area:atlantis" does not exist`},
	} {
		r := query(t, h, tt.query, nil)
		if len(r.Errors) != 1 || r.Errors[0].Message != tt.msg || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || r.Errors[0].Extensions["argument"] != tt.arg {
			t.Errorf("%s: errors = %+v, want %q on %s", tt.query, r.Errors, tt.msg, tt.arg)
		}
	}
}

// TestTrendFromCounts checks that published counts are used: five years of
// a proportion with counts take the chi-squared test for trend, the same
// values without counts the Mann-Kendall test.
func TestTrendFromCounts(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	world(t, s)
	put(t, s,
		&store.Indicator{Record: rec("indicator:counted"), Name: "Re-referrals", Unit: "PERCENT", Polarity: "LOWER_IS_BETTER"},
		&store.Indicator{Record: rec("indicator:uncounted"), Name: "Re-referrals, values only", Unit: "PERCENT", Polarity: "LOWER_IS_BETTER"})
	years := []string{"2017/18", "2018/19", "2019/20", "2020/21", "2021/22"}
	for i, y := range years {
		n, d := float64(100+10*i), 1000.0
		put(t, s,
			&store.Observation{Record: rec("observation:counted:borough:" + y), IndicatorID: "indicator:counted", AreaID: "area:borough", Period: y, Value: n / d * 100, Count: &n, Denominator: &d},
			&store.Observation{Record: rec("observation:uncounted:borough:" + y), IndicatorID: "indicator:uncounted", AreaID: "area:borough", Period: y, Value: n / d * 100})
	}
	h := server(s)
	var got, want any
	data(t, h, `{ counted: indicator(id: "indicator:counted") { trend { direction assessment periods method } }
		uncounted: indicator(id: "indicator:uncounted") { trend { direction assessment method } } }`, nil, &got)
	// 100, 110, 120, 130, 140 of 1,000: p = 0.12, T = -20 - 20 + 0 + 40 + 100
	// = 100, variance = 0.12 * 0.88 * (55,000 - 15,000²/5,000) = 1,056,
	// chi² = 100²/1,056 = 9.470, p = erfc(sqrt(9.470 / 2)) = 0.002089.
	if err := json.Unmarshal([]byte(`{
		"counted":{"trend":{"direction":"INCREASING","assessment":"WORSE","periods":["2017/18","2018/19","2019/20","2020/21","2021/22"],
		  "method":"chi-squared test for linear trend in the published counts over the last 5 periods in time order: chi-squared = 9.47 on 1 degree of freedom, p = 0.002089; significant at the 5% level"}},
		"uncounted":{"trend":{"direction":"INCREASING","assessment":"WORSE",
		  "method":"Mann-Kendall test on the values of the last 5 periods in time order (no counts are published): S = 10, two-sided p = 0.01667 (exact); significant at the 5% level"}}}`), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestAnalystsBatching holds a page of indicators with their trends and
// every figure's comparisons to one find per kind of record read, however
// many indicators and figures the page holds: the indicators, their
// observations (which prime the comparators), the areas for the default
// trend area, and the indicators again by ID for the comparisons.
func TestAnalystsBatching(t *testing.T) {
	t.Parallel()
	var counter collectionFinds
	s := importertest.Stockton(t, counter.monitor())
	h := server(s)
	counter.reset()
	var d struct {
		Indicators struct {
			Edges []struct {
				Node struct {
					Trend        struct{ Direction string }
					Observations []struct {
						Comparisons []struct{ Assessment string }
					}
				}
			}
		}
	}
	data(t, h, `{ indicators(first: 100) { edges { node { trend { direction area { id } }
		observations { comparisons { assessment comparator { area { name } } } } } } } }`, nil, &d)
	comparisons := 0
	for _, e := range d.Indicators.Edges {
		for _, o := range e.Node.Observations {
			comparisons += len(o.Comparisons)
		}
	}
	if len(d.Indicators.Edges) != 100 || comparisons < 20 {
		t.Fatalf("%d indicators, %d comparisons: the fixture is not what this test needs", len(d.Indicators.Edges), comparisons)
	}
	// one batch each, in the store's shape (store.Shape.Finds): the areas'
	// finds are one batch of the IDs they asked for
	areas := counter.keys("areas")
	levels := []level{{"page", 1}, {"indicatorId", 100}, {"_id", areas}, {"_id", 100}}
	if got, want := counter.total(), budget(s, levels); got != want || counter.finds("areas") != s.Shape().Finds("_id", areas) {
		t.Errorf("ran %d finds (%d of areas) for 100 indicators and %d comparisons, want %d (%v)", got, counter.finds("areas"), comparisons, want, levels)
	}
}

// collectionFinds counts the finds a client sends per collection, and the
// keys of the _id lookups among them.
type collectionFinds struct {
	mu     sync.Mutex
	counts map[string]int
	ids    map[string]map[string]bool
}

func (c *collectionFinds) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "find" {
			return
		}
		coll, _ := e.Command.Lookup("find").StringValueOK()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.counts == nil {
			c.counts, c.ids = map[string]int{}, map[string]map[string]bool{}
		}
		c.counts[coll]++
		if c.ids[coll] == nil {
			c.ids[coll] = map[string]bool{}
		}
		id := e.Command.Lookup("filter", "_id")
		if k, ok := id.StringValueOK(); ok {
			c.ids[coll][k] = true
		} else if doc, ok := id.DocumentOK(); ok {
			if in, ok := doc.Lookup("$in").ArrayOK(); ok {
				vals, _ := in.Values()
				for _, v := range vals {
					c.ids[coll][v.StringValue()] = true
				}
			}
		}
	}}
}

func (c *collectionFinds) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts, c.ids = nil, nil
}

func (c *collectionFinds) finds(coll string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[coll]
}

func (c *collectionFinds) keys(coll string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids[coll])
}

func (c *collectionFinds) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}
