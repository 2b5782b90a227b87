package graph_test

import (
	"sort"
	"strings"
	"testing"

	"councilgraph/importer/importertest"
)

// TestReadmeExamplesShowRecords runs every example query of README.md §
// Example queries against the bundled Stockton set: each must succeed, and
// every list it asks for must hold records in at least one place of the
// answer, so that an example never advertises a feature with an empty list.
func TestReadmeExamplesShowRecords(t *testing.T) {
	t.Parallel()
	examples := readmeExamples(t)
	s := importertest.Stockton(t, nil)
	h := server(s)
	for _, q := range examples {
		name := strings.Join(strings.Fields(q), " ")
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			var got any
			data(t, h, q, nil, &got)
			lists := map[string]bool{}
			walkLists(got, "", lists)
			if len(lists) == 0 {
				t.Fatalf("the example asks for no list: %s", q)
			}
			var empty []string
			for path, some := range lists {
				if !some {
					empty = append(empty, path)
				}
			}
			sort.Strings(empty)
			if len(empty) > 0 {
				t.Errorf("these lists are empty wherever they occur: %v\nanswer: %v", empty, got)
			}
		})
	}
}

// walkLists records, for each path of field names to a list in v (list
// indices left out), whether any list at that path has an element.
func walkLists(v any, path string, lists map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			walkLists(c, path+"."+k, lists)
		}
	case []any:
		lists[path] = lists[path] || len(v) > 0
		for _, c := range v {
			walkLists(c, path, lists)
		}
	}
}
