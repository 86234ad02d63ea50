// Package source reads a repository snapshot, from git objects or from a
// directory, into an immutable in-memory Tree.
package source

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Limits caps what a snapshot may hold, so that an untrusted repository
// cannot exhaust memory. A zero field takes its default.
type Limits struct {
	MaxFileSize  int64 // bytes per file; default 8 MiB
	MaxTotalSize int64 // bytes for all files together; default 512 MiB
	MaxFiles     int   // number of files; default 200,000
}

// The default limits.
const (
	DefaultMaxFileSize  = 8 << 20
	DefaultMaxTotalSize = 512 << 20
	DefaultMaxFiles     = 200_000
)

// withDefaults fills zero fields with the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// Tree is an immutable snapshot of files: slash-separated paths relative to
// the repository root, mapped to their content.
type Tree struct {
	label string
	files map[string][]byte
	names []string // sorted
	dirs  map[string]bool
}

// NewTree builds a Tree from a map of slash-separated relative paths to
// contents (copied). It is meant for tests and for callers that already hold
// files in memory; paths are cleaned and must stay inside the root.
func NewTree(label string, files map[string][]byte) (*Tree, error) {
	b := newBuilder(label, Limits{})
	for p, data := range files {
		clean := path.Clean(p)
		if !Inside(clean) {
			return nil, fmt.Errorf("tree %s: path %q leaves the root", label, p)
		}
		if err := b.add(clean, append([]byte(nil), data...)); err != nil {
			return nil, err
		}
	}
	return b.tree(), nil
}

// Inside reports whether a cleaned slash path is relative and stays below
// the root ("." is the root itself).
func Inside(p string) bool {
	return p != ".." && !strings.HasPrefix(p, "../") && !strings.HasPrefix(p, "/")
}

// Files returns the paths of all files, sorted.
func (t *Tree) Files() []string {
	return append([]string(nil), t.names...)
}

// Read returns the content of a file and whether it exists. The returned
// slice must not be modified.
func (t *Tree) Read(p string) ([]byte, bool) {
	data, ok := t.files[p]
	return data, ok
}

// IsDir reports whether p ("." for the root) is a directory of the tree,
// that is, a proper prefix of at least one file path.
func (t *Tree) IsDir(p string) bool {
	return t.dirs[p]
}

// Label names the snapshot in messages: "rev abc1234" or the directory.
func (t *Tree) Label() string { return t.label }

// FS returns a kustomize in-memory file system holding exactly the tree's
// files, rooted at "/": repository path "a/b.yaml" is "/a/b.yaml".
func (t *Tree) FS() (filesys.FileSystem, error) {
	return t.FSAt("/")
}

// FSAt is FS with the tree placed under the absolute directory prefix.
func (t *Tree) FSAt(prefix string) (filesys.FileSystem, error) {
	fs := filesys.MakeFsInMemory()
	if err := fs.MkdirAll(prefix); err != nil {
		return nil, fmt.Errorf("in-memory file system for %s: %w", t.label, err)
	}
	for _, p := range t.names {
		if err := fs.WriteFile(path.Join(prefix, p), t.files[p]); err != nil {
			return nil, fmt.Errorf("in-memory file system for %s: %s: %w", t.label, p, err)
		}
	}
	return fs, nil
}

// DiffTrees returns the sorted paths whose content differs between a and b,
// including files present on one side only.
func DiffTrees(a, b *Tree) []string {
	var out []string
	for _, p := range a.names {
		bd, ok := b.files[p]
		if !ok || string(bd) != string(a.files[p]) {
			out = append(out, p)
		}
	}
	for _, p := range b.names {
		if _, ok := a.files[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// builder accumulates files under limits.
type builder struct {
	label string
	lim   Limits
	files map[string][]byte
	total int64
	// reserved counts files and bytes announced before they are read.
	reservedFiles int
	reservedBytes int64
}

func newBuilder(label string, lim Limits) *builder {
	return &builder{label: label, lim: lim.withDefaults(), files: map[string][]byte{}}
}

// check verifies that one more file of the given size fits the limits.
func (b *builder) check(p string, size int64) error {
	if size > b.lim.MaxFileSize {
		return fmt.Errorf("%s: file %s is %d bytes, over the per-file limit of %d", b.label, p, size, b.lim.MaxFileSize)
	}
	if len(b.files)+b.reservedFiles+1 > b.lim.MaxFiles {
		return fmt.Errorf("%s: file %s exceeds the limit of %d files", b.label, p, b.lim.MaxFiles)
	}
	if b.total+b.reservedBytes+size > b.lim.MaxTotalSize {
		return fmt.Errorf("%s: file %s brings the total size over the limit of %d bytes", b.label, p, b.lim.MaxTotalSize)
	}
	return nil
}

// reserve checks and accounts for a file that will be added later.
func (b *builder) reserve(p string, size int64) error {
	if err := b.check(p, size); err != nil {
		return err
	}
	b.reservedFiles++
	b.reservedBytes += size
	return nil
}

// unreserve forgets the reservations, before the files are added.
func (b *builder) unreserve() {
	b.reservedFiles, b.reservedBytes = 0, 0
}

func (b *builder) add(p string, data []byte) error {
	if err := b.check(p, int64(len(data))); err != nil {
		return err
	}
	if old, ok := b.files[p]; ok {
		b.total -= int64(len(old))
	}
	b.files[p] = data
	b.total += int64(len(data))
	return nil
}

func (b *builder) tree() *Tree {
	t := &Tree{label: b.label, files: b.files, dirs: map[string]bool{".": true}}
	for p := range b.files {
		t.names = append(t.names, p)
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if t.dirs[d] {
				break
			}
			t.dirs[d] = true
		}
	}
	sort.Strings(t.names)
	return t
}
