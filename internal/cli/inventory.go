package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reachdiff/reachdiff/internal/inventory"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/pipeline"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

func init() { extraCommands["inventory"] = runInventory }

// runInventory prints the sub-processor disclosure table of one tree: each
// vendor with what it is for, where, and which workloads reach it, then the
// undeclared reach and vendor agents.
func runInventory(ctx context.Context, args []string, env Env) error {
	fs := newFlags("inventory", env)
	output := fs.String("output", "markdown", "output format: markdown or json")
	file := fs.String("inventory", "subprocessors.yaml", "inventory file, relative to PATH")
	namespace := fs.String("namespace", "", "namespace of objects that have none")
	var cf cniFlags
	cf.register(fs)
	loadNone := fs.Bool("load-restrictor-none", false, "let kustomizations read files outside their directory")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := checkOutput(*output, "markdown", "json"); err != nil {
		return err
	}
	if len(paths) != 1 {
		return usagef("inventory needs one PATH")
	}
	var inv *inventory.Inventory
	data, err := os.ReadFile(filepath.Join(env.path(paths[0]), *file))
	switch {
	case err == nil:
		parsed, diags := inventory.Parse(*file, data)
		if parsed == nil {
			printDiagnostics(env, diags)
			return inputError{fmt.Errorf("inventory %s: %s", *file, firstError(diags))}
		}
		printDiagnostics(env, diags)
		inv = parsed
	case os.IsNotExist(err):
		fmt.Fprintf(env.Stderr, "reachdiff: no %s in %s: every external destination is undeclared\n", *file, paths[0])
	default:
		return inputError{err}
	}
	cluster, _, err := loadCluster(ctx, env, paths, *namespace, loadOptions{LoadNone: *loadNone, CNI: cf.cni, PodCIDRs: cf.podCIDRs})
	if err != nil {
		return err
	}
	var bounds []ipset.Range
	if inv != nil {
		bounds = inv.Boundaries()
	}
	var classes inventory.Classification
	if tiered.Needed(cluster) {
		// Admin, baseline or Cilium policies decide: their evaluator, with
		// the domains the policies name.
		classes = inv.ClassifyWithDomains(pipeline.TieredReach(tiered.Compute(cluster)))
	} else {
		sp := reach.NewSpace([]*model.Cluster{cluster}, bounds)
		res, err := reach.Evaluate(sp, cluster)
		if err != nil {
			return err
		}
		classes = inv.Classify(pipeline.ExternalReach(res))
	}
	table := inventory.Disclosure(inv, classes, inv.Agents(pipeline.AgentWorkloads(cluster), inventory.DefaultCatalogue()))
	if *output == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(table)
	}
	_, err = io.WriteString(env.Stdout, table.Markdown())
	return err
}
