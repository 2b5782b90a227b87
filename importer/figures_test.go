package importer_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// TestFiguresBesideTheValue checks what an observation may publish beside
// its value: confidence limits around it, both or neither; a count within
// a positive denominator, both or neither.
func TestFiguresBesideTheValue(t *testing.T) {
	t.Parallel()
	set := fstest.MapFS{
		"indicators.yaml": {Data: []byte(`
- {id: 'indicator:x', name: X, unit: PERCENT, polarity: HIGHER_IS_BETTER, sources: [{document: a.txt}]}
`)},
		"areas.yaml": {Data: []byte(`
- {id: 'area:borough', name: Borough, kind: LOCAL_AUTHORITY, sources: [{document: a.txt}]}
`)},
		"observations.yaml": {Data: []byte(`
- {id: 'observation:stockton-on-tees/x/1', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2017', value: 20, lowerCI95: 18, upperCI95: 22, count: 20, denominator: 100, sources: [{document: a.txt}]}
- {id: 'observation:stockton-on-tees/x/2', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2018', value: 20, lowerCI95: 18, sources: [{document: a.txt}]}
- {id: 'observation:stockton-on-tees/x/3', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2019', value: 20, lowerCI95: 21, upperCI95: 25, sources: [{document: a.txt}]}
- {id: 'observation:stockton-on-tees/x/4', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2020', value: 20, denominator: 100, sources: [{document: a.txt}]}
- {id: 'observation:stockton-on-tees/x/5', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2021', value: 20, count: 5, denominator: 0, sources: [{document: a.txt}]}
- {id: 'observation:stockton-on-tees/x/6', indicatorId: 'indicator:x', areaId: 'area:borough', period: '2022', value: 20, count: 120, denominator: 100, sources: [{document: a.txt}]}
`)},
	}
	_, err := importer.ImportFS(context.Background(), storetest.New(t, nil), set, importer.Options{Dataset: "test"})
	var problems importer.Problems
	if !errors.As(err, &problems) {
		t.Fatalf("err = %v, want Problems", err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"observations.yaml:3: observation:stockton-on-tees/x/2: lowerCI95: must be given with upperCI95, or neither given",
		"observations.yaml:4: observation:stockton-on-tees/x/3: lowerCI95: the interval 21 to 25 (with upperCI95) must hold the value 20",
		"observations.yaml:5: observation:stockton-on-tees/x/4: count: must be given with denominator, or neither given",
		"observations.yaml:6: observation:stockton-on-tees/x/5: denominator: must be positive, got 0",
		"observations.yaml:7: observation:stockton-on-tees/x/6: count: must be between 0 and the denominator 100, got 120",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
