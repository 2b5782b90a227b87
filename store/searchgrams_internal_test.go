package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestSearchIndexFindsWhatAScanFinds: every string a record's folded text
// contains, and some no text contains, finds through the search index the
// records a test of every record finds.
func TestSearchIndexFindsWhatAScanFinds(t *testing.T) {
	t.Parallel()
	k := KindNamed("Person")
	names := []string{"Cllr Anne McCoy", "Anne-Marie Ōkafor", "Bob", "Cllr  Lisa Evans", "Dr Lisa Evanson", "Al", "", "Maria José Núñez", "annealing"}
	c := &snapColl{k: k, index: map[string]map[string][]int32{}}
	for i, n := range names {
		p := &Person{Record: Record{ID: "person:" + string(rune('a'+i))}, Name: n}
		p.Search = SearchText(p)
		c.recs = append(c.recs, p)
		c.sizes = append(c.sizes, 1)
	}
	c.mapRecords()
	queries := []string{"zzz", "ann e", "xyz", "é"}
	for _, d := range c.recs {
		text := d.Base().Search
		for i := range len(text) {
			for j := i + 1; j <= len(text) && j <= i+6; j++ {
				queries = append(queries, text[i:j])
			}
		}
	}
	indexed := 0
	for _, q := range queries {
		var want []string
		for _, d := range c.recs {
			if strings.Contains(d.Base().Search, q) {
				want = append(want, d.Base().ID)
			}
		}
		var got []string
		for _, d := range c.find(Officer, where{}.containing(q), nil, nil, 0) {
			got = append(got, d.Base().ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%q: the index found %q, a scan %q", q, got, want)
		}
		if _, ok := c.gramCandidates(q); ok {
			indexed++
		}
	}
	if indexed < len(queries)/2 {
		t.Errorf("only %d of %d queries went through the index", indexed, len(queries))
	}
}

// TestManyCandidatesWalkTheOrder: where the search index leaves more
// candidates than find sorts, the first records in the kind's order and in
// ID order are those a scan sorts.
func TestManyCandidatesWalkTheOrder(t *testing.T) {
	t.Parallel()
	k := KindNamed("Person")
	c := &snapColl{k: k, index: map[string]map[string][]int32{}}
	firsts := []string{"Anne", "Joanne", "Bob", "Annette", "Li"}
	for i := range 3 * sortedCandidatesMax {
		// IDs and names in different orders.
		p := &Person{Record: Record{ID: fmt.Sprintf("person:%05d", (i*7919)%(3*sortedCandidatesMax))}, Name: fmt.Sprintf("%s %04d", firsts[i%len(firsts)], 9999-i)}
		p.Search = SearchText(p)
		c.recs = append(c.recs, p)
		c.sizes = append(c.sizes, 1)
	}
	c.mapRecords()
	for _, q := range []string{"ann", "anne 9", "o", "999", "e 999", "zzz"} {
		for _, o := range []Order{k.Order, byID} {
			for _, limit := range []int{1, 20, 0} {
				var want []Doc
				for _, d := range c.recs {
					if strings.Contains(d.Base().Search, q) {
						want = append(want, d)
					}
				}
				slices.SortStableFunc(want, k.compare(o))
				if limit > 0 && len(want) > limit {
					want = want[:limit]
				}
				got := c.find(Officer, where{}.containing(q), o, nil, limit)
				if !slices.Equal(got, want) {
					t.Errorf("%q in order %v, limit %d: found %d records, want %d (first %v, want %v)", q, o, limit, len(got), len(want), firstID(got), firstID(want))
				}
			}
		}
	}
}

func firstID(ds []Doc) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[0].Base().ID
}
