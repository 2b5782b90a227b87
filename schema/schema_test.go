package schema_test

import (
	"os"
	"slices"
	"testing"

	"councilgraph/schema"
)

func TestSDLIsTheSchemaFile(t *testing.T) {
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != schema.SDL {
		t.Fatal("sdl_gen.go is stale: run go generate ./...")
	}
}

func TestEnums(t *testing.T) {
	got := schema.Enums()
	if want := []string{"HIGHER_IS_BETTER", "LOWER_IS_BETTER", "NO_JUDGEMENT"}; !slices.Equal(got["Polarity"], want) {
		t.Errorf("Polarity = %v, want %v", got["Polarity"], want)
	}
	if len(got["OrganisationKind"]) < 10 {
		t.Errorf("OrganisationKind has %d values", len(got["OrganisationKind"]))
	}
}
