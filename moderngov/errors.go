package moderngov

import (
	"fmt"
	"time"
)

// Kind says what sort of failure an Error is.
type Kind int

// The kinds of failure.
const (
	// Network: the site could not be reached, or the answer broke off.
	Network Kind = iota + 1
	// Timeout: no answer in time.
	Timeout
	// Unavailable: 5xx or 429, still failing after the retries.
	Unavailable
	// Forbidden: 403, usually a bot shield or a firewall.
	Forbidden
	// NotFound: 404, no web service at the address.
	NotFound
	// NotXML: an HTML page or a redirect instead of the service's XML.
	NotXML
	// Unsupported: the site's web service does not offer the operation.
	Unsupported
	// Malformed: XML that is broken, hostile, or of another shape.
	Malformed
	// TooLarge: an answer over the size bound.
	TooLarge
	// Canceled: the caller stopped the read.
	Canceled
)

var kindNames = map[Kind]string{
	Network: "network", Timeout: "timeout", Unavailable: "unavailable", Forbidden: "forbidden",
	NotFound: "not found", NotXML: "not XML", Unsupported: "unsupported", Malformed: "malformed",
	TooLarge: "too large", Canceled: "canceled",
}

// String names the kind.
func (k Kind) String() string { return kindNames[k] }

// Error is a failed read of one operation: what was asked, what happened,
// and what to try.
type Error struct {
	// Op is the operation (GetMeeting) and Params its query (lMeetingId=4967).
	Op, Params string
	// Status is the HTTP status, 0 where there was no answer.
	Status int
	Kind   Kind
	// Reason says what happened; Hint what to try.
	Reason, Hint string
	Err          error

	retry      bool
	retryAfter time.Duration
}

// Error reads as one sentence: "GetMeeting lMeetingId=4967: the site
// answered 503 Service Unavailable (after 5 tries); the site is busy ...".
func (e *Error) Error() string {
	what := e.Op
	if e.Params != "" {
		what += " " + e.Params
	}
	s := fmt.Sprintf("%s: %s", what, e.Reason)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }
