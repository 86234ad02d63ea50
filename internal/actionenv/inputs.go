// Package actionenv reads and writes the environment of a GitHub Actions run:
// the action's inputs, the triggering event, step outputs, the job summary
// and annotations.
package actionenv

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/reachdiff/reachdiff/internal/model"
)

// Inputs are the action's inputs (action.yml), validated and with defaults
// applied, so that a workflow that sets none of them works.
type Inputs struct {
	Overlays         []string // globs; empty means auto-discovery
	BaseRef, HeadRef string   // empty means the pull request's base.sha / head.sha from the event
	DefaultNamespace string   // namespace of objects without one; empty means "default"
	Inventory        string   // sub-processor inventory path
	Config           string   // gate config path
	Comment          string   // update|new|hide-and-new|off
	CommentTag       string   // names the sticky comment; one per overlay set
	Annotations      bool     // emit annotations on policy lines
	FailOn           []string // gate severities or rule names that fail the job, or "never"
	AllowRemote      bool     // allow remote kustomize resources
	Token            string   // github-token: never printed
	Review           bool     // post inline review comments on lines in the diff

	// CNI is the cni input: the CNI profile (cilium-like when unset).
	CNI model.CNI
	// PodCIDRs is the pod-cidr input: pod address ranges for the calico
	// profile; empty means unknown.
	PodCIDRs []netip.Prefix
}

// Input defaults, the same as action.yml's.
const (
	DefaultInventory = "subprocessors.yaml"
	DefaultConfig    = ".github/reachdiff.yaml"
	DefaultComment   = "update"
	DefaultFailOn    = "error"
)

// failOnValues are the accepted words of fail-on: severities, "never", and
// the gate's rule names (DESIGN.md section 10).
var failOnValues = map[string]bool{
	"error": true, "warning": true, "never": true,
	"undeclared-egress": true, "internet-egress": true, "sensitive-ingress": true,
	"missing-default-deny": true, "new-cross-namespace": true,
}

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$`)
)

// ReadInputs reads the INPUT_* variables of the action a. An invalid value is
// an error that names the input; the token's value is never part of an error.
func ReadInputs(a *githubactions.Action) (Inputs, error) {
	in := Inputs{
		Overlays:         splitList(a.GetInput("overlays")),
		BaseRef:          a.GetInput("base-ref"),
		HeadRef:          a.GetInput("head-ref"),
		DefaultNamespace: a.GetInput("default-namespace"),
		Inventory:        orDefault(a.GetInput("inventory"), DefaultInventory),
		Config:           orDefault(a.GetInput("config"), DefaultConfig),
		Comment:          orDefault(a.GetInput("comment"), DefaultComment),
		CommentTag:       a.GetInput("comment-tag"),
		FailOn:           splitList(orDefault(a.GetInput("fail-on"), DefaultFailOn)),
		Token:            a.GetInput("github-token"),
	}
	var err error
	if in.Annotations, err = boolInput(a, "annotations", true); err != nil {
		return Inputs{}, err
	}
	if in.AllowRemote, err = boolInput(a, "allow-remote", false); err != nil {
		return Inputs{}, err
	}
	if in.Review, err = boolInput(a, "review", false); err != nil {
		return Inputs{}, err
	}
	if v := a.GetInput("cni"); v != "" {
		if in.CNI, err = model.ParseCNI(v); err != nil {
			return Inputs{}, fmt.Errorf("input cni: %w", err)
		}
	}
	if in.PodCIDRs, err = model.ParsePodCIDRs(strings.Join(splitList(a.GetInput("pod-cidr")), ",")); err != nil {
		return Inputs{}, fmt.Errorf("input pod-cidr: %w", err)
	}
	switch in.Comment {
	case "update", "new", "hide-and-new", "off":
	default:
		return Inputs{}, fmt.Errorf("input comment: %q: want update, new, hide-and-new or off", in.Comment)
	}
	if in.DefaultNamespace != "" && !dnsLabel.MatchString(in.DefaultNamespace) {
		return Inputs{}, fmt.Errorf("input default-namespace: %q is not a valid namespace name (RFC 1123 label)", in.DefaultNamespace)
	}
	if in.CommentTag != "" && !tagRE.MatchString(in.CommentTag) {
		return Inputs{}, fmt.Errorf("input comment-tag: %q: use up to 100 letters, digits, '.', '_', '/' or '-'", in.CommentTag)
	}
	for _, v := range in.FailOn {
		if !failOnValues[v] {
			return Inputs{}, fmt.Errorf("input fail-on: %q: want error, warning, never or a gate rule name", v)
		}
	}
	if len(in.FailOn) > 1 && contains(in.FailOn, "never") {
		return Inputs{}, fmt.Errorf("input fail-on: \"never\" cannot be combined with other values")
	}
	for _, ref := range []struct{ name, v string }{{"base-ref", in.BaseRef}, {"head-ref", in.HeadRef}} {
		if strings.HasPrefix(ref.v, "-") || strings.ContainsAny(ref.v, " \t\n") {
			return Inputs{}, fmt.Errorf("input %s: %q is not a git revision", ref.name, ref.v)
		}
	}
	for _, p := range []struct{ name, v string }{{"inventory", in.Inventory}, {"config", in.Config}} {
		if strings.ContainsRune(p.v, 0) || strings.Contains(p.v, "\n") {
			return Inputs{}, fmt.Errorf("input %s: %q is not a path", p.name, p.v)
		}
	}
	return in, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// splitList splits a list input on newlines and commas, trimming blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// boolInput parses a boolean input the way actions/toolkit's getBooleanInput
// does (YAML 1.2 core schema): true, True, TRUE, false, False, FALSE.
func boolInput(a *githubactions.Action, name string, def bool) (bool, error) {
	switch v := a.GetInput(name); v {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	default:
		return false, fmt.Errorf("input %s: %q: want true or false", name, v)
	}
}
