package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"councilgraph/apierr"
	"councilgraph/store"
)

// Middleware works out who each request acts for, from `Authorization:
// Bearer <key>` or `X-API-Key: <key>`, and passes on the request begin
// makes for that caller. Without credentials the caller is anonymous; a
// key that is malformed, unknown or revoked is refused with 401 and an
// UNAUTHENTICATED error, never treated as anonymous.
func Middleware(s *store.Store, log *slog.Logger, begin func(*http.Request, Caller) context.Context, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := credentials(r)
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		caller := Anonymous
		if key != "" {
			lctx, cancel := context.WithTimeout(r.Context(), lookupTimeout)
			caller, err = Authenticate(lctx, s, key)
			cancel()
			switch {
			case errors.Is(err, ErrMalformedKey), errors.Is(err, ErrUnknownKey), errors.Is(err, ErrRevokedKey):
				unauthenticated(w, err.Error())
				return
			case err != nil:
				log.ErrorContext(r.Context(), "authenticate", "error", err)
				apierr.Writef(w, apierr.ServiceUnavailable, "could not check the API key; try again shortly")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(begin(r, caller)))
	})
}

// lookupTimeout bounds a key's lookup, whatever the request's own deadline.
const lookupTimeout = 2 * time.Second

// credentials is the key a request carries, "" when none.
func credentials(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	x := r.Header.Get("X-API-Key")
	switch {
	case h != "" && x != "":
		return "", errors.New("send the API key in Authorization or X-API-Key, not both")
	case x != "":
		return strings.TrimSpace(x), nil
	case h == "":
		return "", nil
	}
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("the Authorization header must be 'Bearer <API key>'")
	}
	return strings.TrimSpace(key), nil
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="councilgraph"`)
	apierr.Writef(w, apierr.Unauthenticated, "%s", msg)
}
