package moderngov

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	DefaultRate      = 2.0
	DefaultTimeout   = 30 * time.Second
	DefaultRetries   = 4
	DefaultMaxBytes  = 16 << 20
	DefaultUserAgent = "councilgraph (+https://github.com/councilgraph/councilgraph; reads the public mgWebService)"
	// maxRetryAfter is the longest Retry-After the client waits for; a
	// server asking for longer is reported instead of waited on.
	maxRetryAfter = 5 * time.Minute
)

// Options tune a Client; the zero value is the polite default.
type Options struct {
	// Rate is the most requests a second (DefaultRate when 0; no limit
	// when negative, for tests against a local server).
	Rate float64
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
	// Retries is how many times a request that failed in a way that may
	// pass (a timeout, a broken connection, 429, 502, 503, 504, 500) is
	// tried again (DefaultRetries when 0; none when negative).
	Retries int
	// MaxBytes is the largest response read (DefaultMaxBytes when 0).
	MaxBytes int64
	// UserAgent names the client to the site (DefaultUserAgent when empty).
	UserAgent string
	// HTTPClient sends the requests (a new one when nil).
	HTTPClient *http.Client
	// Cache keeps validators and bodies for conditional requests (an
	// in-memory one when nil).
	Cache Cache
	// Sleep waits between tries (a context-aware timer when nil).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Cache keeps what a conditional request needs: a response's validators
// and body, by URL.
type Cache interface {
	Get(url string) (Cached, bool)
	Put(url string, c Cached)
}

// Cached is a response kept for conditional requests.
type Cached struct {
	ETag, LastModified string
	Body               []byte
}

// MemoryCache is a Cache in memory, safe for concurrent use.
type MemoryCache struct {
	mu sync.Mutex
	m  map[string]Cached
}

// Get returns the response kept for url.
func (c *MemoryCache) Get(url string) (Cached, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[url]
	return v, ok
}

// Put keeps a response for url.
func (c *MemoryCache) Put(url string, v Cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]Cached{}
	}
	c.m[url] = v
}

// Stats counts what a Client has done.
type Stats struct {
	// Requests sent, retries among them, answers 304 Not Modified, and
	// bytes of bodies read.
	Requests, Retries, NotModified int
	Bytes                          int64
}

// Client reads one modern.gov site's web service.
type Client struct {
	base    *url.URL
	opt     Options
	limiter *rate.Limiter

	mu    sync.Mutex
	stats Stats
}

// New returns a client of the site at base, the site's address
// (https://moderngov.example.gov.uk, or that with /mgWebService.asmx).
func New(base string, opt Options) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the site address %q is not an http(s) address such as https://moderngov.example.gov.uk", base)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/mgWebService.asmx")
	u.RawQuery, u.Fragment = "", ""
	if opt.Rate == 0 {
		opt.Rate = DefaultRate
	}
	if opt.Timeout == 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.Retries == 0 {
		opt.Retries = DefaultRetries
	} else if opt.Retries < 0 {
		opt.Retries = 0
	}
	if opt.MaxBytes == 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.UserAgent == "" {
		opt.UserAgent = DefaultUserAgent
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{
			// The service's answers are never redirects; one is a sign of a
			// login page or a bot shield, reported as such.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opt.Cache == nil {
		opt.Cache = &MemoryCache{}
	}
	if opt.Sleep == nil {
		opt.Sleep = sleep
	}
	limit := rate.Limit(opt.Rate)
	if opt.Rate < 0 {
		limit = rate.Inf
	}
	return &Client{base: u, opt: opt, limiter: rate.NewLimiter(limit, 1)}, nil
}

// Stats returns what the client has done so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Base returns the site's address, as the client normalised it
// (https://moderngov.example.gov.uk, without /mgWebService.asmx).
func (c *Client) Base() string { return c.base.String() }

// Page returns the address of one of the site's public pages, such as
// Page("mgAi.aspx", "ID", 18831).
func (c *Client) Page(page, param string, id int) string {
	u := *c.base
	u.Path += "/" + page
	u.RawQuery = url.Values{param: {strconv.Itoa(id)}}.Encode()
	return u.String()
}

// OperationURL returns the address of an operation of the web service.
func (c *Client) OperationURL(op string, params url.Values) string {
	u := *c.base
	u.Path += "/mgWebService.asmx/" + op
	u.RawQuery = params.Encode()
	return u.String()
}

// Committees reads GetCommittees.
func (c *Client) Committees(ctx context.Context) ([]Committee, error) {
	body, err := c.get(ctx, "GetCommittees", nil)
	if err != nil {
		return nil, err
	}
	v, err := parseCommittees(body)
	return v, c.wrap("GetCommittees", nil, err)
}

// MeetingsParams are GetMeetings' parameters for a committee and a window.
// Dates go as dd/mm/yyyy: the service silently ignores an ISO date and
// answers every meeting the committee ever had.
func MeetingsParams(committee int, from, to time.Time) url.Values {
	return url.Values{
		"lCommitteeId": {strconv.Itoa(committee)},
		"sFromDate":    {from.Format("02/01/2006")},
		"sToDate":      {to.Format("02/01/2006")},
	}
}

// Meetings reads GetMeetings for one committee between from and to.
func (c *Client) Meetings(ctx context.Context, committee int, from, to time.Time) ([]MeetingRef, error) {
	params := MeetingsParams(committee, from, to)
	body, err := c.get(ctx, "GetMeetings", params)
	if err != nil {
		return nil, err
	}
	v, err := parseMeetings(body)
	return v, c.wrap("GetMeetings", params, err)
}

// MeetingParams are GetMeeting's parameters.
func MeetingParams(id int) url.Values { return url.Values{"lMeetingId": {strconv.Itoa(id)}} }

// Meeting reads GetMeeting.
func (c *Client) Meeting(ctx context.Context, id int) (*Meeting, error) {
	params := MeetingParams(id)
	body, err := c.get(ctx, "GetMeeting", params)
	if err != nil {
		return nil, err
	}
	v, err := parseMeeting(body)
	if err == nil && v.ID != id {
		err = fmt.Errorf("%w: asked for meeting %d, the answer is meeting %d", errMalformed, id, v.ID)
	}
	return v, c.wrap("GetMeeting", params, err)
}

// CouncillorsByWard reads GetCouncillorsByWard.
func (c *Client) CouncillorsByWard(ctx context.Context) ([]Ward, error) {
	body, err := c.get(ctx, "GetCouncillorsByWard", nil)
	if err != nil {
		return nil, err
	}
	v, err := parseWards(body)
	return v, c.wrap("GetCouncillorsByWard", nil, err)
}

// wrap turns a parse error into an Error naming the operation.
func (c *Client) wrap(op string, params url.Values, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Params: params.Encode(), Kind: Malformed, Reason: err.Error(),
		Hint: "the site answered XML of another shape than modern.gov's; open " + c.OperationURL(op, params) + " in a browser to see it", Err: err}
}

// get sends one operation's request, politely, and returns its body.
func (c *Client) get(ctx context.Context, op string, params url.Values) ([]byte, error) {
	addr := c.OperationURL(op, params)
	var last *Error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait := backoff(attempt)
			if last.retryAfter > 0 {
				wait = last.retryAfter
			}
			c.count(func(s *Stats) { s.Retries++ })
			if err := c.opt.Sleep(ctx, wait); err != nil {
				return nil, last
			}
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return nil, &Error{Op: op, Params: params.Encode(), Kind: Canceled, Reason: "stopped before the request was sent", Err: err}
		}
		body, err := c.once(ctx, op, params, addr)
		if err == nil {
			return body, nil
		}
		last = err
		if !err.retry || attempt >= c.opt.Retries || err.retryAfter > maxRetryAfter || ctx.Err() != nil {
			if attempt > 0 {
				err.Reason += fmt.Sprintf(" (after %d tries)", attempt+1)
			}
			return nil, err
		}
	}
}

// once sends one request and reads its answer.
func (c *Client) once(ctx context.Context, op string, params url.Values, addr string) ([]byte, *Error) {
	fail := func(kind Kind, status int, reason, hint string, err error) *Error {
		return &Error{Op: op, Params: params.Encode(), Status: status, Kind: kind, Reason: reason, Hint: hint, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return nil, fail(Network, 0, "cannot make the request", "check --url", err)
	}
	req.Header.Set("User-Agent", c.opt.UserAgent)
	req.Header.Set("Accept", "text/xml, application/xml")
	cached, haveCached := c.opt.Cache.Get(addr)
	if haveCached {
		if cached.ETag != "" {
			req.Header.Set("If-None-Match", cached.ETag)
		}
		if cached.LastModified != "" {
			req.Header.Set("If-Modified-Since", cached.LastModified)
		}
	}
	c.count(func(s *Stats) { s.Requests++ })
	resp, err := c.opt.HTTPClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			e := fail(Timeout, 0, fmt.Sprintf("no answer within %s", c.opt.Timeout), "the site may be slow or down: try again later, or raise --timeout", err)
			e.retry = true
			return nil, e
		}
		if errors.Is(err, context.Canceled) {
			return nil, fail(Canceled, 0, "stopped", "", err)
		}
		e := fail(Network, 0, "cannot reach the site: "+err.Error(), "check --url and this machine's network", err)
		e.retry = true
		return nil, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opt.MaxBytes+1))
	c.count(func(s *Stats) { s.Bytes += int64(len(body)) })
	if err != nil {
		e := fail(Network, resp.StatusCode, "the answer broke off: "+err.Error(), "try again later", err)
		e.retry = true
		return nil, e
	}
	if int64(len(body)) > c.opt.MaxBytes {
		return nil, fail(TooLarge, resp.StatusCode, fmt.Sprintf("the answer is larger than %d bytes", c.opt.MaxBytes),
			"narrow the window with --from and --to, or raise --max-bytes if the site really answers this much", nil)
	}
	status := resp.StatusCode
	switch {
	case status == http.StatusNotModified && haveCached:
		c.count(func(s *Stats) { s.NotModified++ })
		return cached.Body, nil
	case status == http.StatusOK:
		if isHTML(resp.Header.Get("Content-Type"), body) {
			return nil, fail(NotXML, status, "the site answered an HTML page, not the web service's XML",
				"the web service may be switched off on this site, or --url may not be the site's base address; open "+addr+" in a browser", nil)
		}
		if v := (Cached{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Body: body}); v.ETag != "" || v.LastModified != "" {
			c.opt.Cache.Put(addr, v)
		}
		return body, nil
	case status == http.StatusForbidden:
		return nil, fail(Forbidden, status, "the site refused the request (403 Forbidden)",
			"a bot shield or firewall may block this address or User-Agent: try later, lower --rate, or ask the council to allow it", nil)
	case status == http.StatusNotFound:
		return nil, fail(NotFound, status, "there is no web service at this address (404 Not Found)",
			"check --url: it is the site's base address, e.g. https://moderngov.example.gov.uk; some sites switch the service off", nil)
	case status >= 300 && status < 400:
		return nil, fail(NotXML, status, fmt.Sprintf("the site redirected the request (%d) to %s", status, resp.Header.Get("Location")),
			"the service may sit behind a login page or a bot shield; check --url", nil)
	case status == http.StatusTooManyRequests || status == http.StatusInternalServerError ||
		status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		e := fail(Unavailable, status, fmt.Sprintf("the site answered %d %s", status, http.StatusText(status)),
			"the site is busy or failing: try again later, or lower --rate", nil)
		if status == http.StatusInternalServerError && bytes.Contains(bytes.ToLower(body), []byte("soap")) {
			// ASP.NET answers an operation it does not offer with a 500 and
			// a SOAP or "Request format is unrecognized" message: no retry.
			e.Reason = "the site does not offer " + op + " (500 with a web-service error)"
			e.Hint = "this site's web service lacks the operation; the rest of the sync carries on without it"
			e.Kind = Unsupported
			return nil, e
		}
		e.retry = true
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if e.retryAfter > maxRetryAfter {
			e.Hint = fmt.Sprintf("the site asks to wait %s before trying again", e.retryAfter.Round(time.Second))
		}
		return nil, e
	default:
		return nil, fail(Unavailable, status, fmt.Sprintf("the site answered %d %s", status, http.StatusText(status)), "try again later", nil)
	}
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}

// isHTML says whether an answer is an HTML page: by its type, or by how it
// begins where the type says XML (some shields answer text/xml pages).
func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// backoff is the wait before try attempt+1: exponential from one second,
// up to a minute, with full jitter so that many clients do not retry as
// one.
func backoff(attempt int) time.Duration {
	ceiling := min(time.Second<<min(attempt-1, 6), time.Minute)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Second/2
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
