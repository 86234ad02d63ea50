package model

import (
	"fmt"
	"sort"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
)

// Exposure is an Ingress or an OpenShift Route: a way in for traffic from
// the cluster's ingress controller to the workloads behind Services.
type Exposure struct {
	Kind      string // "Ingress" or "Route"
	Namespace string
	Name      string
	Source    manifest.Source
	Backends  []Backend
	// Targets are the backends resolved to workloads and ports, sorted by
	// workload key; one entry per workload.
	Targets []ExposureTarget
}

// Key prints the exposure as "Kind ns/name".
func (e *Exposure) Key() string { return e.Kind + " " + e.Namespace + "/" + e.Name }

// Backend is one Service an Ingress or Route sends traffic to.
type Backend struct {
	Service string
	// Port selects the Service port: a number or a name (Ingress), or the
	// target port of the endpoints (Route), as text. Empty for a Route
	// without spec.port: every port of the Service.
	Port string
	// Route is set for a Route backend, whose port is matched against the
	// endpoints (service port name or target port), not the service port.
	Route bool
}

// ExposureTarget is a workload an exposure reaches and the ports it
// reaches it on (the Service target ports).
type ExposureTarget struct {
	Workload string // workload key
	Conns    connset.Set
}

func (b *builder) addIngress(o manifest.Object, ns string, ing *networkingv1.Ingress) {
	e := &Exposure{Kind: "Ingress", Namespace: ns, Name: ing.Name, Source: o.Source}
	add := func(path string, be *networkingv1.IngressBackend) {
		if be == nil {
			return
		}
		if be.Service == nil {
			if be.Resource != nil {
				b.diag(warnf(o, "%s: a resource backend (%s %s) is not modelled", path, be.Resource.Kind, be.Resource.Name))
			}
			return
		}
		port := ""
		switch {
		case be.Service.Port.Name != "":
			port = be.Service.Port.Name
		case be.Service.Port.Number != 0:
			port = strconv.Itoa(int(be.Service.Port.Number))
		default:
			b.diag(errorf(o, "%s.service.port: a port number or name is required", path))
			return
		}
		e.Backends = append(e.Backends, Backend{Service: be.Service.Name, Port: port})
	}
	add("spec.defaultBackend", ing.Spec.DefaultBackend)
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			add(fmt.Sprintf("spec.rules[%d].http.paths[%d].backend", i, j), &r.HTTP.Paths[j].Backend)
		}
	}
	b.c.Exposures = append(b.c.Exposures, e)
}

func (b *builder) addRoute(o manifest.Object, ns string, r *manifest.Route) {
	e := &Exposure{Kind: "Route", Namespace: ns, Name: r.Name, Source: o.Source}
	port := ""
	if r.Spec.Port != nil {
		tp := r.Spec.Port.TargetPort
		if tp.Type == intstr.String {
			port = tp.StrVal
		} else if tp.IntVal != 0 {
			port = strconv.Itoa(int(tp.IntVal))
		}
	}
	for i, to := range append([]manifest.RouteTargetReference{r.Spec.To}, r.Spec.AlternateBackends...) {
		if to.Kind != "" && to.Kind != "Service" {
			b.diag(warnf(o, "backend %d: kind %q is not modelled (only Service)", i, to.Kind))
			continue
		}
		if to.Name == "" {
			b.diag(errorf(o, "backend %d: a Service name is required", i))
			continue
		}
		e.Backends = append(e.Backends, Backend{Service: to.Name, Port: port, Route: true})
	}
	b.c.Exposures = append(b.c.Exposures, e)
}

// resolveExposures maps every backend to the workloads its Service selects
// and the target ports. It runs once all Services and workloads are known.
func (b *builder) resolveExposures() {
	for _, e := range b.c.Exposures {
		src := manifest.Object{Kind: e.Kind, Namespace: e.Namespace, Name: e.Name, Source: e.Source}
		conns := map[string]connset.Set{}
		for _, be := range e.Backends {
			svc := b.service(e.Namespace, be.Service)
			if svc == nil {
				b.diag(warnf(src, "backend Service %s/%s is not defined; its workloads are unknown", e.Namespace, be.Service))
				continue
			}
			// "Route traffic to pods with label keys and values matching
			// this selector. If empty or not present, the service is assumed
			// to have an external process managing its endpoints"
			// (ServiceSpec.selector).
			if len(svc.Selector) == 0 {
				b.diag(diag.Diagnostic{Severity: diag.Info, File: e.Source.File, Line: e.Source.Line, Object: e.Key(),
					Message: fmt.Sprintf("backend Service %s/%s has no selector; its endpoints are not modelled", e.Namespace, be.Service)})
				continue
			}
			ports := backendPorts(svc, be)
			if len(ports) == 0 {
				b.diag(warnf(src, "backend Service %s/%s has no port %s", e.Namespace, be.Service, be.Port))
				continue
			}
			matched := false
			for _, w := range b.c.Workloads {
				if w.Namespace != e.Namespace || !labelsMatch(svc.Selector, w.Labels) {
					continue
				}
				matched = true
				for _, sp := range ports {
					set, ok := targetPort(sp, w)
					if !ok {
						continue
					}
					if be.Route && be.Port != "" && !routePortMatches(be.Port, sp, set) {
						continue
					}
					conns[w.Key()] = conns[w.Key()].Union(set)
				}
			}
			if !matched {
				b.diag(warnf(src, "backend Service %s/%s selects no workload", e.Namespace, be.Service))
			}
		}
		keys := make([]string, 0, len(conns))
		for k, s := range conns {
			if !s.IsEmpty() {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			e.Targets = append(e.Targets, ExposureTarget{Workload: k, Conns: conns[k]})
		}
	}
}

func (b *builder) service(ns, name string) *Service {
	for _, s := range b.c.Services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// labelsMatch reports whether labels hold every pair of an equality
// selector (a Service selector).
func labelsMatch(sel, labels map[string]string) bool {
	for k, v := range sel {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// backendPorts returns the service ports a backend uses. An Ingress names a
// service port by number or name. A Route's targetPort is matched against
// the endpoints later (routePortMatches), so every port is a candidate.
func backendPorts(svc *Service, be Backend) []ServicePort {
	if be.Route || be.Port == "" {
		return svc.Ports
	}
	var out []ServicePort
	for _, sp := range svc.Ports {
		if sp.Name == be.Port || strconv.Itoa(int(sp.Port)) == be.Port {
			out = append(out, sp)
		}
	}
	return out
}

// targetPort resolves a service port's target port on workload w: a number,
// or a container port name ("Number or name of the port to access on the
// pods targeted by the service", ServicePort.targetPort).
func targetPort(sp ServicePort, w *Workload) (connset.Set, bool) {
	if n, err := strconv.Atoi(sp.TargetPort); err == nil {
		if n < 1 || n > connset.MaxPort {
			return connset.None(), false
		}
		return connset.Ports(sp.Protocol, uint16(n), uint16(n)), true
	}
	p, ok := w.NamedPort(sp.TargetPort, sp.Protocol)
	if !ok {
		return connset.None(), false
	}
	return connset.Ports(sp.Protocol, p, p), true
}

// routePortMatches applies a Route's spec.port.targetPort: "The target port
// on pods selected by the service this route points to. If this is a
// string, it will be looked up as a named port in the target endpoints port
// list." Endpoint ports carry the service port's name and the resolved
// target port number.
func routePortMatches(port string, sp ServicePort, target connset.Set) bool {
	if n, err := strconv.Atoi(port); err == nil {
		return n >= 1 && n <= connset.MaxPort && target.Contains(sp.Protocol, uint16(n))
	}
	return sp.Name == port
}

// finishTiers sorts admin policies and exposures and resolves the
// exposures' backends; it runs after sortCluster.
func (b *builder) finishTiers() {
	sortAdminPolicies(b.c.AdminPolicies)
	for i := 1; i < len(b.c.AdminPolicies); i++ {
		prev, p := b.c.AdminPolicies[i-1], b.c.AdminPolicies[i]
		if p.Tier == prev.Tier && p.Priority == prev.Priority && (p.Tier == TierAdmin || p.Kind == kindCNP || prev.Kind == kindCNP) {
			src := manifest.Object{Kind: p.Kind, Name: p.Name, Source: p.Source}
			b.diag(warnf(src, "priority %d is also the priority of %s: the API leaves the order undefined; reachdiff checks %s first (names in order)",
				p.Priority, prev.Key(), prev.Name))
		}
	}
	b.noteAdminAPIMix()
	for _, p := range b.c.AdminPolicies {
		if !b.selectsAny(p.Subject) {
			src := manifest.Object{Kind: p.Kind, Name: p.Name, Source: p.Source}
			b.diag(warnf(src, "spec.subject selects no workload in the input; the policy has no effect here"))
		}
	}
	sort.Slice(b.c.Exposures, func(i, j int) bool {
		x, y := b.c.Exposures[i], b.c.Exposures[j]
		if x.Kind != y.Kind {
			return x.Kind < y.Kind
		}
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	b.resolveExposures()
	diag.Sort(b.c.Diagnostics)
}

// selectsAny reports whether an admin subject selects some workload.
func (b *builder) selectsAny(s AdminSubject) bool {
	for _, w := range b.c.Workloads {
		ns := b.nsByKey[w.Namespace]
		if ns != nil && s.Matches(ns.Labels, w.Labels) {
			return true
		}
	}
	return false
}
