package cli

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-githubactions"

	"github.com/reachdiff/reachdiff/internal/actionenv"
	"github.com/reachdiff/reachdiff/internal/model"
	"github.com/reachdiff/reachdiff/internal/report"
)

// Invalid --cni and --pod-cidr values are the user's invocation: exit 2
// with a message naming the flag and the value, before any input is read.
func TestCNIFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--cni", "flannel", "nosuchdir"}, `invalid value "flannel" for flag -cni: unknown CNI profile "flannel" (want cilium-like or calico)`},
		{[]string{"diff", "--cni=Calico", "a", "b"}, `unknown CNI profile "Calico"`},
		{[]string{"eval", "--pod-cidr", "10.244.0.1/16", "nosuchdir"}, `invalid value "10.244.0.1/16" for flag -pod-cidr: pod CIDR 10.244.0.1/16 has host bits set (did you mean 10.244.0.0/16?)`},
		{[]string{"diff", "--pod-cidr", "10.244.0.0/16,fd00::/300", "a", "b"}, `pod CIDR "fd00::/300"`},
	} {
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), tc.args, Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
		if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("Main(%q) = %d, stderr %q, stdout %q; want %d, stderr containing %q, no stdout",
				tc.args, code, stderr.String(), stdout.String(), ExitUsage, tc.want)
		}
	}
}

// The action inputs cni and pod-cidr read like the flags.
func TestCNIActionInputs(t *testing.T) {
	for _, tc := range []struct {
		env      map[string]string
		wantCNI  model.CNI
		wantPods []netip.Prefix
		wantErr  string
	}{
		{env: map[string]string{}, wantCNI: ""},
		{env: map[string]string{"INPUT_CNI": "cilium-like"}, wantCNI: model.CNICiliumLike},
		{
			env:      map[string]string{"INPUT_CNI": "calico", "INPUT_POD-CIDR": "10.244.0.0/16\nfd00:10::/56, 10.245.0.0/16\n"},
			wantCNI:  model.CNICalico,
			wantPods: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("10.245.0.0/16"), netip.MustParsePrefix("fd00:10::/56")},
		},
		{env: map[string]string{"INPUT_CNI": "weave"}, wantErr: `input cni: unknown CNI profile "weave"`},
		{env: map[string]string{"INPUT_POD-CIDR": "10.244.0.0"}, wantErr: `input pod-cidr: pod CIDR "10.244.0.0"`},
	} {
		a := githubactions.New(githubactions.WithGetenv(func(k string) string { return tc.env[k] }))
		in, err := actionenv.ReadInputs(a)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ReadInputs(%v) error = %v; want %q", tc.env, err, tc.wantErr)
			}
			continue
		}
		if err != nil || in.CNI != tc.wantCNI || !cmp.Equal(in.PodCIDRs, tc.wantPods, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })) {
			t.Errorf("ReadInputs(%v) = %q, %v, %v; want %q, %v", tc.env, in.CNI, in.PodCIDRs, err, tc.wantCNI, tc.wantPods)
		}
	}
}

// Every report states the profile in one line.
func TestCNIHeader(t *testing.T) {
	pods := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10::/56")}
	for _, tc := range []struct {
		cni  model.CNI
		pods []netip.Prefix
		want string
		json report.CNI
	}{
		{"", model.DefaultPodCIDRs(), "CNI profile: cilium-like (ipBlock never matches pod addresses)",
			report.CNI{Profile: "cilium-like", PodCIDRs: []string{"0.0.0.0/0", "::/0"}}},
		{model.CNICalico, pods, "CNI profile: calico (ipBlock matches pods inside 10.244.0.0/16, fd00:10::/56)",
			report.CNI{Profile: "calico", PodCIDRs: []string{"10.244.0.0/16", "fd00:10::/56"}, IPBlockMatchesPods: true}},
		{model.CNICalico, model.DefaultPodCIDRs(), "CNI profile: calico (ipBlock matches pods inside 0.0.0.0/0, ::/0: pod CIDRs not given)",
			report.CNI{Profile: "calico", PodCIDRs: []string{"0.0.0.0/0", "::/0"}, IPBlockMatchesPods: true}},
	} {
		c := report.NewCNI(tc.cni, tc.pods)
		if got := c.Header(); got != tc.want {
			t.Errorf("NewCNI(%q, %v).Header() = %q; want %q", tc.cni, tc.pods, got, tc.want)
		}
		if diff := cmp.Diff(tc.json, *c); diff != "" {
			t.Errorf("NewCNI(%q, %v) (-want +got):\n%s", tc.cni, tc.pods, diff)
		}
		// Text and Markdown diff reports carry the line once; reports
		// without a profile (made before it existed) carry none.
		for _, d := range []*report.Diff{{Version: 1, Base: "b", Head: "h", CNI: c}, {Version: 1, Base: "b", Head: "h"}} {
			var text bytes.Buffer
			if err := report.DiffText(&text, d); err != nil {
				t.Fatal(err)
			}
			md := report.JoinMarkdown(report.DiffMarkdown(d))
			want := 0
			if d.CNI != nil {
				want = 1
			}
			if got := strings.Count(text.String(), tc.want); got != want {
				t.Errorf("DiffText(CNI %v) holds the header %d times; want %d:\n%s", d.CNI, got, want, text.String())
			}
			if got := strings.Count(md, report.Escape(tc.want)); got != want {
				t.Errorf("DiffMarkdown(CNI %v) holds the header %d times; want %d:\n%s", d.CNI, got, want, md)
			}
		}
	}
}
