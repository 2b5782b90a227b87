package store_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// rawAccess lists the files outside package store allowed to reach the
// database with the driver's mongo package, around the store, and why.
var rawAccess = map[string]string{
	"bench/baseline.go":     "the driver baselines measure the graph against plain driver code",
	"bench/ops.go":          "the operations name their baselines' signature",
	"bench/env.go":          "opens the baselines' own client",
	"bench/filters_test.go": "measures the query shapes themselves, without the store",
}

// TestStoreIsTheOnlyDoor fails when a package outside store imports the
// driver's mongo package (and so could read a collection around the
// store's visibility rules), unless rawAccess names the file and says why.
func TestStoreIsTheOnlyDoor(t *testing.T) {
	t.Parallel()
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "store" || rel != "." && strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "var" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "go.mongodb.org/mongo-driver/v2/mongo" {
				if _, ok := rawAccess[filepath.ToSlash(rel)]; !ok {
					t.Errorf("%s imports the driver's mongo package: go through the store's methods, which keep to the caller's visibility", rel)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file := range rawAccess {
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			t.Errorf("rawAccess names %s, which is gone: %v", file, err)
		}
	}
}
