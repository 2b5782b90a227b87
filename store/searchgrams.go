package store

import "slices"

// The model's search index.
//
// Search and the name filters ask for records whose folded text contains
// a string. Tested record by record, that is every record of a kind: at a
// million records 10 to 37 ms a search, against 0.6 ms for one council.
// The model therefore maps each searchable record's folded text by its
// runs of three bytes (searchGrams, a field of the model's maps like any
// reference, kept current by the same writes): a text contains q only if
// it holds every run of q, so the records holding all of them are the
// only ones tested. A q shorter than three bytes has no run and is tested
// against every record, as before.

// searchGrams names the map of the runs of three bytes of each record's
// folded search text.
const searchGrams = "search/3"

// gramLen is how many bytes a run of the index holds.
const gramLen = 3

// grams are the distinct runs of gramLen bytes of text, in no order; none
// for a text shorter than that.
func grams(text string) []string {
	if len(text) < gramLen {
		return nil
	}
	out := make([]string, 0, len(text)-gramLen+1)
	for i := 0; i+gramLen <= len(text); i++ {
		if g := text[i : i+gramLen]; !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// Indexable reports whether a search for query is narrowed by the index:
// whether its folded form holds a run of three bytes.
func Indexable(query string) bool { return len(Fold(query)) >= gramLen }

// gramCandidates are the positions of the records whose text holds every
// run of q (or, for a common word, some more), ascending, not to be
// changed (they may be the index's own); false where q has no run and
// every record must be tested.
func (c *snapColl) gramCandidates(q string) ([]int32, bool) {
	gs := grams(q)
	m := c.index[searchGrams]
	if len(gs) == 0 || m == nil {
		return nil, false
	}
	// The shortest list first, each next one narrowing it.
	lists := make([][]int32, len(gs))
	for i, g := range gs {
		lists[i] = m[g]
		if len(lists[i]) == 0 {
			return []int32{}, true
		}
	}
	slices.SortFunc(lists, func(a, b []int32) int { return len(a) - len(b) })
	out := lists[0]
	if len(out) > sortedCandidatesMax && len(out) > len(c.recs)/denseShare {
		// A common run in many of the records: find walks the order
		// testing each candidate, and finds its few soon; intersecting
		// lists this long would cost more than it saves.
		return out, true
	}
	for i, l := range lists[1:] {
		out = intersect(out, l, i > 0)
		if len(out) == 0 {
			break
		}
	}
	return out, true
}

// denseShare: a run held by more than one record in denseShare is common.
const denseShare = 64

// intersect is the positions of a that b holds, both ascending, written
// over a where owned (else a new slice): by a walk of both, or, where b is
// far the longer (a common run of three), by a binary search of what is
// left of b for each of a.
func intersect(a, b []int32, owned bool) []int32 {
	out := a[:0]
	if !owned {
		out = make([]int32, 0, min(len(a), len(b)))
	}
	if len(b) > 16*len(a) {
		for _, p := range a {
			i, found := slices.BinarySearch(b, p)
			if found {
				out = append(out, p)
			}
			if b = b[i:]; len(b) == 0 {
				break
			}
		}
		return out
	}
	j := 0
	for _, p := range a {
		for j < len(b) && b[j] < p {
			j++
		}
		if j == len(b) {
			break
		}
		if b[j] == p {
			out = append(out, p)
		}
	}
	return out
}
