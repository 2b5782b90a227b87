package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"councilgraph/auth"
	"councilgraph/graph"
	"councilgraph/store"
	"councilgraph/store/storetest"
)

// TestWebhooksCommand: add validates its client, URL and types with errors
// naming what was wrong; the secret is printed once by add and never by
// list; list shows each endpoint's state and attempts; replay and remove
// name what they cannot find.
func TestWebhooksCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.New(t, nil)
	env := map[string]string{"MONGODB_URI": storetest.URI(), "MONGODB_DATABASE": s.DatabaseName()}
	getenv := func(k string) string { return env[k] }
	webhooks := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"webhooks"}, args...), getenv, &out, io.Discard)
		return out.String(), err
	}
	_, partner, err := auth.CreateKey(ctx, s, "Trust", "NHS", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, revoked, err := auth.CreateKey(ctx, s, "Gone", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeClient(ctx, revoked.ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--url", "https://partner.example.org/hooks"}, "needs --client"},
		{[]string{"add", "--client", partner.ID}, "needs --url"},
		{[]string{"add", "--client", "client:000000000000", "--url", "https://partner.example.org/"}, "no client client:000000000000"},
		{[]string{"add", "--client", revoked.ID, "--url", "https://partner.example.org/"}, "was revoked"},
		{[]string{"add", "--client", partner.ID, "--url", "not a url"}, "must be an absolute https:// URL"},
		{[]string{"add", "--client", partner.ID, "--url", "http://partner.example.org/hooks"}, "is not HTTPS: http:// is allowed only to loopback"},
		{[]string{"add", "--client", partner.ID, "--url", "https://169.254.169.254/"}, "not a public address"},
		{[]string{"add", "--client", partner.ID, "--url", "https://u:p@partner.example.org/"}, "user or password"},
		{[]string{"add", "--client", partner.ID, "--url", "https://partner.example.org/", "--types", "Meeting,Meetings"}, `--types: "Meetings" is not a record type`},
		{[]string{"add", "--client", partner.ID, "--url", "https://partner.example.org/", "--types", "Cat,Dog"}, `"Cat", "Dog" are not record types`},
		{[]string{"add", "extra", "--client", partner.ID}, "takes no arguments"},
		{[]string{"remove"}, "needs one endpoint ID"},
		{[]string{"remove", "webhook:000000000000"}, "no webhook endpoint webhook:000000000000"},
		{[]string{"replay", "webhook:000000000000", "--since", graph.ChangeCursor(0)}, "no webhook endpoint"},
		{[]string{"frobnicate"}, `unknown webhooks subcommand "frobnicate"`},
		{nil, "needs a subcommand"},
	} {
		if _, err := webhooks(c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("webhooks %q: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if eps, err := s.FindWebhookEndpoints(ctx); err != nil || len(eps) != 0 {
		t.Fatalf("refused adds left endpoints: %v %v", eps, err)
	}

	out, err := webhooks("add", "--client", partner.ID, "--url", "http://127.0.0.1:9/hooks", "--types", "Meeting,Report")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`webhook:[0-9a-f]{12}`).FindString(out)
	secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/]{43}=`).FindString(out)
	if id == "" || secret == "" {
		t.Fatalf("add printed %q", out)
	}
	if _, err := webhooks("replay", id, "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), `--since "yesterday" is not a cursor`) {
		t.Errorf("replay with a bad cursor: %v", err)
	}
	if _, err := webhooks("replay", id); err == nil || !strings.Contains(err.Error(), "needs --since") {
		t.Errorf("replay without --since: %v", err)
	}

	// A paused endpoint with an attempt, as the worker leaves one.
	e, err := s.FindWebhookEndpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if ok, err := s.SetWebhookState(ctx, e, store.WebhookState{Cursor: e.Cursor, Failures: 3, FailingSince: &now, PausedAt: &now, PauseReason: "failing since then"}); !ok || err != nil {
		t.Fatalf("set state: %v %v", ok, err)
	}
	if err := s.InsertWebhookAttempt(ctx, &store.WebhookAttempt{EndpointID: id, MessageID: "msg_x", At: now, Changes: 2, Status: 500, Error: "answered 500", Duration: 12 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	out, err = webhooks("list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{id, partner.ID, "http://127.0.0.1:9/hooks", "Meeting,Report", "PAUSED since", "failing since then", "msg_x", "500", "answered 500", "failures since the last success: 3"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "whsec_") {
		t.Errorf("list shows the secret:\n%s", out)
	}

	if out, err := webhooks("replay", id, "--since", graph.ChangeCursor(0)); err != nil || !strings.Contains(out, "replaying "+id) {
		t.Fatalf("replay: %v %s", err, out)
	}
	if out, _ := webhooks("list"); !strings.Contains(out, "ACTIVE") {
		t.Errorf("after replay, list says:\n%s", out)
	}
	if out, err := webhooks("remove", id); err != nil || !strings.Contains(out, "removed "+id) {
		t.Fatalf("remove: %v %s", err, out)
	}
	if out, _ := webhooks("list"); !strings.Contains(out, "no webhook endpoints") {
		t.Errorf("after remove, list says:\n%s", out)
	}
}

// TestServeRefusesWebhookFlagsOutOfRange: serve's webhook flags are
// checked as they are parsed, each error naming its flag.
func TestServeRefusesWebhookFlagsOutOfRange(t *testing.T) {
	t.Parallel()
	for flag, value := range map[string]string{
		"--webhook-batch": "0", "--webhook-concurrency": "-1", "--webhook-timeout": "0s", "--webhook-pause-after": "soon",
	} {
		err := run(context.Background(), []string{"serve", flag, value}, func(string) string { return "" }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(flag, "--")) || !strings.Contains(err.Error(), value) {
			t.Errorf("serve %s %s: %v", flag, value, err)
		}
	}
}
