package cli

import (
	"context"
	"fmt"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/pipeline"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/report"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

func runEval(ctx context.Context, args []string, env Env) error {
	fs := newFlags("eval", env)
	output := fs.String("output", "text", "output format: text, json or markdown")
	namespace := fs.String("namespace", "", "namespace of objects that have none (default \"default\")")
	loadNone := fs.Bool("load-restrictor-none", false, "let kustomizations read files outside their directory")
	var cf cniFlags
	cf.register(fs)
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output, "text", "json", "markdown"); err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("eval needs at least one PATH")
	}
	cluster, diags, err := loadCluster(ctx, env, paths, *namespace, loadOptions{LoadNone: *loadNone, CNI: cf.cni, PodCIDRs: cf.podCIDRs})
	if err != nil {
		return err
	}
	sp := reach.NewSpace([]*model.Cluster{cluster}, nil)
	res, err := reach.Evaluate(sp, cluster)
	if err != nil {
		return err
	}
	diags = append(diags, res.Diagnostics()...)
	diag.Sort(diags)
	conns := res.Connections()
	if tiered.Needed(cluster) {
		conns = tieredConns(cluster)
	}
	cni := report.NewCNI(cluster.CNI())
	switch *output {
	case "json":
		return report.WriteEvalJSON(env.Stdout, conns, diags, cni)
	case "markdown":
		return report.EvalMarkdown(env.Stdout, conns, diags, cni)
	default:
		// The text output is the oracle's line format: the profile is
		// stated on stderr, and only when it is not the default.
		if cni.IPBlockMatchesPods {
			fmt.Fprintf(env.Stderr, "reachdiff: %s\n", cni.Header())
		}
		printDiagnostics(env, diags)
		return report.EvalText(env.Stdout, conns)
	}
}

// printDiagnostics writes warnings and errors to stderr (infos are shown in
// JSON and Markdown only, to keep terminals quiet).
func printDiagnostics(env Env, diags []diag.Diagnostic) {
	for _, d := range diags {
		if d.Severity == diag.Info {
			continue
		}
		fmt.Fprintln(env.Stderr, d.String())
	}
}

// tieredConns evaluates a cluster with AdminNetworkPolicies or Ingress/Route
// exposures per pair (ANP > NetworkPolicy > BANP, and the ingress
// controller). IPv6 ranges are printed, as by the bitset engine, only when
// some input mentions one.
func tieredConns(c *model.Cluster) []reach.Conn {
	showV6 := tiered.MentionsIPv6(c)
	var out []reach.Conn
	for _, l := range tiered.Evaluate(c) {
		src, dst := pipeline.TieredEndpoint(l.Src), pipeline.TieredEndpoint(l.Dst)
		if !showV6 && (src.IsRange() && !src.External.Is4() || dst.IsRange() && !dst.External.Is4()) {
			continue
		}
		out = append(out, reach.Conn{Src: src, Dst: dst, Conns: l.Conns})
	}
	reach.SortConns(out)
	return out
}
