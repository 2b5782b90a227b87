package explorer

import (
	"bufio"
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// maxSourceLines bounds a source view, so that no request renders more.
const maxSourceLines = 200_000

var sourcePage = template.Must(template.New("source").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Document}} · councilgraph</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/indicators.css">
</head>
<body>
<nav class="cg-nav"><a href="/">Explorer</a> <a href="/indicators">Indicators</a></nav>
<main class="source">
<h1>{{.Document}}</h1>
<p class="meta">As published{{if .From}}; lines {{.From}} to {{.To}} are marked{{end}}.</p>
<pre>{{range .Lines}}<span id="L{{.N}}" class="{{if .Marked}}marked{{end}}"><a class="ln" href="#L{{.N}}">{{.N}}</a> {{.Text}}
</span>{{end}}</pre>
</main>
</body>
</html>
`))

type sourceLine struct {
	N      int
	Text   string
	Marked bool
}

// sourceHandler shows one published document with its lines numbered and
// the lines in ?lines=FROM-TO marked; each line is anchored as #L<n>.
//
// A page is the same for every caller, and withholds nothing, by the rule
// the service keeps for exempt business: what a public document prints is
// public. sources holds only published documents (a data set's records are
// curated from them, data/FORMAT.md), so every line of one is public,
// whichever records cite it and whatever their level. A line that only a
// withheld record cites (the exempt report below an exempt agenda item)
// was printed for anyone to read; what is withheld is never in these
// documents, the exempt report itself being unpublished. In the Stockton
// set the exempt report of TVCA 44/22 cites the minute printed at line 587
// of the Cabinet pack of 15 June 2023, which the public agenda item cites
// and shows too.
func sourceHandler(sources fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := r.PathValue("document")
		if sources == nil || !fs.ValidPath(doc) || strings.Contains(doc, "/") {
			http.Error(w, "no such source document", http.StatusNotFound)
			return
		}
		body, err := fs.ReadFile(sources, doc)
		if err != nil {
			http.Error(w, "no such source document: "+doc, http.StatusNotFound)
			return
		}
		from, to := 0, 0
		if l := r.URL.Query().Get("lines"); l != "" {
			a, b, _ := strings.Cut(l, "-")
			var errA, errB error
			from, errA = strconv.Atoi(a)
			to, errB = strconv.Atoi(b)
			if b == "" {
				to, errB = from, nil
			}
			if errA != nil || errB != nil || from < 1 || to < from {
				http.Error(w, "lines must be FROM-TO, two line numbers with FROM no larger than TO, e.g. lines=232-240", http.StatusBadRequest)
				return
			}
		}
		var lines []sourceLine
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan() && n <= maxSourceLines; n++ {
			lines = append(lines, sourceLine{N: n, Text: sc.Text(), Marked: n >= from && n <= to})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = sourcePage.Execute(w, map[string]any{"Document": doc, "From": from, "To": to, "Lines": lines})
	})
}
