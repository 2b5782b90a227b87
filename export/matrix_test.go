package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/httpapi/visibilitytest"
	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestVisibilityMatrix runs the graph's visibility matrix (see package
// visibilitytest) on the downloads: it downloads every file in both formats as every scope,
// before and after records move level, and checks that each caller sees no
// marker above their level and every marker of it.
func TestVisibilityMatrix(t *testing.T) {
	t.Parallel()
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

// TestVisibilityMatrixByCouncil: every download asked for one council
// (council=), as every scope, holds exactly that council's records the
// caller may see, in both formats, with no marker above the caller's
// level; a council the caller may not see downloads as one that does not
// exist. A file of shared records refuses the parameter, saying so.
func TestVisibilityMatrixByCouncil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	protected := os.DirFS(visibilitytest.Protected())
	if _, err := importer.ImportFS(ctx, s, protected, importer.Options{Dataset: "protected"}); err != nil {
		t.Fatal(err)
	}
	set, problems := importer.Load(protected)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	h := service(s)
	callers := map[string]string{"public": ""}
	levels := map[string]store.Level{"public": store.Public, "partner": store.Partner, "officer": store.Officer}
	for _, scope := range []string{auth.ScopePartner, auth.ScopeOfficer} {
		key, _, err := auth.CreateKey(ctx, s, scope+" client", "", []string{scope}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		callers[scope] = key
	}
	councils := []string{"council:testshire", "council:board-zzpartner17", "council:inquiry-zzofficer31", "council:no-such-council"}
	checked := 0
	for scope, key := range callers {
		allowed := visibilitytest.Allowed("before", scope)
		visible := map[string]bool{}
		for _, items := range set.Items {
			for _, it := range items {
				id := it.Doc.Base().ID
				found, err := s.FindByIDs(store.WithLevel(ctx, levels[scope]), store.KindOfID(id), []string{id})
				if err != nil {
					t.Fatal(err)
				}
				visible[id] = len(found) == 1
			}
		}
		for _, council := range councils {
			for _, c := range append(export.Collections(), export.AnalysisFile) {
				k := store.KindNamed(c)
				if c == export.AnalysisFile {
					k = store.KindNamed("observations")
				}
				var want []string
				for _, it := range set.Items[k.Collection] {
					if id := it.Doc.Base().ID; visible[id] && store.CouncilOf(id) == council {
						want = append(want, id)
					}
				}
				for _, ext := range []string{".ndjson", ".csv"} {
					path := "/export/" + c + ext + "?" + url.Values{"council": {council}}.Encode()
					rec := get(t, h, key, path)
					if k.Shared {
						if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "council") {
							t.Errorf("%s %s: %d %.300s, want a refusal naming the council parameter", scope, path, rec.Code, rec.Body)
						}
						continue
					}
					if rec.Code != http.StatusOK {
						t.Fatalf("%s %s: %d %s", scope, path, rec.Code, rec.Body)
					}
					for _, m := range visibilitytest.Marker.FindAllStringSubmatch(rec.Body.String(), -1) {
						if !slices.Contains(allowed, m[1]) && !strings.Contains(council, m[0]) {
							t.Errorf("%s sees %s in %s", scope, m[0], path)
						}
					}
					var got []string
					if ext == ".ndjson" {
						for _, line := range strings.Split(strings.TrimSpace(rec.Body.String()), "\n") {
							if line == "" {
								continue
							}
							var r struct {
								ID            string
								ObservationID string `json:"observation_id"`
							}
							if err := json.Unmarshal([]byte(line), &r); err != nil {
								t.Fatalf("%s %s: %v: %s", scope, path, err, line)
							}
							if c == export.AnalysisFile {
								r.ID = r.ObservationID
							}
							got = append(got, r.ID)
						}
					} else {
						_, rows := readCSV(t, rec.Body.Bytes())
						for _, r := range rows {
							id := r["id"]
							if c == export.AnalysisFile {
								id = r["observation_id"]
							}
							got = append(got, id)
						}
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("%s %s:\n got %q\nwant %q", scope, path, got, want)
					}
					checked += len(got)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no download by council held a record")
	}
}
