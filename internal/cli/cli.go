// Package cli implements the reachdiff commands: it parses flags, reads the
// inputs, runs the pure pipeline and writes reports. It is the only place
// besides the GitHub edge that touches files and the environment.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes.
const (
	ExitOK         = 0
	ExitGateFailed = 1
	ExitUsage      = 2
)

// Env is what a command may touch: its streams, the environment and the
// working directory. Tests pass their own.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Dir            string // working directory; "" = the process's
	// StderrIsTerminal enables progress lines.
	StderrIsTerminal bool
}

// usageError marks errors that are the user's invocation (exit 2 with usage).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// inputError marks errors in the input (exit 2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// gateError marks a failed gate (exit 1).
var errGateFailed = errors.New("gate failed")

const usage = `usage:
  reachdiff eval    [--output text|json|markdown] [--namespace NS] PATH...
  reachdiff diff    [--output text|json|markdown] [--gate] OLD_DIR NEW_DIR
  reachdiff diff    [--output ...] [--gate] --base REV [--head REV] [--repo DIR] [OVERLAY...]
  reachdiff explain --from SRC --to DST [--port 443/TCP] PATH
  reachdiff inventory [--output markdown|json] PATH
  reachdiff action  (inside GitHub Actions)
  reachdiff post    --report FILE  (workflow_run job: posts a fork PR's report)

eval, diff, explain and inventory also take --cni cilium-like|calico and
--pod-cidr CIDR[,CIDR] (where CNIs differ; see the README).
`

// Main runs one invocation and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "eval":
		err = runEval(ctx, rest, env)
	case "explain":
		err = runExplain(ctx, rest, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return ExitOK
	default:
		if run, ok := extraCommands[cmd]; ok {
			err = run(ctx, rest, env)
			break
		}
		fmt.Fprintf(env.Stderr, "reachdiff: unknown command %q\n%s", cmd, usage)
		return ExitUsage
	}
	return exitCode(err, env)
}

// extraCommands are registered by the files that implement them.
var extraCommands = map[string]func(context.Context, []string, Env) error{}

func exitCode(err error, env Env) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errGateFailed) {
		return ExitGateFailed
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "reachdiff: %s\n%s", ue.msg, usage)
		return ExitUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitUsage
	}
	fmt.Fprintf(env.Stderr, "reachdiff: %v\n", err)
	return ExitUsage
}

func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseInterspersed parses flags that may follow positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func checkOutput(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usagef("--output %q: want one of %s", format, strings.Join(allowed, ", "))
}
