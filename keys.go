package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"councilgraph/auth"
)

const keysUsage = `usage:
  councilgraph keys create --name NAME [--organisation ORG] --scopes partner[,officer...]
  councilgraph keys list
  councilgraph keys revoke CLIENT_ID
Keys act on the database the service uses (the same flags and environment),
and work while the service runs; a new or revoked key takes effect at once.
`

func keysCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("keys needs a subcommand: create, list or revoke")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "the client's name (create)")
	org := fs.String("organisation", "", "the organisation the client belongs to (create)")
	scopes := fs.String("scopes", "", "comma-separated scopes: "+strings.Join(auth.Scopes(), ", ")+" (create)")
	db := dbFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, closeStore, err := openForCommand(ctx, db, stderr)
	if err != nil {
		return err
	}
	defer closeStore()

	switch sub {
	case "create":
		key, c, err := auth.CreateKey(ctx, s, *name, *org, splitList(*scopes), time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s) with scopes %s\n", c.ID, c.Name, strings.Join(c.Scopes, ","))
		fmt.Fprintf(stdout, "key (shown once; store it now): %s\n", key)
		return nil
	case "list":
		clients, err := s.FindClients(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tORGANISATION\tSCOPES\tCREATED\tREVOKED")
		for _, c := range clients {
			revoked := "-"
			if c.RevokedAt != nil {
				revoked = c.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Organisation, strings.Join(c.Scopes, ","), c.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("keys revoke needs the client ID, e.g. client:0123abcd4567")
		}
		ok, err := s.RevokeClient(ctx, fs.Arg(0), time.Now())
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no client %s; see councilgraph keys list", fs.Arg(0))
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("unknown keys subcommand %q", sub)
}
