package manifest

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/diag"
)

func TestSplit(t *testing.T) {
	type doc struct {
		Line int
		Data string
	}
	tests := []struct {
		name, file, text string
		want             []doc
	}{
		{"one document", "a.yaml", "a: 1\n", []doc{{1, "a: 1\n"}}},
		{"no final newline", "a.yaml", "a: 1", []doc{{1, "a: 1"}}},
		{"empty file", "a.yaml", "", nil},
		{"only comments and markers", "a.yaml", "# c\n---\n\n---\n# d\n...\n", nil},
		{"leading marker and comments", "a.yaml", "# c\n\n---\na: 1\n---\nb: 2\n", []doc{{4, "a: 1\n"}, {6, "b: 2\n"}}},
		{"content on the marker line", "a.yaml", "--- {a: 1}\n--- |\n  text\n", []doc{{1, "--- {a: 1}\n"}, {2, "--- |\n  text\n"}}},
		{"marker-like text is not a marker", "a.yaml", "a: ---x\nb: |\n  ----\n", []doc{{1, "a: ---x\nb: |\n  ----\n"}}},
		{"CRLF line ends", "a.yaml", "a: 1\r\n---\r\nb: 2\r\n", []doc{{1, "a: 1\r\n"}, {3, "b: 2\r\n"}}},
		{"byte order mark", "a.yaml", "\xef\xbb\xbfa: 1\n", []doc{{1, "a: 1\n"}}},
		{"document end marker", "a.yaml", "a: 1\n...\nb: 2\n", []doc{{1, "a: 1\n"}, {3, "b: 2\n"}}},
		{"JSON values", "a.json", "  {\"a\": 1}\n\n[1,\n2]", []doc{{1, `{"a": 1}`}, {3, "[1,\n2]"}}},
		{"kustomization", "x/kustomization.yml", "resources: [a.yaml]\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, diags := Split(tt.file, []byte(tt.text))
			var got []doc
			for _, d := range docs {
				if d.Source.File != tt.file {
					t.Errorf("Split(%q) file = %q; want %q", tt.text, d.Source.File, tt.file)
				}
				got = append(got, doc{d.Source.Line, string(d.Data)})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || len(diags) != 0 {
				t.Errorf("Split(%q) = %v, %v; want %v, no diagnostics", tt.text, got, diags, tt.want)
			}
		})
	}
}

func TestSplitTooBig(t *testing.T) {
	data := make([]byte, MaxFileSize+1)
	docs, diags := Split("big.yaml", data)
	want := []diag.Diagnostic{{Severity: diag.Error, File: "big.yaml",
		Message: fmt.Sprintf("file is %d bytes, over the limit of %d; not read", MaxFileSize+1, MaxFileSize)}}
	if len(docs) != 0 || !cmp.Equal(diags, want) {
		t.Errorf("Split(big.yaml) = %d documents, %v; want none, %v", len(docs), diags, want)
	}
}

func TestReadDir(t *testing.T) {
	ns := func(name string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n")}
	}
	fsys := fstest.MapFS{
		"repo/b.yaml":                      ns("b"),
		"repo/a/z.yml":                     ns("z"),
		"repo/a/y.json":                    {Data: []byte(`{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "y"}}`)},
		"repo/a/README.md":                 {Data: []byte("# not read\n")},
		"repo/a/kustomization.yaml":        {Data: []byte("resources: [z.yml]\n")},
		"repo/.git/config.yaml":            ns("git"),
		"repo/.hidden.yaml":                ns("hidden"),
		"repo/c/link.yaml":                 {Data: []byte("../b.yaml"), Mode: fs.ModeSymlink},
		"repo/c/big.yaml":                  {Data: make([]byte, MaxFileSize+1)},
		"repo/d/UPPER.YAML":                ns("upper"),
		"outside/x.yaml":                   ns("outside"),
		"repo/e/values.yaml":               {Data: []byte("replicas: 2\n")},
		"repo/e/broken.yaml":               {Data: []byte("a: [\n")},
		"repo/.github/workflows/ci.yaml":   {Data: []byte("on: push\n")},
		"repo/f/deep/er/still/deeper.yaml": ns("deep"),
	}
	docs, diags, err := ReadDir(fsys, "repo")
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var files []string
	for _, d := range docs {
		files = append(files, fmt.Sprintf("%s:%d", d.Source.File, d.Source.Line))
	}
	wantFiles := []string{"a/y.json:1", "a/z.yml:1", "b.yaml:1", "d/UPPER.YAML:1", "e/broken.yaml:1", "e/values.yaml:1", "f/deep/er/still/deeper.yaml:1"}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("ReadDir files (-want +got):\n%s", diff)
	}
	// ReadDir leaves syntax errors to the decoder, which parses anyway.
	objs, decodeDiags := NewDecoder().DecodeAll(docs)
	diags = append(diags, decodeDiags...)
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	if want := []string{"y", "z", "b", "upper", "deep"}; !cmp.Equal(names, want) {
		t.Errorf("ReadDir+DecodeAll names = %v; want %v", names, want)
	}
	wantDiags := []diag.Diagnostic{
		{Severity: diag.Error, File: "c/big.yaml", Message: fmt.Sprintf("file is %d bytes, over the limit of %d; not read", MaxFileSize+1, MaxFileSize)},
		{Severity: diag.Info, File: "c/link.yaml", Message: "symbolic link not followed"},
		{Severity: diag.Error, File: "e/broken.yaml", Line: 1, Message: "invalid YAML: line 1: did not find expected node content"},
		{Severity: diag.Info, File: "e/values.yaml", Line: 1, Message: "not a Kubernetes object, skipped"},
	}
	if diff := cmp.Diff(wantDiags, diags); diff != "" {
		t.Errorf("ReadDir diagnostics (-want +got):\n%s", diff)
	}

	if _, _, err := ReadDir(fsys, "missing"); err == nil {
		t.Errorf("ReadDir(missing) = nil error; want an error")
	}
}

func TestDecoder(t *testing.T) {
	base := []byte(genManifestsText(20))
	docs, _ := Split("gen.yaml", base)
	d := NewDecoder()
	got, gotDiags := d.DecodeAll(docs)

	// DecodeAll is Decode on every document, in order.
	var want []Object
	var wantDiags []diag.Diagnostic
	for _, doc := range docs {
		o, ds := Decode(doc)
		want = append(want, o...)
		wantDiags = append(wantDiags, ds...)
	}
	if diff := cmp.Diff(summarize(want), summarize(got)); diff != "" {
		t.Errorf("DecodeAll objects (-Decode +DecodeAll):\n%s", diff)
	}
	if diff := cmp.Diff(wantDiags, gotDiags); diff != "" {
		t.Errorf("DecodeAll diagnostics (-Decode +DecodeAll):\n%s", diff)
	}
	if diff := cmp.Diff(want[3].Typed, got[3].Typed); diff != "" {
		t.Errorf("DecodeAll typed object 3 (-Decode +DecodeAll):\n%s", diff)
	}

	// Head after base: change one document; the others come from the cache
	// (the very same values), the changed one is decoded again.
	head := append([]Document(nil), docs...)
	head[5].Data = []byte(strings.Replace(string(head[5].Data), "replicas: 0", "replicas: 7", 1))
	var wg sync.WaitGroup
	results := make([][]Object, 4)
	for i := range results { // concurrent use, checked by -race
		wg.Go(func() { results[i], _ = d.DecodeAll(head) })
	}
	wg.Wait()
	for _, again := range results {
		for i := range got {
			same := got[i].Typed == again[i].Typed
			if same != (i != 5) {
				t.Errorf("DecodeAll(head)[%d] reused from cache = %v; want %v", i, same, i != 5)
			}
		}
	}
	// The same text at another line is another document (lines differ).
	moved := append([]Document(nil), docs[:1]...)
	moved[0].Source.Line += 10
	objs, _ := d.DecodeAll(moved)
	if objs[0].Source.Line != got[0].Source.Line+10 {
		t.Errorf("DecodeAll(moved) line = %d; want %d", objs[0].Source.Line, got[0].Source.Line+10)
	}
}
