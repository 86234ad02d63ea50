package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/reachdiff/reachdiff/internal/diag"
	"github.com/reachdiff/reachdiff/internal/manifest"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/render"
	"github.com/reachdiff/reachdiff/internal/source"
)

type loadOptions struct {
	LoadNone    bool
	AllowRemote bool
	// CNI and PodCIDRs select the CNI profile the cluster is built under.
	CNI      model.CNI
	PodCIDRs []netip.Prefix
}

// cniFlags are --cni and --pod-cidr, shared by eval and diff; a bad value
// fails the flag parse (exit 2).
type cniFlags struct {
	cni      model.CNI
	podCIDRs []netip.Prefix
}

func (f *cniFlags) register(fs *flag.FlagSet) {
	fs.Func("cni", "CNI profile: cilium-like (default: an ipBlock never matches pods) or calico (an ipBlock matches the pods inside it)", func(v string) (err error) {
		f.cni, err = model.ParseCNI(v)
		return err
	})
	fs.Func("pod-cidr", "pod address ranges, comma-separated, for --cni calico (default: unknown, 0.0.0.0/0,::/0)", func(v string) error {
		pods, err := model.ParsePodCIDRs(v)
		f.podCIDRs = append(f.podCIDRs, pods...)
		return err
	})
}

// loaded is the decoded content of one or more input paths.
type loaded struct {
	Documents   []manifest.Document
	Objects     []manifest.Object
	Diagnostics []diag.Diagnostic
}

// loadPaths reads files and directories from disk. A directory holding a
// kustomization is rendered; any other directory is read as plain YAML.
func loadPaths(ctx context.Context, env Env, paths []string, opts loadOptions) (*loaded, error) {
	out := &loaded{}
	for _, p := range paths {
		full := p
		if env.Dir != "" && !filepath.IsAbs(p) {
			full = filepath.Join(env.Dir, p)
		}
		docs, diags, err := readPath(ctx, full, p, opts)
		if err != nil {
			return nil, inputError{err}
		}
		out.Documents = append(out.Documents, docs...)
		out.Diagnostics = append(out.Diagnostics, diags...)
	}
	objs, diags := manifest.NewDecoder().DecodeAll(out.Documents)
	out.Objects = objs
	out.Diagnostics = append(out.Diagnostics, diags...)
	return out, nil
}

func readPath(ctx context.Context, full, display string, opts loadOptions) ([]manifest.Document, []diag.Diagnostic, error) {
	st, err := os.Stat(full)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", display, err)
	}
	if !st.IsDir() {
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", display, err)
		}
		docs, diags := manifest.Split(filepath.ToSlash(display), data)
		return docs, diags, nil
	}
	if hasKustomization(full) {
		return renderDir(ctx, full, display, opts)
	}
	docs, diags, err := manifest.ReadDir(os.DirFS(full), ".")
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", display, err)
	}
	return docs, diags, nil
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

// renderDir renders the kustomization in dir. The tree read is the
// enclosing git work tree when there is one, so overlays may reach their
// bases in sibling directories, and nothing outside the repository.
func renderDir(ctx context.Context, full, display string, opts loadOptions) ([]manifest.Document, []diag.Diagnostic, error) {
	top, rel := enclosingRepo(full)
	tree, diags, err := source.FromDir(top, source.Limits{})
	if err != nil {
		return nil, nil, err
	}
	ropts := render.Options{AllowRemote: opts.AllowRemote}
	if opts.LoadNone {
		ropts.LoadRestrictor = "none"
	}
	res, err := render.Render(ctx, tree, rel, ropts)
	if err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", display, err)
	}
	return res.Documents, append(diags, res.Diagnostics...), nil
}

// enclosingRepo returns the nearest ancestor of dir holding .git (else dir
// itself) and dir's slash path relative to it.
func enclosingRepo(dir string) (top, rel string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir, "."
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			r, err := filepath.Rel(d, abs)
			if err != nil {
				break
			}
			return d, filepath.ToSlash(r)
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return abs, "."
}

// loadCluster reads the paths and builds their cluster. Input errors are
// printed and returned as an input error (exit 2): no answer can be given.
func loadCluster(ctx context.Context, env Env, paths []string, namespace string, opts loadOptions) (*model.Cluster, []diag.Diagnostic, error) {
	in, err := loadPaths(ctx, env, paths, opts)
	if err != nil {
		return nil, nil, err
	}
	cluster := model.Build(in.Objects, model.Options{DefaultNamespace: namespace, CNI: opts.CNI, PodCIDRs: opts.PodCIDRs})
	diags := append(in.Diagnostics, cluster.Diagnostics...)
	diag.Sort(diags)
	if diag.HasErrors(diags) {
		printDiagnostics(env, diags)
		return nil, nil, inputError{fmt.Errorf("the input has errors; no answer can be given")}
	}
	return cluster, diags, nil
}
