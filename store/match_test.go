package store

import (
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestMatchesAsMongoDB: the matcher's answers on the cases where MongoDB's
// rules are not the obvious ones (lists, missing fields, null, types that
// do not compare), and errUnsupported, never a guess, for what it does not
// evaluate. TestSnapshotAnswersAsTheServer checks the store's own reads
// against a real server.
func TestMatchesAsMongoDB(t *testing.T) {
	when := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	doc, err := bson.Marshal(bson.D{
		{Key: "_id", Value: "report:a"}, {Key: "title", Value: "Children's services"},
		{Key: "ids", Value: bson.A{"indicator:x", "indicator:y"}}, {Key: "n", Value: int32(3)},
		{Key: "none", Value: nil}, {Key: "date", Value: "2024-05-01"}, {Key: "at", Value: when},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		filter bson.D
		want   bool
	}{
		{"equality", bson.D{{Key: "_id", Value: "report:a"}}, true},
		{"a list holds the value", bson.D{{Key: "ids", Value: "indicator:y"}}, true},
		{"a list does not", bson.D{{Key: "ids", Value: "indicator:z"}}, false},
		{"$in on a list", bson.D{{Key: "ids", Value: bson.D{{Key: "$in", Value: bson.A{"indicator:z", "indicator:x"}}}}}, true},
		{"$nin on a list", bson.D{{Key: "ids", Value: bson.D{{Key: "$nin", Value: bson.A{"indicator:x"}}}}}, false},
		{"missing equals null", bson.D{{Key: "missing", Value: nil}}, true},
		{"null equals null", bson.D{{Key: "none", Value: nil}}, true},
		{"missing is not a string", bson.D{{Key: "missing", Value: "x"}}, false},
		{"$ne on missing", bson.D{{Key: "missing", Value: bson.D{{Key: "$ne", Value: "x"}}}}, true},
		{"$nin on missing", bson.D{{Key: "missing", Value: bson.D{{Key: "$nin", Value: bson.A{"x"}}}}}, true},
		{"$exists", bson.D{{Key: "none", Value: bson.D{{Key: "$exists", Value: true}}}}, true},
		{"$exists false", bson.D{{Key: "missing", Value: bson.D{{Key: "$exists", Value: false}}}}, true},
		{"a string range", bson.D{{Key: "date", Value: bson.D{{Key: "$gte", Value: "2024-01-01"}, {Key: "$lte", Value: "2024-05-01"}}}}, true},
		{"a range past it", bson.D{{Key: "date", Value: bson.D{{Key: "$gt", Value: "2024-05-01"}}}}, false},
		{"a string against a number range", bson.D{{Key: "date", Value: bson.D{{Key: "$gt", Value: 1}}}}, false},
		{"a number against a string range", bson.D{{Key: "n", Value: bson.D{{Key: "$lt", Value: "z"}}}}, false},
		{"numbers of two types", bson.D{{Key: "n", Value: 3.0}}, true},
		{"a date range", bson.D{{Key: "at", Value: bson.D{{Key: "$gte", Value: when}}}}, true},
		{"a date after", bson.D{{Key: "at", Value: bson.D{{Key: "$gt", Value: when}}}}, false},
		{"a range on missing", bson.D{{Key: "missing", Value: bson.D{{Key: "$lt", Value: "z"}}}}, false},
		{"a regex", bson.D{{Key: "title", Value: bson.Regex{Pattern: "services"}}}, true},
		{"a regex with options", bson.D{{Key: "title", Value: bson.Regex{Pattern: "^children", Options: "i"}}}, true},
		{"a regex that fails", bson.D{{Key: "title", Value: bson.Regex{Pattern: "^services"}}}, false},
		{"$or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: "x"}}, bson.D{{Key: "n", Value: 3}}}}}, true},
		{"$or of none", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: "x"}}}}}, false},
		{"$and", bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "_id", Value: "report:a"}}, bson.D{{Key: "n", Value: 4}}}}}, false},
		{"every condition", bson.D{{Key: "_id", Value: "report:a"}, {Key: "n", Value: 4}}, false},
	}
	for _, c := range cases {
		f, _ := bson.Marshal(c.filter)
		got, err := new(matcher).matches(doc, f)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	for name, filter := range map[string]bson.D{
		"a dotted field":      {{Key: "a.b", Value: 1}},
		"an operator unknown": {{Key: "n", Value: bson.D{{Key: "$mod", Value: bson.A{2, 1}}}}},
		"document equality":   {{Key: "n", Value: bson.D{{Key: "a", Value: 1}}}},
		"$where":              {{Key: "$where", Value: "true"}},
		"a list's equality":   {{Key: "ids", Value: bson.A{"indicator:x", "indicator:y"}}},
	} {
		f, _ := bson.Marshal(filter)
		if _, err := new(matcher).matches(doc, f); !errors.Is(err, errUnsupported) {
			t.Errorf("%s: %v, want errUnsupported", name, err)
		}
	}
	for _, p := range []bson.D{{{Key: "title", Value: 0}}, {{Key: "_id", Value: 0}}} {
		if _, _, err := projection(p); !errors.Is(err, errUnsupported) {
			t.Errorf("the exclusion projection %v: %v, want errUnsupported", p, err)
		}
	}
	fields, id, err := projection(bson.D{{Key: "date", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := project(doc, fields, id)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := bson.Marshal(bson.D{{Key: "_id", Value: "report:a"}, {Key: "date", Value: "2024-05-01"}}); string(p) != string(want) {
		t.Errorf("projected %v", p)
	}
}

// TestRegexCompiledOncePerFind: a find's matcher compiles each pattern of
// its filter once, however many documents it scans, and gives every later
// document the same compiled expression (with the options folded in, and
// for each element of a list).
func TestRegexCompiledOncePerFind(t *testing.T) {
	var m matcher
	filter, _ := bson.Marshal(bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "search", Value: bson.Regex{Pattern: "smith", Options: "i"}}},
		bson.D{{Key: "aliases", Value: bson.D{{Key: "$regex", Value: "jones"}}}},
	}}})
	hits := 0
	for i := range 500 {
		doc, _ := bson.Marshal(bson.D{{Key: "search", Value: "ann " + string(rune('a'+i%26))}, {Key: "aliases", Value: bson.A{"x", "y jones"}}})
		ok, err := m.matches(doc, filter)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			hits++
		}
	}
	if hits != 500 {
		t.Errorf("%d of 500 documents matched", hits)
	}
	if len(m.res) != 2 {
		t.Errorf("the find compiled %d expressions, want the filter's 2: %v", len(m.res), m.res)
	}
}
