package manifest

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/reachdiff/reachdiff/internal/diag"
)

// Decoder decodes documents in parallel and remembers the results, keyed by
// a hash of each document's source and text, so that decoding the head
// revision after the base decodes again only the documents that changed.
// Objects from the cache are shared between calls: callers must not modify
// their Typed values. A Decoder is safe for concurrent use; its cache grows
// with the distinct documents it has seen, so use one per run.
type Decoder struct {
	mu    sync.Mutex
	cache map[docKey]decoded
}

type docKey [sha256.Size]byte

type decoded struct {
	objs  []Object
	diags []diag.Diagnostic
}

// NewDecoder returns a Decoder with an empty cache.
func NewDecoder() *Decoder {
	return &Decoder{cache: map[docKey]decoded{}}
}

func keyOf(doc Document) docKey {
	h := sha256.New()
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(doc.Source.File)))
	h.Write(n[:])
	h.Write([]byte(doc.Source.File))
	binary.LittleEndian.PutUint64(n[:], uint64(doc.Source.Line))
	h.Write(n[:])
	h.Write(doc.Data)
	var k docKey
	h.Sum(k[:0])
	return k
}

// DecodeAll decodes docs with Decode on GOMAXPROCS workers and returns the
// objects and diagnostics in the order of docs.
func (d *Decoder) DecodeAll(docs []Document) ([]Object, []diag.Diagnostic) {
	results := make([]decoded, len(docs))
	parallel(len(docs), func(i int) {
		k := keyOf(docs[i])
		d.mu.Lock()
		r, ok := d.cache[k]
		d.mu.Unlock()
		if !ok {
			r.objs, r.diags = Decode(docs[i])
			d.mu.Lock()
			d.cache[k] = r
			d.mu.Unlock()
		}
		results[i] = r
	})
	var (
		objs  []Object
		diags []diag.Diagnostic
	)
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
