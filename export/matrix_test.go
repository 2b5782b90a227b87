package export_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// The graph's visibility matrix (httpapi/matrix_test.go) runs on data sets
// in which every string carries a marker of the level that may see it:
// zzpublic01, zzpartner01, zzofficer01, and zzmovep…/zzmovex… for records
// the second set moves to partners' and to officers' level. The downloads
// must show each caller exactly the markers the graph does.
var marker = regexp.MustCompile(`zz(public|partner|officer|movep|movex)[0-9]{2}`)

var seen = map[string]map[string][]string{
	"before": {
		"public":  {"public", "movep", "movex"},
		"partner": {"public", "movep", "movex", "partner"},
		"officer": {"public", "movep", "movex", "partner", "officer"},
	},
	"after": {
		"public":  {"public"},
		"partner": {"public", "movep", "partner"},
		"officer": {"public", "movep", "movex", "partner", "officer"},
	},
}

// TestVisibilityMatrix downloads every file in both formats as every scope,
// before and after records move level, and checks that each caller sees no
// marker above their level and every marker of it.
func TestVisibilityMatrix(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, os.DirFS("../httpapi/testdata/protected"), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	h := service(s)
	callers := map[string]string{"public": ""}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	files := append(export.Collections(), export.AnalysisFile)
	check := func(phase string, markers map[string]bool) {
		for scope, key := range callers {
			allowed := seen[phase][scope]
			var all bytes.Buffer
			for _, f := range files {
				for _, ext := range []string{".csv", ".ndjson"} {
					rec := get(t, h, key, "/export/"+f+ext)
					if rec.Code != 200 {
						t.Fatalf("%s %s%s: %d %s", scope, f, ext, rec.Code, rec.Body.String())
					}
					for _, m := range marker.FindAllStringSubmatch(rec.Body.String(), -1) {
						if !slices.Contains(allowed, m[1]) {
							t.Errorf("%s: %s sees %s in %s%s", phase, scope, m[0], f, ext)
						}
					}
					all.Write(rec.Body.Bytes())
				}
			}
			for m := range markers {
				if slices.Contains(allowed, marker.FindStringSubmatch(m)[1]) && !bytes.Contains(all.Bytes(), []byte(m)) {
					t.Errorf("%s: %s never sees %s, which it may", phase, scope, m)
				}
			}
		}
	}
	markers := markersIn(t, "../httpapi/testdata/protected", "../httpapi/testdata/moved")
	check("before", markers)
	if _, err := importer.ImportFS(ctx, s, os.DirFS("../httpapi/testdata/moved"), importer.Options{Dataset: "moved"}); err != nil {
		t.Fatal(err)
	}
	check("after", markers)
}

// markersIn lists every marker the data set files hold.
func markersIn(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, dir := range dirs {
		err := fs.WalkDir(os.DirFS(dir), ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(dir + "/" + path)
			for _, m := range marker.FindAllString(string(b), -1) {
				out[m] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
