// Command reachdiff shows what a change to Kubernetes manifests does to the
// network: which workloads and external endpoints can newly reach which.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/reachdiff/reachdiff/internal/cli"
)

func main() {
	// REACHDIFF_CPUPROFILE names a file for a CPU profile of this run: how
	// the end-to-end timings quoted in the closing notes were explained.
	if path := os.Getenv("REACHDIFF_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StderrIsTerminal: isTerminal(os.Stderr),
	})
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// isTerminal reports whether f is a character device (a terminal), so
// progress lines are shown to people and not written into CI logs.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
