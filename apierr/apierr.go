// Package apierr owns the service's error codes and writes every error body
// the service sends outside a GraphQL response: the codes are those of
// extensions.code, the bodies are GraphQL-shaped ({"errors": [...]}) JSON,
// so that a client reads one form whichever layer refused it.
package apierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code is what extensions.code says of an error.
type Code string

// The codes. Every error the service gives carries one of them.
const (
	// BadUserInput: the request, a document or an argument is at fault, and
	// the message says how.
	BadUserInput Code = "BAD_USER_INPUT"
	// NotFound: no such path or resource (a single lookup of an unknown ID is
	// null, not an error).
	NotFound Code = "NOT_FOUND"
	// Unauthenticated: the credentials are malformed, unknown or revoked.
	Unauthenticated Code = "UNAUTHENTICATED"
	// Forbidden: the caller may not do this.
	Forbidden Code = "FORBIDDEN"
	// RateLimited: the caller has spent their allowance; retry later.
	RateLimited Code = "RATE_LIMITED"
	// ServiceUnavailable: the service or its database cannot answer now.
	ServiceUnavailable Code = "SERVICE_UNAVAILABLE"
	// Internal: a fault of the service's own, logged with the request ID.
	Internal Code = "INTERNAL"
)

// The automatic persisted queries protocol's own codes: clients retry on them.
const (
	PersistedQueryNotFound     Code = "PERSISTED_QUERY_NOT_FOUND"
	PersistedQueryNotSupported Code = "PERSISTED_QUERY_NOT_SUPPORTED"
)

// ChangesExpired: the change feed no longer holds the changes after the
// cursor given (they are older than its retention); the client must
// resynchronise from the lists and read the feed from a fresh cursor.
const ChangesExpired Code = "CHANGES_EXPIRED"

// Known reports whether c is one of the service's codes.
func Known(c string) bool {
	switch Code(c) {
	case BadUserInput, NotFound, Unauthenticated, Forbidden, RateLimited, ServiceUnavailable, Internal,
		PersistedQueryNotFound, PersistedQueryNotSupported, ChangesExpired:
		return true
	}
	return false
}

// Status is the HTTP status an error of code c answers with when it stops a
// request before any data.
func Status(c Code) int {
	switch c {
	case NotFound:
		return http.StatusNotFound
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case RateLimited:
		return http.StatusTooManyRequests
	case ServiceUnavailable:
		return http.StatusServiceUnavailable
	case Internal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// Error is one error as the service writes it.
type Error struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// New makes an error of code c; extra extension fields may follow as
// key/value pairs ("argument", "first").
func New(c Code, msg string, kv ...any) Error {
	ext := map[string]any{"code": string(c)}
	for i := 0; i+1 < len(kv); i += 2 {
		ext[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return Error{Message: msg, Extensions: ext}
}

// Write sends one error as a GraphQL-shaped JSON body with status (0: the
// code's own Status).
func Write(w http.ResponseWriter, status int, e Error) {
	if status == 0 {
		status = Status(Code(fmt.Sprint(e.Extensions["code"])))
	}
	b, err := json.Marshal(struct {
		Errors []Error `json:"errors"`
	}{[]Error{e}})
	if err != nil { // a map of strings always encodes; this is a backstop
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Writef is Write with a formatted message and the code's own status.
func Writef(w http.ResponseWriter, c Code, format string, args ...any) {
	Write(w, 0, New(c, fmt.Sprintf(format, args...)))
}

// The mapping from errors to codes. An error says its code by having, in
// its chain, an error with an ErrorCode method (the store's and the
// service's own errors do); CodeOf is the one place any error becomes a
// code, and Status then the HTTP status, for every writer of an error.

// Coder is an error that says its code.
type Coder interface {
	error
	ErrorCode() Code
}

// Errorf makes an error of code c whose message is formatted as
// fmt.Errorf formats it; an error it wraps (%w) stays in its chain.
func Errorf(c Code, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &codedError{code: c, msg: err.Error(), err: errors.Unwrap(err)}
}

// codedError is an error made with its code.
type codedError struct {
	code Code
	msg  string
	err  error
}

func (e *codedError) Error() string   { return e.msg }
func (e *codedError) ErrorCode() Code { return e.code }
func (e *codedError) Unwrap() error   { return e.err }

// CodeOf is err's code: that of the first Coder in its chain; for a
// deadline or a cancellation, ServiceUnavailable (the request took too
// long, or its caller left); for nil, ""; for anything else, Internal,
// which its writer logs and does not show.
func CodeOf(err error) Code {
	var c Coder
	switch {
	case err == nil:
		return ""
	case errors.As(err, &c):
		return c.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ServiceUnavailable
	}
	return Internal
}
