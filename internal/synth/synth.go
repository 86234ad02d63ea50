// Package synth generates deterministic synthetic clusters and PR-like
// changes for reachdiff's benchmarks, property tests and fuzz targets.
package synth

import (
	"math/rand/v2"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// Config describes the cluster Generate builds. Namespaces, Workloads and
// Policies are taken as given (a negative value counts as zero; at least one
// namespace is made when there are workloads or policies). Every other knob
// has a default when zero; a negative fraction means "none".
type Config struct {
	// Seed selects the cluster: the same Config always gives the same cluster.
	Seed int64
	// Namespaces is the number of namespaces, kube-system included. A few of
	// them (UndeclaredNamespaceFraction) get workloads but no Namespace object.
	Namespaces int
	// Workloads is the number of Deployments, StatefulSets and DaemonSets,
	// the kube-dns Deployment in kube-system included.
	Workloads int
	// Policies is the number of NetworkPolicies.
	Policies int

	// LabelValues is the number of distinct values of the pod label "app"
	// (default 16): small, so that selectors match several workloads.
	LabelValues int
	// DefaultDenyFraction is the fraction of policies that are default-deny
	// (`podSelector: {}` without rules) for ingress, egress or both (default 0.15).
	DefaultDenyFraction float64
	// EgressFraction is the fraction of the other policies that have egress
	// rules (default 0.35).
	EgressFraction float64
	// IPBlockFraction is the fraction of rule peers that are ipBlocks
	// (default 0.08).
	IPBlockFraction float64
	// IPv6Fraction is the fraction of ipBlocks that are IPv6 (default 0.2).
	IPv6Fraction float64
	// NamedPortFraction is the fraction of policy ports given by name
	// (default 0.3).
	NamedPortFraction float64
	// UndeclaredNamespaceFraction is the fraction of namespaces (kube-system
	// excepted) that have no Namespace object (default 0.04).
	UndeclaredNamespaceFraction float64
	// NoPolicyNamespaceFraction is the fraction of namespaces that get no
	// policy at all (default 0.1).
	NoPolicyNamespaceFraction float64
	// HostNetworkFraction is the fraction of workloads with hostNetwork: true
	// (default 0.01).
	HostNetworkFraction float64
	// ZeroReplicasFraction is the fraction of Deployments and StatefulSets
	// with replicas: 0 (default 0.05).
	ZeroReplicasFraction float64
}

// Cluster is a generated set of typed Kubernetes objects, in a deterministic
// order: the Namespace objects (namespaces.yaml) first, then one group per
// namespace file, files sorted by name. Each Object's Source names the file
// WriteDir writes it to and the line of its metadata.name there. The Typed
// objects are shared with clusters made from this one by Mutate: treat them as
// immutable.
type Cluster struct {
	Objects []manifest.Object
}

// Change is one PR-like edit made by Mutate.
type Change struct {
	// Kind is one of the Change* constants.
	Kind string
	// Object names the object changed as "Kind namespace/name"; a Namespace
	// is "Namespace name".
	Object string
}

// Kinds of Change.
const (
	ChangeAddPolicy        = "add-policy"        // a new NetworkPolicy
	ChangeRemovePolicy     = "remove-policy"     // a NetworkPolicy deleted
	ChangeEditPolicy       = "edit-policy"       // a selector, peer, port, rule or policyTypes changed
	ChangeRelabelWorkload  = "relabel-workload"  // pod template labels changed
	ChangeRelabelNamespace = "relabel-namespace" // Namespace labels changed
	ChangeAddWorkload      = "add-workload"      // a new Deployment, StatefulSet or DaemonSet
	ChangeRemoveWorkload   = "remove-workload"   // a workload deleted
	ChangeWorkloadPorts    = "workload-ports"    // container ports changed (number, name, added, removed)
	ChangeAnnotate         = "annotate"          // text only: an annotation added or changed
	ChangeReorder          = "reorder"           // text only: rules, peers, ports or selector values reordered
)

// changeKinds lists the kinds Mutate draws from, with their weights.
var changeKinds = []struct {
	kind   string
	weight int
}{
	{ChangeAddPolicy, 3},
	{ChangeRemovePolicy, 2},
	{ChangeEditPolicy, 5},
	{ChangeRelabelWorkload, 3},
	{ChangeRelabelNamespace, 2},
	{ChangeAddWorkload, 2},
	{ChangeRemoveWorkload, 2},
	{ChangeWorkloadPorts, 2},
	{ChangeAnnotate, 2},
	{ChangeReorder, 2},
}

// newRand returns the generator's random source for seed.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^stream))
}

// withDefaults returns cfg with the zero knobs set to their defaults and the
// negative fractions set to zero.
func (cfg Config) withDefaults() Config {
	c := cfg
	c.Namespaces = max(c.Namespaces, 0)
	c.Workloads = max(c.Workloads, 0)
	c.Policies = max(c.Policies, 0)
	if c.Namespaces == 0 && (c.Workloads > 0 || c.Policies > 0) {
		c.Namespaces = 1
	}
	if c.LabelValues <= 0 {
		c.LabelValues = 16
	}
	frac := func(p *float64, def float64) {
		switch {
		case *p == 0:
			*p = def
		case *p < 0:
			*p = 0
		case *p > 1:
			*p = 1
		}
	}
	frac(&c.DefaultDenyFraction, 0.15)
	frac(&c.EgressFraction, 0.35)
	frac(&c.IPBlockFraction, 0.08)
	frac(&c.IPv6Fraction, 0.2)
	frac(&c.NamedPortFraction, 0.3)
	frac(&c.UndeclaredNamespaceFraction, 0.04)
	frac(&c.NoPolicyNamespaceFraction, 0.1)
	frac(&c.HostNetworkFraction, 0.01)
	frac(&c.ZeroReplicasFraction, 0.05)
	return c
}
