package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachdiff/reachdiff/internal/oracle"
)

const oracleDir = "../../testdata/oracle"

// oracleCase is one row of testdata/oracle/index.tsv.
type oracleCase struct {
	name, tier, expected string
}

func readOracleIndex(t *testing.T) []oracleCase {
	t.Helper()
	f, err := os.Open(filepath.Join(oracleDir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []oracleCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "case" {
			continue
		}
		out = append(out, oracleCase{name: cols[0], tier: cols[1], expected: cols[3]})
	}
	return out
}

// oracleExceptions are cases where reachdiff deliberately disagrees with
// the oracle, each with the Kubernetes rule that decides it.
var oracleExceptions = map[string]string{}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

// TestOracleEval runs every np, anp and ingress-tier case with an expected
// list through `reachdiff eval` and compares the connections semantically.
func TestOracleEval(t *testing.T) {
	n := 0
	for _, c := range readOracleIndex(t) {
		if c.tier != "np" && c.tier != "anp" && c.tier != "ingress" || c.expected == "-" {
			continue
		}
		n++
		t.Run(c.name, func(t *testing.T) {
			if why, ok := oracleExceptions[c.name]; ok {
				t.Skip(why)
			}
			stdout, stderr, code := runCLI(t, "eval", filepath.Join(oracleDir, "manifests", c.name))
			if code != 0 {
				t.Fatalf("eval %s: exit %d\n%s", c.name, code, stderr)
			}
			got, err := oracle.ParseList([]byte(stdout))
			if err != nil {
				t.Fatalf("parse our output: %v\n%s", err, stdout)
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
				t.Errorf("eval %s differs from the oracle (%d lines):\n%s", c.name, len(d), strings.Join(d, "\n"))
			}
		})
	}
	if n < 80 {
		t.Fatalf("only %d cases with expected lists found", n)
	}
}

// oracleDiffExceptions are diff pairs where reachdiff deliberately
// disagrees with the oracle, with the Kubernetes rule that decides it.
var oracleDiffExceptions = map[string]string{
	// The Ingress names port 8080 of Service frontend-external, whose only
	// port is 80 (targetPort 8080). The oracle routes the ingress controller
	// to frontend on 8080 anyway; reachdiff does not, and warns that the
	// backend names a port the Service lacks. Kubernetes API reference,
	// ServiceBackendPort: "number is the numerical port number (e.g. 80) on
	// the Service."
	"onlineboutique_workloads__onlineboutique_workloads_with_ingress": "Ingress backend port 8080 is not a port of the Service (ServiceBackendPort.number: \"the numerical port number (e.g. 80) on the Service\")",
}

// evaluated are the oracle tiers reachdiff evaluates (multinet is out of
// scope).
var evaluated = map[string]bool{"np": true, "anp": true, "ingress": true}

// TestOracleDiffPairs runs every diff pair of np, anp and ingress cases through
// `reachdiff diff OLD NEW --output json` and compares with the oracle's diff
// semantically (external ranges split into common pieces).
func TestOracleDiffPairs(t *testing.T) {
	tiers := map[string]string{}
	for _, c := range readOracleIndex(t) {
		tiers[c.name] = c.tier
	}
	f, err := os.Open(filepath.Join(oracleDir, "diff-pairs.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "old" || !evaluated[tiers[cols[0]]] || !evaluated[tiers[cols[1]]] {
			continue
		}
		old, cur, expected := cols[0], cols[1], cols[3]
		n++
		t.Run(old+"__"+cur, func(t *testing.T) {
			if why, ok := oracleDiffExceptions[old+"__"+cur]; ok {
				t.Skip(why)
			}
			d := diffJSON(t, filepath.Join(oracleDir, "manifests", old), filepath.Join(oracleDir, "manifests", cur))
			var got []oracle.DiffLine
			for _, o := range d.Overlays {
				for _, c := range o.Changes {
					line := fmt.Sprintf("diff-type: %s, source: %s, destination: %s, ref1: %s, ref2: %s",
						diffKind(c.Before, c.After), c.Src, c.Dst, c.Before, c.After)
					parsed, err := oracle.ParseDiff([]byte("Connectivity diff:\n" + line))
					if err != nil {
						t.Fatalf("parse our change %q: %v", line, err)
					}
					got = append(got, parsed...)
				}
			}
			data, err := os.ReadFile(filepath.Join(oracleDir, expected))
			if err != nil {
				t.Fatal(err)
			}
			want, err := oracle.ParseDiff(data)
			if err != nil {
				t.Fatalf("parse oracle diff: %v", err)
			}
			if problems := oracle.CompareDiff(got, want, oracle.CompareOptions{IgnoreIPv6: true}); len(problems) > 0 {
				t.Errorf("diff %s %s differs from the oracle (%d lines):\n%s", old, cur, len(problems), strings.Join(problems, "\n"))
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d diff pairs found", n)
	}
}

func diffKind(before, after string) string {
	switch {
	case before == "No Connections":
		return "added"
	case after == "No Connections":
		return "removed"
	default:
		return "changed"
	}
}
