package render

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
)

// kustomize writes warnings with the standard log package and, for
// deprecated fields, straight to os.Stderr. Both are process-global, so the
// capture is shared: the first render to start redirects them, the last to
// finish restores them, and every captured line goes to every render in
// progress when it was written (with concurrent renders a line may thus be
// attributed to more than one overlay, never lost).

var capture struct {
	mu      sync.Mutex
	active  map[*collector]bool
	count   int
	logOut  io.Writer
	flags   int
	prefix  string
	stderr  *os.File
	pipeW   *os.File
	readErr chan struct{} // closed when the pipe reader has finished
	waiters map[string]chan struct{}
}

// collector receives the lines written during one render.
type collector struct {
	id    string
	lines []string
}

// logWriter receives the log package's output while capturing.
type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		dispatch(l)
	}
	return len(p), nil
}

// dispatch hands one captured line to every active collector, or wakes the
// render waiting for its sync marker.
func dispatch(line string) {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if id, ok := strings.CutPrefix(line, syncMarker); ok {
		if ch, ok := capture.waiters[id]; ok {
			close(ch)
			delete(capture.waiters, id)
		}
		return
	}
	if strings.TrimSpace(line) == "" {
		return
	}
	for c := range capture.active {
		c.lines = append(c.lines, line)
	}
}

const syncMarker = "\x00reachdiff-sync "

var collectorSeq int

// startCapture begins capturing for one render.
func startCapture() (*collector, error) {
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if capture.count == 0 {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("capture kustomize warnings: %w", err)
		}
		capture.logOut, capture.flags, capture.prefix = log.Writer(), log.Flags(), log.Prefix()
		log.SetOutput(logWriter{})
		log.SetFlags(0)
		log.SetPrefix("")
		capture.stderr = os.Stderr
		os.Stderr = w
		capture.pipeW = w
		capture.active = map[*collector]bool{}
		capture.waiters = map[string]chan struct{}{}
		done := make(chan struct{})
		capture.readErr = done
		go func() {
			defer close(done)
			defer r.Close()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				dispatch(sc.Text())
			}
			_, _ = io.Copy(io.Discard, r)
		}()
	}
	collectorSeq++
	c := &collector{id: fmt.Sprint(collectorSeq)}
	capture.active[c] = true
	capture.count++
	return c, nil
}

// stopCapture ends the capture for c and returns its lines. It first
// pushes a marker through the pipe so that everything written to standard
// error before has been read.
func stopCapture(c *collector) []string {
	capture.mu.Lock()
	ch := make(chan struct{})
	capture.waiters[c.id] = ch
	w := capture.pipeW
	capture.mu.Unlock()
	if _, err := fmt.Fprintf(w, "%s%s\n", syncMarker, c.id); err == nil {
		<-ch
	}
	capture.mu.Lock()
	defer capture.mu.Unlock()
	delete(capture.active, c)
	delete(capture.waiters, c.id)
	capture.count--
	if capture.count == 0 {
		log.SetOutput(capture.logOut)
		log.SetFlags(capture.flags)
		log.SetPrefix(capture.prefix)
		os.Stderr = capture.stderr
		capture.pipeW.Close()
		done := capture.readErr
		capture.mu.Unlock()
		<-done
		capture.mu.Lock()
	}
	return c.lines
}
