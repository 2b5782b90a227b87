// Command compare checks that two GraphQL servers on loopback answer the
// benchmark operations (bench.Ops) with the same data, before their
// throughput is compared (bench/nodepeer/run.sh): for each operation and
// each of the first -runs runs' variables it posts the same request to
// both, and fails on any transport or GraphQL error, on an answer too small
// to be real, or on any difference in the decoded JSON, printing the
// difference.
//
//	go run ./bench/compare -a 127.0.0.1:18081 -b 127.0.0.1:18082 -scale S -ops a-,b-,c-
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"

	"councilgraph/bench"
	"councilgraph/bench/gen"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	a := fs.String("a", "127.0.0.1:18081", "the first server's address (loopback only)")
	b := fs.String("b", "127.0.0.1:18082", "the second server's address (loopback only)")
	scale := fs.String("scale", "S", "the data set both serve: S, M or L (picks the IDs asked for)")
	only := fs.String("ops", "a-,b-,c-", "comma-separated operation name prefixes to check")
	runs := fs.Int("runs", 12, "how many runs' variables to check for each operation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, addr := range []string{*a, *b} {
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("address %q: want a loopback address", addr)
		}
	}
	councils, ok := gen.Scales[*scale]
	if !ok {
		return fmt.Errorf("unknown scale %q", *scale)
	}
	client := &http.Client{Timeout: 60 * time.Second}
	checked := 0
	for _, op := range bench.Ops(councils) {
		if !slices.ContainsFunc(strings.Split(*only, ","), func(p string) bool { return p != "" && strings.HasPrefix(op.Name, p) }) {
			continue
		}
		for i := range *runs {
			body := op.Body(i)
			ga, err := answer(ctx, client, *a, body)
			if err != nil {
				return fmt.Errorf("%s run %d from %s: %w", op.Name, i, *a, err)
			}
			gb, err := answer(ctx, client, *b, body)
			if err != nil {
				return fmt.Errorf("%s run %d from %s: %w", op.Name, i, *b, err)
			}
			if diff := cmp.Diff(ga, gb); diff != "" {
				return fmt.Errorf("%s run %d: the answers differ (-%s +%s):\n%.3000s", op.Name, i, *a, *b, diff)
			}
		}
		fmt.Fprintf(stdout, "compare: %s: %d runs answered alike\n", op.Name, *runs)
		checked++
	}
	if checked == 0 {
		return fmt.Errorf("no operation matches -ops %q", *only)
	}
	return nil
}

// answer posts body and returns the decoded answer, failing on a status
// other than 200, on GraphQL errors and on an answer too small to hold the
// operation's data.
func answer(ctx context.Context, c *http.Client, addr string, body []byte) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
	}
	var v struct {
		Data   any `json:"data"`
		Errors any `json:"errors"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("decode: %w: %.300s", err, out)
	}
	if v.Errors != nil {
		return nil, fmt.Errorf("graphql errors: %.500s", out)
	}
	if len(out) < 200 {
		return nil, errors.New("suspiciously small answer: " + string(out))
	}
	return v.Data, nil
}
