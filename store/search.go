package store

import (
	"context"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lowercases s, strips its accents and collapses runs of space, so that
// "Cllr Anne McCoy" and "cllr  anne mccoy" compare equal. Every record's
// names are folded as it is written, so text that is all ASCII (most of
// it) is folded in one pass, and s itself is returned when it is folded
// already.
func Fold(s string) string {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return foldUnicode(s)
		}
	}
	return foldASCII(s)
}

// foldUnicode is Fold's full definition: decompose, drop the combining
// marks, recompose, lowercase, collapse space.
func foldUnicode(s string) string {
	t := accents.Get().(transform.Transformer)
	defer accents.Put(t)
	t.Reset()
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}

// accents holds the transformers foldUnicode strips accents with: each
// keeps buffers of its own, too costly to make for every name.
var accents = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

// foldASCII is Fold of ASCII text: lowercase, and single spaces between
// the words (ASCII's spaces are those strings.Fields splits at).
func foldASCII(s string) string {
	folded, space := true, true // space: at the start, or after a space
	for i := range len(s) {
		c := s[i]
		switch {
		case asciiSpace(c):
			if space || c != ' ' {
				folded = false
			}
			space = true
		case 'A' <= c && c <= 'Z':
			folded, space = false, false
		default:
			space = false
		}
		if !folded {
			break
		}
	}
	if folded && (s == "" || s[len(s)-1] != ' ') {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := range len(s) {
		c := s[i]
		if asciiSpace(c) {
			if len(b) > 0 && b[len(b)-1] != ' ' {
				b = append(b, ' ')
			}
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Searchable is a record that search finds by its names and titles.
type Searchable interface {
	// SearchTerms are the names, titles and aliases search matches.
	SearchTerms() []string
	// SetSearch stores the folded terms.
	SetSearch(string)
}

// SetSearch stores the folded text search matches.
func (r *Record) SetSearch(s string) { r.Search = s }

// SearchText folds a record's search terms into the text stored for search.
func SearchText(s Searchable) string {
	terms := s.SearchTerms()
	for i, t := range terms {
		terms[i] = Fold(t)
	}
	return strings.Join(terms, "\n")
}

// SearchTerms are an organisation's name and aliases.
func (o *Organisation) SearchTerms() []string { return append([]string{o.Name}, o.Aliases...) }

// SearchTerms are a person's name and aliases.
func (p *Person) SearchTerms() []string { return append([]string{p.Name}, p.Aliases...) }

// SearchTerms are a body's name and aliases.
func (b *Body) SearchTerms() []string { return append([]string{b.Name}, b.Aliases...) }

// SearchTerms are a meeting's title.
func (m *Meeting) SearchTerms() []string { return []string{m.Title} }

// SearchTerms are an agenda item's title and minute reference, an exempt
// item's too: its minute reference is printed in the public minutes.
func (a *AgendaItem) SearchTerms() []string {
	if a.MinuteRef != nil {
		return []string{a.Title, *a.MinuteRef}
	}
	return []string{a.Title}
}

// SearchTerms are a report's title.
func (r *Report) SearchTerms() []string { return []string{r.Title} }

// SearchTerms are a plan's title.
func (p *Plan) SearchTerms() []string { return []string{p.Title} }

// SearchTerms are a priority's title.
func (p *Priority) SearchTerms() []string { return []string{p.Title} }

// SearchTerms are an action's title.
func (a *Action) SearchTerms() []string { return []string{a.Title} }

// SearchTerms are an indicator's name.
func (i *Indicator) SearchTerms() []string { return []string{i.Name} }

// Hit is one search result: a record of one of the searchable types.
type Hit struct {
	Record Searchable
	rank   int
	order  int
}

// Search finds records of every searchable type whose name, title or alias
// contains query, ignoring case and accents: one read per type, run
// together, from the model where it answers (where.go's containing).
// Whole-word matches at the start of a name come first; at most
// first hits are returned.
func (s *Store) Search(ctx context.Context, query string, first int, council *string) ([]Searchable, error) {
	q := Fold(query)
	// Which records match depends on every record the search may find.
	if council != nil {
		dependsOn(ctx, *council, SharedGeneration)
	} else {
		dependsOnAll(ctx)
	}
	var searches []func(context.Context) ([]Searchable, error)
	for _, k := range searchable() {
		w := where{}.containing(q)
		if !k.Shared {
			w = w.council(council)
		}
		searches = append(searches, s.searchIn(k, w, first))
	}
	found := make([][]Searchable, len(searches))
	g, gctx := errgroup.WithContext(ctx)
	for i, search := range searches {
		g.Go(func() (err error) {
			found[i], err = search(gctx)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var hits []Hit
	for _, list := range found {
		for _, r := range list {
			hits = append(hits, Hit{Record: r, rank: Rank(foldedText(r), q), order: len(hits)})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].rank < hits[j].rank })
	out := make([]Searchable, 0, min(first, len(hits)))
	for _, h := range hits[:min(first, len(hits))] {
		out = append(out, h.Record)
	}
	return out, nil
}

// foldedText is the folded text a found record was matched by: what it
// stores, or (a record never stored) its terms folded now.
func foldedText(r Searchable) string {
	if d, ok := r.(Doc); ok && d.Base().Search != "" {
		return d.Base().Search
	}
	return SearchText(r)
}

// Rank places a search hit: 0 when one of its folded terms (one a line in
// text) starts with the folded query q, 1 when a word in one does, 2
// otherwise.
func Rank(text, q string) int {
	best := 2
	for _, term := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(term, q):
			return 0
		case strings.Contains(" "+term, " "+q):
			best = 1
		}
	}
	return best
}

// searchIn finds the first records of kind k that pass w, by ID.
func (s *Store) searchIn(k *Kind, w where, first int) func(context.Context) ([]Searchable, error) {
	return func(ctx context.Context) ([]Searchable, error) {
		docs, err := s.recordsOf(ctx, k, w, byID, nil, first)
		if err != nil {
			return nil, err
		}
		out := make([]Searchable, len(docs))
		for i, d := range docs {
			out[i] = d.(Searchable)
		}
		return out, nil
	}
}

// searchable lists the kinds search finds, in the kinds table's order.
func searchable() []*Kind {
	var out []*Kind
	for _, k := range kinds {
		if k.Searchable() {
			out = append(out, k)
		}
	}
	return out
}
