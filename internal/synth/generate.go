package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// builder makes objects from a random source, a configuration and the world
// built so far.
type builder struct {
	r   *rand.Rand
	cfg Config
	w   *world
}

// Generate returns the cluster described by cfg. The same cfg always gives the
// same objects in the same order.
func Generate(cfg Config) *Cluster {
	cfg = cfg.withDefaults()
	b := &builder{r: newRand(cfg.Seed, 1), cfg: cfg, w: newWorld()}
	b.w.apps = appVocab(cfg.LabelValues)

	var nsObjs []manifest.Object
	weights := make([]float64, cfg.Namespaces)
	for i := range cfg.Namespaces {
		var o *corev1.Namespace
		if i == 0 {
			o = namespaceObject(kubeSystem, map[string]string{labelNSName: kubeSystem})
			b.w.ns(kubeSystem).declared = true
			b.w.ns(kubeSystem).labels = o.Labels
		} else {
			team, env := pick(b.r, teams), pick(b.r, envs)
			name := fmt.Sprintf("%s-%s-%d", team, env, i)
			n := b.w.ns(name)
			if b.r.Float64() >= cfg.UndeclaredNamespaceFraction {
				o = namespaceObject(name, b.namespaceLabels(name, team, env))
				n.declared = true
				n.labels = o.Labels
			}
		}
		// Namespace sizes are log-normal: most are small, a few are large.
		weights[i] = math.Exp(1.2 * b.r.NormFloat64())
		if o != nil {
			nsObjs = append(nsObjs, object(o))
		}
	}

	perNS := map[string][]manifest.Object{}
	if cfg.Workloads > 0 {
		ks := b.w.nss[0]
		dns := kubeDNS()
		ks.workloads = append(ks.workloads, viewOf(dns))
		perNS[ks.name] = append(perNS[ks.name], object(dns))
	}
	wlWeights := weights
	if cfg.Namespaces > 1 {
		wlWeights = append([]float64{0}, weights[1:]...)
	}
	wcum := cumulative(wlWeights)
	for range max(cfg.Workloads-1, 0) {
		n := b.w.nss[pickWeighted(b.r, wcum)]
		o, v := b.workload(n, "")
		n.workloads = append(n.workloads, v)
		perNS[n.name] = append(perNS[n.name], object(o))
	}

	polWeights := make([]float64, len(weights))
	for i, wt := range weights {
		if b.r.Float64() >= cfg.NoPolicyNamespaceFraction {
			polWeights[i] = math.Sqrt(wt)
		}
	}
	pcum := cumulative(polWeights)
	if len(pcum) > 0 && pcum[len(pcum)-1] == 0 {
		pcum = cumulative(weights)
	}
	for range cfg.Policies {
		n := b.w.nss[pickWeighted(b.r, pcum)]
		p := b.policy(n)
		perNS[n.name] = append(perNS[n.name], object(p))
	}

	c := &Cluster{Objects: nsObjs}
	names := make([]string, 0, len(perNS))
	for name := range perNS {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c.Objects = append(c.Objects, perNS[name]...)
	}
	layout(c.Objects, nil)
	return c
}

// object wraps a typed object.
func object(typed any) manifest.Object {
	o := manifest.Object{Typed: typed}
	switch t := typed.(type) {
	case *corev1.Namespace:
		o.APIVersion, o.Kind, o.Name = t.APIVersion, t.Kind, t.Name
	case *appsv1.Deployment:
		o.APIVersion, o.Kind, o.Namespace, o.Name = t.APIVersion, t.Kind, t.Namespace, t.Name
	case *appsv1.StatefulSet:
		o.APIVersion, o.Kind, o.Namespace, o.Name = t.APIVersion, t.Kind, t.Namespace, t.Name
	case *appsv1.DaemonSet:
		o.APIVersion, o.Kind, o.Namespace, o.Name = t.APIVersion, t.Kind, t.Namespace, t.Name
	case *networkingv1.NetworkPolicy:
		o.APIVersion, o.Kind, o.Namespace, o.Name = t.APIVersion, t.Kind, t.Namespace, t.Name
	}
	o.Source.File = fileFor(o)
	return o
}

// objectName prints an object as in Change.Object.
func objectName(o manifest.Object) string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// cumulative returns the running sums of ws.
func cumulative(ws []float64) []float64 {
	out := make([]float64, len(ws))
	s := 0.0
	for i, w := range ws {
		s += w
		out[i] = s
	}
	return out
}

// pickWeighted returns an index drawn with the weights whose running sums are cum.
func pickWeighted(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	return sort.Search(len(cum)-1, func(i int) bool { return cum[i] > x })
}

func namespaceObject(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
	}
}

// namespaceLabels returns the labels of a declared namespace: team and env
// always, tier and data-classification often, kubernetes.io/metadata.name
// on most (the API server adds it, manifests often omit it).
func (b *builder) namespaceLabels(name, team, env string) map[string]string {
	l := map[string]string{labelTeam: team, labelEnv: env}
	if chance(b.r, 0.8) {
		l[labelTier] = pick(b.r, nsTiers)
	}
	if chance(b.r, 0.7) {
		l[labelClass] = pick(b.r, classes)
	}
	if chance(b.r, 0.88) {
		l[labelNSName] = name
	}
	return l
}

// kubeDNS returns the cluster DNS Deployment that DNS egress rules target.
func kubeDNS() *appsv1.Deployment {
	labels := map[string]string{"k8s-app": "kube-dns"}
	two := int32(2)
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: kubeSystem, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &two,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"k8s-app": "kube-dns"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "coredns",
					Image: "registry.k8s.io/coredns/coredns:v1.11.1",
					Ports: []corev1.ContainerPort{
						{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
						{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
						{Name: "metrics", ContainerPort: 9153, Protocol: corev1.ProtocolTCP},
					},
				}}},
			},
		},
	}
}

// workload returns a new Deployment (mostly), StatefulSet or DaemonSet in
// ns, named name or, when name is empty, after its app label.
func (b *builder) workload(ns *nsView, name string) (any, *workloadView) {
	app := pick(b.r, b.w.apps)
	if name == "" {
		name = uniqueName(app, len(ns.workloads), func(s string) bool {
			for _, w := range ns.workloads {
				if w.name == s {
					return true
				}
			}
			return false
		})
	}
	labels := map[string]string{labelApp: app, labelInstance: name}
	if chance(b.r, 0.85) {
		labels[labelTier] = pick(b.r, podTiers)
	}
	if chance(b.r, 0.6) {
		labels[labelRole] = pick(b.r, roles)
	}
	if chance(b.r, 0.7) {
		labels[labelVersion] = pick(b.r, versions)
	}
	spec := corev1.PodSpec{Containers: b.containers(app)}
	if chance(b.r, b.cfg.HostNetworkFraction) {
		spec.HostNetwork = true
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
	meta := metav1.ObjectMeta{Name: name, Namespace: ns.name, Labels: map[string]string{labelApp: app}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{labelInstance: name}}
	var replicas *int32
	if x := b.r.Float64(); x < b.cfg.ZeroReplicasFraction {
		replicas = new(int32)
	} else if x < b.cfg.ZeroReplicasFraction+0.9 {
		n := int32(1 + b.r.IntN(5))
		replicas = &n
	}
	var o any
	switch x := b.r.IntN(100); {
	case x < 3:
		o = &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: meta,
			Spec:       appsv1.DaemonSetSpec{Selector: sel, Template: tmpl},
		}
	case x < 28:
		o = &appsv1.StatefulSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
			ObjectMeta: meta,
			Spec:       appsv1.StatefulSetSpec{Replicas: replicas, ServiceName: name, Selector: sel, Template: tmpl},
		}
	default:
		o = &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: meta,
			Spec:       appsv1.DeploymentSpec{Replicas: replicas, Selector: sel, Template: tmpl},
		}
	}
	return o, viewOf(o)
}

// uniqueName returns base-n, or base-n-k for the first k that is not taken.
func uniqueName(base string, n int, taken func(string) bool) string {
	name := base + "-" + strconv.Itoa(n)
	for k := 2; taken(name); k++ {
		name = base + "-" + strconv.Itoa(n) + "-" + strconv.Itoa(k)
	}
	return name
}

// containers returns an app container with a main named port and extras, and
// sometimes a metrics sidecar. Port names are unique in the pod.
func (b *builder) containers(app string) []corev1.Container {
	main := corev1.Container{Name: "app", Image: "registry.example.com/" + app + ":1.0"}
	used := map[string]bool{}
	add := func(c *corev1.Container, d portDef) {
		if used[d.name] {
			return
		}
		used[d.name] = true
		p := corev1.ContainerPort{Name: d.name, ContainerPort: pick(b.r, d.nums), Protocol: d.proto}
		if d.proto == corev1.ProtocolTCP && chance(b.r, 0.5) {
			p.Protocol = "" // defaults to TCP
		}
		c.Ports = append(c.Ports, p)
	}
	primary := []int{0, 0, 0, 0, 0, 0, 2, 2, 1, 4, 5, 6}
	add(&main, portCatalog[pick(b.r, primary)])
	if chance(b.r, 0.03) {
		num := pick(b.r, portCatalog[7].nums)
		add(&main, portDef{"dns", corev1.ProtocolUDP, []int32{num}})
		add(&main, portDef{"dns-tcp", corev1.ProtocolTCP, []int32{num}})
	}
	if chance(b.r, 0.03) {
		add(&main, portCatalog[9])
	}
	if chance(b.r, 0.02) {
		add(&main, portCatalog[10])
	}
	if chance(b.r, 0.1) {
		main.Ports = append(main.Ports, corev1.ContainerPort{ContainerPort: int32(7000 + b.r.IntN(100))})
	}
	cs := []corev1.Container{main}
	if chance(b.r, 0.5) {
		if chance(b.r, 0.5) {
			side := corev1.Container{Name: "exporter", Image: "registry.example.com/exporter:0.9"}
			add(&side, portCatalog[3])
			cs = append(cs, side)
		} else {
			add(&cs[0], portCatalog[3])
		}
	}
	return cs
}
