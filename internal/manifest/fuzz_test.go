package manifest

import (
	"bytes"
	"testing"
)

// FuzzDecode splits and decodes arbitrary bytes, as YAML and as JSON: it
// must never panic or hang, and every finding must point into the file.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"))
	f.Add([]byte(genManifestsText(1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// go-yaml counts a lone "\r", NEL, LS and PS as line breaks too.
		lines := 1
		for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
			lines += bytes.Count(data, []byte(br))
		}
		for _, file := range []string{"f.yaml", "f.json"} {
			docs, diags := Split(file, data)
			for _, doc := range docs {
				if doc.Source.Line < 1 || doc.Source.Line > lines {
					t.Errorf("Split(%s): document at line %d of %d", file, doc.Source.Line, lines)
				}
				objs, ds := Decode(doc)
				diags = append(diags, ds...)
				for _, o := range objs {
					if o.Source.File != file || o.Source.Line < 1 || o.Source.Line > lines {
						t.Errorf("Decode(%s): object %s %s at %s:%d of %d lines", file, o.Kind, o.Name, o.Source.File, o.Source.Line, lines)
					}
				}
			}
			for _, d := range diags {
				if d.File != file || d.Line < 0 || d.Line > lines || d.Message == "" {
					t.Errorf("Split+Decode(%s): diagnostic %v outside a %d-line file", file, d, lines)
				}
			}
		}
	})
}
