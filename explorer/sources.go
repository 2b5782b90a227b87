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
