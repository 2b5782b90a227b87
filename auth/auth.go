// Package auth owns identity: API keys (made, hashed, checked, revoked), the
// scopes they carry, and the caller each request acts as.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"councilgraph/store"
)

// The scopes a key can carry, from least to most.
const (
	ScopePublic  = "public"
	ScopePartner = "partner"
	ScopeOfficer = "officer"
	ScopeAdmin   = "admin"
)

// Scopes lists every scope, least first.
func Scopes() []string { return []string{ScopePublic, ScopePartner, ScopeOfficer, ScopeAdmin} }

// IsScope reports whether s is a scope.
func IsScope(s string) bool { return slices.Contains(Scopes(), s) }

// Caller is who a request acts for.
type Caller struct {
	// Client is the API client, nil for an anonymous caller.
	Client *store.Client
	// Scope is the highest scope the caller holds.
	Scope string
}

// Anonymous is a caller without credentials.
var Anonymous = Caller{Scope: ScopePublic}

// ClientID is the client's ID, or "" for an anonymous caller.
func (c Caller) ClientID() string {
	if c.Client == nil {
		return ""
	}
	return c.Client.ID
}

// Level is what the caller's scope may see of the data.
func (c Caller) Level() store.Level {
	switch c.Scope {
	case ScopePartner:
		return store.Partner
	case ScopeOfficer, ScopeAdmin:
		return store.Officer
	}
	return store.Public
}

// highest is the greatest of scopes.
func highest(scopes []string) string {
	best := 0
	for _, s := range scopes {
		best = max(best, slices.Index(Scopes(), s))
	}
	return Scopes()[best]
}

// CallerFrom is the caller a context's request acts for; Anonymous when
// it carries none.
func CallerFrom(ctx context.Context) Caller {
	if r := store.RequestOf(ctx); r != nil && r.Scope != "" {
		return Caller{Client: r.Client, Scope: r.Scope}
	}
	return Anonymous
}

// keyPrefix starts every key, so that keys are easy to spot in a leak.
const keyPrefix = "cgk_"

var keyForm = regexp.MustCompile(`^cgk_[A-Za-z0-9_-]{43}$`)

// Hash is the stored form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Errors Authenticate returns; each is refused with 401.
var (
	ErrMalformedKey = errors.New("the API key is malformed")
	ErrUnknownKey   = errors.New("the API key is not known")
	ErrRevokedKey   = errors.New("the API key has been revoked")
)

// Authenticate finds the client a key belongs to. Lookups go to the
// database each time, so a new or revoked key takes effect at once.
func Authenticate(ctx context.Context, s *store.Store, key string) (Caller, error) {
	if !keyForm.MatchString(key) {
		return Anonymous, ErrMalformedKey
	}
	c, err := s.FindClientByKeyHash(ctx, Hash(key))
	switch {
	case err != nil:
		return Anonymous, err
	case c == nil:
		return Anonymous, ErrUnknownKey
	case c.RevokedAt != nil:
		return Anonymous, ErrRevokedKey
	}
	return Caller{Client: c, Scope: highest(c.Scopes)}, nil
}

// CreateKey makes a client with a new random key (256 bits) and stores only
// the key's hash. The key is returned once and cannot be recovered.
func CreateKey(ctx context.Context, s *store.Store, name, organisation string, scopes []string, now time.Time) (key string, c *store.Client, err error) {
	if strings.TrimSpace(name) == "" {
		return "", nil, errors.New("a client needs a name")
	}
	if len(scopes) == 0 {
		return "", nil, errors.New("a client needs at least one scope: " + strings.Join(Scopes(), ", "))
	}
	for _, sc := range scopes {
		if !IsScope(sc) {
			return "", nil, fmt.Errorf("%q is not a scope; use %s", sc, strings.Join(Scopes(), ", "))
		}
	}
	var secret [32]byte
	var id [6]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", nil, err
	}
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	c = &store.Client{
		ID:           "client:" + hex.EncodeToString(id[:]),
		Name:         name,
		Organisation: organisation,
		Scopes:       scopes,
		KeyHash:      Hash(key),
		CreatedAt:    now.UTC().Truncate(time.Millisecond),
	}
	if err := s.InsertClient(ctx, c); err != nil {
		return "", nil, err
	}
	return key, c, nil
}
