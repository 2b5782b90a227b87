// Package export owns the downloads: every collection as CSV or NDJSON at
// /export/<collection>.csv and .ndjson, and observations in one flat
// analysis layout at /export/observations-analysis.csv and .ndjson. A
// download shows what the caller could read through the graph and nothing
// more, because its records come from the store's own scoped, redacted
// export; it is streamed, so memory stays flat however large the set.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"councilgraph/apierr"
	"councilgraph/graph"
	"councilgraph/store"
)

// Collections lists the collections there are downloads of: every kind of
// record, in the order an import writes them.
func Collections() []string {
	var out []string
	for _, k := range store.Kinds() {
		out = append(out, k.Collection)
	}
	return out
}

// AnalysisFile names the observations' flat analysis layout.
const AnalysisFile = "observations-analysis"

// Config bounds the downloads.
type Config struct {
	// MaxConcurrent is how many downloads may stream at once (default 2);
	// more are refused with 503 and Retry-After, so that downloads cannot
	// crowd out the graph's queries.
	MaxConcurrent int
	// Timeout bounds one download (default 2 minutes).
	Timeout time.Duration
	// MaxPerCaller is how many downloads one caller may stream at once
	// (default 1), so that one caller cannot hold every download slot;
	// more are refused with 429 and Retry-After.
	MaxPerCaller int
	// CallerKey names the caller of a request (an API client, or an
	// address), as the rate limits know it; nil counts every request as
	// one caller's.
	CallerKey func(*http.Request) string
	// IndicatorsPerRead is how many indicators' figures the analysis layout
	// reads with one find and holds at once (default 256): the memory it
	// needs, against the number of scans of the observations on FerretDB.
	IndicatorsPerRead int
}

// Handler serves GET /export/{file}.
type Handler struct {
	store   *store.Store
	log     *slog.Logger
	slots   chan struct{}
	callers callerSlots
	timeout time.Duration
	perRead int
	enums   map[string][]string
}

// New makes the download handler over s.
func New(s *store.Store, cfg Config, log *slog.Logger) *Handler {
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = 2
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.IndicatorsPerRead == 0 {
		cfg.IndicatorsPerRead = 256
	}
	if cfg.MaxPerCaller == 0 {
		cfg.MaxPerCaller = 1
	}
	if cfg.CallerKey == nil {
		cfg.CallerKey = func(*http.Request) string { return "" }
	}
	enums := map[string][]string{}
	for name, def := range graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema().Types {
		for _, v := range def.EnumValues {
			enums[name] = append(enums[name], v.Name)
		}
	}
	return &Handler{store: s, log: log, slots: make(chan struct{}, cfg.MaxConcurrent), timeout: cfg.Timeout, perRead: cfg.IndicatorsPerRead, enums: enums,
		callers: callerSlots{max: cfg.MaxPerCaller, key: cfg.CallerKey, running: map[string]int{}}}
}

// ServeHTTP streams one download: the file is named by r's {file} path
// value, its filters by the query parameters.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, format, _ := strings.Cut(file, ".")
	if format != "csv" && format != "ndjson" {
		fail(w, apierr.NotFound, fmt.Sprintf("no download %q: downloads end in .csv or .ndjson", file))
		return
	}
	if name != AnalysisFile && !slices.Contains(Collections(), name) {
		fail(w, apierr.NotFound, fmt.Sprintf("no download %q: there is one for each of %s, and %s", file, strings.Join(Collections(), ", "), AnalysisFile))
		return
	}
	q, err := h.parse(r.Context(), name, r.URL.Query())
	if errors.Is(err, store.ErrDatabase) {
		h.log.ErrorContext(r.Context(), "download filter failed", "file", file, "error", err)
		fail(w, apierr.ServiceUnavailable, "the download could not be read from the database; try again")
		return
	}
	if err != nil {
		fail(w, apierr.BadUserInput, err.Error())
		return
	}
	release, ok := h.callers.take(r)
	if !ok {
		w.Header().Set("Retry-After", "5")
		fail(w, apierr.RateLimited, fmt.Sprintf("at most %d download at once from one caller: wait for the one running to finish", h.callers.max))
		return
	}
	defer release()
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "5")
		fail(w, apierr.ServiceUnavailable, "too many downloads are running; try again in a few seconds")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
	defer cancel()

	fileName := "councilgraph-" + name + q.suffix + "-" + time.Now().UTC().Format(time.DateOnly) + "." + format
	hdr := w.Header()
	if format == "csv" {
		hdr.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	} else {
		hdr.Set("Content-Type", "application/x-ndjson; charset=utf-8")
	}
	hdr.Set("Content-Disposition", `attachment; filename="`+fileName+`"`)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")

	out := &lazyWriter{w: w}
	buf := bufio.NewWriterSize(out, 32<<10)
	var enc encoder
	if format == "csv" {
		enc = newCSV(buf)
	} else {
		enc = ndjson{buf}
	}
	if name == AnalysisFile {
		err = h.analysis(ctx, q, enc)
	} else {
		err = h.records(ctx, name, q.filter, enc)
	}
	if err == nil {
		err = enc.close()
	}
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		if out.started {
			// The status and part of the file are sent: end the response
			// abruptly, so that the client sees a broken download rather
			// than a short file that looks whole.
			h.log.ErrorContext(r.Context(), "download failed midway", "file", file, "error", err)
			panic(http.ErrAbortHandler)
		}
		h.log.ErrorContext(r.Context(), "download failed", "file", file, "error", err)
		hdr.Del("Content-Disposition")
		fail(w, apierr.ServiceUnavailable, "the download could not be read from the database; try again")
	}
}

// callerSlots counts each caller's downloads running.
type callerSlots struct {
	max     int
	key     func(*http.Request) string
	mu      sync.Mutex
	running map[string]int
}

// take counts a download of r's caller, unless it has max running.
func (c *callerSlots) take(r *http.Request) (release func(), ok bool) {
	k := c.key(r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running[k] >= c.max {
		return nil, false
	}
	c.running[k]++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.running[k]--; c.running[k] == 0 {
			delete(c.running, k)
		}
	}, true
}

// records writes every record of collection that f keeps.
func (h *Handler) records(ctx context.Context, collection string, f store.Filter, enc encoder) error {
	cols := columnsOf(reflect.TypeOf(store.KindNamed(collection).New()).Elem())
	if err := enc.header(names(cols)); err != nil {
		return err
	}
	return h.store.Export(ctx, collection, f, func(d store.Doc) error {
		v := reflect.ValueOf(d).Elem()
		return enc.record(cols, v)
	})
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// encoder writes a download in one format.
type encoder interface {
	// header starts the file with its columns.
	header(names []string) error
	// record writes one stored record.
	record(cols []column, v reflect.Value) error
	// row writes one row of cells, and obj is the same row as an object.
	row(cells []string, obj object) error
	close() error
}

// csvFile writes RFC 4180 CSV: a header row, CRLF line ends, fields quoted
// where they must be, UTF-8 without a byte order mark.
type csvFile struct{ w *csv.Writer }

func newCSV(w io.Writer) *csvFile {
	c := csv.NewWriter(w)
	c.UseCRLF = true
	return &csvFile{c}
}

func (c *csvFile) header(names []string) error { return c.write(names) }

func (c *csvFile) record(cols []column, v reflect.Value) error {
	cells := make([]string, len(cols))
	for i, col := range cols {
		cells[i] = cell(v.FieldByIndex(col.index))
	}
	return c.write(cells)
}

func (c *csvFile) row(cells []string, _ object) error { return c.write(cells) }

// write is the one way a row goes out: every cell, whatever it holds or
// where it came from (text, a list, sources, a header, a computed
// column), passes defuse.
func (c *csvFile) write(cells []string) error {
	out := make([]string, len(cells))
	for i, s := range cells {
		out[i] = defuse(s)
	}
	return c.w.Write(out)
}

func (c *csvFile) close() error {
	c.w.Flush()
	return c.w.Error()
}

// defuse stops a spreadsheet from running a cell as a formula: a cell
// that starts with =, +, -, @, a tab, a carriage return or a line feed
// gets a leading apostrophe, as OWASP advises for CSV files. A number, or
// a list of numbers joined by "; " (a negative figure, comparators'
// values), is left as it is: it runs nothing, and stays a number.
func defuse(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r\n", rune(s[0])) {
		return s
	}
	for part := range strings.SplitSeq(s, "; ") {
		if !plainNumber.MatchString(part) {
			return "'" + s
		}
	}
	return s
}

// plainNumber is a decimal number as the downloads write one.
var plainNumber = regexp.MustCompile(`^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// joinCell joins a list's items into one cell, each defused, so that a
// spreadsheet that splits the cell on "; " finds no formula either.
func joinCell(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = defuse(s)
	}
	return strings.Join(out, "; ")
}

// ndjson writes one JSON object a line.
type ndjson struct{ w io.Writer }

func (n ndjson) header([]string) error { return nil }

func (n ndjson) record(cols []column, v reflect.Value) error {
	return n.row(nil, record(cols, v))
}

func (n ndjson) row(_ []string, obj object) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = n.w.Write(append(b, '\n'))
	return err
}

func (n ndjson) close() error { return nil }

// lazyWriter notes when the first byte goes out, after which the status
// can no longer change.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.started = true
	n, err := l.w.Write(p)
	if f, ok := l.w.(http.Flusher); ok && err == nil {
		f.Flush()
	}
	return n, err
}

// fail answers with an error in the graph's shape.
func fail(w http.ResponseWriter, code apierr.Code, msg string) {
	apierr.Write(w, 0, apierr.New(code, msg))
}

// slug keeps letters, digits and hyphens, for file names.
var notSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(notSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
}
