package model

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// Build compiles decoded objects into a Cluster. Problems in the input are
// diagnostics on the cluster; an error-severity diagnostic means the answer
// cannot be trusted (the caller exits 2).
func Build(objs []manifest.Object, opts Options) *Cluster {
	b := builder{
		opts:    opts,
		c:       &Cluster{Ignored: map[string]int{}, compiled: map[any]compiledObject{}},
		seen:    map[string]manifest.Source{},
		nsByKey: map[string]*Namespace{},
		wByKey:  map[string]*Workload{},
	}
	if b.opts.DefaultNamespace == "" {
		b.opts.DefaultNamespace = "default"
	}
	b.c.defaultNamespace = b.opts.DefaultNamespace
	b.c.cni, b.c.podCIDRs = b.opts.CNI.Profile(), b.opts.PodCIDRs
	for _, o := range objs {
		b.add(o)
	}
	b.finish()
	sortCluster(b.c)
	b.finishTiers()
	b.c.byKey = b.wByKey
	return b.c
}

type builder struct {
	opts    Options
	c       *Cluster
	seen    map[string]manifest.Source // kind/ns/name -> first source
	nsByKey map[string]*Namespace
	wByKey  map[string]*Workload
	// referenced namespaces (by workloads and policies) that may need to be assumed
	referenced []string
	// custom resources per namespace, for hints
	crs map[string][]string
}

func (b *builder) diag(d diag.Diagnostic) { b.c.Diagnostics = append(b.c.Diagnostics, d) }

// compiledObject is what one decoded object compiled to, with the
// diagnostics compiling it gave, for Options.Reuse.
type compiledObject struct {
	obj    any // *Workload or *Policy
	source manifest.Source
	diags  []diag.Diagnostic
}

// reused returns what the Reuse cluster compiled from the same decoded
// object (same Typed pointer at the same place, same default namespace),
// replaying its diagnostics.
func (b *builder) reused(o manifest.Object) (compiledObject, bool) {
	r := b.opts.Reuse
	if r == nil || r.defaultNamespace != b.opts.DefaultNamespace || !r.sameCNI(b.opts) {
		return compiledObject{}, false
	}
	// The same object at another line (a document above it changed) is
	// compiled again: diagnostics and causes point at lines.
	c, ok := r.compiled[o.Typed]
	if !ok || c.source != o.Source {
		return compiledObject{}, false
	}
	b.c.Diagnostics = append(b.c.Diagnostics, c.diags...)
	return c, true
}

// remember records what o compiled to, and the diagnostics from index start.
func (b *builder) remember(o manifest.Object, obj any, start int) {
	b.c.compiled[o.Typed] = compiledObject{obj: obj, source: o.Source, diags: append([]diag.Diagnostic(nil), b.c.Diagnostics[start:]...)}
}

func (b *builder) namespaceOf(o manifest.Object) string {
	if o.Namespace != "" {
		return o.Namespace
	}
	return b.opts.DefaultNamespace
}

func (b *builder) add(o manifest.Object) {
	if o.Typed == nil {
		b.c.Ignored[o.Kind]++
		if isCustomResource(o.APIVersion) {
			if b.crs == nil {
				b.crs = map[string][]string{}
			}
			ns := b.namespaceOf(o)
			b.crs[ns] = append(b.crs[ns], o.Kind+" "+o.Name)
		}
		return
	}
	ns := b.namespaceOf(o)
	if _, isNS := o.Typed.(*corev1.Namespace); isNS {
		ns = ""
	}
	id := o.Kind + "/" + ns + "/" + o.Name
	if first, dup := b.seen[id]; dup {
		d := errorf(o, "duplicate object: %s is also defined at %s:%d", ObjectName(o), first.File, first.Line)
		if o.Kind == "Service" {
			// A Service only routes Ingress traffic; reachability between
			// workloads does not depend on it, so the answer stands.
			d.Severity = diag.Warning
			d.Message += "; this later definition is ignored"
		}
		b.diag(d)
		return
	}
	b.seen[id] = o.Source

	switch t := o.Typed.(type) {
	case *corev1.Namespace:
		labels := maps.Clone(t.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[NamespaceNameLabel] = t.Name
		b.nsByKey[t.Name] = &Namespace{Name: t.Name, Labels: labels, Source: o.Source}
	case *corev1.Pod:
		b.addPod(o, ns, t)
	case *appsv1.Deployment:
		b.addWorkload(o, ns, "Deployment", &t.Spec.Template)
	case *appsv1.StatefulSet:
		b.addWorkload(o, ns, "StatefulSet", &t.Spec.Template)
	case *appsv1.DaemonSet:
		b.addWorkload(o, ns, "DaemonSet", &t.Spec.Template)
	case *appsv1.ReplicaSet:
		b.addWorkload(o, ns, "ReplicaSet", &t.Spec.Template)
	case *corev1.ReplicationController:
		if t.Spec.Template == nil {
			b.addWorkload(o, ns, "ReplicationController", &corev1.PodTemplateSpec{})
		} else {
			b.addWorkload(o, ns, "ReplicationController", t.Spec.Template)
		}
	case *batchv1.Job:
		b.addWorkload(o, ns, "Job", &t.Spec.Template)
	case *batchv1.CronJob:
		b.addWorkload(o, ns, "CronJob", &t.Spec.JobTemplate.Spec.Template)
	case *corev1.Service:
		b.addService(o, ns, t)
	case *networkingv1.NetworkPolicy:
		if r, ok := b.reused(o); ok {
			b.c.Policies = append(b.c.Policies, r.obj.(*Policy))
			b.referenced = append(b.referenced, ns)
			return
		}
		start := len(b.c.Diagnostics)
		if p, ok := b.compilePolicy(o, ns, t); ok {
			b.c.Policies = append(b.c.Policies, p)
			b.referenced = append(b.referenced, ns)
			b.remember(o, p, start)
		}
	case *manifest.CiliumNetworkPolicy:
		// Both Cilium kinds decode to this type; only the namespaced one
		// has a namespace.
		cns := ns
		if o.Kind == "CiliumClusterwideNetworkPolicy" {
			cns = ""
		}
		start := len(b.c.Diagnostics)
		if r, ok := b.reused(o); ok {
			p := r.obj.(*CiliumPolicy)
			b.c.CiliumPolicies = append(b.c.CiliumPolicies, p)
			if cns != "" {
				b.referenced = append(b.referenced, cns)
			}
			b.remember(o, p, start)
			return
		}
		if p, ok := b.compileCilium(o, cns, t); ok {
			b.c.CiliumPolicies = append(b.c.CiliumPolicies, p)
			if cns != "" {
				b.referenced = append(b.referenced, cns)
			}
			b.remember(o, p, start)
		}
	case *npav1alpha1.AdminNetworkPolicy:
		if p, ok := b.compileANP(o, t); ok {
			b.c.AdminPolicies = append(b.c.AdminPolicies, p)
		}
	case *npav1alpha1.BaselineAdminNetworkPolicy:
		if p, ok := b.compileBANP(o, t); ok {
			b.c.AdminPolicies = append(b.c.AdminPolicies, p)
		}
	case *npav1alpha2.ClusterNetworkPolicy:
		if p, ok := b.compileCNP(o, t); ok {
			b.c.AdminPolicies = append(b.c.AdminPolicies, p)
		}
	case *networkingv1.Ingress:
		b.addIngress(o, ns, t)
		b.referenced = append(b.referenced, ns)
	case *manifest.Route:
		b.addRoute(o, ns, t)
		b.referenced = append(b.referenced, ns)
	default:
		// Kinds read by later layers (Ingress, AdminNetworkPolicy, ...) are
		// counted until the model understands them.
		b.c.Ignored[o.Kind]++
	}
}

func (b *builder) addPod(o manifest.Object, ns string, p *corev1.Pod) {
	name, kind := p.Name, "Pod"
	var owner *metav1OwnerRef
	for i := range p.OwnerReferences {
		r := &p.OwnerReferences[i]
		if r.Controller != nil && *r.Controller {
			owner = &metav1OwnerRef{r.Name, r.Kind}
			break
		}
	}
	if owner == nil && len(p.OwnerReferences) > 0 {
		owner = &metav1OwnerRef{p.OwnerReferences[0].Name, p.OwnerReferences[0].Kind}
	}
	// Static (mirror) pods are owned by their Node: each is its own
	// workload, not one per node.
	if owner != nil && owner.name != "" && owner.kind != "Node" {
		name = owner.name
		if owner.kind != "" {
			kind = owner.kind
		}
	}
	tmpl := &corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
	w := templateWorkload(o, ns, name, kind, tmpl)
	key := w.Key()
	if prev, ok := b.wByKey[key]; ok {
		// Pods of one owner fold into one workload; the first pod's labels
		// stand for all of them, so a difference is worth a warning.
		if !maps.Equal(prev.Labels, w.Labels) {
			b.diag(warnf(o, "pod %s has other labels than an earlier pod of %s; the first pod's labels are used", p.Name, key))
		}
		return
	}
	b.wByKey[key] = w
	b.c.Workloads = append(b.c.Workloads, w)
	b.referenced = append(b.referenced, ns)
}

type metav1OwnerRef struct{ name, kind string }

func (b *builder) addWorkload(o manifest.Object, ns, kind string, tmpl *corev1.PodTemplateSpec) {
	var w *Workload
	if r, ok := b.reused(o); ok {
		w = r.obj.(*Workload)
	} else {
		w = templateWorkload(o, ns, o.Name, kind, tmpl)
	}
	key := w.Key()
	if _, ok := b.wByKey[key]; ok {
		b.diag(errorf(o, "duplicate workload %s", key))
		return
	}
	b.remember(o, w, len(b.c.Diagnostics))
	b.wByKey[key] = w
	b.c.Workloads = append(b.c.Workloads, w)
	b.referenced = append(b.referenced, ns)
}

func templateWorkload(o manifest.Object, ns, name, kind string, tmpl *corev1.PodTemplateSpec) *Workload {
	w := &Workload{
		Namespace:   ns,
		Name:        name,
		Kind:        kind,
		Labels:      maps.Clone(tmpl.Labels),
		HostNetwork: tmpl.Spec.HostNetwork,
		Source:      o.Source,
	}
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	addContainer := func(c corev1.Container) {
		if c.Image != "" {
			w.Images = append(w.Images, c.Image)
		}
		for _, p := range c.Ports {
			if p.ContainerPort < 1 || p.ContainerPort > 65535 {
				continue
			}
			proto := connset.TCP
			if p.Protocol != "" {
				if pr, err := connset.ParseProtocol(string(p.Protocol)); err == nil {
					proto = pr
				}
			}
			w.Ports = append(w.Ports, ContainerPort{Name: p.Name, Port: uint16(p.ContainerPort), Protocol: proto})
		}
	}
	for _, c := range tmpl.Spec.Containers {
		addContainer(c)
	}
	for _, c := range tmpl.Spec.InitContainers {
		// Sidecars (init containers that keep running) serve ports too.
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addContainer(c)
		} else if c.Image != "" {
			w.Images = append(w.Images, c.Image)
		}
	}
	return w
}

func (b *builder) addService(o manifest.Object, ns string, s *corev1.Service) {
	svc := &Service{Namespace: ns, Name: s.Name, Selector: maps.Clone(s.Spec.Selector), Source: o.Source}
	for _, p := range s.Spec.Ports {
		proto := connset.TCP
		if p.Protocol != "" {
			if pr, err := connset.ParseProtocol(string(p.Protocol)); err == nil {
				proto = pr
			}
		}
		tp := p.TargetPort.String()
		if tp == "0" || tp == "" {
			tp = strconv.Itoa(int(p.Port))
		}
		svc.Ports = append(svc.Ports, ServicePort{Name: p.Name, Port: p.Port, TargetPort: tp, Protocol: proto})
	}
	b.c.Services = append(b.c.Services, svc)
}

// finish adds assumed namespaces and custom-resource hints.
func (b *builder) finish() {
	for _, name := range b.referenced {
		if _, ok := b.nsByKey[name]; ok {
			continue
		}
		b.nsByKey[name] = &Namespace{Name: name, Labels: map[string]string{NamespaceNameLabel: name}, Assumed: true}
		b.diag(diag.Diagnostic{Severity: diag.Info, Object: "Namespace " + name,
			Message: fmt.Sprintf("namespace %q has no Namespace object; assumed with the single label %s=%s", name, NamespaceNameLabel, name)})
	}
	names := make([]string, 0, len(b.nsByKey))
	for n := range b.nsByKey {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ns := b.nsByKey[n]
		ns.CustomResources = podMakers(b.crs[n])
		b.c.Namespaces = append(b.c.Namespaces, ns)
	}
}

// isCustomResource reports whether an apiVersion belongs to an API group
// outside Kubernetes itself (monitoring.coreos.com/v1, ...): the objects an
// operator turns into pods that the manifests do not show.
func isCustomResource(apiVersion string) bool {
	group, _, found := strings.Cut(apiVersion, "/")
	return found && strings.Contains(group, ".") && !strings.HasSuffix(group, ".k8s.io")
}

// podMakingKinds are custom resource kinds whose operators run pods; they
// come first in hints about policies that select nothing.
var podMakingKinds = map[string]bool{
	"Prometheus": true, "PrometheusAgent": true, "Alertmanager": true, "ThanosRuler": true,
	"Elasticsearch": true, "Kibana": true, "Kafka": true, "KafkaConnect": true, "Rollout": true,
	"PostgresCluster": true, "Postgresql": true, "RedisFailover": true, "RabbitmqCluster": true,
	"MongoDBCommunity": true, "Cluster": true, "Workflow": true, "CronWorkflow": true,
	"SeldonDeployment": true, "InferenceService": true, "Gateway": true,
}

// podMakers orders a namespace's custom resources for a hint: kinds known to
// run pods first, then the rest, at most eight, with a count of the others.
func podMakers(crs []string) []string {
	sort.SliceStable(crs, func(i, j int) bool {
		ki, _, _ := strings.Cut(crs[i], " ")
		kj, _, _ := strings.Cut(crs[j], " ")
		if podMakingKinds[ki] != podMakingKinds[kj] {
			return podMakingKinds[ki]
		}
		return crs[i] < crs[j]
	})
	const max = 8
	if len(crs) > max {
		more := fmt.Sprintf("and %d more", len(crs)-max)
		crs = append(crs[:max:max], more)
	}
	return crs
}
