package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// MaxFileSize is the largest manifest file read, in bytes. Larger files are
// refused with a diagnostic: the input is untrusted.
var MaxFileSize int64 = 8 << 20

// Split splits one file into its documents: a YAML stream of documents
// separated by "---" lines, or a JSON file (one or more JSON values, each
// possibly a List). Each Document's Source.File is file and Source.Line the
// first line of the document in the file. Empty documents (blank, or only
// comments) are dropped. Broken YAML or JSON gives a diag.Error naming the
// file and line; the documents of a YAML file that parse are still returned.
// kustomization files give no documents.
func Split(file string, data []byte) ([]Document, []diag.Diagnostic) {
	return split(file, data, true)
}

// SplitLazy is Split without the syntax check: broken documents are
// reported when they are decoded, so each document is parsed once. Use it
// when every document will be decoded anyway.
func SplitLazy(file string, data []byte) ([]Document, []diag.Diagnostic) {
	return split(file, data, false)
}

// split is Split; check says whether to parse each YAML document to report
// syntax errors now (else Decode reports them, and each document is parsed
// once instead of twice).
func split(file string, data []byte, check bool) ([]Document, []diag.Diagnostic) {
	if isKustomizationFile(file) {
		return nil, nil
	}
	if int64(len(data)) > MaxFileSize {
		return nil, []diag.Diagnostic{{Severity: diag.Error, File: file,
			Message: fmt.Sprintf("file is %d bytes, over the limit of %d; not read", len(data), MaxFileSize)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if strings.EqualFold(path.Ext(file), ".json") {
		return splitJSON(file, data)
	}
	docs := splitYAML(file, data)
	if !check {
		return docs, nil
	}
	return checkDocs(docs)
}

// splitJSON splits a stream of JSON values.
func splitJSON(file string, data []byte) ([]Document, []diag.Diagnostic) {
	var docs []Document
	dec := json.NewDecoder(bytes.NewReader(data))
	line, lineAt := 1, 0 // line is the line number of offset lineAt
	lineOf := func(off int) int {
		if off < lineAt {
			line, lineAt = 1, 0
		}
		line += bytes.Count(data[lineAt:off], []byte{'\n'})
		lineAt = off
		return line
	}
	for {
		start := int(dec.InputOffset())
		for start < len(data) && isJSONSpace(data[start]) {
			start++
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			off := start
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = int(se.Offset)
			}
			off = min(max(off, 0), len(data))
			return docs, []diag.Diagnostic{{Severity: diag.Error, File: file, Line: lineOf(off),
				Message: "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}}
		}
		end := int(dec.InputOffset())
		docs = append(docs, Document{Source: Source{File: file, Line: lineOf(start)}, Data: data[start:end:end]})
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// splitYAML cuts a YAML stream at its document markers ("---", "..."),
// dropping documents that hold nothing but comments and blank lines.
func splitYAML(file string, data []byte) []Document {
	var docs []Document
	start, startLine := 0, 1            // where the current document starts
	content, directives := false, false // whether it holds content, or only directives
	flush := func(end int) {
		if content {
			docs = append(docs, Document{Source: Source{File: file, Line: startLine}, Data: data[start:end:end]})
		}
		content, directives = false, false
	}
	lineNo := 0
	for off := 0; off < len(data); {
		lineNo++
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			end += off
			next = end + 1
		} else {
			end = len(data)
		}
		line := data[off:end]
		switch {
		case isMarker(line, "---"):
			if directives && !content {
				content = true // "%YAML 1.2" then "---": the directives belong to this document
				break
			}
			flush(off)
			if hasContent(line[3:]) {
				start, startLine, content = off, lineNo, true
			} else {
				start, startLine = next, lineNo+1
			}
		case isMarker(line, "..."):
			flush(off)
			start, startLine = next, lineNo+1
		case !content && !directives && len(line) > 0 && line[0] == '%':
			directives = true
			start, startLine = off, lineNo
		case !content && !hasContent(line):
			if !directives {
				start, startLine = next, lineNo+1 // skip leading blank and comment lines
			}
		default:
			content = true
		}
		off = next
	}
	flush(len(data))
	return docs
}

// checkDocs parses each document (on GOMAXPROCS workers: parsing is the
// costly part) and keeps those that parse; each that does not gives an
// error naming its line.
func checkDocs(docs []Document) ([]Document, []diag.Diagnostic) {
	errs := make([]error, len(docs))
	parallel(len(docs), func(i int) { errs[i] = checkYAML(docs[i].Data) })
	var (
		ok    = docs[:0:0]
		diags []diag.Diagnostic
	)
	for i, d := range docs {
		if errs[i] == nil {
			ok = append(ok, d)
			continue
		}
		diags = append(diags, diag.Diagnostic{Severity: diag.Error, File: d.Source.File,
			Line:    lineOr(yamlErrorLine(errs[i])+d.Source.Line-1, d.Source.Line),
			Message: "invalid YAML: " + yamlMessage(errs[i], d.Source.Line-1)})
	}
	return ok, diags
}

// isMarker reports whether line is a document marker ("---" or "...")
// followed by nothing or white space.
func isMarker(line []byte, marker string) bool {
	if !bytes.HasPrefix(line, []byte(marker)) {
		return false
	}
	rest := line[len(marker):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r'
}

// hasContent reports whether a line holds anything but white space and a
// comment.
func hasContent(line []byte) bool {
	t := bytes.TrimLeft(line, " \t\r")
	return len(t) > 0 && t[0] != '#'
}

// checkYAML parses one document, reporting a syntax error.
func checkYAML(data []byte) error {
	var n yaml.Node
	return yaml.Unmarshal(data, &n)
}
