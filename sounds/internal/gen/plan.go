package main

import (
	"fmt"
	"sort"

	"github.com/supportdesk/ivr/sounds/internal/manifest"
)

// job is one file to render: its path in the audio directory and the entry
// it is rendered from.
type job struct {
	Path  string
	Entry manifest.Entry
}

// plan is what a run does.
type plan struct {
	render   []job                     // files to render, in path order
	keep     map[string]manifest.Entry // entries kept as they are
	remove   []string                  // generated files no longer wanted
	problems []string                  // what a person has to resolve
}

// makePlan compares the files the catalogue wants with the manifest and
// the files on disk (path to SHA-256). It never plans to overwrite or
// delete a recording, nor, without force, a generated file that was
// changed by hand or a file the manifest does not know.
func makePlan(old *manifest.Manifest, want map[string]manifest.Entry, files map[string]string, force bool) plan {
	p := plan{keep: map[string]manifest.Entry{}}
	for _, path := range sortedKeys(want) {
		w := want[path]
		o, known := old.Files[path]
		sum, onDisk := files[path]
		switch {
		case known && o.Source == manifest.SourceRecorded:
			p.keep[path] = o
			switch {
			case !onDisk:
				p.problems = append(p.problems, fmt.Sprintf("%s: marked recorded in the manifest but the file is missing", path))
			case o.SHA256 != "" && o.SHA256 != sum:
				p.problems = append(p.problems, fmt.Sprintf("%s: recording differs from its manifest sha256; update or remove the sha256", path))
			case o.Text != w.Text:
				p.problems = append(p.problems, fmt.Sprintf("%s: a recording of %q, but the catalogue now says %q; re-record it, or delete its manifest entry to render it with espeak-ng",
					path, o.Text, w.Text))
			}
		case onDisk && !known && !force:
			p.problems = append(p.problems, fmt.Sprintf("%s: not in the manifest; if it is a recording add an entry with source %q, or run with -force to render over it",
				path, manifest.SourceRecorded))
		case onDisk && known && o.SHA256 != sum && !force:
			p.keep[path] = o
			p.problems = append(p.problems, fmt.Sprintf("%s: changed since it was generated; if it is a recording mark its manifest entry source %q, or run with -force to render over it",
				path, manifest.SourceRecorded))
		case force || !onDisk || !known || !sameRecipe(o, w):
			p.render = append(p.render, job{Path: path, Entry: w})
		default:
			p.keep[path] = o
		}
	}
	orphans := map[string]bool{}
	for path := range old.Files {
		orphans[path] = true
	}
	for path := range files {
		orphans[path] = true
	}
	for _, path := range sortedKeys(orphans) {
		if _, ok := want[path]; ok {
			continue
		}
		if o, ok := old.Files[path]; ok && o.Source == manifest.SourceRecorded {
			p.keep[path] = o
			p.problems = append(p.problems, fmt.Sprintf("%s: a recording of a prompt no longer in the catalogue; delete the file and its manifest entry", path))
			continue
		}
		if _, onDisk := files[path]; onDisk {
			p.remove = append(p.remove, path)
		}
	}
	return p
}

// sameRecipe reports whether a file made from entry o is what w asks for.
func sameRecipe(o, w manifest.Entry) bool {
	return o.Source == w.Source && o.Text == w.Text && o.Spoken == w.Spoken &&
		o.Voice == w.Voice && o.Rate == w.Rate && o.Recipe == w.Recipe
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
