// Package visibilitytest holds what the visibility matrices of the graph
// (httpapi) and of the downloads (export) share: the two marked data sets
// they import, the markers, and which markers each scope may see.
//
// In httpapi/testdata/protected every string of every record carries a
// marker of the level that may see it (zzpublic01, zzpartner01,
// zzofficer01); httpapi/testdata/moved is a second set that moves records
// across levels: zzmovex… markers, on what belongs to an agenda item (its
// report and declaration), are public until it makes that item exempt, then
// officers' (the item itself stays public as printed); zzmovep… are public
// until it makes their person partners'.
package visibilitytest

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// Marker matches a marker; its first group is the marker's kind.
var Marker = regexp.MustCompile(`zz(public|partner|officer|movep|movex)[0-9]{2}`)

// Phases are the matrix's two passes: before and after the moved set.
var Phases = []string{"before", "after"}

// Allowed lists the marker kinds a scope (public, partner or officer) may
// see in a phase.
func Allowed(phase, scope string) []string {
	return map[string]map[string][]string{
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
	}[phase][scope]
}

// dir is this package's folder.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Protected is the folder of the marked data set.
func Protected() string { return filepath.Join(dir(), "..", "testdata", "protected") }

// Moved is the folder of the set that moves records across levels.
func Moved() string { return filepath.Join(dir(), "..", "testdata", "moved") }

// Markers lists every marker the two sets' files hold outside comments.
func Markers(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, d := range []string{Protected(), Moved()} {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(d, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "#") {
					continue
				}
				for _, m := range Marker.FindAllString(line, -1) {
					out[m] = true
				}
			}
		}
	}
	return out
}
