package cli

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/oracle"
	"github.com/reachdiff/reachdiff/internal/report"
)

// tiersExceptions are anp/ingress cases where reachdiff deliberately
// disagrees with the oracle, each with the network-policy-api sentence that
// decides it.
var tiersExceptions = map[string]string{}

// TestOracleTiers evaluates every anp, ingress and np case of the oracle
// that has an expected list with the tiered evaluator and compares the
// connections semantically.
func TestOracleTiers(t *testing.T) {
	counts := map[string]int{}
	for _, c := range readOracleIndex(t) {
		if c.expected == "-" || c.tier != "anp" && c.tier != "ingress" && c.tier != "np" {
			continue
		}
		counts[c.tier]++
		t.Run(c.tier+"/"+c.name, func(t *testing.T) {
			if why, ok := tiersExceptions[c.name]; ok {
				t.Skip(why)
			}
			dir := filepath.Join(oracleDir, "manifests", c.name)
			in, err := loadPaths(context.Background(), Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }},
				[]string{dir}, loadOptions{})
			if err != nil {
				t.Fatalf("load %s: %v", dir, err)
			}
			cluster := model.Build(in.Objects, model.Options{})
			if diags := append(in.Diagnostics, cluster.Diagnostics...); diag.HasErrors(diags) {
				t.Fatalf("load %s: errors in the input:\n%v", dir, diags)
			}
			var out strings.Builder
			if err := report.EvalText(&out, tieredConns(cluster)); err != nil {
				t.Fatal(err)
			}
			got, err := oracle.ParseList([]byte(out.String()))
			if err != nil {
				t.Fatalf("parse our output: %v\n%s", err, out.String())
			}
			data, err := os.ReadFile(filepath.Join(oracleDir, c.expected))
			if err != nil {
				t.Fatal(err)
			}
			want, err := oracle.ParseList(data)
			if err != nil {
				t.Fatalf("parse oracle: %v", err)
			}
			if d := oracle.Compare(got, want, oracle.CompareOptions{IgnoreIPv6: true}); len(d) > 0 {
				t.Errorf("tiered.Evaluate(%s) differs from the oracle (%d lines):\n%s", c.name, len(d), strings.Join(d, "\n"))
			}
		})
	}
	if counts["anp"] < 20 || counts["ingress"] < 4 || counts["np"] < 45 {
		t.Fatalf("too few oracle cases with expected lists: %v", counts)
	}
}
