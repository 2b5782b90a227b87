package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"councilgraph/moderngov/mgtest"
	"councilgraph/store/storetest"
)

// TestSyncCommand runs `councilgraph sync moderngov` as a user does against
// a loopback site answering the recorded Manchester responses: the first
// run shows its progress and inserts, the second changes nothing, and a
// run the site fails ends non-zero naming the operation; bad flags are
// refused with what was wrong.
func TestSyncCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	env := map[string]string{"MONGODB_URI": storetest.URI(), "MONGODB_DATABASE": s.DatabaseName()}
	getenv := func(k string) string { return env[k] }
	site := mgtest.Recorded()
	srv := site.Start(t)
	sync := func(extra ...string) (string, string, error) {
		var out, errs bytes.Buffer
		args := append([]string{"sync", "moderngov", "--council", "council:manchester", "--name", "Manchester City Council",
			"--code", "E08000003", "--url", srv.URL, "--from", "2025-06-01", "--to", "2026-06-30", "--rate", "50", "--retries", "0"}, extra...)
		err := run(ctx, args, getenv, &out, &errs)
		return out.String(), errs.String(), err
	}

	out, progress, err := sync()
	if err != nil {
		t.Fatalf("sync: %v\n%s%s", err, out, progress)
	}
	for _, want := range []string{"GetMeetings: committee 3 of 3 (Audit Committee): 2 meetings", "GetMeeting: 2 of 2 read (meeting 4967", "GetCouncillorsByWard: 1 wards"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress does not say %q:\n%s", want, progress)
		}
	}
	for _, want := range []string{"read 3 committees and 2 meetings", "collection", "meetings         2", "documents         2"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary does not say %q:\n%s", want, out)
		}
	}
	out, _, err = sync("--quiet")
	if err != nil || !strings.Contains(out, "meetings         0        0          2") {
		t.Errorf("a second sync: %v\n%s", err, out)
	}

	site.Fail("GetMeeting", 4967, mgtest.Fault{Status: 403})
	out, _, err = sync("--quiet")
	if err == nil || !strings.Contains(err.Error(), "1 failure(s)") || !strings.Contains(out, "GetMeeting lMeetingId=4967: the site refused the request (403 Forbidden)") {
		t.Errorf("a failing sync: %v\n%s", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "usage: councilgraph sync moderngov"},
		{[]string{"sync", "moderngov", "--url", srv.URL}, "needs --council"},
		{[]string{"sync", "moderngov", "--council", "council:manchester"}, "needs --url"},
		{[]string{"sync", "moderngov", "--council", "manchester", "--url", srv.URL}, `"manchester" is not a council ID`},
		{[]string{"sync", "moderngov", "--council", "council:manchester", "--url", "ftp://x"}, "is not an http(s) address"},
		{[]string{"sync", "moderngov", "--council", "council:manchester", "--url", srv.URL, "--from", "1/2/2025"}, `--from "1/2/2025" is not a date as YYYY-MM-DD`},
		{[]string{"sync", "moderngov", "--council", "council:leeds", "--url", srv.URL}, "give its name (--name)"},
	} {
		err := run(ctx, c.args, getenv, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}
