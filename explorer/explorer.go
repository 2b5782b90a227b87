// Package explorer owns the pages people open in a browser: GraphiQL with
// its explorer plugin at /, the indicator pages at /indicators, and the
// published source documents at /sources, each line numbered so that a
// record's sources can link to their lines. Every asset is built from
// pinned npm packages (web/, `make explorer-assets`) into static/ and
// embedded in the binary: a page asks for nothing outside the service,
// and its Content-Security-Policy allows nothing else.
package explorer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy allows the pages only the service's own origin:
// scripts, styles, fetches and frames from it alone, and fonts and images
// inlined in the stylesheets as data: URLs (GraphiQL's).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one built file, with its gzipped form (made on first use) and a
// validator.
type asset struct {
	name        string
	contentType string
	body        []byte
	etag        string
	once        sync.Once
	gz          []byte
}

// gzipped is the asset compressed, or nil for one too small to gain.
func (a *asset) gzipped() []byte {
	a.once.Do(func() {
		if len(a.body) <= 1024 {
			return
		}
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		a.gz = b.Bytes()
	})
	return a.gz
}

// Handler serves the pages and their assets on their own, answering 404
// to any other path. sources holds the published documents that records
// cite, by file name; nil serves none.
func Handler(sources fs.FS) http.Handler {
	mux := http.NewServeMux()
	Mount(mux, sources)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found: the explorer is at /, the indicators at /indicators, GraphQL at /graphql", http.StatusNotFound)
	})
	return mux
}

// Mount registers the pages on mux: the explorer at GET /, the indicator
// pages at GET /indicators and /indicators/{id}, the built assets at GET
// /assets/{file} and the documents in sources at GET /sources/{document}.
// Every answer carries ContentSecurityPolicy.
func Mount(mux *http.ServeMux, sources fs.FS) {
	assets := map[string]*asset{}
	entries, _ := fs.ReadDir(static, "static")
	for _, e := range entries {
		body, _ := fs.ReadFile(static, "static/"+e.Name())
		sum := sha256.Sum256(body)
		assets[e.Name()] = &asset{name: e.Name(), contentType: contentType(e.Name()), body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	page := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			assets[name].serve(w, r)
		})
	}
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, withPolicy(h)) }
	handle("GET /{$}", page("explorer.html"))
	handle("GET /indicators", page("indicators.html"))
	handle("GET /indicators/{id}", page("indicators.html"))
	handle("GET /assets/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := assets[r.PathValue("file")]
		if a == nil || strings.HasSuffix(a.name, ".html") {
			http.NotFound(w, r)
			return
		}
		// Names carry no hash: caches keep an asset briefly and revalidate.
		w.Header().Set("Cache-Control", "public, max-age=300")
		a.serve(w, r)
	}))
	handle("GET /sources/{document}", sourceHandler(sources))
}

// withPolicy sets the pages' security headers on every answer.
func withPolicy(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// serve writes the asset, gzipped where the client accepts it, answering
// 304 to a request that already holds it.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Add("Vary", "Accept-Encoding")
	body := a.body
	if gz := a.gzipped(); gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = gz
	}
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	}
	return "text/plain; charset=utf-8"
}
