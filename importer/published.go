package importer

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"

	"councilgraph/store"
)

// markup matches the HTML tags the PDF conversion leaves in the sources.
var markup = regexp.MustCompile(`</?[a-z]+[^>]*>`)

// sourcesDir is the folder of a data set that holds its source documents.
const sourcesDir = "sources"

// loadSources reads the set's source documents (sources/*.txt), split into
// lines, so that validation can check that text said to be published is in
// the lines its sources name. A set without the folder has none.
func loadSources(fsys fs.FS) map[string][]string {
	out := map[string][]string{}
	entries, err := fs.ReadDir(fsys, sourcesDir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(sourcesDir, e.Name()))
		if err != nil {
			continue
		}
		out[e.Name()] = strings.Split(string(b), "\n")
	}
	return out
}

// foldText lowercases s, unifies quotes and dashes, drops markup left by
// the PDF conversion (<sup>, **) and brackets, and collapses white space, so
// that text copied from a source compares equal across its line breaks.
func foldText(s string) string {
	s = markup.ReplaceAllString(s, "")
	s = strings.NewReplacer("’", "'", "‘", "'", "“", `"`, "”", `"`, "–", "-", "—", "-", "(", "", ")", "", "**", "").Replace(s)
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// published checks that v, text the record says is as published, occurs in
// the lines one of sources names. Documents the set does not hold cannot be
// checked and are let pass.
func (c *checker) published(field string, v *string, sources []store.Source) {
	if v == nil {
		return
	}
	if strings.TrimSpace(*v) == "" {
		c.problem(field, "is empty; leave the field out instead")
		return
	}
	want := foldText(*v)
	texts := c.cited(sources)
	for _, t := range texts {
		if strings.Contains(foldText(t), want) {
			return
		}
	}
	if len(texts) > 0 {
		c.problem(field, fmt.Sprintf("%q is not in the lines its sources name; copy it as published or cite the lines that state it", *v))
	}
}

// cited returns the text of each source's lines that the set holds; a
// source whose document the set does not hold, or whose locator does not
// lie in it, cannot be checked and is left out.
func (c *checker) cited(sources []store.Source) []string {
	var out []string
	for _, s := range sources {
		lines, ok := c.docs[s.Document]
		if !ok || s.Locator == nil {
			continue
		}
		m := locatorRe.FindStringSubmatch(*s.Locator)
		if m == nil {
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if a < 1 || b < a || b > len(lines) {
			continue
		}
		out = append(out, strings.Join(lines[a-1:b], " "))
	}
	return out
}

func checkInspection(c *checker, d store.Doc) {
	v := d.(*store.Inspection)
	c.required("framework", v.Framework)
	c.dateRange("startDate", v.StartDate, "endDate", v.EndDate)
	c.published("period", v.Period, v.Sources)
	for i, j := range v.Judgements {
		f := c.nested("judgements", i)
		c.required(f+".area", j.Area)
		c.required(f+".grade", j.Grade)
		c.sources(f+".sources", j.Sources)
		if j.Grade != "" {
			c.published(f+".grade", &j.Grade, j.Sources)
		}
	}
	for i, s := range v.Findings {
		c.required(c.nested("findings", i), s)
	}
}

func checkOrganisationAttendance(c *checker, d store.Doc) {
	v := d.(*store.OrganisationAttendance)
	if v.Attendees < 0 {
		c.problem("attendees", "cannot be negative")
	}
	if !c.stated("attendees") {
		c.problem("attendees", "is required: the number recorded")
	}
}

// checkFigure holds an observation to what was published: it states its
// value, its published words where the value is approximate, a period the
// sources print and a publication date apart from the period.
func checkFigure(c *checker, v *store.Observation) {
	if !c.stated("value") {
		c.problem("value", "is required: the number the text states")
	}
	if v.Approximate && v.ValueText == nil {
		c.problem("valueText", "an approximate value needs the published words ('over 300', 'around 11%')")
	}
	c.published("valueText", v.ValueText, v.Sources)
	switch {
	case v.Period != "":
		c.published("period", &v.Period, v.Sources)
	case v.PublishedOn == nil && v.Notes == nil:
		c.problem("period", "is required: the period as published, or empty with publishedOn (or, where the source is undated, notes saying so) when the source prints none")
	}
	c.date("publishedOn", v.PublishedOn)
}

// stated reports whether the record's file states field. A record that was
// not decoded from a file (no field lines) is taken to state it: a number's
// zero cannot be told from its absence once decoded.
func (c *checker) stated(field string) bool {
	if c.item.lines == nil {
		return true
	}
	_, ok := c.item.lines[field]
	return ok
}
