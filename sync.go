package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"councilgraph/moderngov"
	"councilgraph/moderngov/mgsync"
	"councilgraph/store"
)

// syncCmd synchronises a council's records from a publishing system:
//
//	councilgraph sync moderngov --council council:<slug> --name "<name>" [--code <GSS>] --url <site> [--from D] [--to D]
func syncCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "moderngov" {
		return errors.New("usage: councilgraph sync moderngov --council council:<slug> --name \"<council name>\" [--code <GSS code>] --url <site address> [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n(modern.gov is the one publishing system it reads)")
	}
	fs := flag.NewFlagSet("sync moderngov", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: councilgraph sync moderngov --council council:<slug> --name \"<council name>\" [--code <GSS code>] --url <site address> [flags]")
		fs.PrintDefaults()
	}
	council := fs.String("council", "", "the council whose records the site publishes, e.g. council:stockton-on-tees (created when missing)")
	name := fs.String("name", "", "the council's name, for the Council record when it is created")
	code := fs.String("code", "", "the GSS code of the council's area, e.g. E06000004, for the Council record when it is created")
	site := fs.String("url", "", "the modern.gov site's address, e.g. https://moderngov.stockton.gov.uk")
	now := time.Now()
	from := fs.String("from", now.AddDate(-1, 0, 0).Format(time.DateOnly), "the first day of the meetings read (default: 12 months ago)")
	to := fs.String("to", now.AddDate(0, 6, 0).Format(time.DateOnly), "the last day of the meetings read (default: 6 months ahead)")
	rate := fs.Float64("rate", moderngov.DefaultRate, "the most requests a second to the site")
	timeout := fs.Duration("timeout", moderngov.DefaultTimeout, "how long to wait for each answer")
	retries := fs.Int("retries", moderngov.DefaultRetries, "how many times a request that may pass (timeout, 429, 5xx) is tried again")
	quiet := fs.Bool("quiet", false, "print only the summary, not each operation as it is read")
	keepChanges := fs.Duration("keep-changes", store.DefaultChangeRetention, "how long the change log keeps its entries")
	db := dbFlags(fs, getenv)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sync moderngov takes no arguments, got %q", fs.Args())
	}
	switch {
	case *council == "":
		return errors.New("sync moderngov needs --council, e.g. --council council:stockton-on-tees")
	case *site == "":
		return errors.New("sync moderngov needs --url, the council's modern.gov site, e.g. --url https://moderngov.stockton.gov.uk")
	}
	start, err := time.Parse(time.DateOnly, *from)
	if err != nil {
		return fmt.Errorf("--from %q is not a date as YYYY-MM-DD", *from)
	}
	end, err := time.Parse(time.DateOnly, *to)
	if err != nil {
		return fmt.Errorf("--to %q is not a date as YYYY-MM-DD", *to)
	}
	if *retries == 0 {
		*retries = -1 // the client's "none"
	}
	client, err := moderngov.New(*site, moderngov.Options{Rate: *rate, Timeout: *timeout, Retries: *retries})
	if err != nil {
		return err
	}
	s, closeStore, err := openForCommand(ctx, db, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	o := mgsync.Options{Council: *council, Name: *name, Code: *code, From: start, To: end, KeepChanges: *keepChanges}
	if !*quiet {
		o.Progress = stderr
	}
	report, err := mgsync.Run(ctx, s, client, o)
	if report != nil {
		report.Write(stdout)
	}
	if err != nil {
		return err
	}
	if report.Failed() {
		return fmt.Errorf("%d failure(s) reading %s (listed above); the records they would have replaced are as they were: run the sync again once the site answers", len(report.Failures), client.Base())
	}
	return nil
}
