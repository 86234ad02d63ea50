package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/reachdiff/reachdiff/internal/synth"
)

func init() { extraCommands["gen"] = runGen }

// runGen is a developer command (not in the usage text): it writes a
// synthetic cluster and a PR-like head as YAML directories, for timing
// `reachdiff diff` end to end.
func runGen(_ context.Context, args []string, env Env) error {
	fs := newFlags("gen", env)
	cfg := synth.Config{}
	fs.Int64Var(&cfg.Seed, "seed", 1, "random seed (same seed, same output)")
	fs.IntVar(&cfg.Workloads, "workloads", 10000, "workloads")
	fs.IntVar(&cfg.Policies, "policies", 4000, "NetworkPolicies")
	fs.IntVar(&cfg.Namespaces, "namespaces", 500, "namespaces")
	changes := fs.Int("changes", 10, "PR-like changes applied to make head")
	cidrHeavy := fs.Bool("cidr-heavy", false, "write the one-policy, 640-CIDR cluster instead")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("gen needs BASE_DIR HEAD_DIR")
	}
	base := synth.Generate(cfg)
	if *cidrHeavy {
		base = synth.CIDRHeavy(cfg.Seed)
	}
	head, made := synth.Mutate(base, cfg.Seed+1, *changes)
	for i, c := range []*synth.Cluster{base, head} {
		dir := env.path(pos[i])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := synth.WriteDir(c, dir); err != nil {
			return fmt.Errorf("write %s: %w", pos[i], err)
		}
	}
	var kinds []string
	for _, c := range made {
		kinds = append(kinds, c.Kind+" "+c.Object)
	}
	fmt.Fprintf(env.Stderr, "wrote %d objects; head applies: %s\n", len(base.Objects), strings.Join(kinds, "; "))
	return nil
}
