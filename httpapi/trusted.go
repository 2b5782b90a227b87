package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	gqllru "github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"councilgraph/apierr"
	"councilgraph/auth"
	"councilgraph/telemetry"
)

// Manifest is a trusted-documents manifest: the operations that callers of
// the named scopes may run, each with the SHA-256 of its document as its ID
// (the form of Apollo's persisted query manifests, plus `scopes`).
type Manifest struct {
	// Scopes are the scopes held to the manifest; other scopes run any
	// operation.
	Scopes     []string `json:"scopes"`
	Operations []struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		Body string `json:"body"`
	} `json:"operations"`
}

// LoadManifest reads and checks a manifest: known scopes, and IDs that are
// the hashes of their documents.
func LoadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	if len(m.Scopes) == 0 {
		return nil, fmt.Errorf("trusted documents %s: name the scopes held to it in \"scopes\"", path)
	}
	for _, s := range m.Scopes {
		if !auth.IsScope(s) {
			return nil, fmt.Errorf("trusted documents %s: %q is not a scope", path, s)
		}
	}
	for i, op := range m.Operations {
		if documentHash(op.Body) != op.ID {
			return nil, fmt.Errorf("trusted documents %s: operation %d (%s): id is not the SHA-256 of its body", path, i, op.Name)
		}
	}
	return &m, nil
}

// TrustedDocuments lets callers of the manifest's scopes run only its
// operations, sent in full or by hash (automatic persisted queries).
type TrustedDocuments struct{ Manifest *Manifest }

// ExtensionName names the extension.
func (TrustedDocuments) ExtensionName() string { return "TrustedDocuments" }

// Validate accepts any schema.
func (TrustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an untrusted document for a held scope.
func (t TrustedDocuments) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	scope := auth.CallerFrom(ctx).Scope
	if !slices.Contains(t.Manifest.Scopes, scope) {
		return nil
	}
	h := documentHash(rc.RawQuery)
	for _, op := range t.Manifest.Operations {
		if op.ID == h {
			return nil
		}
	}
	telemetry.Refused(ctx, "persisted_only")
	return codedError(apierr.Forbidden, "only trusted documents run for scope %s, and this document (sha256 %s) is not one of them", scope, h)
}

// persistedCache is the cache of automatic persisted queries. The trusted
// manifest's documents are held apart from it, whole and never evicted;
// callers held to the manifest find only those and add nothing, so that
// what they send cannot push the trusted documents, or anyone's, out.
type persistedCache struct {
	trusted map[string]string
	held    []string // scopes held to the manifest
	lru     graphql.Cache[string]
}

func newPersistedCache(size int, m *Manifest) *persistedCache {
	c := &persistedCache{trusted: map[string]string{}, lru: gqllru.New[string](size)}
	if m != nil {
		c.held = m.Scopes
		for _, op := range m.Operations {
			c.trusted[op.ID] = op.Body
		}
	}
	return c
}

func (c *persistedCache) isHeld(ctx context.Context) bool {
	return slices.Contains(c.held, auth.CallerFrom(ctx).Scope)
}

// Get finds a document by hash.
func (c *persistedCache) Get(ctx context.Context, key string) (string, bool) {
	if v, ok := c.trusted[key]; ok {
		return v, true
	}
	if c.isHeld(ctx) {
		return "", false
	}
	return c.lru.Get(ctx, key)
}

// Add registers a document, unless its caller is held to the manifest.
func (c *persistedCache) Add(ctx context.Context, key, value string) {
	if _, ok := c.trusted[key]; ok || c.isHeld(ctx) {
		return
	}
	c.lru.Add(ctx, key, value)
}
