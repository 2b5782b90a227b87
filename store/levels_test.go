package store_test

import (
	"context"
	"testing"

	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestLevelsFollowWhatTheyDependOn: a record's level follows the records
// it carries a reference to, through later writes of those records alone.
func TestLevelsFollowWhatTheyDependOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	body := &store.Body{Record: store.Record{ID: "body:b", Sources: src()}, Name: "B", Kind: "BOARD"}
	meeting := &store.Meeting{Record: store.Record{ID: "meeting:b:2023-01-01", Sources: src()}, BodyID: "body:b", Title: "M", Date: "2023-01-01", Status: "HELD"}
	item := &store.AgendaItem{Record: store.Record{ID: "agendaItem:b:2023-01-01:1", Sources: src()}, MeetingID: meeting.ID, Title: "I"}
	itemID := item.ID
	report := &store.Report{Record: store.Record{ID: "report:b:2023-01-01:r", Sources: src()}, Title: "R", AgendaItemID: &itemID}
	if err := s.Put(ctx, now, report, item, meeting, body); err != nil { // dependents first: Put orders them
		t.Fatal(err)
	}
	visible := func(level store.Level, id string) bool {
		t.Helper()
		found, err := s.FindByIDs(store.WithLevel(ctx, level), store.KindOfID(id), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		return len(found) == 1
	}
	want := func(step string, public, partner, officer bool, ids ...string) {
		t.Helper()
		for _, id := range ids {
			if got := [3]bool{visible(store.Public, id), visible(store.Partner, id), visible(store.Officer, id)}; got != [3]bool{public, partner, officer} {
				t.Errorf("%s: %s visible to public, partner, officer = %v, want %v", step, id, got, [3]bool{public, partner, officer})
			}
		}
	}
	want("all public", true, true, true, body.ID, meeting.ID, item.ID, report.ID)

	body.Visibility, body.UpdatedAt = store.VisibilityPartner, now
	if err := s.Put(ctx, now, body); err != nil {
		t.Fatal(err)
	}
	want("body made PARTNER", false, true, true, body.ID, meeting.ID, item.ID, report.ID)

	body.Visibility = store.VisibilityPublic
	item.Exempt = true
	if err := s.Put(ctx, now, body, item); err != nil {
		t.Fatal(err)
	}
	want("item made exempt", true, true, true, body.ID, meeting.ID, item.ID)
	want("item made exempt", false, false, true, report.ID)

	item.Exempt = false
	if err := s.Put(ctx, now, item); err != nil {
		t.Fatal(err)
	}
	want("item no longer exempt", true, true, true, report.ID)

	if err := s.DeleteByIDs(ctx, "meetings", []string{meeting.ID}); err != nil {
		t.Fatal(err)
	}
	want("meeting deleted", false, false, true, item.ID, report.ID)
}
