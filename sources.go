package main

import (
	"embed"
	"io/fs"
)

// bundledSources are the published documents the Stockton set cites,
// served line-numbered at /sources so that every record's sources link to
// their lines.
//
//go:embed data/stockton/sources/*.txt
var bundledSources embed.FS

// stocktonSources is the bundled Stockton documents, by file name.
func stocktonSources() fs.FS {
	sub, err := fs.Sub(bundledSources, "data/stockton/sources")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}
