package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"councilgraph/graph"
	"councilgraph/store"
	"councilgraph/webhooks"
)

const webhooksUsage = `usage:
  councilgraph webhooks add --client CLIENT_ID --url URL [--types Type,...] [--council COUNCIL_ID]
  councilgraph webhooks list
  councilgraph webhooks remove ENDPOINT_ID
  councilgraph webhooks replay ENDPOINT_ID --since CURSOR
  councilgraph webhooks resume ENDPOINT_ID
Webhooks act on the database the service uses (the same flags and
environment, as keys do); the running service picks changes up within a
second. Deliveries start with the changes made after add; replay sends again
those after a cursor of the change feed; resume restarts a paused endpoint
where it stopped.
`

// webhooksCmd runs `councilgraph webhooks ...`.
func webhooksCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, webhooksUsage)
		return errors.New("webhooks needs a subcommand: add, list, remove, replay or resume")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add", "list", "remove", "replay", "resume":
	default:
		fmt.Fprint(stderr, webhooksUsage)
		return fmt.Errorf("unknown webhooks subcommand %q", sub)
	}
	fs := flag.NewFlagSet("webhooks "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := fs.String("client", "", "the API client the deliveries are for: they carry what it may see (add)")
	rawURL := fs.String("url", "", "where to POST the deliveries: https://, or http:// to loopback (add)")
	types := fs.String("types", "", "comma-separated record types to deliver, e.g. Meeting,Report (add; default all)")
	council := fs.String("council", "", "a council's ID, e.g. council:stockton-on-tees: deliver only its records (add; default every council's and the shared registries')")
	since := fs.String("since", "", "a cursor of the change feed: the changes after it are sent again (replay)")
	db := dbFlags(fs, getenv)
	// The endpoint's ID may come before or after the flags.
	var ids []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		ids, args = append(ids, fs.Arg(0)), fs.Args()[1:]
	}
	switch {
	case sub == "add" || sub == "list":
		if len(ids) > 0 {
			return fmt.Errorf("webhooks %s takes no arguments, only flags (got %q)", sub, ids[0])
		}
	case len(ids) != 1:
		return fmt.Errorf("webhooks %s needs one endpoint ID, e.g. webhook:0123abcd4567 (see webhooks list)", sub)
	}
	s, closeStore, err := openForCommand(ctx, db, stderr)
	if err != nil {
		return err
	}
	defer closeStore()

	switch sub {
	case "add":
		e, err := webhooks.Add(ctx, s, *client, *rawURL, splitList(*types), *council, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s for %s: %s (%s)\n", e.ID, e.ClientID, e.URL, typesOf(e))
		fmt.Fprintf(stdout, "signing secret (shown once; store it now): %s\n", e.Secret)
		return nil
	case "list":
		return listWebhooks(ctx, s, stdout)
	case "remove":
		if err := webhooks.Remove(ctx, s, ids[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed %s\n", ids[0])
	case "replay":
		if err := webhooks.Replay(ctx, s, ids[0], *since); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "replaying %s from %s\n", ids[0], *since)
	case "resume":
		if err := webhooks.Resume(ctx, s, ids[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "resumed %s\n", ids[0])
	}
	return nil
}

// typesOf says which types an endpoint receives.
func typesOf(e *store.WebhookEndpoint) string {
	if len(e.Types) == 0 {
		return "all types"
	}
	return strings.Join(e.Types, ",")
}

// attemptsListed is how many of each endpoint's last attempts list shows.
const attemptsListed = 5

// listWebhooks prints every endpoint, its state and its last attempts;
// never its secret.
func listWebhooks(ctx context.Context, s *store.Store, w io.Writer) error {
	eps, err := s.FindWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	if len(eps) == 0 {
		_, err := fmt.Fprintln(w, "no webhook endpoints; add one with councilgraph webhooks add")
		return err
	}
	for i, e := range eps {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  client %s  %s  (%s)\n", e.ID, e.ClientID, e.URL, typesOf(e))
		fmt.Fprintf(w, "  state: %s\n", stateOf(e, time.Now()))
		fmt.Fprintf(w, "  cursor: %s", graph.ChangeCursor(e.Cursor))
		if e.LastSuccessAt != nil {
			fmt.Fprintf(w, "  last delivered: %s", e.LastSuccessAt.Format(time.RFC3339))
		}
		fmt.Fprintf(w, "  failures since the last success: %d\n", e.Failures)
		attempts, err := s.FindWebhookAttempts(ctx, e.ID, attemptsListed)
		if err != nil {
			return err
		}
		if len(attempts) == 0 {
			fmt.Fprintln(w, "  no attempts yet")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  AT\tMESSAGE\tCHANGES\tSTATUS\tDURATION\tERROR")
		for _, a := range attempts {
			status, msg := "-", a.Error
			if a.Status != 0 {
				status = fmt.Sprint(a.Status)
			}
			if msg == "" {
				msg = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", a.At.Format(time.RFC3339), a.MessageID, a.Changes, status, a.Duration.Round(time.Millisecond), msg)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// stateOf says whether an endpoint is delivering, retrying or paused.
func stateOf(e *store.WebhookEndpoint, now time.Time) string {
	switch {
	case e.PausedAt != nil:
		return fmt.Sprintf("PAUSED since %s: %s", e.PausedAt.Format(time.RFC3339), e.PauseReason)
	case e.Failures > 0:
		when := "now"
		if e.NextAttemptAt.After(now) {
			when = e.NextAttemptAt.Format(time.RFC3339)
		}
		return fmt.Sprintf("RETRYING (failing since %s; next attempt %s)", e.FailingSince.Format(time.RFC3339), when)
	}
	return "ACTIVE"
}

// webhookOptions are serve's flags for the delivery worker.
type webhookOptions struct {
	on  bool
	cfg webhooks.Config
}

// webhookFlags registers serve's flags for the delivery worker; a value
// out of its range is refused as the flags are parsed.
func webhookFlags(fs *flag.FlagSet) *webhookOptions {
	o := &webhookOptions{on: true, cfg: webhooks.Config{Timeout: 10 * time.Second, PauseAfter: 24 * time.Hour, BatchSize: 100, Concurrency: 8}}
	fs.BoolVar(&o.on, "webhooks", true, "deliver the webhook endpoints' changes (see councilgraph webhooks); false leaves them waiting")
	positive := func(name, usage string, d *time.Duration) {
		fs.Func(name, fmt.Sprintf("%s (default %s)", usage, *d), func(v string) error {
			n, err := time.ParseDuration(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("must be a duration above 0, such as 30s or 12h, not %q", v)
			}
			*d = n
			return nil
		})
	}
	between := func(name, usage string, p *int, lo, hi int) {
		fs.Func(name, fmt.Sprintf("%s (default %d)", usage, *p), func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("must be a whole number from %d to %d, not %q", lo, hi, v)
			}
			*p = n
			return nil
		})
	}
	positive("webhook-timeout", "longest one webhook delivery attempt may take, answer included", &o.cfg.Timeout)
	positive("webhook-pause-after", "how long a webhook endpoint may fail without a success before it is paused", &o.cfg.PauseAfter)
	between("webhook-batch", "most changes one webhook delivery carries", &o.cfg.BatchSize, 1, 100)
	between("webhook-concurrency", "webhook endpoints delivered to at once", &o.cfg.Concurrency, 1, 1000)
	fs.BoolVar(&o.cfg.AllowPrivate, "webhook-allow-private", false, "let webhook deliveries reach private network addresses (10/8, 172.16/12, 192.168/16, fc00::/7)")
	return o
}

// start runs the delivery worker until ctx ends; stop waits for it.
func (o *webhookOptions) start(ctx context.Context, s *store.Store, log *slog.Logger) (stop func()) {
	if !o.on {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := webhooks.New(s, o.cfg, log).Run(ctx); err != nil {
			log.Error("webhook deliveries stopped", "error", err)
		}
	}()
	return func() { cancel(); <-done }
}
