package manifest

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	npav1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	npav1alpha2 "sigs.k8s.io/network-policy-api/apis/v1alpha2"
)

// kindInfo says how to decode one apiVersion and kind.
type kindInfo struct {
	new func() any
	// policy kinds are decoded strictly: an unknown field or a type error
	// changes the meaning of a policy, so it is an error.
	policy bool
	// readAs is set for old apiVersions read with the current type.
	readAs string
	// lenient kinds accept fields they do not model and list them
	// (CiliumNetworkPolicy).
	lenient bool
	// partial kinds are this package's minimal types (Route): fields they
	// do not model are ignored without a diagnostic.
	partial bool
}

func newOf[T any]() func() any { return func() any { return new(T) } }

// kinds maps "apiVersion kind" to how it is decoded.
var kinds = map[string]kindInfo{
	"v1 Namespace":             {new: newOf[corev1.Namespace]()},
	"v1 Pod":                   {new: newOf[corev1.Pod]()},
	"v1 Service":               {new: newOf[corev1.Service]()},
	"v1 ReplicationController": {new: newOf[corev1.ReplicationController]()},

	"apps/v1 Deployment":  {new: newOf[appsv1.Deployment]()},
	"apps/v1 StatefulSet": {new: newOf[appsv1.StatefulSet]()},
	"apps/v1 DaemonSet":   {new: newOf[appsv1.DaemonSet]()},
	"apps/v1 ReplicaSet":  {new: newOf[appsv1.ReplicaSet]()},

	"apps/v1beta1 Deployment":       {new: newOf[appsv1.Deployment](), readAs: "apps/v1"},
	"apps/v1beta1 StatefulSet":      {new: newOf[appsv1.StatefulSet](), readAs: "apps/v1"},
	"apps/v1beta2 Deployment":       {new: newOf[appsv1.Deployment](), readAs: "apps/v1"},
	"apps/v1beta2 StatefulSet":      {new: newOf[appsv1.StatefulSet](), readAs: "apps/v1"},
	"apps/v1beta2 DaemonSet":        {new: newOf[appsv1.DaemonSet](), readAs: "apps/v1"},
	"apps/v1beta2 ReplicaSet":       {new: newOf[appsv1.ReplicaSet](), readAs: "apps/v1"},
	"extensions/v1beta1 Deployment": {new: newOf[appsv1.Deployment](), readAs: "apps/v1"},
	"extensions/v1beta1 DaemonSet":  {new: newOf[appsv1.DaemonSet](), readAs: "apps/v1"},
	"extensions/v1beta1 ReplicaSet": {new: newOf[appsv1.ReplicaSet](), readAs: "apps/v1"},

	"batch/v1 Job":          {new: newOf[batchv1.Job]()},
	"batch/v1 CronJob":      {new: newOf[batchv1.CronJob]()},
	"batch/v1beta1 CronJob": {new: newOf[batchv1.CronJob](), readAs: "batch/v1"},

	"networking.k8s.io/v1 NetworkPolicy":          {new: newOf[networkingv1.NetworkPolicy](), policy: true},
	"extensions/v1beta1 NetworkPolicy":            {new: newOf[networkingv1.NetworkPolicy](), policy: true, readAs: "networking.k8s.io/v1"},
	"networking.k8s.io/v1 Ingress":                {new: newOf[networkingv1.Ingress]()},
	"route.openshift.io/v1 Route":                 {new: newOf[Route](), partial: true},
	"cilium.io/v2 CiliumNetworkPolicy":            {new: newOf[CiliumNetworkPolicy](), policy: true, lenient: true},
	"cilium.io/v2 CiliumClusterwideNetworkPolicy": {new: newOf[CiliumNetworkPolicy](), policy: true, lenient: true},

	"policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy":         {new: newOf[npav1alpha1.AdminNetworkPolicy](), policy: true},
	"policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy": {new: newOf[npav1alpha1.BaselineAdminNetworkPolicy](), policy: true},
	"policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy":       {new: newOf[npav1alpha2.ClusterNetworkPolicy](), policy: true},
}

// readKinds is the set of kinds read in some apiVersion, to tell a kind
// read in another apiVersion (networking.k8s.io/v1beta1 Ingress) apart from
// a kind reachdiff never reads.
var readKinds = func() map[string]bool {
	m := map[string]bool{}
	for k := range kinds {
		for i := len(k) - 1; i >= 0; i-- {
			if k[i] == ' ' {
				m[k[i+1:]] = true
				break
			}
		}
	}
	return m
}()
