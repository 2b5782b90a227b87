package importer

import (
	"fmt"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"councilgraph/store"
)

// ManifestFile is a data set's manifest: its identity and the councils
// whose namespaces it may write.
const ManifestFile = "set.yaml"

// MovedFile lists the IDs a set published before and the records they name
// now.
const MovedFile = "moved.yaml"

// Manifest is what a set's set.yaml declares.
type Manifest struct {
	// Name is the set's identity: the owner its records carry, whatever
	// folder the set sits in.
	Name string `yaml:"name"`
	// Councils are the council IDs whose namespaces the set may write.
	Councils []string `yaml:"councils"`
	// Description says what the set is, for people.
	Description string `yaml:"description,omitempty"`
}

// Writes reports whether the set may write records of council (a council
// ID); a manifest with no councils writes shared registries only.
func (m *Manifest) Writes(council string) bool { return slices.Contains(m.Councils, council) }

var setName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// loadManifest reads set.yaml strictly, if the folder has one.
func loadManifest(fsys fs.FS) (*Manifest, Problems) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, nil
	}
	var m Manifest
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: ManifestFile, Line: yamlErrorLine(err), Msg: "malformed YAML: " + err.Error()}}
	}
	if root.Kind == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, Problems{{File: ManifestFile, Line: 1, Msg: "the manifest must be a mapping with name: and councils:"}}
	}
	n := root.Content[0]
	problems := unknownFields(ManifestFile, "", n, reflect.TypeFor[Manifest](), "")
	if err := n.Decode(&m); err != nil {
		return nil, append(problems, typeProblems(ManifestFile, "", n.Line, err)...)
	}
	lines := fieldLines(n)
	if !setName.MatchString(m.Name) {
		problems = append(problems, Problem{File: ManifestFile, Line: max(lines["name"], 1), Field: "name",
			Msg: fmt.Sprintf("%q is not a set name: give one of a-z, 0-9 and -, e.g. name: stockton", m.Name)})
	}
	for _, c := range m.Councils {
		if store.CouncilOf(c) != c || !setName.MatchString(strings.TrimPrefix(c, "council:")) {
			problems = append(problems, Problem{File: ManifestFile, Line: max(lines["councils"], 1), Field: "councils",
				Msg: fmt.Sprintf("%q is not a council ID such as council:stockton-on-tees", c)})
		}
	}
	return &m, problems
}

// moveItem is one entry of moved.yaml and its line.
type moveItem struct {
	store.Move
	Line int
}

// loadMoves reads moved.yaml, if the folder has one.
func loadMoves(fsys fs.FS) ([]moveItem, Problems) {
	data, err := fs.ReadFile(fsys, MovedFile)
	if err != nil {
		return nil, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{{File: MovedFile, Line: yamlErrorLine(err), Msg: "malformed YAML: " + err.Error()}}
	}
	if root.Kind == 0 {
		return nil, nil
	}
	seq := root.Content[0]
	if seq.Kind != yaml.SequenceNode {
		return nil, Problems{{File: MovedFile, Line: seq.Line, Msg: "the file must be a list of {from: <old ID>, to: <new ID>}"}}
	}
	var out []moveItem
	var problems Problems
	seen := map[string]bool{}
	for _, n := range seq.Content {
		var m store.Move
		if n.Kind != yaml.MappingNode {
			problems = append(problems, Problem{File: MovedFile, Line: n.Line, Msg: "an entry must be a mapping {from: <old ID>, to: <new ID>}"})
			continue
		}
		problems = append(problems, unknownFields(MovedFile, "", n, reflect.TypeFor[store.Move](), "")...)
		if err := n.Decode(&m); err != nil {
			problems = append(problems, typeProblems(MovedFile, "", n.Line, err)...)
			continue
		}
		switch {
		case m.From == "" || m.To == "":
			problems = append(problems, Problem{File: MovedFile, Line: n.Line, ID: m.From, Msg: "an entry needs both from: and to:"})
		case m.From == m.To:
			problems = append(problems, Problem{File: MovedFile, Line: n.Line, ID: m.From, Msg: "moved to itself"})
		case seen[m.From]:
			problems = append(problems, Problem{File: MovedFile, Line: n.Line, ID: m.From, Msg: "listed twice"})
		}
		seen[m.From] = true
		out = append(out, moveItem{m, n.Line})
	}
	return out, problems
}

// idForm is the pattern a kind's IDs follow: <prefix>:<council slug>/<key>
// for a council's records, council:<slug> for a council, and
// <prefix>:<slug> for a shared registry's (an area's may be its GSS code).
func idForm(k *store.Kind) (*regexp.Regexp, string) {
	const seg = `[a-z0-9][a-z0-9-]*`
	switch {
	case k.Name == "Council":
		return regexp.MustCompile(`^council:` + seg + `$`), "council:<slug>"
	case k.Name == "Area":
		return regexp.MustCompile(`^area:(` + seg + `|[EWSNK][0-9]{8})$`), "area:<GSS code> or area:<slug>"
	case k.Shared:
		return regexp.MustCompile(`^` + k.Prefix + `:` + seg + `$`), k.Prefix + ":<slug>"
	}
	return regexp.MustCompile(`^` + k.Prefix + `:` + seg + `(/` + seg + `)+$`), k.Prefix + ":<council slug>/<key>[/<key>…]"
}
