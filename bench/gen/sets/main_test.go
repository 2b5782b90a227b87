package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneCouncilsFolder writes one council of three: only its folder, with
// its manifest.
func TestOneCouncilsFolder(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run([]string{"-councils", "3", "-council", "1", "-out", out}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil || len(entries) != 1 || entries[0].Name() != "c001" {
		t.Fatalf("folders %v (%v), want c001 alone", entries, err)
	}
	manifest, err := os.ReadFile(filepath.Join(out, "c001", "set.yaml"))
	if err != nil || !strings.Contains(string(manifest), "name: synthetic-c001\n") || !strings.Contains(string(manifest), "- council:c001\n") {
		t.Errorf("c001/set.yaml: %q (%v)", manifest, err)
	}
	if !strings.HasPrefix(stdout.String(), "wrote 1 set(s), ") {
		t.Errorf("stdout: %q", stdout.String())
	}
}

// TestBadFlags refuses flags that name no set.
func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-scale", "XL"},
		{"-councils", "3", "-council", "3"},
		{"-one", "-council", "0"},
		{"extra"},
	} {
		if err := run(append(args, "-out", t.TempDir()), io.Discard, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
