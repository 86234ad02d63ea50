package manifest

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// ReadDir reads every .yaml, .yml and .json file below root in fsys, in
// path order, and splits each into documents. Hidden directories and files
// (".git", ".github") are skipped, symbolic links are not followed, and
// files over MaxFileSize are refused with a diagnostic. Source.File is the
// slash-separated path relative to root. The error is for a failure to read
// the file system; problems in the files are diagnostics.
//
// Unlike Split, ReadDir does not parse the YAML documents it returns: a
// document with a syntax error is reported (as an error with its file and
// line) when it is decoded, so that each document is parsed once.
func ReadDir(fsys fs.FS, root string) ([]Document, []diag.Diagnostic, error) {
	var (
		docs  []Document
		diags []diag.Diagnostic
	)
	// fs.WalkDir visits entries in lexical order, so output is sorted by path.
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := relPath(root, p)
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(path.Ext(p)) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			diags = append(diags, diag.Diagnostic{Severity: diag.Info, File: rel,
				Message: "symbolic link not followed"})
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if isKustomizationFile(p) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		if info.Size() > MaxFileSize {
			diags = append(diags, diag.Diagnostic{Severity: diag.Error, File: rel,
				Message: fmt.Sprintf("file is %d bytes, over the limit of %d; not read", info.Size(), MaxFileSize)})
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		ds, dg := split(rel, data, false)
		docs = append(docs, ds...)
		diags = append(diags, dg...)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read manifests below %s: %w", root, err)
	}
	return docs, diags, nil
}

// relPath returns p relative to root; both are slash-separated fs.FS paths.
func relPath(root, p string) string {
	if root == "." || root == "" {
		return p
	}
	if p == root {
		return path.Base(p)
	}
	return strings.TrimPrefix(p, root+"/")
}
