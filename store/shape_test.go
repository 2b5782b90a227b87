package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// finds records the filter of every find a client sends.
type finds struct {
	mu      sync.Mutex
	filters []bson.Raw
}

func (f *finds) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		if e.CommandName != "find" {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		filter, _ := e.Command.Lookup("filter").DocumentOK()
		f.filters = append(f.filters, slices.Clone(filter))
	}}
}

func (f *finds) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.filters))
	for i, r := range f.filters {
		out[i] = r.String()
	}
	f.filters = nil
	slices.Sort(out)
	return out
}

// shapeFixture is 3 bodies with 4 meetings each, one of them (body b2's
// last) OFFICER-only, and a report naming two priorities.
func shapeFixture(t *testing.T, s *store.Store) {
	var docs []store.Doc
	for b := range 3 {
		docs = append(docs, &store.Body{Record: store.Record{ID: fmt.Sprintf("body:b%d", b), Sources: src()}, Name: fmt.Sprintf("Body %d", b), Kind: "COMMITTEE"})
		for m := range 4 {
			mt := &store.Meeting{Record: store.Record{ID: fmt.Sprintf("meeting:b%d-%d", b, m), Sources: src()}, BodyID: fmt.Sprintf("body:b%d", b),
				Title: "Meeting", Date: fmt.Sprintf("2023-0%d-01", 4-m), Status: "HELD"}
			if b == 2 && m == 3 {
				mt.Visibility = store.VisibilityOfficer
			}
			docs = append(docs, mt)
		}
	}
	docs = append(docs,
		&store.Plan{Record: store.Record{ID: "plan:p", Sources: src()}, Title: "Plan"},
		&store.Priority{Record: store.Record{ID: "priority:a", Sources: src()}, PlanID: "plan:p", Title: "A"},
		&store.Priority{Record: store.Record{ID: "priority:b", Sources: src()}, PlanID: "plan:p", Title: "B"},
		&store.Report{Record: store.Record{ID: "report:r", Sources: src()}, Title: "Both", PriorityIDs: []string{"priority:a", "priority:b"}})
	if err := s.Put(context.Background(), now, docs...); err != nil {
		t.Fatal(err)
	}
}

func ids(docs []store.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Base().ID
	}
	return out
}

// TestShapesSendTheirCommands holds each shape to the finds it sends for a
// batch, and every shape to the same answer, on every server at hand.
func TestShapesSendTheirCommands(t *testing.T) {
	t.Parallel()
	bodies := []string{"body:b0", "body:b1", "body:b2"}
	meetings := []string{"meeting:b0-0", "meeting:b1-1", "meeting:b2-3", "meeting:none"}
	vis := `"visibility": {"$in": ["PUBLIC"]}`
	tests := []struct {
		shape store.Shape
		// want are the filters sent, sorted, for: meetings by bodyId; meetings by _id;
		// reports by priorityIds.
		byRef, byID, byList []string
	}{
		{store.ShapeIn,
			[]string{`{"bodyId": {"$in": ["body:b0","body:b1","body:b2"]},` + vis + `}`},
			[]string{`{"_id": {"$in": ["meeting:b0-0","meeting:b1-1","meeting:b2-3","meeting:none"]},` + vis + `}`},
			[]string{`{"priorityIds": {"$in": ["priority:a","priority:b"]},` + vis + `}`}},
		{store.ShapePushdown,
			[]string{`{"bodyId": "body:b0",` + vis + `}`, `{"bodyId": "body:b1",` + vis + `}`, `{"bodyId": "body:b2",` + vis + `}`},
			[]string{`{"_id": "meeting:b0-0",` + vis + `}`, `{"_id": "meeting:b1-1",` + vis + `}`, `{"_id": "meeting:b2-3",` + vis + `}`, `{"_id": "meeting:none",` + vis + `}`},
			[]string{`{"priorityIds": "priority:a",` + vis + `}`, `{"priorityIds": "priority:b",` + vis + `}`}},
		{store.ShapeSQLite,
			[]string{`{"bodyId": {"$in": ["body:b0","body:b1","body:b2"]},` + vis + `}`},
			[]string{`{"_id": "meeting:b0-0"}`, `{"_id": "meeting:b1-1"}`, `{"_id": "meeting:b2-3"}`, `{"_id": "meeting:none"}`},
			[]string{`{"priorityIds": {"$in": ["priority:a","priority:b"]},` + vis + `}`}},
	}
	// The public answers, the same in every shape: meetings by date, the
	// OFFICER meeting left out, the report once.
	wantRef := []string{"meeting:b0-3", "meeting:b1-3", "meeting:b0-2", "meeting:b1-2", "meeting:b2-2", "meeting:b0-1", "meeting:b1-1", "meeting:b2-1", "meeting:b0-0", "meeting:b1-0", "meeting:b2-0"}
	for _, sv := range storetest.Servers() {
		var f finds
		s := sv.New(t, f.monitor())
		shapeFixture(t, s)
		ctx := store.WithLevel(context.Background(), store.Public)
		for _, tt := range tests {
			t.Run(sv.Name+"/"+string(tt.shape), func(t *testing.T) {
				store.SetShape(s, tt.shape)
				norm := func(want []string) []string {
					out := make([]string, len(want))
					for i, w := range want {
						var d bson.D
						if err := bson.UnmarshalExtJSON([]byte(w), false, &d); err != nil {
							t.Fatalf("%s: %v", w, err)
						}
						raw, _ := bson.Marshal(d)
						out[i] = bson.Raw(raw).String()
					}
					slices.Sort(out)
					return out
				}
				f.take()
				got, err := s.FindByRef(ctx, store.KindFor[store.Meeting](), "bodyId", bodies)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(norm(tt.byRef), f.take()); diff != "" {
					t.Errorf("meetings by bodyId sent (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(wantRef, ids(got)); diff != "" {
					t.Errorf("meetings by bodyId (-want +got):\n%s", diff)
				}
				got, err = s.FindByIDs(ctx, store.KindFor[store.Meeting](), meetings)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(norm(tt.byID), f.take()); diff != "" {
					t.Errorf("meetings by _id sent (-want +got):\n%s", diff)
				}
				gotIDs := ids(got)
				slices.Sort(gotIDs)
				if diff := cmp.Diff([]string{"meeting:b0-0", "meeting:b1-1"}, gotIDs); diff != "" {
					t.Errorf("meetings by _id (-want +got): the OFFICER one and the missing one must not come back\n%s", diff)
				}
				got, err = s.FindByRef(ctx, store.KindFor[store.Report](), "priorityIds", []string{"priority:a", "priority:b"})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(norm(tt.byList), f.take()); diff != "" {
					t.Errorf("reports by priorityIds sent (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"report:r"}, ids(got)); diff != "" {
					t.Errorf("reports by priorityIds (-want +got): a report naming both keys comes back once\n%s", diff)
				}
				officer := store.WithLevel(context.Background(), store.Officer)
				got, err = s.FindByIDs(officer, store.KindFor[store.Meeting](), meetings)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 3 {
					t.Errorf("an officer found %v by _id, want the 3 that exist", ids(got))
				}
				for _, n := range []int{1, 2, 9, 101} {
					for _, field := range []string{"_id", "bodyId"} {
						keys := make([]string, n)
						for i := range keys {
							keys[i] = fmt.Sprintf("meeting:x%d", i)
						}
						f.take()
						var err error
						if field == "_id" {
							_, err = s.FindByIDs(ctx, store.KindFor[store.Meeting](), keys)
						} else {
							_, err = s.FindByRef(ctx, store.KindFor[store.Meeting](), field, keys)
						}
						if err != nil {
							t.Fatal(err)
						}
						if got, want := len(f.take()), tt.shape.Finds(field, n); got != want {
							t.Errorf("%d keys on %s sent %d finds, Finds says %d", n, field, got, want)
						}
					}
				}
			})
		}
	}
}

// TestShapeDetected: Open chooses the shape from what the server says it
// pushes down.
func TestShapeDetected(t *testing.T) {
	t.Parallel()
	for _, sv := range storetest.Servers() {
		want := map[string]store.Shape{"embedded": store.ShapeSQLite, "postgresql": store.ShapePushdown}[sv.Name]
		if got := sv.New(t, nil).Shape(); got != want {
			t.Errorf("%s: shape %q, want %q", sv.Name, got, want)
		}
	}
}
