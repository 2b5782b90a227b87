package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"gopkg.in/yaml.v3"

	"councilgraph/importer"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// manifest is a set.yaml naming the set and the councils it writes.
func manifest(name string, councils ...string) string {
	return "name: " + name + "\ncouncils: [" + strings.Join(councils, ", ") + "]\n"
}

// borough is base() as a set with a manifest: the set "borough", writing
// council:stockton-on-tees, with a membership that refers to Ann Able.
func borough() fstest.MapFS {
	return with(with(base(), "set.yaml", manifest("borough", "council:stockton-on-tees")), "memberships.yaml", `
- id: membership:stockton-on-tees/cabinet/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  personId: person:stockton-on-tees/ann-able
  sources: [{document: a.txt, locator: lines 3-3}]
`)
}

// without returns fsys without the named files.
func without(fsys fstest.MapFS, names ...string) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range fsys {
		if !slices.Contains(names, k) {
			out[k] = v
		}
	}
	return out
}

// dumpAll reads every document of every collection of the database, the
// moved IDs, feeds and change log included, in _id order: what an import
// that writes nothing must leave exactly as it was.
func dumpAll(t *testing.T, s *store.Store) map[string][]bson.M {
	t.Helper()
	ctx := context.Background()
	db := storetest.Raw(t, s)
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]bson.M{}
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.M
		if err := cur.All(ctx, &docs); err != nil {
			t.Fatal(err)
		}
		out[name] = docs
	}
	return out
}

// refused imports fsys, which must be refused, and returns its problems as
// printed; it fails the test if the import wrote anything at all.
func refused(t *testing.T, s *store.Store, fsys fstest.MapFS, o importer.Options) []string {
	t.Helper()
	before := dumpAll(t, s)
	_, err := importer.ImportFS(context.Background(), s, fsys, o)
	var problems importer.Problems
	if !errors.As(err, &problems) {
		t.Fatalf("err = %v, want Problems", err)
	}
	if diff := cmp.Diff(before, dumpAll(t, s)); diff != "" {
		t.Errorf("a refused import changed the database (-before +after):\n%s", diff)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	return got
}

// imported imports fsys, which must succeed.
func imported(t *testing.T, s *store.Store, fsys fstest.MapFS, o importer.Options) importer.Summary {
	t.Helper()
	sum, err := importer.ImportFS(context.Background(), s, fsys, o)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return sum
}

// stored reads records of kind k by ID, as the database holds them.
func stored(t *testing.T, s *store.Store, k *store.Kind, ids ...string) map[string]store.Doc {
	t.Helper()
	docs, err := s.FindOwn(context.Background(), k, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Doc{}
	for _, d := range docs {
		out[d.Base().ID] = d
	}
	return out
}

// takeover is a second council's set, "other", that also claims
// Stockton's namespace and holds what Stockton's set owns: its Cabinet,
// its council record and a councillor of the same name (each changed, or
// not: a copy of another set's record is refused all the same), Cleveland
// Police under another name, and Stockton's moved ID for its Cabinet. Its
// council refers to the Hartlepool organisation Stockton's set states.
func takeover() fstest.MapFS {
	return fstest.MapFS{
		"set.yaml": {Data: []byte(manifest("other", "council:stockton-on-tees", "council:hartlepool"))},
		"councils.yaml": {Data: []byte(`
- id: council:hartlepool
  name: Hartlepool Borough Council
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 1-1}]
- id: council:stockton-on-tees
  name: Stockton-on-Tees Borough Council
  organisationId: organisation:stockton-on-tees-borough-council
  sources: [{document: h.txt, locator: lines 2-2}]
`)},
		"organisations.yaml": {Data: []byte(`
- id: organisation:cleveland-police
  name: Cleveland Police Force
  kind: POLICE
  sources: [{document: h.txt, locator: lines 3-3}]
`)},
		"people.yaml": {Data: []byte(`
- id: person:stockton-on-tees/ann-mccoy
  name: Ann McCoy
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 4-4}]
- id: person:hartlepool/carol-clark
  name: Carol Clark
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 5-5}]
`)},
		"bodies.yaml": {Data: []byte(`
- id: body:stockton-on-tees/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 6-6}]
- id: body:hartlepool/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 6-6}]
`)},
		"moved.yaml": {Data: []byte(`
- {from: 'body:cabinet', to: 'body:hartlepool/cabinet'}
`)},
	}
}

// TestTakeoverIsRefused imports, beside Stockton's set, a set that would
// change what Stockton's owns: every such record is refused, as
// file:line: id: owned by stockton, and nothing at all is written. Without
// them the same set imports, and leaves every Stockton record as it was.
func TestTakeoverIsRefused(t *testing.T) {
	t.Parallel()
	s := stocktonCopy(t)
	got := refused(t, s, takeover(), importer.Options{RequireManifest: true})
	want := []string{
		"bodies.yaml:2: body:stockton-on-tees/cabinet: owned by stockton",
		"councils.yaml:6: council:stockton-on-tees: owned by stockton",
		"moved.yaml:2: body:cabinet: owned by stockton, which moved this ID to body:stockton-on-tees/cabinet",
		"organisations.yaml:2: organisation:cleveland-police: owned by stockton, which states it with other facts: a set may state another's shared record only as its owner does (change it there, or leave it out here)",
		"people.yaml:2: person:stockton-on-tees/ann-mccoy: owned by stockton",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}

	// An exact copy of one of Stockton's own records is not Stockton's to
	// give away either.
	cabinet := stored(t, s, store.KindFor[store.Body](), "body:stockton-on-tees/cabinet")["body:stockton-on-tees/cabinet"].(*store.Body)
	copied, err := yamlOf(cabinet)
	if err != nil {
		t.Fatal(err)
	}
	got = refused(t, s, with(without(takeover(), "moved.yaml", "people.yaml", "councils.yaml", "organisations.yaml"), "bodies.yaml", copied), importer.Options{RequireManifest: true})
	if want := []string{"bodies.yaml:1: body:stockton-on-tees/cabinet: owned by stockton"}; !cmp.Equal(want, got) {
		t.Errorf("a copy of Stockton's Cabinet: %v, want %v", got, want)
	}

	// The second council's own records import beside Stockton's, which
	// stay byte for byte as they were.
	before := storetest.Dump(t, s)
	own := with(with(takeover(), "councils.yaml", `
- id: council:hartlepool
  name: Hartlepool Borough Council
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 1-1}]
`), "people.yaml", `
- id: person:hartlepool/carol-clark
  name: Carol Clark
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 5-5}]
`)
	own = with(without(own, "moved.yaml", "organisations.yaml"), "bodies.yaml", `
- id: body:hartlepool/cabinet
  name: Cabinet
  kind: CABINET
  organisationId: organisation:hartlepool-borough-council
  sources: [{document: h.txt, locator: lines 6-6}]
`)
	if sum := imported(t, s, own, importer.Options{RequireManifest: true}); sum.Changed() != 3 {
		t.Errorf("the second council's set changed %d records, want its 3:\n%+v", sum.Changed(), sum)
	}
	after := storetest.Dump(t, s)
	for coll, docs := range before {
		for _, d := range docs {
			i := slices.IndexFunc(after[coll], func(a bson.M) bool { return a["_id"] == d["_id"] })
			if i < 0 {
				t.Errorf("%s: %v is gone", coll, d["_id"])
				continue
			}
			if diff := cmp.Diff(d, after[coll][i]); diff != "" {
				t.Errorf("%s: %v changed:\n%s", coll, d["_id"], diff)
			}
		}
	}
}

// yamlOf writes one record as a one-record collection file.
func yamlOf(d store.Doc) (string, error) {
	b, err := yaml.Marshal([]store.Doc{d})
	return string(b), err
}

// TestRecordsOutsideTheSetsCouncilsAreRefused holds a set to the councils
// its set.yaml names: a record in any other council's namespace (a
// council's own record included) is refused, naming that council, and
// nothing is written.
func TestRecordsOutsideTheSetsCouncilsAreRefused(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	fsys := with(with(borough(), "set.yaml", manifest("borough", "council:hartlepool")), "councils.yaml", `
- id: council:stockton-on-tees
  name: Stockton-on-Tees Borough Council
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 1-1}]
`)
	got := refused(t, s, fsys, importer.Options{})
	const why = ": id: council:stockton-on-tees is not one of the councils this set writes (set.yaml councils: council:hartlepool)"
	want := []string{
		"bodies.yaml:2: body:stockton-on-tees/cabinet" + why,
		"councils.yaml:2: council:stockton-on-tees" + why,
		"meetings.yaml:2: meeting:stockton-on-tees/cabinet/2023-03-16" + why,
		"memberships.yaml:2: membership:stockton-on-tees/cabinet/ann-able" + why,
		"people.yaml:2: person:stockton-on-tees/ann-able" + why,
		"people.yaml:8: person:stockton-on-tees/bob-brown" + why,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}

	// A set that names no council writes shared registries only.
	got = refused(t, s, with(borough(), "set.yaml", "name: registry\ncouncils: []\n"), importer.Options{})
	if len(got) != 5 || !strings.HasSuffix(got[0], "is not one of the councils this set writes (set.yaml councils: )") {
		t.Errorf("a set with no councils writing council records: %q", got)
	}
}

// TestACopiedSetIsTheSameSet imports a set from one folder, then a copy of
// it from another: the manifest, not the folder, names the set, so the
// copy changes nothing, takes nothing over and, pruned, deletes nothing.
func TestACopiedSetIsTheSameSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	fsys := with(borough(), "moved.yaml", `
- {from: 'person:bob-brown', to: 'person:stockton-on-tees/bob-brown'}
- {from: 'body:cabinet', to: 'body:stockton-on-tees/cabinet'}
`)
	dirs := t.TempDir()
	for _, dir := range []string{"borough", "borough-copy"} {
		if err := os.CopyFS(filepath.Join(dirs, dir), fsys); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := importer.ImportFS(ctx, s, os.DirFS(filepath.Join(dirs, "borough")), importer.Options{RequireManifest: true}); err != nil {
		t.Fatal(err)
	}
	before := dumpAll(t, s)
	// Named as a folder's set would be if it had no manifest: by the
	// folder.
	sum, err := importer.ImportFS(ctx, s, os.DirFS(filepath.Join(dirs, "borough-copy")), importer.Options{Dataset: "borough-copy", RequireManifest: true, Prune: true})
	if err != nil {
		t.Fatalf("the copy: %v", err)
	}
	set, problems := importer.Load(fsys)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, c := range sum {
		if want := (importer.Counts{Collection: c.Collection, Unchanged: len(set.Items[c.Collection])}); c != want {
			t.Errorf("%+v, want %+v", c, want)
		}
	}
	after := dumpAll(t, s)
	// The council's feed records that the set was read again; nothing
	// else changes, the moved IDs and the change log included.
	if len(after["feeds"]) != 1 || after["feeds"][0]["name"] != "borough" || len(before["feeds"]) != 1 {
		t.Errorf("feeds: %v, want the borough's one", after["feeds"])
	} else {
		delete(before["feeds"][0], "lastRead")
		delete(after["feeds"][0], "lastRead")
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the copy changed the database (-before +after):\n%s", diff)
	}
}

// partners is a second set, "partners", whose membership sits on the
// borough's Cabinet: a record of another set that refers into the
// borough's.
func partners() fstest.MapFS {
	return fstest.MapFS{
		"set.yaml": {Data: []byte(manifest("partners", "council:partners"))},
		"memberships.yaml": {Data: []byte(`
- id: membership:partners/cabinet-seat
  bodyId: body:stockton-on-tees/cabinet
  role: REPRESENTATIVE
  representingId: organisation:council
  post: Partners' representative
  sources: [{document: p.txt, locator: lines 1-1}]
`)},
	}
}

// TestPruneRefusesToLeaveReferencesDangling drops records that others
// refer to: from the set's own files the refusal names the referrer's file
// and line, from another set's stored records that set; either way nothing
// is deleted. A record nothing refers to is deleted, and so is one whose
// referrers go with it.
func TestPruneRefusesToLeaveReferencesDangling(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	imported(t, s, borough(), importer.Options{})
	imported(t, s, partners(), importer.Options{})
	prune := importer.Options{Prune: true}

	// Ann Able leaves people.yaml; the borough's own membership still
	// names her.
	got := refused(t, s, with(borough(), "people.yaml", `
- id: person:stockton-on-tees/bob-brown
  name: Bob Brown
  sources: [{document: a.txt, locator: lines 4-4}]
`), prune)
	want := []string{
		"memberships.yaml:5: membership:stockton-on-tees/cabinet/ann-able: personId: refers to person:stockton-on-tees/ann-able, which the prune would delete (it is no longer in the files); nothing was deleted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dropping a person the set's own membership names (-want +got):\n%s", diff)
	}

	// The Cabinet leaves bodies.yaml with its meeting and membership; the
	// partners' stored seat still names it.
	got = refused(t, s, without(borough(), "bodies.yaml", "meetings.yaml", "memberships.yaml"), prune)
	want = []string{
		"(partners): membership:partners/cabinet-seat: bodyId: refers to body:stockton-on-tees/cabinet, which the prune would delete (it is no longer in the files); nothing was deleted",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dropping a body another set's record names (-want +got):\n%s", diff)
	}

	// Bob Brown, whom nothing names, goes; so do Ann Able and the
	// membership that names her, together.
	smaller := with(without(borough(), "memberships.yaml"), "people.yaml", "[]\n")
	sum := imported(t, s, smaller, prune)
	if got := find(sum, "people"); got.Deleted != 2 {
		t.Errorf("people: %+v, want 2 deleted", got)
	}
	if got := find(sum, "memberships"); got.Deleted != 1 {
		t.Errorf("memberships: %+v, want 1 deleted", got)
	}
	if n := storetest.Count(t, s, "people"); n != 0 {
		t.Errorf("%d people left, want none", n)
	}
	if n := storetest.Count(t, s, "memberships"); n != 1 {
		t.Errorf("%d memberships left, want the partners' one", n)
	}
}

// shared is a set stating the shared records organisation:council,
// area:borough and indicator:x, each with the facts given and its sources
// in doc.
func shared(fsys fstest.MapFS, orgName, areaName, indicatorUnit, doc string) fstest.MapFS {
	fsys = with(fsys, "organisations.yaml", `
- id: organisation:council
  name: `+orgName+`
  kind: LOCAL_AUTHORITY
  sources: [{document: `+doc+`, locator: lines 1-2}]
`)
	fsys = with(fsys, "areas.yaml", `
- id: area:borough
  name: `+areaName+`
  kind: LOCAL_AUTHORITY
  sources: [{document: `+doc+`, locator: lines 3-3}]
`)
	return with(fsys, "indicators.yaml", `
- id: indicator:x
  name: X
  unit: `+indicatorUnit+`
  polarity: NO_JUDGEMENT
  sources: [{document: `+doc+`, locator: lines 4-4}]
`)
}

// TestSharedRecordsKeepEverySetsSources states the borough's organisation,
// area and indicator again from a second set: with the same facts, the
// records stay the borough's and serve both sets' sources, through the
// owner's later imports; with other facts the statement is refused,
// naming the owner.
func TestSharedRecordsKeepEverySetsSources(t *testing.T) {
	t.Parallel()
	s := storetest.New(t, nil)
	owner := shared(borough(), "Borough Council", "Borough", "COUNT", "a.txt")
	imported(t, s, owner, importer.Options{})
	second := shared(fstest.MapFS{"set.yaml": {Data: []byte(manifest("partners", "council:partners"))}}, "Borough Council", "Borough", "COUNT", "p.txt")
	sum := imported(t, s, second, importer.Options{})
	for _, coll := range []string{"organisations", "areas", "indicators"} {
		if got, want := find(sum, coll), (importer.Counts{Collection: coll, Updated: 1}); got != want {
			t.Errorf("stated again: %+v, want %+v", got, want)
		}
	}

	check := func(when string, ownSources int) {
		t.Helper()
		for _, r := range []struct {
			kind *store.Kind
			id   string
		}{
			{store.KindFor[store.Organisation](), "organisation:council"},
			{store.KindFor[store.Area](), "area:borough"},
			{store.KindFor[store.Indicator](), "indicator:x"},
		} {
			d := stored(t, s, r.kind, r.id)[r.id]
			if d == nil {
				t.Fatalf("%s: %s is gone", when, r.id)
			}
			base := d.Base()
			if base.Dataset != "borough" {
				t.Errorf("%s: %s belongs to %q, want the borough's", when, r.id, base.Dataset)
			}
			if len(base.StatedBy) != 1 || base.StatedBy[0].Dataset != "partners" {
				t.Errorf("%s: %s stated by %+v, want the partners", when, r.id, base.StatedBy)
			}
			var docs []string
			for _, src := range base.AllSources() {
				docs = append(docs, src.Document)
			}
			want := append(slices.Repeat([]string{"a.txt"}, ownSources), "p.txt")
			if !slices.Equal(docs, want) {
				t.Errorf("%s: %s serves sources from %v, want %v", when, r.id, docs, want)
			}
		}
	}
	check("stated by a second set", 1)

	// Either set's import again changes nothing.
	for name, fsys := range map[string]fstest.MapFS{"the owner": owner, "the second set": second} {
		if sum := imported(t, s, fsys, importer.Options{}); sum.Changed() != 0 {
			t.Errorf("%s again changed %d records:\n%+v", name, sum.Changed(), sum)
		}
	}
	check("imported again", 1)

	// The owner adds a source: its record is updated and keeps the
	// second set's.
	more := with(owner, "organisations.yaml", `
- id: organisation:council
  name: Borough Council
  kind: LOCAL_AUTHORITY
  sources: [{document: a.txt, locator: lines 1-2}, {document: a.txt, locator: lines 5-5}]
`)
	sum = imported(t, s, more, importer.Options{})
	if got := find(sum, "organisations"); got.Updated != 1 {
		t.Errorf("the owner's new source: %+v, want 1 updated", got)
	}
	d := stored(t, s, store.KindFor[store.Organisation](), "organisation:council")["organisation:council"]
	if got := len(d.Base().AllSources()); got != 3 || len(d.Base().StatedBy) != 1 {
		t.Errorf("after the owner's change: %d sources served, stated by %+v; want 3, the partners'", got, d.Base().StatedBy)
	}

	// Other facts are the owner's to state, not the second set's.
	differs := shared(fstest.MapFS{"set.yaml": {Data: []byte(manifest("partners", "council:partners"))}}, "Borough Council of Stockton", "The Borough", "PERCENT", "p.txt")
	got := refused(t, s, differs, importer.Options{})
	const why = ": owned by borough, which states it with other facts: a set may state another's shared record only as its owner does (change it there, or leave it out here)"
	want := []string{
		"areas.yaml:2: area:borough" + why,
		"indicators.yaml:2: indicator:x" + why,
		"organisations.yaml:2: organisation:council" + why,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestMovedIDsResolveToTheirRecords re-keys a person with moved.yaml: the
// old record is deleted (a DELETE in the change feed), the moved table
// resolves the old ID to the new one, and moves that are not the set's to
// make are refused.
func TestMovedIDsResolveToTheirRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	imported(t, s, borough(), importer.Options{})
	imported(t, s, with(partners(), "moved.yaml", `
- {from: 'membership:partners/old-seat', to: 'membership:partners/cabinet-seat'}
`), importer.Options{})
	_, cursor, _, err := s.Changes(ctx, 0, nil, nil, 10000)
	if err != nil {
		t.Fatal(err)
	}

	// Bob Brown is Robert Brown now, under a new ID.
	rekeyed := with(with(borough(), "people.yaml", `
- id: person:stockton-on-tees/ann-able
  name: Ann Able
  honorific: Cllr
  aliases: [Cllr Anne Able]
  organisationId: organisation:council
  sources: [{document: a.txt, locator: lines 3-3}]
- id: person:stockton-on-tees/robert-brown
  name: Robert Brown
  aliases: [Bob Brown]
  sources: [{document: a.txt, locator: lines 4-4}]
`), "moved.yaml", `
- {from: 'person:stockton-on-tees/bob-brown', to: 'person:stockton-on-tees/robert-brown'}
`)
	sum := imported(t, s, rekeyed, importer.Options{})
	if got, want := find(sum, "people"), (importer.Counts{Collection: "people", Inserted: 1, Unchanged: 1, Deleted: 1}); got != want {
		t.Errorf("people: %+v, want %+v", got, want)
	}
	if left := stored(t, s, store.KindFor[store.Person](), "person:stockton-on-tees/bob-brown"); len(left) != 0 {
		t.Error("the moved ID's record is still stored")
	}
	changes, _, _, err := s.Changes(ctx, cursor, nil, nil, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var feed []string
	for _, c := range changes {
		feed = append(feed, c.Kind+" "+c.ID)
	}
	if want := []string{"DELETE person:stockton-on-tees/bob-brown", "UPSERT person:stockton-on-tees/robert-brown"}; !sameItems(feed, want) {
		t.Errorf("change feed after the move: %v, want %v", feed, want)
	}
	moved, err := s.Moved(ctx, []string{"person:stockton-on-tees/bob-brown", "person:stockton-on-tees/ann-able"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"person:stockton-on-tees/bob-brown": "person:stockton-on-tees/robert-brown"}; !cmp.Equal(moved, want) {
		t.Errorf("moved table: %v, want %v", moved, want)
	}
	if sum := imported(t, s, rekeyed, importer.Options{}); sum.Changed() != 0 {
		t.Errorf("the re-keyed set again changed %d records", sum.Changed())
	}

	for _, tt := range []struct {
		name, moves string
		want        []string
	}{
		{"a move to a record not in the set", `
- {from: 'person:stockton-on-tees/carl', to: 'person:stockton-on-tees/nobody'}
`, []string{"moved.yaml:2: person:stockton-on-tees/carl: moves to person:stockton-on-tees/nobody, which is not a record of this set"}},
		{"a move of an ID another set moved", `
- {from: 'membership:partners/old-seat', to: 'body:stockton-on-tees/cabinet'}
`, []string{"moved.yaml:2: membership:partners/old-seat: owned by partners, which moved this ID to membership:partners/cabinet-seat"}},
		// The record's ID is the partners' own, live: not the borough's
		// to move (the problem may go on to say why).
		{"a move of another set's record", `
- {from: 'membership:partners/cabinet-seat', to: 'body:stockton-on-tees/cabinet'}
`, []string{"moved.yaml:2: membership:partners/cabinet-seat: owned by partners…"}},
		{"a move of one of the set's own records", `
- {from: 'person:stockton-on-tees/ann-able', to: 'person:stockton-on-tees/robert-brown'}
`, []string{"moved.yaml:2: person:stockton-on-tees/ann-able: is a record of this set, so it cannot also have moved"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := refused(t, s, with(rekeyed, "moved.yaml", tt.moves), importer.Options{})
			for i, w := range tt.want {
				if p, ok := strings.CutSuffix(w, "…"); ok && i < len(got) && strings.HasPrefix(got[i], p) {
					got[i] = w
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}

	// A set's own files may not go on naming an ID they move: the import
	// would delete the record the reference names.
	t.Run("a reference to an ID the set moves", func(t *testing.T) {
		stale := with(rekeyed, "memberships.yaml", `
- id: membership:stockton-on-tees/cabinet/ann-able
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  personId: person:stockton-on-tees/ann-able
  sources: [{document: a.txt, locator: lines 3-3}]
- id: membership:stockton-on-tees/cabinet/bob-brown
  bodyId: body:stockton-on-tees/cabinet
  role: CHAIR
  personId: person:stockton-on-tees/bob-brown
  sources: [{document: a.txt, locator: lines 3-3}]
`)
		s := storetest.New(t, nil)
		imported(t, s, borough(), importer.Options{})
		got := refused(t, s, stale, importer.Options{})
		if len(got) != 1 || !strings.HasPrefix(got[0], "memberships.yaml:10: membership:stockton-on-tees/cabinet/bob-brown: personId: ") ||
			!strings.Contains(got[0], "person:stockton-on-tees/bob-brown") {
			t.Errorf("problems: %q, want one at the membership's personId naming the moved ID", got)
		}
	})
}

// sameItems reports whether a and b hold the same strings, in any order.
func sameItems(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestManifestProblems refuses a set.yaml that does not say what a
// manifest must, and a folder without one where one is required; each
// writes nothing.
func TestManifestProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		manifest string // "" for no set.yaml
		o        importer.Options
		want     []string
	}{
		{"no name", "councils: [council:stockton-on-tees]\n", importer.Options{}, []string{
			`set.yaml:1: name: "" is not a set name: give one of a-z, 0-9 and -, e.g. name: stockton`,
		}},
		{"a name that is not a slug", "name: Stockton Set\ncouncils: [council:stockton-on-tees]\n", importer.Options{}, []string{
			`set.yaml:1: name: "Stockton Set" is not a set name: give one of a-z, 0-9 and -, e.g. name: stockton`,
		}},
		{"bad council IDs", "name: borough\ncouncils: [council:stockton-on-tees, stockton-on-tees, 'body:stockton-on-tees/cabinet', 'council:Stockton']\n", importer.Options{}, []string{
			`set.yaml:2: councils: "stockton-on-tees" is not a council ID such as council:stockton-on-tees`,
			`set.yaml:2: councils: "body:stockton-on-tees/cabinet" is not a council ID such as council:stockton-on-tees`,
			`set.yaml:2: councils: "council:Stockton" is not a council ID such as council:stockton-on-tees`,
		}},
		{"unknown field", "name: borough\nowner: Stockton\ncouncils: [council:stockton-on-tees]\n", importer.Options{}, []string{
			"set.yaml:2: owner: unknown field",
		}},
		{"not a mapping", "- name: borough\n", importer.Options{}, []string{
			"set.yaml:1: the manifest must be a mapping with name: and councils:",
		}},
		{"required and missing", "", importer.Options{Dataset: "borough", RequireManifest: true}, []string{
			"set.yaml:1: missing: a data set's folder holds a manifest, set.yaml, with name: (the set's identity, whatever folder it sits in) and councils: (the council IDs whose records it writes); see data/FORMAT.md",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.New(t, nil)
			imported(t, s, borough(), importer.Options{})
			fsys := without(borough(), "set.yaml")
			if tt.manifest != "" {
				fsys = with(fsys, "set.yaml", tt.manifest)
			}
			if diff := cmp.Diff(tt.want, refused(t, s, fsys, tt.o)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
