package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"councilgraph/auth"
	"councilgraph/store"
)

// DefaultResponseCacheSize is the response cache's bound unless
// Config.ResponseCacheSize says otherwise: 64 MiB.
const DefaultResponseCacheSize = 64 << 20

// entryOverhead is what an entry is reckoned to weigh beyond its key and
// its answer: the list element, the map slot and the entry itself.
const entryOverhead = 128

// ResponseCache answers queries it has answered before from memory. An
// answer is filed under a key made of the document as parsed (re-printed,
// so that whitespace and comments do not matter), the operation name, the
// coerced variables and the caller's visibility level, with the
// generations it depends on: while it ran, the store noted which councils'
// records its reads depended on (store/reads.go), and the answer is served
// again only while each of those councils' generations, and that of the
// API keys, is what it was before it ran. So a write to one council leaves
// every other council's answers standing, and a write that any answer may
// depend on (a list across councils, the change feed) ends those.
//
// It is an operation interceptor that runs after every check a request
// must pass (rate limits, trusted documents, depth, cost, and the
// operation log, which records keyed calls served from it) and before any
// resolver, so a hit costs no store work. Only queries are cached, and
// only answers without errors whose request was not cut short; with
// introspection restricted, no operation that introspects is cached.
// No API key setting other than its scopes changes an answer, and scopes
// are in the key through the level.
type ResponseCache struct {
	store *store.Store
	// introspectionOpen says everyone may introspect.
	introspectionOpen bool
	max               int64

	mu      sync.Mutex
	entries *simplelru.LRU[string, *cached]
	bytes   int64

	docs                    *lru.Cache[[32]byte, [32]byte]
	hits, misses, evictions atomic.Int64
}

// CacheStats are the response cache's counters since it started, for the
// request log and for metrics.
type CacheStats struct {
	// Hits and Misses count cacheable queries answered from memory and
	// run to be stored.
	Hits, Misses int64
	// Evictions counts answers dropped to keep within the bound (not those
	// dropped because the generation moved on).
	Evictions int64
	// Bytes is what the entries held weigh now; Entries how many they are.
	Bytes, Entries int64
}

// NewResponseCache makes a cache of at most maxBytes for s. What HTTP
// caches may keep is decided apart from it (decideCaching), so that
// turning it off changes no header.
func NewResponseCache(s *store.Store, maxBytes int64, introspectionOpen bool) *ResponseCache {
	c := &ResponseCache{store: s, introspectionOpen: introspectionOpen, max: maxBytes}
	// The count bound is never reached: put evicts by bytes itself.
	c.entries, _ = simplelru.NewLRU[string, *cached](math.MaxInt, func(k string, v *cached) {
		c.bytes -= v.weight(k)
	})
	c.docs, _ = lru.New[[32]byte, [32]byte](1000)
	return c
}

// cached is one answer and the generations it was read under.
type cached struct {
	data []byte
	// keys is the API keys' generation; all says the answer depends on
	// every council's records, and records is then the records'
	// generation; councils otherwise holds the generation of each council
	// (or of the shared registries) it depends on.
	keys, records int64
	all           bool
	councils      map[string]int64
}

func (e *cached) weight(k string) int64 {
	return int64(len(k)+len(e.data)+len(e.councils)*48) + entryOverhead
}

// current reports whether the generations the answer was read under are
// still those in force.
func (e *cached) current(g store.Generations) bool {
	if e.keys != g.Keys {
		return false
	}
	if e.all {
		return e.records == g.Records
	}
	for c, v := range e.councils {
		if g.Councils[c] != v {
			return false
		}
	}
	return true
}

// Stats returns the cache's counters.
func (c *ResponseCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(), Bytes: c.bytes, Entries: int64(c.entries.Len())}
}

// ExtensionName names the extension.
func (*ResponseCache) ExtensionName() string { return "ResponseCache" }

// Validate accepts any schema.
func (*ResponseCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation answers from the cache, or runs the operation and
// keeps its answer.
func (c *ResponseCache) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	rc := graphql.GetOperationContext(ctx)
	note := cacheNoteFrom(ctx)
	if rc.Operation == nil || rc.Operation.Operation != ast.Query ||
		(!c.introspectionOpen && introspects(rc.RawQuery)) {
		return next(ctx)
	}
	// The generations are read before the operation runs: records written
	// later may be read, but are then filed under generations already
	// superseded, never the other way about.
	gens := c.store.SeenGenerations()
	key, ok := c.key(rc, store.LevelOf(ctx))
	if !ok {
		return next(ctx)
	}
	if data, ok := c.get(key, gens); ok {
		c.hits.Add(1)
		if note != nil {
			note.outcome = "hit"
		}
		return graphql.OneShot(&graphql.Response{Data: data})
	}
	c.misses.Add(1)
	if note != nil {
		note.outcome = "miss"
	}
	ctx, reads := store.WithReads(ctx)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || len(resp.Errors) > 0 || resp.Data == nil || ctx.Err() != nil {
			return resp
		}
		if store.ReadsIn(ctx) != reads || reads.Behind() {
			// The resolvers ran under a context that did not note their
			// reads (what the answer depends on is unknown), or read data
			// older than the generations it would be filed under.
			return resp
		}
		e := &cached{data: bytes.Clone(resp.Data), keys: gens.Keys, records: gens.Records, all: reads.All()}
		if !e.all {
			e.councils = map[string]int64{}
			for _, g := range reads.Councils() {
				e.councils[g] = gens.Councils[g]
			}
		}
		c.put(key, e)
		return resp
	}
}

// key is the operation's cache key, or false when its variables cannot be
// put in canonical form.
func (c *ResponseCache) key(rc *graphql.OperationContext, level store.Level) (string, bool) {
	doc := c.docHash(rc)
	vars, err := json.Marshal(rc.Variables) // map keys sorted: canonical
	if err != nil {
		return "", false
	}
	h := sha256.New()
	h.Write(doc[:])
	var n [8]byte
	for _, v := range []int64{int64(level), int64(len(rc.OperationName))} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	h.Write([]byte(rc.OperationName))
	if rc.DisableIntrospection {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write(vars)
	return hex.EncodeToString(h.Sum(nil)), true
}

// docHash hashes the document as the formatter prints it, without
// comments or layout; the printing is remembered by the raw text's hash.
func (c *ResponseCache) docHash(rc *graphql.OperationContext) [32]byte {
	raw := sha256.Sum256([]byte(rc.RawQuery))
	if h, ok := c.docs.Get(raw); ok {
		return h
	}
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithCompacted()).FormatQueryDocument(rc.Doc)
	h := sha256.Sum256(b.Bytes())
	c.docs.Add(raw, h)
	return h
}

func (c *ResponseCache) get(key string, gens store.Generations) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries.Get(key)
	if !ok {
		return nil, false
	}
	if !e.current(gens) {
		c.entries.Remove(key)
		return nil, false
	}
	return e.data, true
}

func (c *ResponseCache) put(key string, e *cached) {
	w := e.weight(key)
	if w > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries.Peek(key); ok {
		c.bytes -= old.weight(key) // Add replaces it without the callback
	}
	c.entries.Add(key, e)
	c.bytes += w
	for c.bytes > c.max {
		if _, _, ok := c.entries.RemoveOldest(); !ok {
			break
		}
		c.evictions.Add(1)
	}
}

// introspects says whether a document may select __schema or __type
// (looked for in its text, so that no fragment hides one).
func introspects(doc string) bool { return introspectionField.MatchString(doc) }

var introspectionField = regexp.MustCompile(`__(schema|type)\b`)

// cacheNote is what the cache tells the request log about one request.
type cacheNote struct {
	outcome string // "hit", "miss", or "" when the cache did not apply
}

type cacheNoteKey struct{}

func withCacheNote(ctx context.Context) (context.Context, *cacheNote) {
	n := &cacheNote{}
	return context.WithValue(ctx, cacheNoteKey{}, n), n
}

func cacheNoteFrom(ctx context.Context) *cacheNote {
	n, _ := ctx.Value(cacheNoteKey{}).(*cacheNote)
	return n
}

// varyHeaders are the request headers that change an answer: the two that
// can carry an API key (auth.Middleware reads both) and the one that picks
// its media type.
const varyHeaders = "Authorization, X-API-Key, Accept"

// cachePolicy is what HTTP caches (a browser's, a CDN, a partner's router)
// may do with one answer. It is decided here and nowhere else, from what
// the request was and what it answered, whatever the response cache did
// and whatever the document's text mentions:
//
//   - An answer that is not a query's, or that has errors or no data, or
//     whose request was cut short, is kept by none: no-store.
//   - A keyed caller's answer (it may hold what only that key may see) is
//     kept only by the caller's own cache and checked each time: private,
//     no-cache, with an ETag.
//   - An anonymous caller's answer is the same for every anonymous caller:
//     public, max-age, with an ETag.
//
// Every answer carries Vary on the headers that carry a key and on
// Accept, so that a shared cache never serves one caller's answer to
// another.
type cachePolicy struct {
	cacheControl string
	etag         string
}

// decideCaching is the policy of resp, the answer to op for the caller of
// ctx, as body in media. The ETag is strong: it hashes the caller's
// visibility level, whether it is keyed, the media type and the body's
// bytes, so that it matches only the same bytes for a caller who may see
// them.
func decideCaching(ctx context.Context, op *ast.OperationDefinition, resp *graphql.Response, media string, body []byte, maxAge time.Duration) cachePolicy {
	if op == nil || op.Operation != ast.Query || resp == nil || len(resp.Errors) > 0 || resp.Data == nil || ctx.Err() != nil {
		return cachePolicy{cacheControl: "no-store"}
	}
	keyed := auth.CallerFrom(ctx).Client != nil
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(store.LevelOf(ctx)))
	h.Write(n[:])
	if keyed {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	h.Write([]byte(media + "\x00"))
	h.Write(body)
	p := cachePolicy{etag: `"` + hex.EncodeToString(h.Sum(nil)[:20]) + `"`}
	if keyed {
		p.cacheControl = "private, no-cache"
	} else {
		p.cacheControl = fmt.Sprintf("public, max-age=%d", int(maxAge/time.Second))
	}
	return p
}

// write sets p's headers on w. For a GET whose If-None-Match names
// the answer's ETag it writes 304 Not Modified and reports true; a POST is
// never answered 304 (If-None-Match on a POST asks something else).
func (p cachePolicy) write(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", varyHeaders)
	h.Set("Cache-Control", p.cacheControl)
	if p.etag == "" {
		return false
	}
	h.Set("ETag", p.etag)
	if r.Method == http.MethodGet && etagMatches(r.Header.Get("If-None-Match"), p.etag) {
		h.Del("Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}

// etagMatches compares an If-None-Match header with etag, weakly as RFC
// 9110 says If-None-Match does.
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == "*" || part == etag {
			return true
		}
	}
	return false
}
