package manifest

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Route is the part of an OpenShift route.openshift.io/v1 Route that
// reachdiff reads: where the route sends traffic. Other fields are accepted
// and ignored.
type Route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RouteSpec `json:"spec"`
}

// RouteSpec is the spec of a Route.
type RouteSpec struct {
	Host              string                 `json:"host,omitempty"`
	Path              string                 `json:"path,omitempty"`
	To                RouteTargetReference   `json:"to"`
	AlternateBackends []RouteTargetReference `json:"alternateBackends,omitempty"`
	Port              *RoutePort             `json:"port,omitempty"`
}

// RouteTargetReference names the Service (or other kind) a Route sends
// traffic to, with its relative weight.
type RouteTargetReference struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Weight *int32 `json:"weight,omitempty"`
}

// RoutePort is the target port of a Route: a Service port name or number.
type RoutePort struct {
	TargetPort intstr.IntOrString `json:"targetPort"`
}

// CiliumNetworkPolicy is the part of a cilium.io/v2 CiliumNetworkPolicy or
// CiliumClusterwideNetworkPolicy that reachdiff models: L3/L4 rules by
// endpoint selector, CIDR, entity and FQDN. Fields that reachdiff does not
// model (L7 rules, toServices, toGroups, ...) are accepted and listed in
// Unmodelled, so that the model can report them.
type CiliumNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              *CiliumRule  `json:"spec,omitempty"`
	Specs             []CiliumRule `json:"specs,omitempty"`
	// Unmodelled lists the paths of fields present in the manifest that
	// this type does not model ("spec.egress[0].toPorts[0].rules"), sorted.
	Unmodelled []string `json:"-"`
}

// CiliumRule is one Cilium policy rule: the endpoints it selects and what
// they may (or may not) send and receive.
type CiliumRule struct {
	EndpointSelector *metav1.LabelSelector `json:"endpointSelector,omitempty"`
	NodeSelector     *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	Ingress          []CiliumIngressRule   `json:"ingress,omitempty"`
	IngressDeny      []CiliumIngressRule   `json:"ingressDeny,omitempty"`
	Egress           []CiliumEgressRule    `json:"egress,omitempty"`
	EgressDeny       []CiliumEgressRule    `json:"egressDeny,omitempty"`
	Description      string                `json:"description,omitempty"`
	// EnableDefaultDeny says per direction whether the rule puts its
	// endpoints in default deny (unset: when it has rules there).
	EnableDefaultDeny *CiliumDefaultDeny `json:"enableDefaultDeny,omitempty"`
}

// CiliumDefaultDeny is a rule's enableDefaultDeny.
type CiliumDefaultDeny struct {
	Ingress *bool `json:"ingress,omitempty"`
	Egress  *bool `json:"egress,omitempty"`
}

// CiliumIngressRule is one ingress (or ingressDeny) rule of a Cilium policy.
type CiliumIngressRule struct {
	FromEndpoints []metav1.LabelSelector `json:"fromEndpoints,omitempty"`
	FromCIDR      []string               `json:"fromCIDR,omitempty"`
	FromCIDRSet   []CiliumCIDRRule       `json:"fromCIDRSet,omitempty"`
	FromEntities  []string               `json:"fromEntities,omitempty"`
	ToPorts       []CiliumPortRule       `json:"toPorts,omitempty"`
}

// CiliumEgressRule is one egress (or egressDeny) rule of a Cilium policy.
type CiliumEgressRule struct {
	ToEndpoints []metav1.LabelSelector `json:"toEndpoints,omitempty"`
	ToCIDR      []string               `json:"toCIDR,omitempty"`
	ToCIDRSet   []CiliumCIDRRule       `json:"toCIDRSet,omitempty"`
	ToEntities  []string               `json:"toEntities,omitempty"`
	ToFQDNs     []CiliumFQDNSelector   `json:"toFQDNs,omitempty"`
	ToPorts     []CiliumPortRule       `json:"toPorts,omitempty"`
}

// CiliumCIDRRule is a CIDR with exceptions (fromCIDRSet, toCIDRSet).
type CiliumCIDRRule struct {
	CIDR   string   `json:"cidr,omitempty"`
	Except []string `json:"except,omitempty"`
}

// CiliumFQDNSelector selects DNS names, exactly or by a "*" pattern.
type CiliumFQDNSelector struct {
	MatchName    string `json:"matchName,omitempty"`
	MatchPattern string `json:"matchPattern,omitempty"`
}

// CiliumPortRule lists the L4 ports a rule allows.
type CiliumPortRule struct {
	Ports []CiliumPortProtocol `json:"ports,omitempty"`
}

// CiliumPortProtocol is a port (a number, a range start or a named port, as
// a string) with an optional range end and protocol (TCP, UDP, SCTP, ANY).
type CiliumPortProtocol struct {
	Port     string `json:"port,omitempty"`
	EndPort  int32  `json:"endPort,omitempty"`
	Protocol string `json:"protocol,omitempty"`
}
