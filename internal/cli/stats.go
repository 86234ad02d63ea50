package cli

import (
	"fmt"
	"io"
	"syscall"
	"time"
)

// stats collects the --stats timing breakdown: one total per phase, in the
// order phases first ran.
type stats struct {
	on    bool
	order []string
	total map[string]time.Duration
}

func newStats(on bool) *stats { return &stats{on: on, total: map[string]time.Duration{}} }

// phase starts timing name and returns the function that stops it. Phases
// that run once per overlay add up.
func (s *stats) phase(name string) func() {
	if !s.on {
		return func() {}
	}
	if _, ok := s.total[name]; !ok {
		s.order = append(s.order, name)
		s.total[name] = 0
	}
	start := time.Now()
	return func() { s.total[name] += time.Since(start) }
}

func (s *stats) print(w io.Writer) {
	if !s.on {
		return
	}
	for _, name := range []string{"render", "parse", "eval-base", "eval-head", "diff", "report"} {
		fmt.Fprintf(w, "%s: %s\n", name, s.total[name].Round(10*time.Microsecond))
	}
	fmt.Fprintf(w, "peak-rss: %d MiB\n", peakRSSMiB())
}

// peakRSSMiB is the process's maximum resident set size (Linux reports
// ru_maxrss in KiB).
func peakRSSMiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) / 1024
}
