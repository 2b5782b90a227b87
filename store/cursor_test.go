package store

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list string
		key  []string
	}{
		{"people", []string{"Anne McCoy", "person:anne-mccoy"}},
		{"meetings", []string{"2023-06-15", "meeting:stockton-on-tees/cabinet/2023-06-15"}},
		{"attendance", []string{"attendance:x:\u00e9\"/+="}},
	}
	for _, tt := range tests {
		c := encodeCursor(tt.list, tt.key)
		got, err := decodeCursor(tt.list, c, len(tt.key))
		if err != nil || !slices.Equal(got, tt.key) {
			t.Errorf("%s %v: decoded %v, %v", tt.list, tt.key, got, err)
		}
		if _, err := decodeCursor("other", c, -1); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s cursor accepted by another list: %v", tt.list, err)
		}
		if _, err := decodeCursor(tt.list, c, len(tt.key)+1); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s cursor accepted for a sort of another length: %v", tt.list, err)
		}
	}
	for _, bad := range []string{"", "!!!", "e30", "eyJsIjoicGVvcGxlIiwiayI6W119"} { // "", not base64, {}, {"l":"people","k":[]}
		if _, err := decodeCursor("people", bad, -1); !errors.Is(err, ErrBadCursor) {
			t.Errorf("decodeCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

func TestRank(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, q string
		want    int
	}{
		{"anne mccoy\ncllr anne mccoy", "anne", 0},
		{"anne mccoy", "mccoy", 1},
		{"cabinet\nthe cabinet", "cab", 0},
		{"children's services", "services", 1},
		{"mccoy", "cco", 2},
		{"anne mccoy\nmrs mccoy", "mrs", 0},
	}
	for _, tt := range tests {
		if got := Rank(tt.text, tt.q); got != tt.want {
			t.Errorf("Rank(%q, %q) = %d, want %d", tt.text, tt.q, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Cllr  Anne McCoy":  "cllr anne mccoy",
		"Zoë Brontë":        "zoe bronte",
		" CAB 86/22 ":       "cab 86/22",
		"  Renée   Dupont ": "renee dupont",
		"ÉCOLE":             "ecole",
		"cllr anne mccoy":   "cllr anne mccoy",
		"\tA\r\nB\v":        "a b",
		"":                  "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFoldIsItsDefinition: the one-pass fold of ASCII text answers as the
// full definition does, for every mix of case and space.
func TestFoldIsItsDefinition(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "Z", "m", "Q", "0", "/", "-", " ", "  ", "\t", "\n", "\v", "\f", "\r", "é", "E\u0301", "\u00a0", "\u0085", "\u2003", "ß", "İ"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		var b strings.Builder
		for range r.IntN(9) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		in := b.String()
		if got, want := Fold(in), foldUnicode(in); got != want {
			t.Fatalf("Fold(%q) = %q, its definition %q", in, got, want)
		}
	}
}
