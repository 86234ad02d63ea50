package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/report"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

func runExplain(ctx context.Context, args []string, env Env) error {
	fs := newFlags("explain", env)
	from := fs.String("from", "", "source: workload (ns/name[Kind] or ns/name) or IP address/CIDR")
	to := fs.String("to", "", "destination: workload or IP address/CIDR")
	port := fs.String("port", "", "only this port, as 443/TCP (protocol defaults to TCP)")
	namespace := fs.String("namespace", "", "namespace of objects that have none")
	var cf cniFlags
	cf.register(fs)
	loadNone := fs.Bool("load-restrictor-none", false, "let kustomizations read files outside their directory")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usagef("explain needs --from and --to")
	}
	if len(paths) == 0 {
		return usagef("explain needs a PATH")
	}
	var only *connset.Set
	if *port != "" {
		s, err := parsePort(*port)
		if err != nil {
			return usagef("--port: %v", err)
		}
		only = &s
	}
	cluster, _, err := loadCluster(ctx, env, paths, *namespace, loadOptions{LoadNone: *loadNone, CNI: cf.cni, PodCIDRs: cf.podCIDRs})
	if err != nil {
		return err
	}
	if tiered.Needed(cluster) {
		return explainTiers(env, cluster, *from, *to, only)
	}
	src, err := reach.ParseEndpoint(cluster, *from)
	if err != nil {
		return inputError{fmt.Errorf("--from: %w", err)}
	}
	dst, err := reach.ParseEndpoint(cluster, *to)
	if err != nil {
		return inputError{fmt.Errorf("--to: %w", err)}
	}
	if src.IsExternal() && dst.IsExternal() {
		return usagef("one of --from and --to must be a workload")
	}
	ex := reach.Explain(cluster, src, dst)
	_, err = fmt.Fprint(env.Stdout, report.ExplainText(ex, only))
	return err
}

// explainTiers explains a pair of a cluster with admin, baseline or Cilium
// policies (or exposures) through the tiers. --to may also name a domain
// that a policy mentions.
func explainTiers(env Env, c *model.Cluster, from, to string, only *connset.Set) error {
	dst, err := tieredEndpoint(c, to)
	if err != nil {
		return inputError{fmt.Errorf("--to: %w", err)}
	}
	if from == tiered.IngressController {
		if dst.Workload == nil {
			return usagef("--to: the ingress controller reaches workloads only")
		}
		_, err = fmt.Fprint(env.Stdout, report.TieredExplainText(tiered.ExplainExposure(c, dst.Workload), only))
		return err
	}
	src, err := tieredEndpoint(c, from)
	if err != nil {
		return inputError{fmt.Errorf("--from: %w", err)}
	}
	if src.Workload == nil && dst.Workload == nil {
		return usagef("one of --from and --to must be a workload")
	}
	if src.Domain != nil {
		return usagef("--from: a domain is only ever a destination")
	}
	_, err = fmt.Fprint(env.Stdout, report.TieredExplainText(tiered.Explain(c, src, dst), only))
	return err
}

// tieredEndpoint resolves a workload, an address or CIDR, or a domain
// (with or without the [FQDN] suffix) that some policy names.
func tieredEndpoint(c *model.Cluster, s string) (tiered.Endpoint, error) {
	if d := tiered.FindDomain(tiered.Domains(c), s); d != nil {
		return tiered.Endpoint{Domain: d}, nil
	}
	e, err := reach.ParseEndpoint(c, s)
	if err != nil {
		return tiered.Endpoint{}, err
	}
	if e.Workload != "" {
		return tiered.Endpoint{Workload: c.Workload(e.Workload)}, nil
	}
	return tiered.Endpoint{External: e.External}, nil
}

// parsePort reads "443", "443/TCP", "53/udp" or "8000-8080/TCP".
func parsePort(s string) (connset.Set, error) {
	num, proto, _ := strings.Cut(s, "/")
	p := connset.TCP
	if proto != "" {
		var err error
		if p, err = connset.ParseProtocol(strings.ToUpper(proto)); err != nil {
			return connset.Set{}, err
		}
	}
	lo, hi, isRange := strings.Cut(num, "-")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
		return connset.Set{}, fmt.Errorf("invalid port %q", s)
	}
	return connset.Ports(p, uint16(l), uint16(h)), nil
}
