package model_test

// The Kubernetes documentation leaves open whether an ipBlock matches pod
// addresses: "ipBlock: This selects particular IP CIDR ranges to allow as
// ingress sources or egress destinations. These should be cluster-external
// IPs, since Pod IPs are ephemeral and unpredictable."
// (concepts/services-networking/network-policies).
//
// The Calico behaviour these tests rely on: Calico renders an ipBlock (and
// an AdminNetworkPolicy networks peer) as a match on the packet's source or
// destination address, whoever owns it, so a CIDR that holds the pod CIDRs
// (its IP pools) matches traffic from and to every pod, and `except` of the
// pod CIDR takes them out again. Host-networked pods use their node's
// address, which is not a pod address. Cilium instead selects pods by
// identity and CIDR rules only by world addresses ("cilium-like").

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/reach"
	"github.com/reachdiff/reachdiff/internal/synth"
	"github.com/reachdiff/reachdiff/internal/tiered"
)

func decode(t *testing.T, text string) []manifest.Object {
	t.Helper()
	docs, diags := manifest.Split("test.yaml", []byte(text))
	objs, more := manifest.NewDecoder().DecodeAll(docs)
	if d := append(diags, more...); diag.HasErrors(d) {
		t.Fatalf("decode: %v", d)
	}
	return objs
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestParseCNI(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    model.CNI
		wantErr bool
	}{
		{"", model.CNICiliumLike, false},
		{"cilium-like", model.CNICiliumLike, false},
		{" calico ", model.CNICalico, false},
		{"cilium", "", true},
		{"Calico", "", true},
	} {
		got, err := model.ParseCNI(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseCNI(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if got := model.CNI("").Profile(); got != model.CNICiliumLike {
		t.Errorf("CNI(\"\").Profile() = %q; want %q", got, model.CNICiliumLike)
	}
}

func TestParsePodCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []netip.Prefix
		wantErr string
	}{
		{in: "10.244.0.0/16", want: prefixes("10.244.0.0/16")},
		{in: "fd00:10::/56, 10.244.0.0/16,,10.244.0.0/16", want: prefixes("10.244.0.0/16", "fd00:10::/56")},
		{in: "", want: nil},
		{in: "10.244.0.1/16", wantErr: "host bits set (did you mean 10.244.0.0/16?)"},
		{in: "10.244.0.0", wantErr: `pod CIDR "10.244.0.0"`},
		{in: "10.0.0.0/8,pods", wantErr: `pod CIDR "pods"`},
	} {
		got, err := model.ParsePodCIDRs(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePodCIDRs(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePodCIDRs(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// peerShape prints a compiled peer for comparison.
func peerShape(p model.Peer) string {
	switch {
	case p.IPBlock != nil:
		return "ipBlock " + p.IPBlock.Set.String()
	case p.ViaIPBlock:
		return "all pods via ipBlock"
	}
	return "pods"
}

func adminPeerShape(p model.AdminPeer) string {
	switch {
	case p.Networks != nil:
		return "networks " + p.Networks.String()
	case p.ViaNetworks:
		return "all pods via networks"
	}
	return "pods"
}

// cniDiags lists the diagnostics of the profile (the calico warning and
// the cilium-like note about a pod CIDR), as "severity: object: message".
func cniDiags(c *model.Cluster) []string {
	var out []string
	for _, d := range c.Diagnostics {
		if strings.Contains(d.Message, "under the calico CNI profile") || strings.Contains(d.Message, "holds pod CIDR") {
			out = append(out, string(d.Severity)+": "+d.Object+": "+d.Message)
		}
	}
	return out
}

const egressPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to:
    - podSelector: {matchLabels: {app: cache}}
    - ipBlock: {cidr: %s}
    - podSelector: {matchLabels: {app: db}}
`

func TestIPBlockPeers(t *testing.T) {
	const obj = "NetworkPolicy shop/out: spec.egress[0].to[1].ipBlock "
	for _, tc := range []struct {
		name      string
		cni       model.CNI
		podCIDRs  []netip.Prefix
		block     string
		wantPeers []string
		wantDiags []string
	}{{
		name:      "cilium-like: an ipBlock is external addresses only",
		block:     "0.0.0.0/0",
		wantPeers: []string{"pods", "ipBlock 0.0.0.0/0", "pods"},
	}, {
		name:      "cilium-like with a pod CIDR: a note that the block does not match pods",
		podCIDRs:  prefixes("10.244.0.0/16"),
		block:     "10.0.0.0/8",
		wantPeers: []string{"pods", "ipBlock 10.0.0.0/8", "pods"},
		wantDiags: []string{"info: " + obj + "10.0.0.0/8 holds pod CIDR 10.244.0.0/16; under the cilium-like CNI profile an ipBlock does not match pods (use --cni calico if the cluster runs Calico)"},
	}, {
		name:      "cilium-like with a pod CIDR outside the block: nothing",
		podCIDRs:  prefixes("10.244.0.0/16"),
		block:     "192.168.0.0/16",
		wantPeers: []string{"pods", "ipBlock 192.168.0.0/16", "pods"},
	}, {
		name:      "calico, pod addresses unknown: 0.0.0.0/0 holds every IPv4 pod address",
		cni:       model.CNICalico,
		block:     "0.0.0.0/0",
		wantPeers: []string{"pods", "ipBlock 0.0.0.0/0", "all pods via ipBlock", "pods"},
	}, {
		name:      "calico: a block holding the pod CIDR matches every pod",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16"),
		block:     "10.0.0.0/8",
		wantPeers: []string{"pods", "ipBlock 10.0.0.0/8", "all pods via ipBlock", "pods"},
	}, {
		name:      "calico: except of the pod CIDR matches no pod",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16"),
		block:     "0.0.0.0/0, except: [10.244.0.0/16]",
		wantPeers: []string{"pods", "ipBlock 0.0.0.0-10.243.255.255,10.245.0.0-255.255.255.255", "pods"},
	}, {
		name:      "calico: a block inside the pod CIDR matches some pods: a warning",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16"),
		block:     "10.244.1.0/24",
		wantPeers: []string{"pods", "ipBlock 10.244.1.0/24", "pods"},
		wantDiags: []string{"warning: " + obj + "10.244.1.0/24: under the calico CNI profile it matches the pods whose addresses fall inside it; reachdiff cannot tell which: treated as matching none"},
	}, {
		name:      "calico, pod addresses unknown: a narrow block warns and asks for --pod-cidr",
		cni:       model.CNICalico,
		block:     "10.0.0.0/8",
		wantPeers: []string{"pods", "ipBlock 10.0.0.0/8", "pods"},
		wantDiags: []string{"warning: " + obj + "10.0.0.0/8: under the calico CNI profile it matches the pods whose addresses fall inside it; reachdiff cannot tell which: treated as matching none (pod addresses are unknown: give the pod CIDRs with --pod-cidr)"},
	}, {
		name:      "calico: a block disjoint from the pod CIDRs: nothing",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16", "fd00:10::/56"),
		block:     "192.168.0.0/16",
		wantPeers: []string{"pods", "ipBlock 192.168.0.0/16", "pods"},
	}, {
		name:      "calico, dual stack: holding every IPv6 pod address is enough",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16", "fd00:10::/56"),
		block:     "fd00::/8",
		wantPeers: []string{"pods", "ipBlock fd00::/8", "all pods via ipBlock", "pods"},
	}, {
		name:      "calico: one of two IPv4 pod CIDRs is only some pods",
		cni:       model.CNICalico,
		podCIDRs:  prefixes("10.244.0.0/16", "172.16.0.0/16"),
		block:     "10.0.0.0/8",
		wantPeers: []string{"pods", "ipBlock 10.0.0.0/8", "pods"},
		wantDiags: []string{"warning: " + obj + "10.0.0.0/8: under the calico CNI profile it matches the pods whose addresses fall inside it; reachdiff cannot tell which: treated as matching none"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(egressPolicy, "%s", tc.block, 1)
			c := model.Build(decode(t, text), model.Options{CNI: tc.cni, PodCIDRs: tc.podCIDRs})
			if len(c.Policies) != 1 || len(c.Policies[0].EgressRules) != 1 {
				t.Fatalf("Build(%s) = %d policies; want 1 with 1 egress rule; diagnostics %v", tc.block, len(c.Policies), c.Diagnostics)
			}
			r := c.Policies[0].EgressRules[0]
			var got []string
			for _, p := range r.Peers {
				got = append(got, peerShape(p))
			}
			if diff := cmp.Diff(tc.wantPeers, got); diff != "" {
				t.Errorf("Build(%s).Peers (-want +got):\n%s", tc.block, diff)
			}
			if diff := cmp.Diff(tc.wantDiags, cniDiags(c)); diff != "" {
				t.Errorf("Build(%s) diagnostics (-want +got):\n%s", tc.block, diff)
			}
			// The last peer is the third one written, whatever was added.
			if got := r.WrittenPeer(len(r.Peers) - 1); got != 2 {
				t.Errorf("WrittenPeer(%d) = %d; want 2", len(r.Peers)-1, got)
			}
		})
	}
}

// The shop: web (egress restricted), db, cache, and a host-networked agent.
const shop = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec: {template: {metadata: {labels: {app: db}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec: {template: {metadata: {labels: {app: agent}}, spec: {hostNetwork: %s}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-out, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [%s]}}]
    ports: [{port: 443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{ipBlock: {cidr: 10.244.0.0/16}}]
    ports: [{port: 5432}, {port: 443}]
`

func shopCluster(t *testing.T, hostNetwork bool, except string, opts model.Options) *model.Cluster {
	t.Helper()
	text := strings.Replace(shop, "%s", map[bool]string{true: "true", false: "false"}[hostNetwork], 1)
	text = strings.Replace(text, "%s", except, 1)
	c := model.Build(decode(t, text), opts)
	if diag.HasErrors(c.Diagnostics) {
		t.Fatalf("Build: %v", c.Diagnostics)
	}
	return c
}

// workloadLines evaluates c with the bitset engine and keeps the lines
// between workloads.
func workloadLines(t *testing.T, res *reach.Result) []string {
	t.Helper()
	var out []string
	for _, c := range res.Connections() {
		if !c.Src.IsExternal() && !c.Dst.IsExternal() {
			out = append(out, c.Src.String()+" => "+c.Dst.String()+" : "+c.Conns.String())
		}
	}
	return out
}

func evaluate(t *testing.T, c *model.Cluster) *reach.Result {
	t.Helper()
	res, err := reach.Evaluate(reach.NewSpace([]*model.Cluster{c}, nil), c)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return res
}

func TestCalicoReach(t *testing.T) {
	podCIDR := prefixes("10.244.0.0/16")
	// db accepts 443 and 5432 from 10.244.0.0/16 only; web may open 443
	// anywhere but the except; the agent is host-networked or not.
	for _, tc := range []struct {
		name        string
		opts        model.Options
		except      string
		hostNetwork bool
		want        []string
	}{{
		name:        "cilium-like: ipBlocks match no pod",
		opts:        model.Options{PodCIDRs: podCIDR},
		except:      "192.168.0.0/16",
		hostNetwork: true,
		want: []string{
			"shop/agent[DaemonSet] => shop/web[Deployment] : All Connections",
			"shop/db[Deployment] => shop/agent[DaemonSet] : All Connections",
			"shop/db[Deployment] => shop/web[Deployment] : All Connections",
		},
	}, {
		name:        "calico: 0.0.0.0/0 egress reaches every pod, the pod CIDR ingress admits every pod",
		opts:        model.Options{CNI: model.CNICalico, PodCIDRs: podCIDR},
		except:      "192.168.0.0/16",
		hostNetwork: true,
		want: []string{
			"shop/agent[DaemonSet] => shop/web[Deployment] : All Connections",
			"shop/db[Deployment] => shop/agent[DaemonSet] : All Connections",
			"shop/db[Deployment] => shop/web[Deployment] : All Connections",
			"shop/web[Deployment] => shop/db[Deployment] : TCP 443",
		},
	}, {
		name:        "calico: a pod-networked agent is a pod like the others",
		opts:        model.Options{CNI: model.CNICalico, PodCIDRs: podCIDR},
		except:      "192.168.0.0/16",
		hostNetwork: false,
		want: []string{
			"shop/agent[DaemonSet] => shop/db[Deployment] : TCP 443,5432",
			"shop/agent[DaemonSet] => shop/web[Deployment] : All Connections",
			"shop/db[Deployment] => shop/agent[DaemonSet] : All Connections",
			"shop/db[Deployment] => shop/web[Deployment] : All Connections",
			"shop/web[Deployment] => shop/agent[DaemonSet] : TCP 443",
			"shop/web[Deployment] => shop/db[Deployment] : TCP 443",
		},
	}, {
		name:        "calico: except of the pod CIDR reaches no pod",
		opts:        model.Options{CNI: model.CNICalico, PodCIDRs: podCIDR},
		except:      "10.244.0.0/16",
		hostNetwork: false,
		want: []string{
			"shop/agent[DaemonSet] => shop/db[Deployment] : TCP 443,5432",
			"shop/agent[DaemonSet] => shop/web[Deployment] : All Connections",
			"shop/db[Deployment] => shop/agent[DaemonSet] : All Connections",
			"shop/db[Deployment] => shop/web[Deployment] : All Connections",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := shopCluster(t, tc.hostNetwork, tc.except, tc.opts)
			got := workloadLines(t, evaluate(t, c))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Evaluate lines (-want +got):\n%s", diff)
			}
			// The policy-tier evaluator (used when admin or Cilium policies
			// are present) agrees, host-networked agent included.
			var tieredLines []string
			for _, l := range tiered.Evaluate(c) {
				if !l.Src.IsExternal() && !l.Dst.IsExternal() {
					tieredLines = append(tieredLines, l.String())
				}
			}
			if diff := cmp.Diff(got, tieredLines); diff != "" {
				t.Errorf("tiered.Evaluate lines (-reach +tiered):\n%s", diff)
			}
			// Explain, the per-pair definition, agrees on every pair.
			for _, src := range c.Workloads {
				for _, dst := range c.Workloads {
					if src == dst {
						continue
					}
					ex := reach.Explain(c, reach.Endpoint{Workload: src.Key()}, reach.Endpoint{Workload: dst.Key()})
					line := src.Key() + " => " + dst.Key() + " : " + ex.Allowed.String()
					if in := slices.Contains(got, line); in == ex.Allowed.IsEmpty() {
						t.Errorf("Explain(%s, %s) = %v; Evaluate lines %v", src.Key(), dst.Key(), ex.Allowed, got)
					}
				}
			}
		})
	}
}

// An incremental update agrees with a full evaluation when only a
// workload's hostNetwork changes: it moves in or out of the profile's
// all-pods peers.
func TestCalicoUpdateHostNetwork(t *testing.T) {
	opts := model.Options{CNI: model.CNICalico, PodCIDRs: prefixes("10.244.0.0/16")}
	for _, hn := range []bool{false, true} {
		base := shopCluster(t, hn, "192.168.0.0/16", opts)
		hopts := opts
		hopts.Reuse = base
		head := shopCluster(t, !hn, "192.168.0.0/16", hopts)
		sp := reach.NewSpace([]*model.Cluster{base, head}, nil)
		b, err := reach.Evaluate(sp, base)
		if err != nil {
			t.Fatal(err)
		}
		full, err := reach.Evaluate(sp, head)
		if err != nil {
			t.Fatal(err)
		}
		upd, err := reach.Update(b, head)
		if err != nil {
			t.Fatal(err)
		}
		want, got := workloadLines(t, full), workloadLines(t, upd)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("hostNetwork %v -> %v: Update lines (-Evaluate +Update):\n%s", hn, !hn, diff)
		}
		if cmp.Equal(want, workloadLines(t, b)) {
			t.Errorf("hostNetwork %v -> %v: head lines %v equal base lines; the agent should have moved", hn, !hn, want)
		}
	}
}

// Reuse compiles a policy again when the profile differs.
func TestReuseAcrossProfiles(t *testing.T) {
	objs := decode(t, strings.Replace(egressPolicy, "%s", "0.0.0.0/0", 1))
	base := model.Build(objs, model.Options{})
	head := model.Build(objs, model.Options{CNI: model.CNICalico, Reuse: base})
	if base.Policies[0] == head.Policies[0] {
		t.Fatalf("Build(calico, Reuse: cilium-like cluster) reused policy %s", base.Policies[0].Key())
	}
	if got := len(head.Policies[0].EgressRules[0].Peers); got != 4 {
		t.Errorf("Build(calico, Reuse).Peers = %d peers; want 4 (the profile's peer added)", got)
	}
	again := model.Build(objs, model.Options{CNI: model.CNICalico, Reuse: head})
	if again.Policies[0] != head.Policies[0] {
		t.Errorf("Build(calico, Reuse: calico cluster) compiled policy %s again; want it reused", head.Policies[0].Key())
	}
	cni, pods := head.CNI()
	if cni != model.CNICalico || !slices.Equal(pods, model.DefaultPodCIDRs()) {
		t.Errorf("CNI() = %q, %v; want calico, %v", cni, pods, model.DefaultPodCIDRs())
	}
}

const adminPolicy = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {template: {metadata: {labels: {app: web}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec: {template: {metadata: {labels: {app: db}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec: {template: {metadata: {labels: {app: agent}}, spec: {hostNetwork: true}}}
---
%s`

// The same policy as an AdminNetworkPolicy and as a ClusterNetworkPolicy.
var adminKinds = map[string]string{
	"AdminNetworkPolicy": `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-egress}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
  egress:
  - name: deny-all
    action: Deny
    to: [{networks: [%s]}]
`,
	"ClusterNetworkPolicy": `apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: no-egress}
spec:
  tier: Admin
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}
  egress:
  - name: deny-all
    action: Deny
    to: [{networks: [%s]}]
`,
}

// A networks peer holding the pod CIDRs denies (or allows) every pod under
// calico: "note that cluster-internal traffic will be checked against the
// rule as well" (AdminNetworkPolicyEgressPeer.networks).
func TestCalicoAdminNetworks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      model.Options
		networks  string
		wantPeers []string
		wantDB    connset.Set // web => db
		wantDiags []string
	}{{
		name:      "cilium-like: networks match external addresses only",
		networks:  "0.0.0.0/0",
		wantPeers: []string{"networks 0.0.0.0/0"},
		wantDB:    connset.All(),
	}, {
		name:      "calico: 0.0.0.0/0 holds every pod: web reaches no pod",
		opts:      model.Options{CNI: model.CNICalico},
		networks:  "0.0.0.0/0",
		wantPeers: []string{"networks 0.0.0.0/0", "all pods via networks"},
		wantDB:    connset.None(),
	}, {
		name:      "calico: part of the pod CIDRs warns and denies no pod",
		opts:      model.Options{CNI: model.CNICalico, PodCIDRs: prefixes("10.244.0.0/16")},
		networks:  "10.244.0.0/24, 192.0.2.0/24",
		wantPeers: []string{"networks 10.244.0.0/24,192.0.2.0/24"},
		wantDB:    connset.All(),
		wantDiags: []string{"warning: KIND no-egress: spec.egress[0].to[0].networks 10.244.0.0/24,192.0.2.0/24: under the calico CNI profile it matches the pods whose addresses fall inside it; reachdiff cannot tell which: treated as matching none"},
	}} {
		for _, kind := range []string{"AdminNetworkPolicy", "ClusterNetworkPolicy"} {
			t.Run(kind+": "+tc.name, func(t *testing.T) {
				doc := strings.Replace(adminPolicy, "%s", strings.Replace(adminKinds[kind], "%s", tc.networks, 1), 1)
				c := model.Build(decode(t, doc), tc.opts)
				if len(c.AdminPolicies) != 1 {
					t.Fatalf("Build = %d admin policies; want 1; diagnostics %v", len(c.AdminPolicies), c.Diagnostics)
				}
				r := c.AdminPolicies[0].Egress[0]
				var got []string
				for _, p := range r.Peers {
					got = append(got, adminPeerShape(p))
				}
				if diff := cmp.Diff(tc.wantPeers, got); diff != "" {
					t.Errorf("Build(networks %s).Peers (-want +got):\n%s", tc.networks, diff)
				}
				var wantDiags []string
				for _, d := range tc.wantDiags {
					wantDiags = append(wantDiags, strings.Replace(d, "KIND", kind, 1))
				}
				if diff := cmp.Diff(wantDiags, cniDiags(c)); diff != "" {
					t.Errorf("Build(networks %s) diagnostics (-want +got):\n%s", tc.networks, diff)
				}
				web, db, agent := c.Workload("shop/web[Deployment]"), c.Workload("shop/db[Deployment]"), c.Workload("shop/agent[DaemonSet]")
				if got := tiered.Conns(c, tiered.Endpoint{Workload: web}, tiered.Endpoint{Workload: db}); !got.Equal(tc.wantDB) {
					t.Errorf("tiered.Conns(web, db) = %v; want %v", got, tc.wantDB)
				}
				// The agent's address is its node's: never a pod address.
				if got := tiered.Conns(c, tiered.Endpoint{Workload: web}, tiered.Endpoint{Workload: agent}); !got.Equal(connset.All()) {
					t.Errorf("tiered.Conns(web, host-networked agent) = %v; want %v", got, connset.All())
				}
				// External addresses inside the networks are denied either way.
				ext := tiered.Endpoint{External: ipset.RangeOf(netip.MustParsePrefix("192.0.2.0/24"))}
				if got := tiered.Conns(c, tiered.Endpoint{Workload: web}, ext); !got.IsEmpty() {
					t.Errorf("tiered.Conns(web, 192.0.2.0/24) = %v; want none", got)
				}
				if got := r.WrittenPeer(len(r.Peers) - 1); got != 0 {
					t.Errorf("WrittenPeer(%d) = %d; want 0", len(r.Peers)-1, got)
				}
			})
		}
	}
}

func lines(conns []reach.Conn, workloadsOnly bool) []string {
	var out []string
	for _, c := range conns {
		if !workloadsOnly || !c.Src.IsExternal() && !c.Dst.IsExternal() {
			out = append(out, c.Src.String()+" => "+c.Dst.String()+" : "+c.Conns.String())
		}
	}
	return out
}

// On synthetic clusters (0.0.0.0/0 and ::/0 blocks, host-networked
// workloads) under calico: the incremental update agrees with a full
// evaluation, and the policy-tier evaluator with the bitset engine.
func TestCalicoSyntheticAgree(t *testing.T) {
	added := 0
	for seed := int64(1); seed <= 3; seed++ {
		gen := synth.Generate(synth.Config{Seed: seed, Workloads: 120, Policies: 60, Namespaces: 8})
		mutated, _ := synth.Mutate(gen, seed, 8)
		for _, opts := range []model.Options{
			{CNI: model.CNICalico},
			{CNI: model.CNICalico, PodCIDRs: prefixes("10.0.0.0/8")},
		} {
			name := fmt.Sprintf("seed %d, pod CIDRs %v", seed, opts.PodCIDRs)
			base := model.Build(gen.Objects, opts)
			hopts := opts
			hopts.Reuse = base
			head := model.Build(mutated.Objects, hopts)
			if diag.HasErrors(base.Diagnostics) || diag.HasErrors(head.Diagnostics) {
				t.Fatalf("%s: synthetic cluster has errors", name)
			}
			for _, p := range head.Policies {
				for _, r := range append(append([]model.Rule(nil), p.IngressRules...), p.EgressRules...) {
					for _, pr := range r.Peers {
						if pr.ViaIPBlock {
							added++
						}
					}
				}
			}
			sp := reach.NewSpace([]*model.Cluster{base, head}, nil)
			b, err := reach.Evaluate(sp, base)
			if err != nil {
				t.Fatal(err)
			}
			full, err := reach.Evaluate(sp, head)
			if err != nil {
				t.Fatal(err)
			}
			upd, err := reach.Update(b, head)
			if err != nil {
				t.Fatal(err)
			}
			want := lines(full.Connections(), false)
			if diff := cmp.Diff(want, lines(upd.Connections(), false)); diff != "" {
				t.Errorf("%s: Update (-Evaluate +Update):\n%s", name, diff)
			}
			var tl []string
			for _, l := range tiered.Evaluate(head) {
				if !l.Src.IsExternal() && !l.Dst.IsExternal() {
					tl = append(tl, l.String())
				}
			}
			if diff := cmp.Diff(lines(full.Connections(), true), tl); diff != "" {
				t.Errorf("%s: tiered.Evaluate (-reach +tiered):\n%s", name, diff)
			}
		}
	}
	if added == 0 {
		t.Errorf("no synthetic policy got the calico profile's peer; the test checks nothing")
	}
}

// BenchmarkEvaluateCNI compares a full evaluation of a synthetic cluster
// under both profiles (pod CIDRs unknown).
func BenchmarkEvaluateCNI(b *testing.B) {
	gen := synth.Generate(synth.Config{Seed: 1, Workloads: 2000, Policies: 800, Namespaces: 40})
	for _, cni := range model.CNIs {
		b.Run(string(cni), func(b *testing.B) {
			c := model.Build(gen.Objects, model.Options{CNI: cni})
			sp := reach.NewSpace([]*model.Cluster{c}, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reach.Evaluate(sp, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
