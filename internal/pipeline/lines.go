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
// denies, a deleted policy) are looked up in base's files.
func ruleLines(changes []diff.Change, ov Overlay, read func(head bool, file string) ([]byte, bool)) {
	if read == nil {
		return
	}
	base, head := docsByFile(ov.Base), docsByFile(ov.Head)
	for i := range changes {
		for j := range changes[i].Causes {
			c := &changes[i].Causes[j]
			if c.Path == "" || c.File == "" || c.Line < 1 {
				continue
			}
			onHead, docs := true, head
			switch c.Kind {
			case diff.CauseRuleRemoved, diff.CauseDenyRemoved, diff.CausePolicyDeleted:
				onHead, docs = false, base
			}
			src, ok := read(onHead, c.File)
			if !ok {
				continue
			}
			doc, ok := docAt(docs[c.File], c.Line)
			if !ok {
				continue
			}
			if line, ok := locate.Line(src, c.Line, doc.Data, c.Path); ok {
				c.Line = line
			}
		}
	}
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
