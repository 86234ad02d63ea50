// Package model builds the cluster that reachability is computed over:
// namespaces, workloads and compiled NetworkPolicies, from decoded manifests.
package model

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// NamespaceNameLabel is set on every namespace by the API server.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Cluster is everything reachability depends on, compiled once.
// Slices are sorted (namespaces and policies by name, workloads by Key), so
// indexes are deterministic for a given input.
type Cluster struct {
	Namespaces []*Namespace
	Workloads  []*Workload
	Policies   []*Policy
	Services   []*Service
	// AdminPolicies are the admin tier (AdminNetworkPolicies and Admin
	// ClusterNetworkPolicies by ascending priority, then name), followed by
	// the baseline tier (the BaselineAdminNetworkPolicy and Baseline
	// ClusterNetworkPolicies, likewise ordered).
	AdminPolicies []*AdminPolicy
	// CiliumPolicies are the CiliumNetworkPolicies and
	// CiliumClusterwideNetworkPolicies, sorted by namespace (clusterwide
	// first) and name.
	CiliumPolicies []*CiliumPolicy
	// Exposures are the Ingresses and Routes, sorted by kind, namespace
	// and name, with their backends resolved to workloads.
	Exposures []*Exposure
	// Ignored counts objects of kinds that do not affect reachability.
	Ignored map[string]int
	// Diagnostics found while building, sorted.
	Diagnostics []diag.Diagnostic

	byKey map[string]*Workload
	// compiled maps decoded objects (Typed pointers) to what they compiled
	// to, for a later Build with Options.Reuse.
	compiled         map[any]compiledObject
	defaultNamespace string
	// cni and podCIDRs are Options.CNI and Options.PodCIDRs.
	cni      CNI
	podCIDRs []netip.Prefix
}

// Namespace is a namespace and its labels.
type Namespace struct {
	Name   string
	Labels map[string]string
	// Assumed is set when no Namespace object defines it: its only label is
	// kubernetes.io/metadata.name.
	Assumed bool
	Source  manifest.Source
	// CustomResources names objects of kinds reachdiff does not read that
	// live in this namespace ("Prometheus k8s"), for hints.
	CustomResources []string
}

// Workload is a set of pods with one pod template: a Deployment, a
// StatefulSet, a bare Pod, or the owner a Pod folds into.
type Workload struct {
	Namespace   string
	Name        string
	Kind        string
	Labels      map[string]string
	Ports       []ContainerPort
	Images      []string
	HostNetwork bool
	Source      manifest.Source
}

// Key prints the workload as "namespace/name[Kind]".
func (w *Workload) Key() string { return w.Namespace + "/" + w.Name + "[" + w.Kind + "]" }

// ContainerPort is a port a workload's containers declare.
type ContainerPort struct {
	Name     string
	Port     uint16
	Protocol connset.Protocol
}

// NamedPort resolves a port name against the workload's containers.
//
// "If this is a string, it must be a named port on the pods selected"
// (NetworkPolicyPort.port): the name resolves per destination pod, and a
// name the pod does not declare matches nothing.
func (w *Workload) NamedPort(name string, proto connset.Protocol) (uint16, bool) {
	for _, p := range w.Ports {
		if p.Name == name && p.Protocol == proto {
			return p.Port, true
		}
	}
	return 0, false
}

// Service is the subset of a Service that Ingress routing needs.
type Service struct {
	Namespace string
	Name      string
	Selector  map[string]string
	Ports     []ServicePort
	Source    manifest.Source
}

// ServicePort maps a service port to a target port (number or name).
type ServicePort struct {
	Name       string
	Port       int32
	TargetPort string // number as text or a port name; "" = same as Port
	Protocol   connset.Protocol
}

// Policy is a NetworkPolicy compiled for evaluation.
type Policy struct {
	Namespace string
	Name      string
	Source    manifest.Source
	// Subject selects the pods of Namespace the policy applies to.
	Subject Selector
	// Ingress and Egress are the effective policyTypes.
	Ingress, Egress bool
	IngressRules    []Rule
	EgressRules     []Rule
}

// Key prints the policy as "namespace/name".
func (p *Policy) Key() string { return p.Namespace + "/" + p.Name }

// Rule is one ingress or egress rule.
type Rule struct {
	Index int // position in the policy's ingress or egress list
	// AllPeers is set when from/to is absent or empty: every source or
	// destination, in the cluster and outside it.
	AllPeers bool
	Peers    []Peer
	// AllPorts is set when ports is absent or empty.
	AllPorts bool
	Ports    []PortSpec
}

// Conns is the connection set the rule allows towards dst, which holds the
// named ports (nil for an external destination, which has none).
func (r Rule) Conns(dst *Workload) connset.Set {
	if r.AllPorts {
		return connset.All()
	}
	out := connset.None()
	for _, ps := range r.Ports {
		if ps.Name == "" {
			out = out.Union(connset.Ports(ps.Protocol, ps.Lo, ps.Hi))
			continue
		}
		if dst == nil {
			continue
		}
		if port, ok := dst.NamedPort(ps.Name, ps.Protocol); ok {
			out = out.Union(connset.Ports(ps.Protocol, port, port))
		}
	}
	return out
}

// Peer is one entry of from/to: pods (selected by namespace and pod
// selectors) or an IP block.
type Peer struct {
	// NamespaceSel is nil when the peer has no namespaceSelector: the pods are
	// then in the policy's own namespace.
	NamespaceSel *Selector
	// PodSel is nil when the peer has no podSelector: every pod of the
	// selected namespaces.
	PodSel *Selector
	// IPBlock, when set, is the only field of the peer.
	IPBlock *IPBlock
	// ViaIPBlock is set on a peer added by the calico profile: the CIDR of
	// the peer before it holds the pod CIDRs. It selects every pod but the
	// host-networked ones (see MatchesWorkload) and was not written.
	ViaIPBlock bool
}

// IPBlock is a CIDR minus its exceptions, as one address set.
type IPBlock struct {
	CIDR   netip.Prefix
	Except []netip.Prefix
	Set    ipset.Set
}

// PortSpec is one entry of ports.
type PortSpec struct {
	Protocol connset.Protocol
	// Name is set for a named port; Lo and Hi are then zero.
	Name string
	// Lo..Hi is the numeric range; 1..65535 when the port is absent.
	Lo, Hi uint16
}

// Options tune how manifests become a cluster.
type Options struct {
	// DefaultNamespace is the namespace of objects that have none ("default"
	// when empty), as `kubectl apply -n` would set it.
	DefaultNamespace string
	// Reuse, when set, is a cluster built earlier from objects some of which
	// are the same decoded objects (a caching decoder returns the same Typed
	// pointer for an unchanged document): what they compiled to is reused
	// as is, so an incremental evaluation recognises unchanged workloads and
	// policies by pointer instead of comparing them field by field.
	Reuse *Cluster
	// CNI is the profile for semantics that differ between network
	// plugins; the zero value is CNICiliumLike.
	CNI CNI
	// PodCIDRs are the ranges pod addresses come from, for the calico
	// profile; empty means DefaultPodCIDRs (unknown, anywhere).
	PodCIDRs []netip.Prefix
}

// ObjectName prints an object for diagnostics: "Kind ns/name".
func ObjectName(o manifest.Object) string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

func sortCluster(c *Cluster) {
	sort.Slice(c.Namespaces, func(i, j int) bool { return c.Namespaces[i].Name < c.Namespaces[j].Name })
	sort.Slice(c.Workloads, func(i, j int) bool { return c.Workloads[i].Key() < c.Workloads[j].Key() })
	sort.Slice(c.Policies, func(i, j int) bool {
		a, b := c.Policies[i], c.Policies[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	sort.Slice(c.Services, func(i, j int) bool {
		a, b := c.Services[i], c.Services[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	finishCilium(c)
	diag.Sort(c.Diagnostics)
}

// Namespace returns the namespace named name, or nil.
func (c *Cluster) Namespace(name string) *Namespace {
	i := sort.Search(len(c.Namespaces), func(i int) bool { return c.Namespaces[i].Name >= name })
	if i < len(c.Namespaces) && c.Namespaces[i].Name == name {
		return c.Namespaces[i]
	}
	return nil
}

// Workload returns the workload printed as key ("ns/name[Kind]"), or nil.
func (c *Cluster) Workload(key string) *Workload {
	return c.byKey[key]
}

func errorf(o manifest.Object, format string, args ...any) diag.Diagnostic {
	return diag.Diagnostic{Severity: diag.Error, File: o.Source.File, Line: o.Source.Line,
		Object: ObjectName(o), Message: fmt.Sprintf(format, args...)}
}

func warnf(o manifest.Object, format string, args ...any) diag.Diagnostic {
	d := errorf(o, format, args...)
	d.Severity = diag.Warning
	return d
}

// PoliciesIn returns the policies of namespace ns (a sub-slice; the
// policies are sorted by namespace and name).
func (c *Cluster) PoliciesIn(ns string) []*Policy {
	lo := sort.Search(len(c.Policies), func(i int) bool { return c.Policies[i].Namespace >= ns })
	hi := lo
	for hi < len(c.Policies) && c.Policies[hi].Namespace == ns {
		hi++
	}
	return c.Policies[lo:hi]
}
