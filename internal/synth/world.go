package synth

import (
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/reachdiff/reachdiff/internal/manifest"
)

// Label keys and vocabularies. Values are short and valid label values.
const (
	labelApp      = "app"
	labelTier     = "tier"
	labelRole     = "role"
	labelVersion  = "version"
	labelInstance = "app.kubernetes.io/instance"
	labelNSName   = "kubernetes.io/metadata.name"
	labelTeam     = "team"
	labelEnv      = "env"
	labelClass    = "data-classification"
	kubeSystem    = "kube-system"
)

var (
	teams     = []string{"payments", "checkout", "search", "identity", "catalog", "shipping", "billing", "analytics", "platform", "messaging", "media", "ads"}
	envs      = []string{"prod", "staging", "dev", "qa"}
	nsTiers   = []string{"frontend", "backend", "data", "infra"}
	classes   = []string{"public", "internal", "confidential", "restricted"}
	appWords  = []string{"web", "api", "gateway", "auth", "db", "cache", "queue", "worker", "search", "ledger", "cart", "mailer", "report", "scheduler", "ingest", "notifier", "profile", "inventory", "pricing", "session", "upload", "thumbnailer", "recommender", "audit"}
	podTiers  = []string{"web", "backend", "data", "batch"}
	roles     = []string{"primary", "replica", "canary", "leader"}
	versions  = []string{"v1", "v2", "v3", "1.4.2"}
	commonNum = []int32{80, 443, 8080, 8443, 5432, 6379, 9090, 9100, 53, 3000}
)

// appVocab returns n distinct values for the "app" label.
func appVocab(n int) []string {
	out := make([]string, n)
	for i := range out {
		w := appWords[i%len(appWords)]
		if i >= len(appWords) {
			w += "-" + strconv.Itoa(i/len(appWords)+1)
		}
		out[i] = w
	}
	return out
}

// portDef is a named container port with the numbers workloads use for it,
// so that one name resolves to different numbers in different workloads.
type portDef struct {
	name  string
	proto corev1.Protocol
	nums  []int32
}

var portCatalog = []portDef{
	{"http", corev1.ProtocolTCP, []int32{80, 8080, 8000}},
	{"https", corev1.ProtocolTCP, []int32{443, 8443}},
	{"grpc", corev1.ProtocolTCP, []int32{9090, 50051}},
	{"metrics", corev1.ProtocolTCP, []int32{9100, 9102, 8081}},
	{"admin", corev1.ProtocolTCP, []int32{9000}},
	{"postgres", corev1.ProtocolTCP, []int32{5432}},
	{"redis", corev1.ProtocolTCP, []int32{6379}},
	{"dns", corev1.ProtocolUDP, []int32{53, 5353}},
	{"dns-tcp", corev1.ProtocolTCP, []int32{53, 5353}},
	{"sigtran", corev1.ProtocolSCTP, []int32{2905, 9902}},
	{"syslog", corev1.ProtocolUDP, []int32{514}},
}

// workloadView is what policy generation needs to know about a workload.
type workloadView struct {
	kind, ns, name string
	labels         map[string]string // pod template labels
	ports          []corev1.ContainerPort
}

// nsView is what policy generation needs to know about a namespace.
type nsView struct {
	name      string
	declared  bool
	labels    map[string]string // the Namespace object's labels; nil when undeclared
	workloads []*workloadView
	policies  []string // names in use
}

// world indexes a cluster for generation and mutation.
type world struct {
	nss    []*nsView // in first-seen order
	byName map[string]*nsView
	apps   []string // "app" label values
}

func newWorld() *world { return &world{byName: map[string]*nsView{}} }

// ns returns the namespace named name, adding it (undeclared) when new.
func (w *world) ns(name string) *nsView {
	if n, ok := w.byName[name]; ok {
		return n
	}
	n := &nsView{name: name}
	w.nss = append(w.nss, n)
	w.byName[name] = n
	return n
}

// declared returns the namespaces that have a Namespace object.
func (w *world) declared() []*nsView {
	var out []*nsView
	for _, n := range w.nss {
		if n.declared {
			out = append(out, n)
		}
	}
	return out
}

// withWorkloads returns the namespaces that have workloads.
func (w *world) withWorkloads() []*nsView {
	var out []*nsView
	for _, n := range w.nss {
		if len(n.workloads) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// worldOf indexes the objects of a cluster.
func worldOf(objs []manifest.Object) *world {
	w := newWorld()
	apps := map[string]bool{}
	for _, o := range objs {
		switch t := o.Typed.(type) {
		case *corev1.Namespace:
			n := w.ns(t.Name)
			n.declared = true
			n.labels = t.Labels
		case *networkingv1.NetworkPolicy:
			n := w.ns(t.Namespace)
			n.policies = append(n.policies, t.Name)
		default:
			if v := viewOf(o.Typed); v != nil {
				n := w.ns(v.ns)
				n.workloads = append(n.workloads, v)
				if a := v.labels[labelApp]; a != "" {
					apps[a] = true
				}
			}
		}
	}
	for a := range apps {
		w.apps = append(w.apps, a)
	}
	slices.Sort(w.apps)
	if len(w.apps) == 0 {
		w.apps = appVocab(4)
	}
	return w
}

// viewOf returns the workload view of a typed workload, or nil.
func viewOf(typed any) *workloadView {
	var kind string
	var meta *corev1.PodTemplateSpec
	var ns, name string
	switch t := typed.(type) {
	case *appsv1.Deployment:
		kind, ns, name, meta = "Deployment", t.Namespace, t.Name, &t.Spec.Template
	case *appsv1.StatefulSet:
		kind, ns, name, meta = "StatefulSet", t.Namespace, t.Name, &t.Spec.Template
	case *appsv1.DaemonSet:
		kind, ns, name, meta = "DaemonSet", t.Namespace, t.Name, &t.Spec.Template
	default:
		return nil
	}
	v := &workloadView{kind: kind, ns: ns, name: name, labels: meta.Labels}
	if cs := meta.Spec.Containers; len(cs) == 1 {
		v.ports = cs[0].Ports
	} else {
		for _, c := range cs {
			v.ports = append(v.ports, c.Ports...)
		}
	}
	return v
}

// podTemplate returns the pod template of a typed workload, or nil.
func podTemplate(typed any) *corev1.PodTemplateSpec {
	switch t := typed.(type) {
	case *appsv1.Deployment:
		return &t.Spec.Template
	case *appsv1.StatefulSet:
		return &t.Spec.Template
	case *appsv1.DaemonSet:
		return &t.Spec.Template
	}
	return nil
}
