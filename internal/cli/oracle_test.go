package cli

import (
	"bufio"
	"bytes"
	"context"
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

// TestOracleNP runs every np-tier case with an expected list through
// `reachdiff eval` and compares the connections semantically.
func TestOracleNP(t *testing.T) {
	n := 0
	for _, c := range readOracleIndex(t) {
		if c.tier != "np" || c.expected == "-" {
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
	if n < 45 {
		t.Fatalf("only %d np cases with expected lists found", n)
	}
}
