package synth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// small configurations keep the tests fast; the big one is in the benchmarks.
var configs = []Config{
	{Seed: 1, Namespaces: 8, Workloads: 60, Policies: 30},
	{Seed: 2, Namespaces: 12, Workloads: 150, Policies: 80},
	{Seed: 3, Namespaces: 5, Workloads: 40, Policies: 40, IPBlockFraction: 0.5, IPv6Fraction: 0.5, NamedPortFraction: 0.6},
	{Seed: 4, Namespaces: 1, Workloads: 5, Policies: 3},
	{Seed: 5, Namespaces: 3, Workloads: 0, Policies: 6, DefaultDenyFraction: -1},
	{Seed: 6},
}

// cfgName names a configuration in subtest names.
func cfgName(cfg Config) string {
	return fmt.Sprintf("seed%d/%dns/%dwl/%dpol", cfg.Seed, cfg.Namespaces, cfg.Workloads, cfg.Policies)
}

// readDir returns the files under dir by name.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func writeDir(t *testing.T, c *Cluster) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	if err := WriteDir(c, dir); err != nil {
		t.Fatalf("WriteDir(%s) = %v; want nil", dir, err)
	}
	return dir, readDir(t, dir)
}

func TestGenerateDeterministic(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfgName(cfg), func(t *testing.T) {
			a, b := Generate(cfg), Generate(cfg)
			if !cmp.Equal(a.Objects, b.Objects) {
				t.Fatalf("Generate(%+v) differs between two calls (-first +second):\n%s", cfg, cmp.Diff(a.Objects, b.Objects))
			}
			_, fa := writeDir(t, a)
			_, fb := writeDir(t, b)
			if d := diffBytes(fa, fb); d != "" {
				t.Errorf("WriteDir(Generate(%+v)) bytes differ between two calls (-first +second):\n%s", cfg, d)
			}
			other := cfg
			other.Seed += 100
			if c := Generate(other); cfg.Workloads > 1 && diffBytes(rendered(t, a), rendered(t, c)) == "" {
				t.Errorf("Generate(%+v) = Generate(%+v); want different clusters for different seeds", other, cfg)
			}
		})
	}
}

// newTyped returns a new zero object of the same type as typed.
func newTyped(typed any) any {
	return reflect.New(reflect.TypeOf(typed).Elem()).Interface()
}

// checkFiles reads c's objects back from the written files: every document
// decodes to the object, and metadata.name is on the line Source names.
func checkFiles(t *testing.T, c *Cluster, files map[string][]byte) {
	t.Helper()
	next := map[string]int{}
	docs := map[string][]string{}
	fileLines := map[string][]string{}
	for name, data := range files {
		docs[name] = strings.Split(string(data), docSeparator)
		fileLines[name] = strings.Split(string(data), "\n")
	}
	for _, o := range c.Objects {
		if o.Source.File != fileFor(o) {
			t.Errorf("%s: Source.File = %q; want %q", objectName(o), o.Source.File, fileFor(o))
		}
		ds, ok := docs[o.Source.File]
		if !ok {
			t.Fatalf("%s: file %q not written", objectName(o), o.Source.File)
		}
		i := next[o.Source.File]
		next[o.Source.File]++
		if i >= len(ds) {
			t.Fatalf("%s: file %q has %d documents; want more", objectName(o), o.Source.File, len(ds))
		}
		got := newTyped(o.Typed)
		if err := yaml.UnmarshalStrict([]byte(ds[i]), got); err != nil {
			t.Fatalf("%s: unmarshal document %d of %s: %v", objectName(o), i, o.Source.File, err)
		}
		if !cmp.Equal(o.Typed, got) {
			t.Errorf("%s: read back from %s (-generated +read):\n%s", objectName(o), o.Source.File, cmp.Diff(o.Typed, got))
		}
		var tm struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal([]byte(ds[i]), &tm); err != nil || tm.APIVersion != o.APIVersion || tm.Kind != o.Kind || o.Kind == "" || o.APIVersion == "" {
			t.Errorf("%s: document has apiVersion %q kind %q (err %v); want %q %q", objectName(o), tm.APIVersion, tm.Kind, err, o.APIVersion, o.Kind)
		}

		lines := fileLines[o.Source.File]
		if o.Source.Line < 1 || o.Source.Line > len(lines) {
			t.Errorf("%s: Source.Line = %d; want a line of %s (1-%d)", objectName(o), o.Source.Line, o.Source.File, len(lines))
			continue
		}
		if got, want := lines[o.Source.Line-1], "  name: "+o.Name; got != want {
			t.Errorf("%s: line %s:%d = %q; want %q", objectName(o), o.Source.File, o.Source.Line, got, want)
		}
		// The line belongs to this object's document: the nearest kind line above.
		for l := o.Source.Line - 1; l >= 1; l-- {
			if strings.HasPrefix(lines[l-1], "kind: ") {
				if got, want := lines[l-1], "kind: "+o.Kind; got != want {
					t.Errorf("%s: kind above line %s:%d = %q; want %q", objectName(o), o.Source.File, o.Source.Line, got, want)
				}
				break
			}
		}
	}
	for name, ds := range docs {
		if next[name] != len(ds) {
			t.Errorf("file %s has %d documents; want %d (one per object)", name, len(ds), next[name])
		}
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	for _, cfg := range configs {
		t.Run(cfgName(cfg), func(t *testing.T) {
			c := Generate(cfg)
			_, files := writeDir(t, c)
			checkFiles(t, c, files)
		})
	}
	t.Run("CIDRHeavy", func(t *testing.T) {
		c := CIDRHeavy(1)
		_, files := writeDir(t, c)
		checkFiles(t, c, files)
	})
	t.Run("Mutate without Source", func(t *testing.T) {
		c := Generate(configs[0])
		bare := &Cluster{Objects: sources(c)}
		for i := range bare.Objects {
			bare.Objects[i].Typed = c.Objects[i].Typed
			bare.Objects[i].Source = manifest.Source{}
		}
		next, _ := Mutate(bare, 1, 3)
		_, files := writeDir(t, next)
		checkFiles(t, next, files)
	})
	t.Run("Mutate", func(t *testing.T) {
		base := Generate(configs[0])
		for seed := range int64(3) {
			next, changes := Mutate(base, seed, 15)
			_, files := writeDir(t, next)
			checkFiles(t, next, files)
			if t.Failed() {
				t.Fatalf("after Mutate(seed %d) with changes %v", seed, changes)
			}
		}
	})
}

func TestWriteDirErrors(t *testing.T) {
	tests := []struct {
		name string
		c    *Cluster
		dir  func(t *testing.T) string
	}{
		{"untyped object", &Cluster{Objects: []manifest.Object{{Kind: "Widget", Name: "w"}}}, func(t *testing.T) string { return t.TempDir() }},
		{"dir is a file", Generate(configs[3]), func(t *testing.T) string {
			f := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(f, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return f
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			if err := WriteDir(tt.c, dir); err == nil {
				t.Errorf("WriteDir(%s, %s) = nil; want an error", tt.name, dir)
			}
		})
	}
}

// census counts the features of a cluster that the tests want to see.
func census(c *Cluster) map[string]int {
	n := map[string]int{}
	for _, o := range c.Objects {
		n["kind "+o.Kind]++
		switch t := o.Typed.(type) {
		case *corev1.Namespace:
			if _, ok := t.Labels[labelNSName]; !ok {
				n["namespace without metadata.name label"]++
			}
		case *appsv1.Deployment, *appsv1.StatefulSet, *appsv1.DaemonSet:
			pt := podTemplate(t)
			if pt.Spec.HostNetwork {
				n["hostNetwork"]++
			}
			if d, ok := t.(*appsv1.Deployment); ok && d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
				n["replicas 0"]++
			}
			for _, ctr := range pt.Spec.Containers {
				for _, p := range ctr.Ports {
					n["container port "+string(protoOrTCP(p.Protocol))]++
					if p.Name != "" {
						n["named container port"]++
					}
				}
			}
		case *networkingv1.NetworkPolicy:
			policyCensus(t, n)
		}
	}
	return n
}

func policyCensus(p *networkingv1.NetworkPolicy, n map[string]int) {
	s := p.Spec
	types := fmt.Sprint(s.PolicyTypes)
	if s.PolicyTypes == nil {
		types = "omitted"
	}
	n["policyTypes "+types]++
	if len(s.PodSelector.MatchLabels)+len(s.PodSelector.MatchExpressions) == 0 {
		n["podSelector {}"]++
		if len(s.Ingress)+len(s.Egress) == 0 {
			n["default deny "+types]++
		}
	}
	for _, e := range s.PodSelector.MatchExpressions {
		n["expression "+string(e.Operator)]++
	}
	peers := func(dir string, ps []networkingv1.NetworkPolicyPeer) {
		if ps == nil {
			n[dir+" peers absent"]++
		} else if len(ps) == 0 {
			n[dir+" peers empty"]++
		}
		for _, pe := range ps {
			switch {
			case pe.IPBlock != nil:
				fam := "v4"
				if strings.Contains(pe.IPBlock.CIDR, ":") {
					fam = "v6"
				}
				n[dir+" ipBlock "+fam]++
				if len(pe.IPBlock.Except) > 0 {
					n[dir+" ipBlock except "+fam]++
				}
			case pe.PodSelector != nil && pe.NamespaceSelector != nil:
				n[dir+" namespace and pod selector"]++
			case pe.NamespaceSelector != nil:
				n[dir+" namespace selector alone"]++
				if len(pe.NamespaceSelector.MatchLabels)+len(pe.NamespaceSelector.MatchExpressions) == 0 {
					n[dir+" all namespaces"]++
				}
				if pe.NamespaceSelector.MatchLabels[labelNSName] == kubeSystem {
					n[dir+" to kube-system"]++
				}
			default:
				n[dir+" pod selector alone"]++
			}
			if pe.PodSelector != nil {
				for _, e := range pe.PodSelector.MatchExpressions {
					n["expression "+string(e.Operator)]++
				}
			}
			if pe.NamespaceSelector != nil {
				for _, e := range pe.NamespaceSelector.MatchExpressions {
					n["expression "+string(e.Operator)]++
				}
				if pe.PodSelector != nil && pe.NamespaceSelector.MatchLabels[labelNSName] == kubeSystem {
					n[dir+" to kube-system"]++
				}
			}
		}
	}
	ports := func(ps []networkingv1.NetworkPolicyPort) {
		if ps == nil {
			n["ports absent"]++
		} else if len(ps) == 0 {
			n["ports empty"]++
		}
		for _, p := range ps {
			proto := "TCP (default)"
			if p.Protocol != nil {
				proto = string(*p.Protocol)
			}
			n["port protocol "+proto]++
			switch {
			case p.Port == nil:
				n["port protocol only"]++
			case p.Port.StrVal != "":
				n["port by name"]++
			default:
				n["port by number"]++
			}
			if p.EndPort != nil {
				n["endPort"]++
			}
		}
	}
	for _, r := range s.Ingress {
		peers("ingress", r.From)
		ports(r.Ports)
	}
	for _, r := range s.Egress {
		peers("egress", r.To)
		ports(r.Ports)
	}
}

func TestGenerateShape(t *testing.T) {
	cfg := Config{Seed: 7, Namespaces: 60, Workloads: 1200, Policies: 480}
	c := Generate(cfg)
	got := census(c)
	for _, want := range []string{
		"kind Deployment", "kind StatefulSet", "kind DaemonSet", "kind Namespace",
		"namespace without metadata.name label", "hostNetwork", "replicas 0",
		"container port TCP", "container port UDP", "container port SCTP", "named container port",
		"policyTypes omitted", "policyTypes [Ingress]", "policyTypes [Egress]", "policyTypes [Ingress Egress]",
		"podSelector {}", "default deny [Ingress]", "default deny [Egress]", "default deny [Ingress Egress]",
		"expression In", "expression NotIn", "expression Exists", "expression DoesNotExist",
		"ingress peers absent", "egress peers absent", "ingress peers empty", "egress peers empty", "ports empty",
		"ingress pod selector alone", "ingress namespace selector alone", "ingress namespace and pod selector", "ingress all namespaces",
		"egress ipBlock v4", "egress ipBlock v6", "egress ipBlock except v4", "egress ipBlock except v6", "egress to kube-system",
		"ports absent", "port by name", "port by number", "port protocol only", "endPort",
		"port protocol TCP", "port protocol UDP", "port protocol SCTP", "port protocol TCP (default)",
	} {
		if got[want] == 0 {
			t.Errorf("census(Generate(%+v))[%q] = 0; want > 0", cfg, want)
		}
	}
	wl := got["kind Deployment"] + got["kind StatefulSet"] + got["kind DaemonSet"]
	if wl != cfg.Workloads || got["kind NetworkPolicy"] != cfg.Policies {
		t.Errorf("Generate(%+v) has %d workloads and %d policies; want %d and %d", cfg, wl, got["kind NetworkPolicy"], cfg.Workloads, cfg.Policies)
	}

	// Namespaces: Namespace objects plus namespaces that only workloads or
	// policies name add up to cfg.Namespaces (or fewer, when a namespace got
	// nothing and has no object).
	w := worldOf(c.Objects)
	undeclared, noPolicy := 0, 0
	perNS := map[string]int{}
	for _, o := range c.Objects {
		if o.Kind == "NetworkPolicy" {
			perNS[o.Namespace]++
		}
	}
	for _, n := range w.nss {
		if !n.declared {
			undeclared++
		}
		if perNS[n.name] == 0 {
			noPolicy++
		}
	}
	if len(w.nss) > cfg.Namespaces || undeclared == 0 || got["kind Namespace"] >= cfg.Namespaces {
		t.Errorf("Generate(%+v): %d namespaces, %d undeclared, %d Namespace objects; want at most %d, some undeclared", cfg, len(w.nss), undeclared, got["kind Namespace"], cfg.Namespaces)
	}
	// Skew: most namespaces with policies have 1-10, some have none.
	small := 0
	for _, k := range perNS {
		if k <= 10 {
			small++
		}
	}
	if noPolicy == 0 || 2*small < len(perNS) {
		t.Errorf("Generate(%+v): %d namespaces without policies, %d of %d with 1-10; want some without, most with 1-10", cfg, noPolicy, small, len(perNS))
	}
}

func TestCIDRHeavy(t *testing.T) {
	c := CIDRHeavy(1)
	got := census(c)
	wl := got["kind Deployment"] + got["kind StatefulSet"] + got["kind DaemonSet"]
	if wl != 29 || got["kind NetworkPolicy"] != 1 || got["kind Namespace"] != 3 {
		t.Errorf("CIDRHeavy(1) has %d workloads, %d policies, %d namespaces; want 29, 1, 3", wl, got["kind NetworkPolicy"], got["kind Namespace"])
	}
	cidrs, excepts := 0, 0
	distinct := map[string]bool{}
	for _, o := range c.Objects {
		if p, ok := o.Typed.(*networkingv1.NetworkPolicy); ok {
			each := func(ps []networkingv1.NetworkPolicyPeer) {
				for _, pe := range ps {
					cidrs++
					distinct[pe.IPBlock.CIDR] = true
					excepts += len(pe.IPBlock.Except)
				}
			}
			for _, r := range p.Spec.Ingress {
				each(r.From)
			}
			for _, r := range p.Spec.Egress {
				each(r.To)
			}
		}
	}
	if total := cidrs + excepts; total < 620 || total > 660 || excepts == 0 || len(distinct) < cidrs*9/10 {
		t.Errorf("CIDRHeavy(1) has %d ipBlocks (%d distinct) and %d excepts; want about 640 CIDRs in all, most distinct", cidrs, len(distinct), excepts)
	}
	if d := diffBytes(rendered(t, c), rendered(t, CIDRHeavy(1))); d != "" {
		t.Errorf("CIDRHeavy(1) differs between two calls: %s", d)
	}
	if diffBytes(rendered(t, c), rendered(t, CIDRHeavy(2))) == "" {
		t.Errorf("CIDRHeavy(1) = CIDRHeavy(2); want different CIDRs")
	}
}

// diffBytes describes the first difference between two sets of named
// contents ("" when equal). cmp.Diff compares []byte byte by byte: too slow here.
func diffBytes(a, b map[string][]byte) string {
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		x, inA := a[n]
		y, inB := b[n]
		if inA != inB || !bytes.Equal(x, y) {
			return fmt.Sprintf("%s differs:\n%s", n, cmp.Diff(string(x), string(y)))
		}
	}
	return ""
}

// sources returns the objects of c without their typed values.
func sources(c *Cluster) []manifest.Object {
	out := make([]manifest.Object, len(c.Objects))
	for i, o := range c.Objects {
		o.Typed = nil
		out[i] = o
	}
	return out
}

// rendered returns the YAML of each object of c by "Kind ns/name".
func rendered(t *testing.T, c *Cluster) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, o := range c.Objects {
		b, err := marshalYAML(o.Typed)
		if err != nil {
			t.Fatal(err)
		}
		out[objectName(o)] = b
	}
	return out
}

func TestMutate(t *testing.T) {
	base := Generate(configs[1])
	before := rendered(t, base)
	beforeObjs := append([]manifest.Object(nil), base.Objects...)
	seen := map[string]int{}
	for seed := range int64(6) {
		next, changes := Mutate(base, seed, 16)
		if len(changes) != 16 {
			t.Errorf("Mutate(base, %d, 16) made %d changes; want 12", seed, len(changes))
		}
		if d := diffBytes(before, rendered(t, base)); d != "" {
			t.Fatalf("Mutate(base, %d, 16) modified base:\n%s", seed, d)
		}
		for i, o := range base.Objects {
			if o != beforeObjs[i] {
				t.Fatalf("Mutate(base, %d, 16) modified base.Objects[%d]: %+v; want %+v", seed, i, o, beforeObjs[i])
			}
		}
		again, changes2 := Mutate(base, seed, 16)
		if d := cmp.Diff(changes, changes2); d != "" {
			t.Errorf("Mutate(base, %d, 16) changes differ between two calls:\n%s", seed, d)
		}
		if d := cmp.Diff(sources(next), sources(again)); d != "" {
			t.Errorf("Mutate(base, %d, 16) objects differ between two calls:\n%s", seed, d)
		}
		after := rendered(t, next)
		if d := diffBytes(after, rendered(t, again)); d != "" {
			t.Errorf("Mutate(base, %d, 16) objects differ between two calls:\n%s", seed, d)
		}

		times := map[string]int{}
		for _, ch := range changes {
			times[ch.Object]++
			seen[ch.Kind]++
		}
		baseBy := map[string]manifest.Object{}
		for _, o := range base.Objects {
			baseBy[objectName(o)] = o
		}
		nextBy := map[string]manifest.Object{}
		for _, o := range next.Objects {
			name := objectName(o)
			if _, dup := nextBy[name]; dup {
				t.Errorf("Mutate(base, %d, 16): %s twice", seed, name)
			}
			nextBy[name] = o
			if b, ok := baseBy[name]; ok && times[name] == 0 && b.Typed != o.Typed {
				t.Errorf("Mutate(base, %d, 16): unchanged %s has a new pointer", seed, name)
			}
		}
		for _, ch := range changes {
			if times[ch.Object] != 1 {
				continue // changed twice: the checks below assume one change
			}
			b, inBase := baseBy[ch.Object]
			n, inNext := nextBy[ch.Object]
			switch ch.Kind {
			case ChangeAddPolicy, ChangeAddWorkload:
				if inBase || !inNext {
					t.Errorf("Mutate(base, %d, 16) change %v: in base %v, in result %v; want false, true", seed, ch, inBase, inNext)
				}
			case ChangeRemovePolicy, ChangeRemoveWorkload:
				if !inBase || inNext {
					t.Errorf("Mutate(base, %d, 16) change %v: in base %v, in result %v; want true, false", seed, ch, inBase, inNext)
				}
			default:
				if !inBase || !inNext {
					t.Errorf("Mutate(base, %d, 16) change %v: in base %v, in result %v; want both", seed, ch, inBase, inNext)
					continue
				}
				if b.Typed == n.Typed {
					t.Errorf("Mutate(base, %d, 16) change %v: same pointer; want a copy", seed, ch)
				}
				if bytes.Equal(before[ch.Object], after[ch.Object]) {
					t.Errorf("Mutate(base, %d, 16) change %v: YAML unchanged:\n%s", seed, ch, after[ch.Object])
				}
			}
		}
	}
	var missing []string
	for _, k := range changeKinds {
		if seen[k.kind] == 0 {
			missing = append(missing, k.kind)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Mutate over 6 seeds never made %v; got %v", missing, seen)
	}
}

func TestMutateNothingToChange(t *testing.T) {
	next, changes := Mutate(&Cluster{}, 1, 5)
	// An empty cluster has no Namespace object to relabel; it grows first.
	for _, ch := range changes {
		if ch.Kind == ChangeRelabelNamespace {
			t.Errorf("Mutate(empty, 1, 5) made %v; want no namespace relabel (there is no Namespace)", ch)
		}
	}
	if len(changes) != 5 || len(next.Objects) == 0 {
		t.Errorf("Mutate(empty, 1, 5) = %d objects, %v; want 5 changes", len(next.Objects), changes)
	}
}
