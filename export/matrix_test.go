package export_test

import (
	"bytes"
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store/storetest"
)

// TestVisibilityMatrix runs the graph's visibility matrix (see package
// visibilitytest) on the downloads: it downloads every file in both formats as every scope,
// before and after records move level, and checks that each caller sees no
// marker above their level and every marker of it.
func TestVisibilityMatrix(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t, nil)
	if _, err := importer.ImportFS(ctx, s, os.DirFS(visibilitytest.Protected()), importer.Options{Dataset: "protected"}); err != nil {
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
			allowed := visibilitytest.Allowed(phase, scope)
			var all bytes.Buffer
			for _, f := range files {
				for _, ext := range []string{".csv", ".ndjson"} {
					rec := get(t, h, key, "/export/"+f+ext)
					if rec.Code != 200 {
						t.Fatalf("%s %s%s: %d %s", scope, f, ext, rec.Code, rec.Body.String())
					}
					for _, m := range visibilitytest.Marker.FindAllStringSubmatch(rec.Body.String(), -1) {
						if !slices.Contains(allowed, m[1]) {
							t.Errorf("%s: %s sees %s in %s%s", phase, scope, m[0], f, ext)
						}
					}
					all.Write(rec.Body.Bytes())
				}
			}
			for m := range markers {
				if slices.Contains(allowed, visibilitytest.Marker.FindStringSubmatch(m)[1]) && !bytes.Contains(all.Bytes(), []byte(m)) {
					t.Errorf("%s: %s never sees %s, which it may", phase, scope, m)
				}
			}
		}
	}
	markers := visibilitytest.Markers(t)
	check("before", markers)
	if _, err := importer.ImportFS(ctx, s, os.DirFS(visibilitytest.Moved()), importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	check("after", markers)
}
