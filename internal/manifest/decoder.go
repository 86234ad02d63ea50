package manifest

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// Decoder decodes documents in parallel and remembers the results, keyed by
// each document's source and text, so that decoding the head revision
// after the base decodes again only the documents that changed.
// Objects from the cache are shared between calls: callers must not modify
// their Typed values. A Decoder is safe for concurrent use; its cache grows
// with the distinct documents it has seen, so use one per run.
type Decoder struct {
	seed  maphash.Seed
	mu    sync.Mutex
	cache map[uint64][]cached // by hash of source and text
}

// cached is a decoded document; the document is kept to compare with (a
// hash match alone is not proof).
type cached struct {
	doc Document
	decoded
}

type decoded struct {
	objs  []Object
	diags []diag.Diagnostic
}

// NewDecoder returns a Decoder with an empty cache.
func NewDecoder() *Decoder {
	return &Decoder{seed: maphash.MakeSeed(), cache: map[uint64][]cached{}}
}

func (d *Decoder) hash(doc Document) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	h.WriteString(doc.Source.File)
	var n [9]byte // a separator, then the line
	binary.LittleEndian.PutUint64(n[1:], uint64(doc.Source.Line))
	h.Write(n[:])
	h.Write(doc.Data)
	return h.Sum64()
}

// lookup returns the cached decoding of doc, if any.
func (d *Decoder) lookup(k uint64, doc Document) (decoded, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.cache[k] {
		if c.doc.Source == doc.Source && bytes.Equal(c.doc.Data, doc.Data) {
			return c.decoded, true
		}
	}
	return decoded{}, false
}

// DecodeAll decodes docs with Decode on GOMAXPROCS workers and returns the
// objects and diagnostics in the order of docs.
func (d *Decoder) DecodeAll(docs []Document) ([]Object, []diag.Diagnostic) {
	results := make([]decoded, len(docs))
	parallel(len(docs), func(i int) {
		k := d.hash(docs[i])
		r, ok := d.lookup(k, docs[i])
		if !ok {
			r.objs, r.diags = Decode(docs[i])
			d.mu.Lock()
			d.cache[k] = append(d.cache[k], cached{docs[i], r})
			d.mu.Unlock()
		}
		results[i] = r
	})
	nObjs, nDiags := 0, 0
	for _, r := range results {
		nObjs += len(r.objs)
		nDiags += len(r.diags)
	}
	var (
		objs  []Object
		diags []diag.Diagnostic
	)
	if nObjs > 0 {
		objs = make([]Object, 0, nObjs)
	}
	if nDiags > 0 {
		diags = make([]diag.Diagnostic, 0, nDiags)
	}
	for _, r := range results {
		objs = append(objs, r.objs...)
		diags = append(diags, r.diags...)
	}
	return objs, diags
}

// parallel calls f(0), ..., f(n-1) on up to GOMAXPROCS goroutines and
// returns when all calls have returned.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
