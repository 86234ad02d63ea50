package pipeline

import (
	"sort"

	"github.com/reachdiff/reachdiff/internal/diff"
	"github.com/reachdiff/reachdiff/internal/locate"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// ruleLines moves every cause that names one rule (Path) from its
// policy's line to the rule's line in the source file, when the rule as
// evaluated is the rule as written there (a rule kustomize patched keeps
// the policy's line). Causes about base (a rule that no longer allows or
// denies, a deleted policy) are looked up in base's files. Each file is
// parsed once and each rule looked up once, however many causes name it.
func ruleLines(changes []diff.Change, ov Overlay, read func(head bool, file string) ([]byte, bool)) {
	if read == nil {
		return
	}
	type ruleKey struct {
		head       bool
		file, path string
		line       int
	}
	docs := map[bool]map[string][]manifest.Document{false: docsByFile(ov.Base), true: docsByFile(ov.Head)}
	lines := map[ruleKey]int{}
	for _, ch := range changes {
		for _, c := range ch.Causes {
			if c.Path != "" && c.File != "" && c.Line > 0 {
				lines[ruleKey{onHead(c.Kind), c.File, c.Path, c.Line}] = 0
			}
		}
	}
	if len(lines) == 0 {
		return
	}
	// Cut the files the causes name into documents, and parse only the
	// documents that hold a named rule, each once.
	type fileKey struct {
		head bool
		file string
	}
	split := map[fileKey][]manifest.Document{}
	type docKey struct {
		fileKey
		doc int
	}
	parsed := map[docKey]*locate.File{}
	for k := range lines {
		fk := fileKey{k.head, k.file}
		srcDocs, ok := split[fk]
		if !ok {
			if data, found := read(k.head, k.file); found {
				srcDocs, _ = manifest.SplitLazy(k.file, data)
			}
			split[fk] = srcDocs
		}
		i := sort.Search(len(srcDocs), func(i int) bool { return srcDocs[i].Source.Line > k.line }) - 1
		doc, ok := docAt(docs[k.head][k.file], k.line)
		if i < 0 || !ok || len(doc.Data) == 0 {
			continue
		}
		src, ok := parsed[docKey{fk, i}]
		if !ok {
			src = locate.ParseAt(srcDocs[i].Data, srcDocs[i].Source.Line)
			parsed[docKey{fk, i}] = src
		}
		if line, ok := src.Line(k.line, locate.Parse(doc.Data), k.path); ok {
			lines[k] = line
		}
	}
	for i := range changes {
		for j := range changes[i].Causes {
			c := &changes[i].Causes[j]
			if c.Path == "" {
				continue
			}
			if line := lines[ruleKey{onHead(c.Kind), c.File, c.Path, c.Line}]; line > 0 {
				c.Line = line
			}
		}
	}
}

// onHead reports whether a cause is about head (else base: a rule that no
// longer allows or denies, a deleted policy).
func onHead(kind string) bool {
	switch kind {
	case diff.CauseRuleRemoved, diff.CauseDenyRemoved, diff.CausePolicyDeleted:
		return false
	}
	return true
}

// docsByFile groups documents by source file, sorted by line.
func docsByFile(docs []manifest.Document) map[string][]manifest.Document {
	m := map[string][]manifest.Document{}
	for _, d := range docs {
		m[d.Source.File] = append(m[d.Source.File], d)
	}
	for _, ds := range m {
		sort.SliceStable(ds, func(i, j int) bool { return ds[i].Source.Line < ds[j].Source.Line })
	}
	return m
}

// docAt returns the document of a file that holds line: the last one
// starting at or before it (a rendered object's line is its
// metadata.name's, a plain document's its first line). Two documents at
// one line (one source object rendered twice) are ambiguous.
func docAt(docs []manifest.Document, line int) (manifest.Document, bool) {
	i := sort.Search(len(docs), func(i int) bool { return docs[i].Source.Line > line })
	if i == 0 {
		return manifest.Document{}, false
	}
	if i > 1 && docs[i-2].Source.Line == docs[i-1].Source.Line {
		return manifest.Document{}, false
	}
	return docs[i-1], true
}
