// Command load drives a running councilgraph server on loopback with a
// bounded number of concurrent clients for a bounded time, mixing the
// benchmark operations (bench.Ops), and prints throughput, latency
// percentiles, errors and the server's peak resident memory.
//
//	go run ./bench/load -addr 127.0.0.1:8090 -scale M -c 32 -d 60s -pid $(pgrep -n councilgraph)
//
// With -soak, it also reads the server's resident memory and goroutines
// from its debug listener every -sample, and at the end prints them per
// minute and fails unless there were no errors and both grew less than 10 %
// from minute 2 to the last minute:
//
//	go run ./bench/load -addr 127.0.0.1:8090 -scale S -c 32 -d 10m -soak 127.0.0.1:6060
//
// It only talks to loopback addresses.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"councilgraph/bench"
	"councilgraph/bench/gen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// sample is one request's outcome.
type sample struct {
	op      int
	latency time.Duration
	failed  bool
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the server's address (loopback only)")
	scale := fs.String("scale", "S", "the data set the server serves: S, M or L (picks the IDs asked for)")
	clients := fs.Int("c", 32, "concurrent clients")
	duration := fs.Duration("d", 60*time.Second, "how long to run")
	timeout := fs.Duration("timeout", 30*time.Second, "per-request deadline; a request over it is an error")
	pid := fs.Int("pid", 0, "the server's process ID, to read its peak RSS (VmHWM) from /proc")
	only := fs.String("ops", "", "comma-separated operation name prefixes to run (default: all)")
	repeat := fs.Bool("repeat", false, "ask each operation with the same variables every time, as the pages of a front end do (what a response cache serves)")
	soakAddr := fs.String("soak", "", "the server's debug listener (loopback): sample its memory and goroutines and judge the soak")
	every := fs.Duration("sample", 5*time.Second, "how often -soak samples the server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback(*addr); err != nil {
		return err
	}
	if *soakAddr != "" {
		if err := loopback(*soakAddr); err != nil {
			return err
		}
	}
	councils, ok := gen.Scales[*scale]
	if !ok {
		return fmt.Errorf("unknown scale %q", *scale)
	}
	var ops []bench.Op
	for _, op := range bench.Ops(councils) {
		if *only == "" || slices.ContainsFunc(strings.Split(*only, ","), func(p string) bool { return strings.HasPrefix(op.Name, p) }) {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 || *clients < 1 || *duration <= 0 {
		return errors.New("nothing to run: check -ops, -c and -d")
	}

	url := "http://" + *addr + "/graphql"
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	var next atomic.Int64
	results := make([][]sample, *clients)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var c counts
	start := time.Now()
	var samples []soakSample
	var soakErr error
	if *soakAddr != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			samples, soakErr = soak(ctx, "http://"+*soakAddr+"/metrics", *every, &c, start, stderr)
		}()
	}
	for w := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := int(next.Add(1))
				i := n % len(ops)
				t := time.Now()
				v := n / len(ops)
				if *repeat {
					v = 0
				}
				err := post(ctx, client, url, ops[i].Body(v))
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run, not a server failure
				}
				c.requests.Add(1)
				if err != nil {
					c.errors.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", ops[i].Name, err))
				}
				results[w] = append(results[w], sample{op: i, latency: time.Since(t), failed: err != nil})
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []sample
	for _, r := range results {
		all = append(all, r...)
	}
	fmt.Fprintf(stdout, "load: %s, %d clients, %s, ops %s\n", url, *clients, elapsed.Round(time.Millisecond), opNames(ops))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trequests\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for i, op := range ops {
		var mine []sample
		for _, s := range all {
			if s.op == i {
				mine = append(mine, s)
			}
		}
		row(tw, op.Name, mine, elapsed)
	}
	row(tw, "all", all, elapsed)
	_ = tw.Flush()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintln(stdout, "first error:", e)
	}
	if *pid > 0 {
		peak, err := peakRSS(*pid)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "server pid %d peak RSS (VmHWM): %s\n", *pid, peak)
	}
	if *soakAddr != "" {
		if soakErr != nil {
			return soakErr
		}
		if !soakReport(stdout, samples, *duration, c.errors.Load()) {
			return errors.New("the soak failed")
		}
	}
	return nil
}

func row(w io.Writer, name string, s []sample, elapsed time.Duration) {
	errs := 0
	lat := make([]time.Duration, 0, len(s))
	for _, x := range s {
		if x.failed {
			errs++
		}
		lat = append(lat, x.latency)
	}
	slices.Sort(lat)
	fmt.Fprintf(w, "%s\t%d\t%d\t%.2f\t%s\t%s\t%s\t%s\t\n", name, len(s), errs, float64(len(s))/elapsed.Seconds(),
		pct(lat, 50), pct(lat, 95), pct(lat, 99), pct(lat, 100))
}

// pct is the p-th percentile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, p int) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := min(len(sorted)-1, (len(sorted)*p+99)/100-1)
	return fmt.Sprintf("%.1f", float64(sorted[max(i, 0)].Microseconds())/1000)
}

func opNames(ops []bench.Op) string {
	names := make([]string, len(ops))
	for i, op := range ops {
		names[i] = op.Name
	}
	return strings.Join(names, ",")
}

// post sends one query; an error is a transport failure, a status other
// than 200 or a GraphQL error in the answer.
func post(ctx context.Context, c *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, out)
	}
	if bytes.Contains(out, []byte(`"errors"`)) {
		return fmt.Errorf("graphql error: %.200s", out)
	}
	return nil
}

// loopback refuses any address that is not on this machine's loopback.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; load goes to 127.0.0.1 only", addr)
}

// peakRSS reads VmHWM, the peak resident set size, of process pid.
func peakRSS(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "", fmt.Errorf("read server status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("no VmHWM in /proc status")
}
