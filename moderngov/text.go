package moderngov

import (
	"strings"

	"golang.org/x/net/html"
)

// blocks are the elements that begin a new line of text.
var blocks = map[string]bool{
	"p": true, "div": true, "br": true, "li": true, "tr": true, "table": true,
	"ul": true, "ol": true, "h1": true, "h2": true, "h3": true, "h4": true,
	"h5": true, "h6": true, "blockquote": true, "section": true,
}

// Text turns the HTML modern.gov keeps agenda text and minutes in (Word's
// export, mostly) into clean text: one line per paragraph, list items
// marked "- ", a row's cells separated by " | ", runs of white space folded, entities
// decoded, scripts and styles dropped. Empty HTML is empty text.
func Text(h string) string {
	var out strings.Builder
	line := make([]string, 0, 8)
	flush := func() {
		s := strings.Join(strings.Fields(strings.Join(line, " ")), " ")
		line = line[:0]
		if s == "" {
			return
		}
		if out.Len() > 0 {
			out.WriteByte('\n')
		}
		out.WriteString(s)
	}
	z := html.NewTokenizer(strings.NewReader(h))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			flush()
			return out.String()
		case html.TextToken:
			if skip == 0 {
				line = append(line, string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case tag == "script" || tag == "style":
				skip++
			case tag == "li":
				flush()
				line = append(line, "-")
			case (tag == "td" || tag == "th") && len(line) > 0:
				line = append(line, "|")
			case blocks[tag]:
				flush()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case tag == "script" || tag == "style":
				if skip > 0 {
					skip--
				}
			case blocks[tag]:
				flush()
			}
		}
	}
}
