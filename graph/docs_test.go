package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"councilgraph/auth"
	"councilgraph/export"
	"councilgraph/graph"
	"councilgraph/httpapi"
	"councilgraph/httpapi/httpapitest"
	"councilgraph/importer/importertest"
)

// The docs' conventions for fenced blocks (docs/contributors.md, "How the
// docs are tested"):
//
//	```graphql         a query against councilgraph: run on the Stockton set, no errors
//	```graphql sdl     someone else's schema: parsed
//	```graphql router  a query through a federated router: parsed
//	```sh              commands checked against the code (and loopback curl run)
//	```sh example      commands for another machine: not run
//
// Every shell line starts from the repository's root.

// docFiles are the documents whose blocks are held to the conventions,
// relative to the repository's root.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md", "BENCHMARKS.md"}
	for _, p := range pages {
		files = append(files, strings.TrimPrefix(p, "../"))
	}
	return files
}

// block is one fenced block of a document.
type block struct {
	file string
	line int    // of the opening fence
	info string // the words after the fence, e.g. "sh example"
	text string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

var (
	fence = regexp.MustCompile("^( *)```+([^`]*)$")
	// infoString is what the docs put after a fence: a language and at
	// most one word of how the block is checked.
	infoString = regexp.MustCompile(`^[a-z]*( [a-z]+)?$`)
)

// blocks reads every fenced block of the docs.
func blocks(t *testing.T) []block {
	t.Helper()
	var out []block
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			m := fence.FindStringSubmatch(lines[i])
			if m == nil {
				continue
			}
			if !infoString.MatchString(m[2]) {
				t.Errorf("%s:%d: a line that opens a fenced block with %q: start no line of prose with backticks", f, i+1, m[2])
			}
			indent, open := m[1], i
			var body []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, strings.TrimPrefix(lines[i], indent))
			}
			if i == len(lines) {
				t.Fatalf("%s:%d: a fenced block that never closes", f, open+1)
			}
			out = append(out, block{file: f, line: open + 1, info: strings.TrimSpace(m[2]), text: strings.Join(body, "\n") + "\n"})
		}
	}
	return out
}

// TestDocs holds the docs to the code: every query in them runs, every
// command they give exists with the flags they give it, and their tables of
// downloads and flags name what the service has.
func TestDocs(t *testing.T) {
	t.Parallel()
	all := blocks(t)
	// A copy of the Stockton database of its own: the test writes a key.
	s := importertest.StocktonCopy(t, nil)
	ctx := context.Background()
	key, _, err := auth.CreateKey(ctx, s, "docs test", "", []string{auth.ScopePartner}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The deadline is not what is under test: on a starved machine a
	// query may outlast the default 10 s.
	h := httpapitest.New(s, httpapi.Config{RateAnonymous: -1, RateKeyed: -1, RateAddress: -1, Timeout: time.Hour}, quiet)
	// One checker for all subtests, so that each program is built once.
	c := newCommandChecker(t, h, key)

	t.Run("graphql", func(t *testing.T) {
		sch := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
		n := 0
		for _, b := range all {
			kind, ok := strings.CutPrefix(b.info, "graphql")
			if !ok {
				continue
			}
			n++
			switch strings.TrimSpace(kind) {
			case "sdl":
				if _, err := parser.ParseSchema(&ast.Source{Name: b.String(), Input: b.text}); err != nil {
					t.Errorf("%s: the schema does not parse: %v", b, err)
				}
			case "router":
				if _, err := parser.ParseQuery(&ast.Source{Name: b.String(), Input: b.text}); err != nil {
					t.Errorf("%s: the query does not parse: %v", b, err)
				}
			case "":
				runQuery(t, h, sch, b)
			default:
				t.Errorf("%s: ```%s is none of graphql, graphql sdl, graphql router", b, b.info)
			}
		}
		if n < 10 {
			t.Errorf("found %d graphql blocks in the docs, want at least 10", n)
		}
	})

	t.Run("sh", func(t *testing.T) {
		c.t = t
		n := 0
		for _, b := range all {
			switch b.info {
			case "sh":
				n++
				for _, line := range commandLines(b.text) {
					if err := c.check(line.text); err != nil {
						t.Errorf("%s:%d: %s\n\t%s", b.file, b.line+line.offset, err, line.text)
					}
				}
			case "sh example", "json", "yaml", "js", "csv", "python", "r", "nginx", "":
			default:
				if strings.HasPrefix(b.info, "sh") || strings.HasPrefix(b.info, "bash") || strings.HasPrefix(b.info, "shell") || strings.HasPrefix(b.info, "console") {
					t.Errorf("%s: ```%s: shell blocks are ```sh (checked) or ```sh example (for another machine)", b, b.info)
				}
			}
		}
		if n < 10 {
			t.Errorf("found %d sh blocks in the docs, want at least 10", n)
		}
	})

	t.Run("downloads table", func(t *testing.T) {
		page := readDoc(t, "docs/analysts.md")
		_, row, ok := strings.Cut(page, "| `/export/<collection>.csv`")
		if !ok {
			t.Fatal("docs/analysts.md has no download table row for /export/<collection>.csv")
		}
		row, _, _ = strings.Cut(row, "\n")
		cell, _, _ := strings.Cut(row, " | ")
		for _, c := range export.Collections() {
			if !strings.Contains(cell, "`"+c+"`") {
				t.Errorf("docs/analysts.md's download table does not name %s", c)
			}
		}
		if !strings.Contains(page, "`/export/"+export.AnalysisFile+".csv`") {
			t.Errorf("docs/analysts.md's download table does not name %s", export.AnalysisFile)
		}
	})

	t.Run("analysis layout", func(t *testing.T) {
		// The docs' csv block is the analysis download's: its header is
		// the one the service writes.
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/export/"+export.AnalysisFile+".csv", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("the analysis download answered %d: %s", rec.Code, rec.Body)
		}
		want, _, _ := strings.Cut(rec.Body.String(), "\r\n")
		n := 0
		for _, b := range all {
			if b.info != "csv" {
				continue
			}
			n++
			if got, _, _ := strings.Cut(b.text, "\n"); got != want {
				t.Errorf("%s: the header is not the analysis download's:\n got %s\nwant %s", b, got, want)
			}
		}
		if n == 0 {
			t.Error("no csv block shows the analysis layout")
		}
	})

	t.Run("entities", func(t *testing.T) {
		// The partners' page names every entity a router can resolve.
		page := readDoc(t, "docs/partners.md")
		_, fed, _ := strings.Cut(page, "\n## Federation\n")
		para, _, _ := strings.Cut(fed, "\n\n```")
		sch := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}).Schema()
		n := 0
		for name, def := range sch.Types {
			if def.Directives.ForName("key") == nil {
				continue
			}
			n++
			if !strings.Contains(para, "`"+name+"`") {
				t.Errorf("docs/partners.md's Federation section does not name the entity %s", name)
			}
		}
		if n == 0 {
			t.Error("the schema has no @key types")
		}
	})

	t.Run("metrics table", func(t *testing.T) {
		// The operators' page names every metric the code registers, and
		// none it does not.
		page := readDoc(t, "docs/operators.md")
		name := regexp.MustCompile(`councilgraph_[a-z_]*[a-z]`)
		code := map[string]bool{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "var") {
				return filepath.SkipDir
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range regexp.MustCompile(`"(councilgraph_[a-z_]+)"`).FindAllStringSubmatch(string(b), -1) {
				code[m[1]] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(code) == 0 {
			t.Fatal("found no councilgraph_ metric in the code")
		}
		for m := range code {
			if strings.Contains(page, m) {
				continue
			}
			// A row may shorten a family: `councilgraph_x_hits_total`, `_misses_total`.
			short := false
			for i := strings.Index(m, "_"); i >= 0 && !short; {
				short = strings.Contains(page, "`"+m[i:]+"`") && strings.Contains(page, m[:i]+"_")
				j := strings.Index(m[i+1:], "_")
				if j < 0 {
					break
				}
				i += j + 1
			}
			if !short {
				t.Errorf("docs/operators.md does not name the metric %s", m)
			}
		}
		for _, m := range name.FindAllString(page, -1) {
			base := m
			for _, suffix := range []string{"_count", "_sum", "_bucket"} { // a histogram's series
				base = strings.TrimSuffix(base, suffix)
			}
			if !code[m] && !code[base] {
				t.Errorf("docs/operators.md names %s, which the code does not register", m)
			}
		}
	})

	t.Run("configuration table", func(t *testing.T) {
		c.t = t
		page := readDoc(t, "docs/operators.md")
		for _, f := range c.flags(t, "serve") {
			if !strings.Contains(page, "| `--"+f+"` |") {
				t.Errorf("docs/operators.md's configuration table has no row for serve's --%s", f)
			}
		}
	})

	t.Run("links", func(t *testing.T) {
		for _, f := range docFiles(t) {
			text := readDoc(t, f)
			for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				file := f
				if path != "" {
					file = filepath.ToSlash(filepath.Join(filepath.Dir(f), path))
					if _, err := os.Stat(filepath.Join(root, file)); err != nil {
						t.Errorf("%s links to %s, which does not exist", f, target)
						continue
					}
				}
				if anchor != "" && strings.HasSuffix(file, ".md") && !slices.Contains(anchors(readDoc(t, file)), anchor) {
					t.Errorf("%s links to %s, but %s has no heading %q (it has %v)", f, target, file, anchor, anchors(readDoc(t, file)))
				}
			}
		}
	})

	t.Run("every page reachable from the README", func(t *testing.T) {
		readme := readDoc(t, "README.md")
		for _, f := range docFiles(t) {
			if strings.HasPrefix(f, "docs/") && !strings.Contains(readme, "]("+f) {
				t.Errorf("README.md does not link to %s", f)
			}
		}
		if !strings.Contains(readme, "](BENCHMARKS.md)") {
			t.Error("README.md does not link to BENCHMARKS.md")
		}
	})
}

// mdLink finds a markdown link's or image's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// anchors are the anchors GitHub makes of a document's headings:
// lowercased, punctuation dropped, spaces made hyphens.
func anchors(doc string) []string {
	var out []string
	inFence := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
		}
		if inFence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(l, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// runQuery runs a doc's query through the service's handler as an
// anonymous caller and fails on any error; a subscription, which needs a
// stream, is validated against the schema instead.
func runQuery(t *testing.T, h http.Handler, sch *ast.Schema, b block) {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Name: b.String(), Input: b.text})
	if err != nil {
		t.Errorf("%s: the query does not parse: %v", b, err)
		return
	}
	if len(doc.Operations) == 1 && doc.Operations[0].Operation == ast.Subscription {
		if errs := validator.Validate(sch, doc); len(errs) > 0 {
			t.Errorf("%s: the subscription is not valid: %v", b, errs)
		}
		return
	}
	body, _ := json.Marshal(map[string]any{"query": b.text})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r response
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Errorf("%s: status %d, answer is not JSON: %s", b, rec.Code, rec.Body)
		return
	}
	if rec.Code != http.StatusOK || len(r.Errors) > 0 || len(r.Data) == 0 || string(r.Data) == "null" {
		t.Errorf("%s: status %d, errors %v\n%s", b, rec.Code, r.Errors, b.text)
	}
}

// commandLine is one command line of a shell block, continuations joined.
type commandLine struct {
	text   string
	offset int // lines after the fence
}

// commandLines splits a shell block into its command lines: comments and
// blank lines dropped, lines ending in a backslash joined to the next.
func commandLines(text string) []commandLine {
	var out []commandLine
	var cur strings.Builder
	start := 0
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if cur.Len() == 0 {
			if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			start = i + 1
		}
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, commandLine{text: cur.String(), offset: start})
		cur.Reset()
	}
	return out
}

// words splits a shell line into words and operators (&&, ||, ;, |, &,
// (, ), redirections), as sh would: quotes removed, a comment dropped,
// $(...) kept whole inside its word.
func words(line string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			out = append(out, w.String())
		}
		w.Reset()
		inWord = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("an unclosed single quote")
			}
			w.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				w.WriteByte(line[j])
			}
			if j == len(line) {
				return nil, fmt.Errorf("an unclosed double quote")
			}
			inWord = true
			i = j
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			depth, j := 0, i+1
			for ; j < len(line); j++ {
				if line[j] == '(' {
					depth++
				} else if line[j] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			if j == len(line) {
				return nil, fmt.Errorf("an unclosed $(")
			}
			w.WriteString(line[i : j+1])
			inWord = true
			i = j
		case c == '\\' && i+1 < len(line):
			w.WriteByte(line[i+1])
			inWord = true
			i++
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !inWord:
			flush()
			return out, nil
		case strings.IndexByte("&|;()<>", c) >= 0:
			flush()
			op := string(c)
			if i+1 < len(line) && (line[i+1] == c && (c == '&' || c == '|' || c == '>')) {
				op += string(c)
				i++
			}
			out = append(out, op)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return out, nil
}

// commandChecker checks the commands of the docs' sh blocks against the
// repository: make targets, councilgraph's commands and flags, Go packages
// and their tests, scripts, npm scripts; and runs curl against h.
type commandChecker struct {
	t      *testing.T
	h      http.Handler
	key    string
	bin    map[string]string          // a Go main package's directory → its built binary
	help   map[string]map[string]bool // "bin args" → the flags -h lists
	envOK  map[string]bool            // environment variables the code reads
	tests  map[string][]string        // a package directory → its Test and Benchmark functions
	binDir string                     // where the programs are built, for the whole test
	cwd    string                     // the directory a line's cd moved to, from the root
	outer  []string                   // the directories to go back to as each subshell ends
}

func newCommandChecker(t *testing.T, h http.Handler, key string) *commandChecker {
	return &commandChecker{t: t, h: h, key: key, binDir: t.TempDir(), bin: map[string]string{}, help: map[string]map[string]bool{}, tests: map[string][]string{}}
}

// root is the repository's root, from the graph package's directory.
const root = ".."

// check checks one command line: each command of it in turn.
func (c *commandChecker) check(line string) error {
	ws, err := words(line)
	if err != nil {
		return err
	}
	c.cwd, c.outer = ".", nil
	var cmd []string
	for i := 0; i <= len(ws); i++ {
		if i < len(ws) {
			switch ws[i] {
			case "(":
				c.outer = append(c.outer, c.cwd)
				continue
			case ")":
				if len(cmd) > 0 {
					if err := c.command(cmd); err != nil {
						return err
					}
					cmd = nil
				}
				if len(c.outer) == 0 {
					return fmt.Errorf("a ) without its (")
				}
				c.cwd, c.outer = c.outer[len(c.outer)-1], c.outer[:len(c.outer)-1]
				continue
			case ">", ">>", "<":
				i++ // the file
				continue
			case "&&", "||", ";", "|", "&":
			default:
				cmd = append(cmd, ws[i])
				continue
			}
		}
		if len(cmd) > 0 {
			if err := c.command(cmd); err != nil {
				return err
			}
		}
		cmd = nil
	}
	return nil
}

var assignment = regexp.MustCompile(`^([A-Z_][A-Z0-9_]*)=`)

// command checks one simple command.
func (c *commandChecker) command(args []string) error {
	for len(args) > 0 && assignment.MatchString(args[0]) {
		if err := c.env(assignment.FindStringSubmatch(args[0])[1]); err != nil {
			return err
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return nil
	}
	switch name, rest := args[0], args[1:]; name {
	case "make":
		return c.make(rest)
	case "councilgraph", "./councilgraph":
		return c.councilgraph(rest)
	case "go":
		return c.goCmd(rest)
	case "cd":
		if len(rest) != 1 {
			return fmt.Errorf("cd takes one directory")
		}
		if err := c.isDir(rest[0]); err != nil {
			return err
		}
		c.cwd = filepath.Join(c.cwd, rest[0])
		return nil
	case "sh":
		if len(rest) == 0 {
			return fmt.Errorf("sh without a script")
		}
		if fi, err := os.Stat(filepath.Join(root, c.cwd, rest[0])); err != nil || fi.IsDir() {
			return fmt.Errorf("no script %s in %s", rest[0], c.cwd)
		}
		return nil
	case "npm":
		return c.npm(rest)
	case "curl":
		return c.curl(rest)
	case "kill", "awk":
		// The system's, and given nothing of the project's.
		return nil
	}
	return fmt.Errorf("%s is not a command the docs test knows: teach graph/docs_test.go about it, or mark the block ```sh example if it is for another machine", args[0])
}

// env checks that an environment variable a doc sets is one the code (or
// a tool the code uses: Go, OpenTelemetry, PostgreSQL) reads.
func (c *commandChecker) env(name string) error {
	for _, p := range []string{"GO", "OTEL_", "PG"} {
		if strings.HasPrefix(name, p) {
			return nil
		}
	}
	if c.envOK == nil {
		c.envOK = map[string]bool{}
		re := regexp.MustCompile(`\b[A-Z][A-Z0-9_]{2,}\b`)
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "var" || d.Name() == "static") {
				return filepath.SkipDir
			}
			switch filepath.Ext(p) {
			case ".go", ".sh", ".js", ".mjs":
			default:
				if d.Name() != "Makefile" {
					return nil
				}
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllString(string(b), -1) {
				c.envOK[m] = true
			}
			return nil
		})
	}
	if !c.envOK[name] {
		return fmt.Errorf("no code reads the environment variable %s", name)
	}
	return nil
}

// isDir checks that p, from the line's directory, is a directory.
func (c *commandChecker) isDir(p string) error {
	if fi, err := os.Stat(filepath.Join(root, c.cwd, p)); err != nil || !fi.IsDir() {
		return fmt.Errorf("no directory %s in %s", p, c.cwd)
	}
	return nil
}

// make checks that each target is one of the Makefile's and each variable
// one it uses.
func (c *commandChecker) make(args []string) error {
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return err
	}
	mk := string(b)
	for _, a := range args {
		if v, val, ok := strings.Cut(a, "="); ok {
			if !strings.Contains(mk, "$("+v+")") {
				return fmt.Errorf("the Makefile has no variable %s", v)
			}
			// make bench BENCH=X runs bench's BenchmarkX.
			if v == "BENCH" && !slices.Contains(c.testFuncs("bench"), "Benchmark"+val) {
				return fmt.Errorf("bench has no Benchmark%s for BENCH=%s", val, val)
			}
			continue
		}
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(a) + `:`).MatchString(mk) {
			return fmt.Errorf("the Makefile has no target %s", a)
		}
	}
	return nil
}

// commands are councilgraph's commands and, for those that have them,
// their subcommands.
var commands = map[string][]string{
	"serve": nil, "import": nil, "schema": nil, "help": nil,
	"keys":     {"create", "list", "revoke"},
	"webhooks": {"add", "list", "remove", "replay", "resume"},
	"sync":     {"moderngov"},
}

// councilgraph checks a command line of the binary: the command, its
// subcommand, and every flag against what `councilgraph CMD -h` lists.
func (c *commandChecker) councilgraph(args []string) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	subs, ok := commands[cmd]
	if !ok {
		return fmt.Errorf("councilgraph has no command %q", cmd)
	}
	helpArgs := []string{cmd}
	if subs != nil {
		if len(args) == 0 || !slices.Contains(subs, args[0]) {
			return fmt.Errorf("councilgraph %s needs one of %v", cmd, subs)
		}
		helpArgs, args = append(helpArgs, args[0]), args[1:]
	}
	if cmd == "schema" || cmd == "help" {
		if len(args) > 0 {
			return fmt.Errorf("councilgraph %s takes no arguments", cmd)
		}
		return nil
	}
	known := c.helpFlags(".", helpArgs...)
	return checkFlags(args, known, "councilgraph "+strings.Join(helpArgs, " "))
}

// flags lists the flags of a councilgraph command.
func (c *commandChecker) flags(t *testing.T, cmd ...string) []string {
	var out []string
	for f := range c.helpFlags(".", cmd...) {
		out = append(out, f)
	}
	slices.Sort(out)
	if len(out) == 0 {
		t.Fatalf("councilgraph %s -h lists no flags", strings.Join(cmd, " "))
	}
	return out
}

// checkFlags checks every flag of args against known.
func checkFlags(args []string, known map[string]bool, what string) error {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || len(a) < 2 || (a[1] >= '0' && a[1] <= '9') {
			continue // an argument, or a value such as -1
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			return fmt.Errorf("%s has no flag -%s (its -h lists %v)", what, name, sortedKeys(known))
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// helpFlags builds the main package in dir (relative to the root) once,
// and returns the flags `BIN args -h` lists.
func (c *commandChecker) helpFlags(dir string, args ...string) map[string]bool {
	t := c.t
	key := dir + " " + strings.Join(args, " ")
	if f, ok := c.help[key]; ok {
		return f
	}
	bin, ok := c.bin[dir]
	if !ok {
		bin = filepath.Join(c.binDir, "main"+strings.ReplaceAll(filepath.Clean(dir), "/", "_"))
		build := exec.Command("go", "build", "-o", bin, "./"+filepath.Clean(dir))
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
		}
		c.bin[dir] = bin
	}
	// -h makes the flag package print the flags and stop, before anything
	// starts; the exit status is 1 or 2 by design.
	out, _ := exec.Command(bin, append(slices.Clone(args), "-h")...).CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-zA-Z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("%s %s -h lists no flags:\n%s", dir, strings.Join(args, " "), out)
	}
	c.help[key] = flags
	return flags
}

// goFlagsWithValue are the go command's flags (test, build, run) that take
// a value, so that the value is not read as a package.
var goFlagsWithValue = map[string]bool{
	"run": true, "bench": true, "benchtime": true, "timeout": true, "count": true, "cpu": true, "p": true,
	"parallel": true, "cpuprofile": true, "memprofile": true, "memprofilerate": true, "blockprofile": true,
	"mutexprofile": true, "trace": true, "coverprofile": true, "o": true, "tags": true, "outputdir": true,
	"sample_index": true,
}

// goCmd checks go test, go run, go build and go tool lines.
func (c *commandChecker) goCmd(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("go without a command")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "tool", "generate", "vet", "version", "env":
		return nil
	case "run":
		if len(args) == 0 {
			return fmt.Errorf("go run without a package")
		}
		pkg, rest := args[0], args[1:]
		if err := c.isDir(pkg); err != nil {
			return err
		}
		dir := filepath.Join(c.cwd, pkg)
		if dir == "." {
			return c.councilgraph(rest)
		}
		return checkFlags(rest, c.helpFlags(dir), "go run "+pkg)
	case "build", "test":
	default:
		return fmt.Errorf("go %s is not checked: teach graph/docs_test.go about it", sub)
	}
	var pkgs []string
	patterns := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if goFlagsWithValue[name] && !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			if name == "run" || name == "bench" {
				patterns[name] = val
			}
			continue
		}
		pkgs = append(pkgs, a)
	}
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	var funcs []string
	for _, p := range pkgs {
		if p == "./..." {
			continue
		}
		if err := c.isDir(p); err != nil {
			return err
		}
		funcs = append(funcs, c.testFuncs(filepath.Join(c.cwd, p))...)
	}
	for flag, pat := range patterns {
		top, _, _ := strings.Cut(pat, "/")
		if top == "^$" || top == "." || top == "" {
			continue
		}
		re, err := regexp.Compile(top)
		if err != nil {
			return fmt.Errorf("-%s %q: %v", flag, pat, err)
		}
		if !slices.ContainsFunc(funcs, re.MatchString) {
			return fmt.Errorf("-%s %q matches no function of %v in %s", flag, pat, pkgs, c.cwd)
		}
	}
	return nil
}

// testFuncs lists the Test and Benchmark functions of a package directory.
func (c *commandChecker) testFuncs(dir string) []string {
	if f, ok := c.tests[dir]; ok {
		return f
	}
	files, _ := filepath.Glob(filepath.Join(root, dir, "*_test.go"))
	var out []string
	re := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark)\w*)\(`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			c.t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	c.tests[dir] = out
	return out
}

// npm checks that `npm ci` has a lockfile and `npm start`/`npm test`/`npm
// run X` a script, in the directory an earlier cd of the line named.
func (c *commandChecker) npm(args []string) error {
	b, err := os.ReadFile(filepath.Join(root, c.cwd, "package.json"))
	if err != nil {
		return fmt.Errorf("npm in %s, which has no package.json", c.cwd)
	}
	var pkg struct{ Scripts map[string]string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("%s/package.json: %v", c.cwd, err)
	}
	var script string
	switch {
	case len(args) == 0:
		return fmt.Errorf("npm without a command")
	case args[0] == "ci" || args[0] == "install":
		if _, err := os.Stat(filepath.Join(root, c.cwd, "package-lock.json")); err != nil {
			return fmt.Errorf("npm %s in %s, which has no package-lock.json", args[0], c.cwd)
		}
		return nil
	case args[0] == "start" || args[0] == "test":
		script = args[0]
	case args[0] == "run" && len(args) > 1:
		script = args[1]
	default:
		return fmt.Errorf("npm %s is not checked: teach graph/docs_test.go about it", args[0])
	}
	if _, ok := pkg.Scripts[script]; !ok {
		return fmt.Errorf("%s/package.json has no script %q", c.cwd, script)
	}
	return nil
}

// curl runs a loopback request of the docs against the service on the
// Stockton set and wants a 2xx answer; a placeholder key (cgk_…) is a real
// partner key.
func (c *commandChecker) curl(args []string) error {
	method, target := http.MethodGet, ""
	var body *string
	hdr := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-H" && i+1 < len(args):
			i++
			k, v, _ := strings.Cut(args[i], ":")
			hdr.Set(strings.TrimSpace(k), strings.TrimSpace(strings.ReplaceAll(v, "cgk_…", c.key)))
		case (a == "-d" || a == "--data") && i+1 < len(args):
			i++
			body = &args[i]
			method = http.MethodPost
		case strings.HasPrefix(a, "-"):
		default:
			target = a
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Host != "127.0.0.1:8080" {
		return fmt.Errorf("curl %q: a checked block's curl goes to the service on this machine, http://127.0.0.1:8080 (mark the block ```sh example for another machine)", target)
	}
	var r io.Reader
	if body != nil {
		r = strings.NewReader(*body)
	}
	req := httptest.NewRequest(method, u.RequestURI(), r)
	req.Header = hdr
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	if rec.Code/100 != 2 {
		return fmt.Errorf("curl %s answered %d: %s", target, rec.Code, rec.Body)
	}
	if strings.Contains(rec.Header().Get("Content-Type"), "json") && strings.HasPrefix(u.Path, "/graphql") {
		var resp response
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Errors) > 0 {
			return fmt.Errorf("curl %s answered errors: %s", target, rec.Body)
		}
	}
	return nil
}

// TestDocsStayShort holds the two pages every newcomer opens to a length
// read in minutes: the README is the way in, and BENCHMARKS.md the current
// figures (their history is in git).
func TestDocsStayShort(t *testing.T) {
	t.Parallel()
	for file, most := range map[string]int{"../README.md": 250, "../BENCHMARKS.md": 400} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n > most {
			t.Errorf("%s is %d lines, over its %d: move detail to docs/ or drop history", strings.TrimPrefix(file, "../"), n, most)
		}
	}
}
