// Package manifest reads Kubernetes manifests (YAML and JSON, single or
// multi-document, List kinds) into typed objects that remember where they
// came from.
package manifest

// Source locates an object in the repository: the file it came from (slash
// separated, relative to the repository or input root) and the line of its
// metadata.name (1-based; 0 when unknown).
type Source struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Document is the text of one YAML or JSON document, before decoding.
// Renderers (kustomize) produce Documents whose Source points at the file and
// line in the repository that the object came from.
type Document struct {
	Source Source
	Data   []byte
}

// Object is one decoded Kubernetes object.
type Object struct {
	APIVersion string
	Kind       string
	Namespace  string // as written; "" when the manifest has none
	Name       string
	Source     Source
	// Typed is the decoded object: a pointer to a k8s.io/api type
	// (*appsv1.Deployment, *networkingv1.NetworkPolicy, ...), a
	// sigs.k8s.io/network-policy-api type, or one of this package's types
	// for kinds without a Go module we use (Route, CiliumNetworkPolicy).
	// Nil for kinds reachdiff does not read; those are only counted.
	Typed any
}
