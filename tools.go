//go:build tools

// Package tools pins modules that the project's packages adopt one by one,
// so that go mod tidy keeps them at the versions that resolve on Go 1.26.
package tools

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/go-github/v62/github"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/sergi/go-diff/diffmatchpatch"
	_ "github.com/sethvargo/go-githubactions"
	_ "k8s.io/api/apps/v1"
	_ "k8s.io/api/networking/v1"
	_ "k8s.io/apimachinery/pkg/apis/meta/v1"
	_ "sigs.k8s.io/kustomize/api/krusty"
	_ "sigs.k8s.io/kustomize/kyaml/filesys"
	_ "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	_ "sigs.k8s.io/network-policy-api/apis/v1alpha2"
	_ "sigs.k8s.io/yaml"
)
