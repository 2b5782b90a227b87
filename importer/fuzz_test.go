package importer_test

import (
	"context"
	"testing"

	"councilgraph/importer"
	"councilgraph/store"
)

// FuzzDecodeAndValidate feeds arbitrary bytes to the decoder and validator:
// whatever the input, they report problems and never panic.
func FuzzDecodeAndValidate(f *testing.F) {
	for _, seed := range []string{
		"- id: person:stockton-on-tees/a\n  name: A\n  sources: [{document: a.txt, locator: lines 1-2}]\n",
		"- id: meeting:stockton-on-tees/b/2023-01-01\n  bodyId: body:stockton-on-tees/b\n  date: 2023-13-01\n  startsAt: x\n",
		"- {id: 'priority:stockton-on-tees/p/1', planId: plan:stockton-on-tees/p, title: T, updates: [{text: u, rag: PURPLE, sources: []}]}\n",
		"[1, 2, {a: b}]",
		"- id: x\n  unknown: [1, {deeper: 2}]\n",
		"\t- ][",
		"",
	} {
		f.Add("people", []byte(seed))
		f.Add("priorities", []byte(seed))
	}
	newDocs := map[string]func() store.Doc{
		"people":       func() store.Doc { return &store.Person{} },
		"priorities":   func() store.Doc { return &store.Priority{} },
		"meetings":     func() store.Doc { return &store.Meeting{} },
		"observations": func() store.Doc { return &store.Observation{} },
	}
	f.Fuzz(func(t *testing.T, coll string, data []byte) {
		newDoc, ok := newDocs[coll]
		if !ok {
			coll, newDoc = "people", newDocs["people"]
		}
		items, _ := importer.Decode(coll+".yaml", data, newDoc)
		set := &importer.Set{Items: map[string][]importer.Item{coll: items}}
		if _, err := importer.Validate(context.Background(), set, nil); err != nil {
			t.Fatalf("validate: %v", err)
		}
	})
}
