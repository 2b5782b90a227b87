package importer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"councilgraph/store"
)

// became counts, per collection, the records a section of a source became.
type became map[string]int

// section is a run of lines of a source document and what the data set
// made of it: how many records of each collection cite a line in it, and
// what of it was deliberately left out, and why.
type section struct {
	from, to int
	what     string
	became   became
	leftOut  string
}

// sourceSections lists every source document of the Stockton set section by
// section, from its first line to its last. A record counts in every
// section one of its sources (or the sources of its progress updates and
// judgements) overlaps.
var sourceSections = []struct {
	document string
	sections []section
}{
	{"cabinet-2023-06-15-agenda-pack.txt", []section{
		{1, 17, "Cabinet, 15 June 2023: date, venue and members", became{"bodies": 1, "meetings": 1, "memberships": 7, "people": 7}, ""},
		{18, 32, "agenda of 15 June 2023 with page ranges", became{"agendaItems": 9, "meetings": 1, "plans": 1}, ""},
		{33, 98, "public rights to attend, the declarable-interests guidance, evacuation procedure", became{"people": 1}, "the guidance and housekeeping are the same in every agenda pack and record nothing; only the democratic services contact is a person"},
		{99, 110, "minutes of 16 March 2023: who was present, officers, also in attendance", became{"attendance": 16, "bodies": 1, "meetings": 1, "memberships": 7, "observations": 2, "people": 16}, ""},
		{111, 124, "CAB 83/22 to 85/22: welcome, declarations, minutes of 13 and 23 February", became{"agendaItems": 3, "meetings": 2}, ""},
		{125, 150, "CAB 86/22 Social Value Policy", became{"agendaItems": 1, "indicators": 1, "observations": 1, "organisations": 3, "plans": 2, "reports": 1}, "the policy's legal background and the TOMs method are context, not records; the proxy values the minute refers to are not printed"},
		{151, 172, "CAB 87/22 Procurement Plan and CAB 88/22 Minutes of Various Bodies", became{"agendaItems": 2, "bodies": 3, "indicators": 1, "meetings": 3, "observations": 1, "reports": 2}, "the contracts of Annex 1 are not printed"},
		{173, 186, "CAB 89/22 Coronation events programme", became{"agendaItems": 1, "bodies": 2, "reports": 1}, ""},
		{187, 220, "CAB 90/22 Levelling Up Fund Round 1 progress update", became{"agendaItems": 1, "indicators": 5, "memberships": 1, "observations": 5, "organisations": 2, "plans": 1, "priorities": 3, "reports": 1}, ""},
		{221, 235, "CAB 91/22 Inclusive Growth", became{"agendaItems": 1, "indicators": 2, "observations": 2, "plans": 1, "priorities": 4, "reports": 1}, ""},
		{236, 270, "CAB 92/22 Local Design Guide SPD and its recommendations to Council", became{"agendaItems": 1, "bodies": 2, "memberships": 1, "reports": 1}, "the planning documents the SPD supersedes are listed in the source only"},
		{271, 313, "agenda item 5: Council Plan 2022/25 update, covering report", became{"agendaItems": 1, "bodies": 1, "memberships": 1, "observations": 4, "people": 2, "plans": 1, "priorities": 41, "reports": 1}, ""},
		{314, 344, "Annex 1, Our People: priorities 1-15 with their 2022/23 updates", became{"bodies": 15, "indicators": 6, "meetings": 2, "memberships": 1, "observations": 6, "organisations": 16, "plans": 1, "priorities": 15, "reports": 1}, ""},
		{345, 367, "Annex 1, Our Economy: priorities 16-22", became{"indicators": 5, "observations": 5, "organisations": 2, "plans": 2, "priorities": 7, "reports": 1}, ""},
		{368, 391, "Annex 1, Our Places: priorities 23-32", became{"bodies": 2, "indicators": 5, "observations": 5, "organisations": 3, "plans": 3, "priorities": 10, "reports": 1}, ""},
		{392, 414, "Annex 1, Our Council: priorities 33-41", became{"agendaItems": 1, "bodies": 1, "indicators": 4, "meetings": 1, "observations": 5, "organisations": 1, "plans": 3, "priorities": 18, "reports": 1}, ""},
		{415, 482, "agenda item 6: appointments to outside bodies 2023 - 2027", became{"bodies": 6, "memberships": 9, "organisations": 2, "people": 2, "reports": 1}, ""},
		{483, 546, "agenda item 7: minutes of various bodies, covering report", became{"bodies": 3, "meetings": 2, "people": 2, "reports": 1}, ""},
		{547, 596, "TVCA Cabinet, 17 March 2023: attendees, TVCA 36/22 to 44/22, next meeting", became{"agendaItems": 9, "attendance": 16, "bodies": 4, "councils": 1, "declarations": 3, "meetings": 3, "memberships": 10, "organisations": 9, "people": 16, "reports": 6}, ""},
		{597, 682, "TSAB, 7 March 2023: attendees, apologies and absent with roles and organisations", became{"actions": 1, "areas": 1, "attendance": 57, "bodies": 1, "councils": 1, "meetings": 4, "memberships": 56, "observations": 2, "organisations": 29, "people": 73}, "the 'Copies' list names people without roles or organisations, so they are not recorded"},
		{683, 700, "TSAB items 1-3: introductions, matters arising, Adult K SAR and its action points", became{"actions": 8, "agendaItems": 5, "bodies": 1, "meetings": 1, "memberships": 1, "organisations": 3, "people": 4}, "the Adult K presentation was removed from the minutes as confidential"},
		{701, 711, "TSAB item 4: Safe Lives report and action points", became{"actions": 2, "agendaItems": 1, "bodies": 1, "organisations": 2, "people": 2, "reports": 1}, ""},
		{712, 744, "TSAB item 5: Q3 performance report, discussion and action points", became{"actions": 3, "agendaItems": 1, "areas": 1, "bodies": 3, "indicators": 8, "observations": 9, "organisations": 4, "people": 4, "reports": 1}, ""},
		{745, 799, "TSAB item 6: sub-group updates and action points", became{"actions": 2, "agendaItems": 3, "bodies": 8, "indicators": 3, "meetings": 3, "memberships": 5, "observations": 3, "organisations": 5, "people": 10, "reports": 1}, "the SAR case details (new notifications, ongoing SARs) are kept as counts only; the cases are not records"},
		{800, 815, "TSAB items 7-9: QAF report, development sessions, any other business", became{"actions": 3, "agendaItems": 4, "bodies": 1, "people": 3, "reports": 1}, ""},
		{816, 827, "TSAB next meeting date and approval of the minutes", became{"meetings": 2}, ""},
		{828, 868, "TSAB attendance matrix (Appendix 1)", became{"bodies": 1, "meetings": 7, "memberships": 2, "organisationAttendance": 70, "organisations": 25}, "the rows 'Public Health' (whose is not said) and 'TSAB Independent Chair' (a seat, not an organisation) are left out, as are the zeros of the five meetings still to come"},
		{869, 978, "agenda item 8: school term and holiday dates 2024/2025, report and consultation", became{"bodies": 1, "organisations": 13, "people": 1, "reports": 1}, ""},
		{979, 1025, "term dates calendar 2024-25", became{"indicators": 2, "observations": 2, "reports": 1}, "the calendar grid is dates, not records; the six sub-totals are left out because the shading that says which term each counts is lost in the text"},
		{1026, 1071, "agenda item 9: ILACS outcomes report: summary, recommendations, key findings", became{"actions": 1, "bodies": 2, "inspections": 2, "memberships": 3, "organisations": 1, "people": 1, "plans": 1, "reports": 1}, ""},
		{1072, 1106, "ILACS outcomes report: areas of good and positive practice", became{"bodies": 1, "inspections": 1, "organisations": 1, "reports": 1}, "the twenty areas of good practice and eight areas for further action are a summary of the Ofsted report, cited by the Cabinet report's record, not separate records"},
		{1107, 1160, "ILACS outcomes report: reflection, action plan, implications", became{"bodies": 2, "inspections": 1, "plans": 2, "reports": 1}, ""},
		{1161, 1187, "Ofsted ILACS report: dates, lead inspector, judgements, what needs to improve", became{"inspections": 1, "people": 1, "plans": 1, "reports": 2}, ""},
		{1188, 1264, "Ofsted ILACS report: the findings under each judgement (paragraphs 1-47)", became{"bodies": 3, "inspections": 1, "organisations": 2, "plans": 1}, "the 47 paragraphs are prose under each judgement, not a list of findings: the inspection keeps the judgements and the listed 'What needs to improve', and only what the paragraphs name (MACE, the Children's Hub, the virtual school, Cafcass, Adoption Tees Valley, the corporate parenting strategy, the September 2022 focused visit) are records"},
		{1265, 1291, "Ofsted's licence and contact boilerplate", became{"organisations": 1}, "publisher boilerplate"},
		{1292, 1330, "Improvement Plan: themes, governance, outcomes for Our People", became{"actions": 4, "bodies": 1, "inspections": 1, "memberships": 2, "people": 1, "plans": 1, "priorities": 4}, ""},
		{1331, 1388, "Improvement Plan: actions, leads and timescales", became{"actions": 36, "bodies": 2, "people": 4, "priorities": 4}, ""},
	}},
	{"cyp-select-committee-2023-07-19-agenda-pack.txt", []section{
		{1, 19, "CYP Select Committee, 19 July 2023: date, venue, members", became{"meetings": 1, "memberships": 9, "people": 9}, ""},
		{20, 35, "agenda with page ranges", became{"agendaItems": 7, "meetings": 1, "plans": 1, "reports": 3}, ""},
		{36, 98, "public rights, declarable-interests guidance, evacuation procedure", became{"people": 1}, "boilerplate of every agenda pack; only the democratic services contact is a person"},
		{99, 111, "minutes of 8 March 2023: present, officers, apologies", became{"attendance": 12, "bodies": 1, "meetings": 1, "memberships": 9, "people": 12}, ""},
		{112, 126, "CYP 44/22 to 46/22", became{"agendaItems": 3, "bodies": 1, "meetings": 1}, ""},
		{127, 143, "CYP 47/22 Employment and Training Hub presentation", became{"agendaItems": 1, "bodies": 1}, "a presentation, not a report, so no report record; its list of hub services is kept in the minutes"},
		{144, 173, "CYP 48/22 performance update and the issues discussed", became{"agendaItems": 1, "bodies": 2, "inspections": 2, "reports": 1}, ""},
		{174, 189, "CYP 49/22 Overview and Scrutiny end-of-term report and CYP 50/22 work programme", became{"agendaItems": 2, "bodies": 1, "organisations": 1, "reports": 2}, ""},
		{190, 218, "contextual safeguarding action plan: covering report", became{"bodies": 2, "people": 1, "plans": 1, "reports": 1}, ""},
		{219, 242, "contextual safeguarding action plan: nine recommendations, actions, owners, dates", became{"actions": 9, "bodies": 6, "organisations": 1, "people": 3, "plans": 1, "priorities": 9, "reports": 1}, ""},
		{243, 296, "overview report 2023: context, services, Council Plan 2023-2026", became{"bodies": 2, "meetings": 1, "observations": 1, "people": 2, "plans": 2, "reports": 1}, "the Council's vision is the Council Plan's own and is not repeated as records"},
		{297, 328, "transformation, change and improvement: strategic planning framework, key commitments", became{"agendaItems": 2, "bodies": 2, "meetings": 2, "plans": 3, "priorities": 8, "reports": 1}, ""},
		{329, 343, "how well we are doing, what else we need to be doing", became{"reports": 1}, "a description of the performance system, held only by the overview report's record"},
		{344, 397, "ILACS inspection, governance and the SEND inspection", became{"bodies": 1, "inspections": 2, "memberships": 7, "organisations": 6, "reports": 1}, ""},
		{398, 432, "Help and Support: opportunities, challenges and priorities", became{"bodies": 2, "organisations": 3, "plans": 1, "priorities": 10, "reports": 1}, ""},
		{433, 458, "Children's Social Care: opportunities, challenges and priorities", became{"agendaItems": 1, "bodies": 4, "indicators": 1, "meetings": 1, "observations": 1, "organisations": 1, "plans": 1, "priorities": 10, "reports": 1}, ""},
		{459, 486, "Schools: opportunities, challenges and priorities", became{"indicators": 7, "observations": 7, "organisations": 7, "priorities": 6, "reports": 1}, ""},
		{487, 521, "SEN and Inclusion: opportunities, challenges and priorities", became{"bodies": 4, "indicators": 1, "observations": 1, "organisations": 3, "plans": 3, "priorities": 16, "reports": 1}, ""},
		{522, 541, "Strategy, Quality and Improvement: opportunities and priorities", became{"priorities": 10, "reports": 1}, ""},
		{542, 571, "Appendix 1: Council Plan key priorities 2023-2024 (Children's Services)", became{"bodies": 1, "plans": 1, "priorities": 9, "reports": 1}, ""},
		{572, 607, "work programme 2023-2024", became{"agendaItems": 10, "attendance": 17, "bodies": 1, "meetings": 8, "people": 7, "plans": 1, "reports": 1}, ""},
	}},
	{"cyp-select-committee-2023-07-19-minute-overview.txt", []section{
		{1, 3, "the overview item's minute: presenter", became{"agendaItems": 1, "attendance": 1, "bodies": 1, "meetings": 1, "people": 1, "reports": 1}, ""},
		{4, 9, "ILACS outcome and areas for improvement as minuted", became{"agendaItems": 1, "bodies": 1, "inspections": 1, "meetings": 1, "organisations": 1}, ""},
		{10, 19, "other key issues discussed", became{"agendaItems": 1, "bodies": 1, "indicators": 1, "meetings": 1, "organisations": 2, "plans": 1}, ""},
		{20, 21, "decision and supporting documents", became{"agendaItems": 1, "meetings": 1}, ""},
	}},
	{"cyp-select-committee-2021-02-17-overview-report.txt", []section{
		{1, 8, "overview meeting 2021, 17 February 2021: title", became{"bodies": 1, "meetings": 2, "plans": 1, "reports": 1}, ""},
		{9, 33, "context and the Council's vision", became{"indicators": 1, "observations": 1, "reports": 1}, "the Council's vision is the Council Plan's own and is not repeated as records"},
		{34, 39, "performance reporting", became{"bodies": 1, "reports": 1}, ""},
		{40, 60, "Children's Services: services and areas to improve", became{"inspections": 2, "people": 1, "plans": 1, "reports": 1}, "the six areas to improve are kept in the report, not as separate records"},
		{61, 77, "what we are going to change and how", became{"indicators": 1, "observations": 1, "plans": 1, "priorities": 5, "reports": 1}, ""},
		{78, 81, "partnerships and impact: the Children and Young People Strategy 2019-23", became{"bodies": 1, "plans": 1, "priorities": 4, "reports": 1}, ""},
		{82, 103, "early help: challenges and priorities", became{"bodies": 1, "indicators": 2, "observations": 2, "organisations": 3, "priorities": 6, "reports": 1}, ""},
		{104, 132, "children's social care: challenges and priorities", became{"bodies": 2, "indicators": 3, "inspections": 1, "organisations": 5, "priorities": 5, "reports": 1}, ""},
		{133, 147, "schools: challenges and priorities", became{"priorities": 4, "reports": 1}, ""},
		{148, 171, "SEN: challenges and priorities", became{"inspections": 2, "organisations": 5, "plans": 1, "priorities": 6, "reports": 1}, ""},
		{172, 184, "systems, information and improvement", became{"organisations": 2, "priorities": 2, "reports": 1}, ""},
		{185, 197, "potential areas for in-depth review", became{"agendaItems": 1, "bodies": 1, "meetings": 1, "reports": 1}, ""},
		{198, 224, "Appendix 1: Council Plan key priorities 2020-2021", became{"plans": 1, "priorities": 9, "reports": 1}, ""},
		{225, 249, "Appendix 2: social care and early help headlines", became{"areas": 2, "indicators": 26, "observations": 40, "reports": 1}, ""},
		{250, 258, "Appendix 2: special educational needs and disabilities", became{"areas": 2, "indicators": 9, "observations": 16, "reports": 1}, ""},
		{259, 267, "Appendix 2: schools", became{"indicators": 3, "observations": 3, "reports": 1}, ""},
	}},
	{"cyp-partnership-plan-2015-2018.txt", []section{
		{1, 25, "vision, title and contents", became{"bodies": 1, "plans": 1}, ""},
		{26, 44, "foreword by the partnership's chair", became{"bodies": 1, "memberships": 1, "organisations": 1, "people": 1, "plans": 1}, ""},
		{45, 70, "profile of the borough and its population", became{"areas": 2, "councils": 1, "indicators": 20, "observations": 22, "organisations": 1}, ""},
		{71, 92, "vision and how it will be achieved", became{"plans": 1}, "the vision's aims are the plan's description, not separate priorities"},
		{93, 107, "the six key priorities", became{"plans": 1, "priorities": 6}, ""},
		{108, 137, "needs assessment: strategic assessments and plans", became{"bodies": 3, "plans": 7, "priorities": 17}, ""},
		{138, 168, "inspection and review", became{"bodies": 1, "inspections": 5, "organisations": 4, "plans": 1, "priorities": 8}, ""},
		{169, 221, "analysis of performance and activity data", became{"areas": 2, "indicators": 7, "observations": 10}, "the evaluations' findings are prose; only the figures are records"},
		{222, 257, "involvement of children and young people", became{"bodies": 4}, ""},
		{258, 292, "making it happen: governance framework", became{"bodies": 4, "plans": 13}, ""},
		{293, 354, "delivery plan: success criteria, indicators, key actions, lead groups, linked plans", became{"actions": 22, "bodies": 18, "indicators": 45, "organisations": 1, "plans": 14, "priorities": 6}, ""},
		{355, 385, "glossary of terms", became{"bodies": 6, "organisations": 2}, "abbreviations only; those for bodies are aliases of their records"},
		{386, 429, "members of the CYP Partnership", became{"bodies": 1, "memberships": 19, "organisations": 8}, ""},
		{430, 484, "contact details and translations", became{}, "how to contact the council and the same notice in six languages; no records"},
	}},
}

// TestStocktonSourcesSectionBySection holds each source document's list of
// sections to the data set: the sections cover the document without gaps,
// each says what it became, and the counts are those of the loaded set, so
// the test fails when the data and the list drift apart. A section that
// became nothing must say why it was left out.
func TestStocktonSourcesSectionBySection(t *testing.T) {
	t.Parallel()
	set := loadStockton(t)
	type cite struct {
		collection, id string
		from, to       int
	}
	cites := map[string][]cite{}
	loc := regexp.MustCompile(`^lines ([0-9]+)-([0-9]+)$`)
	add := func(collection, id string, sources []store.Source) {
		for _, s := range sources {
			if s.Locator == nil {
				continue
			}
			m := loc.FindStringSubmatch(*s.Locator)
			if m == nil {
				continue
			}
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			cites[s.Document] = append(cites[s.Document], cite{collection, id, a, b})
		}
	}
	for coll, items := range set.Items {
		for _, it := range items {
			base := it.Doc.Base()
			add(coll, base.ID, base.Sources)
			switch v := it.Doc.(type) {
			case *store.Priority:
				for _, u := range v.Updates {
					add(coll, base.ID, u.Sources)
				}
			case *store.Inspection:
				for _, j := range v.Judgements {
					add(coll, base.ID, j.Sources)
				}
			}
		}
	}

	entries, err := os.ReadDir(filepath.Join(stocktonDir, "sources"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, d := range sourceSections {
		listed[d.document] = true
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".txt" && !listed[e.Name()] {
			t.Errorf("%s has no list of sections", e.Name())
		}
	}

	for _, d := range sourceSections {
		b, err := os.ReadFile(filepath.Join(stocktonDir, "sources", d.document))
		if err != nil {
			t.Errorf("%s: %v", d.document, err)
			continue
		}
		lines := bytes.Count(b, []byte("\n")) + 1
		next := 1
		for _, s := range d.sections {
			name := d.document + " lines " + strconv.Itoa(s.from) + "-" + strconv.Itoa(s.to) + " (" + s.what + ")"
			if s.from != next || s.to < s.from {
				t.Errorf("%s: starts at %d, want %d (sections run in order without gaps)", name, s.from, next)
			}
			next = s.to + 1
			if len(s.became) == 0 && s.leftOut == "" {
				t.Errorf("%s: became nothing and does not say why it was left out", name)
			}
			seen := map[string]bool{}
			got := became{}
			for _, c := range cites[d.document] {
				if c.from <= s.to && c.to >= s.from && !seen[c.collection+" "+c.id] {
					seen[c.collection+" "+c.id] = true
					got[c.collection]++
				}
			}
			if diff := cmp.Diff(s.became, got); diff != "" {
				t.Errorf("%s: the set holds other records than the list says (-list +set):\n%s", name, diff)
			}
		}
		if next != lines+1 {
			t.Errorf("%s: sections end at line %d, the document has %d", d.document, next-1, lines)
		}
	}
}

// TestSourceSectionsNameCollections keeps the lists to collection names.
func TestSourceSectionsNameCollections(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for coll := range loadStockton(t).Items {
		known[coll] = true
	}
	var unknown []string
	for _, d := range sourceSections {
		for _, s := range d.sections {
			for coll := range s.became {
				if !known[coll] {
					unknown = append(unknown, coll)
				}
			}
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("sections name collections the set does not have: %v", unknown)
	}
}
