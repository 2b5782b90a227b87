package graph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"councilgraph/store/storetest"
)

func TestBadInputNamesTheArgument(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	world(t, s)
	h := server(s)
	tests := []struct {
		name, query string
		vars        map[string]any
		wantMsg     string
	}{
		{"first zero", `{ people(first: 0) { totalCount } }`, nil, "first must be between 1 and 100, got 0"},
		{"first too big", `{ meetings(first: 101) { totalCount } }`, nil, "first must be between 1 and 100, got 101"},
		{"nested first", `{ body(id: "body:stockton-on-tees/cabinet") { meetings(first: -1) { totalCount } } }`, nil, "first must be between 1 and 100, got -1"},
		{"forged cursor", `{ meetings(after: "Zm9yZ2Vk") { totalCount } }`, nil, "after is not a cursor from this list"},
		{"cursor from another list", `query($c: String) { meetings(after: $c) { totalCount } }`, map[string]any{"c": peopleCursor(t, h)}, "after is not a cursor from this list"},
		{"forged nested cursor", `{ person(id: "person:alice") { attendance(after: "!!") { totalCount } } }`, nil, "after is not a cursor from this list"},
		{"bad date", `{ meetings(from: "2023-02-30") { totalCount } }`, nil, `"2023-02-30" is not a date in the form YYYY-MM-DD`},
		{"bad date-time", `{ people(updatedSince: "yesterday") { totalCount } }`, nil, `"yesterday" is not a date-time in RFC 3339 form`},
		{"short search", `{ search(query: " a ") { __typename } }`, nil, "query must have at least 2 characters besides accents and spaces"},
		{"accents alone", `{ search(query: "\u0301\u0301\u0301") { __typename } }`, nil, "query must have at least 2 characters besides accents and spaces"},
		{"long search", `{ search(query: "` + strings.Repeat("ab", 101) + `") { __typename } }`, nil, "query must be at most 200 characters, got 202"},
		{"long name", `{ people(name: "` + strings.Repeat("ab", 101) + `") { totalCount } }`, nil, "name must be at most 200 characters, got 202"},
		{"unknown field", `{ person(id: "person:alice") { shoeSize } }`, nil, `Cannot query field "shoeSize" on type "Person"`},
		{"bad enum", `{ bodies(kind: PARLIAMENT) { totalCount } }`, nil, `Value "PARLIAMENT" does not exist in "BodyKind" enum`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := query(t, h, tt.query, tt.vars)
			if len(r.Errors) != 1 {
				t.Fatalf("got %d errors, want 1: %+v", len(r.Errors), r.Errors)
			}
			e := r.Errors[0]
			if !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tt.wantMsg)
			}
			if e.Extensions["code"] != "BAD_USER_INPUT" {
				t.Errorf("code = %v, want BAD_USER_INPUT", e.Extensions["code"])
			}
		})
	}
}

func peopleCursor(t *testing.T, h http.Handler) string {
	t.Helper()
	var d struct {
		People struct{ PageInfo struct{ EndCursor string } }
	}
	data(t, h, `{ people(first: 1) { pageInfo { endCursor } } }`, nil, &d)
	return d.People.PageInfo.EndCursor
}

func TestInternalErrorsHideTheirDetails(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	h := server(s)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := query(t, h, `{ people { totalCount } }`, nil)
	if len(r.Errors) != 1 {
		t.Fatalf("got %d errors, want 1: %+v", len(r.Errors), r.Errors)
	}
	e := r.Errors[0]
	if e.Extensions["code"] != "INTERNAL" || !strings.HasPrefix(e.Message, "internal error") {
		t.Errorf("got %q (%v), want an INTERNAL \"internal error\"", e.Message, e.Extensions["code"])
	}
	if strings.Contains(strings.ToLower(e.Message), "client") || strings.Contains(e.Message, "mongo") {
		t.Errorf("message leaks driver detail: %q", e.Message)
	}
}
