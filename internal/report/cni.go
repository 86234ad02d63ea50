package report

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/model"
)

// CNI states the CNI profile a report was computed under: what an ipBlock
// (or networks) CIDR means for pod addresses.
type CNI struct {
	Profile string `json:"profile"`
	// PodCIDRs are the pod address ranges in effect ("0.0.0.0/0" and
	// "::/0" when none were given: unknown).
	PodCIDRs []string `json:"podCIDRs"`
	// IPBlockMatchesPods is true when an ipBlock holding the pod CIDRs
	// matches every pod (calico).
	IPBlockMatchesPods bool `json:"ipBlockMatchesPods"`
}

// NewCNI describes profile c with the pod CIDRs in effect.
func NewCNI(c model.CNI, pods []netip.Prefix) *CNI {
	out := &CNI{Profile: string(c.Profile()), PodCIDRs: []string{}, IPBlockMatchesPods: c.IPBlockMatchesPods()}
	for _, p := range pods {
		out.PodCIDRs = append(out.PodCIDRs, p.String())
	}
	return out
}

// Header is the one line reports print about the profile: "CNI profile:
// cilium-like (ipBlock never matches pod addresses)" or "CNI profile:
// calico (ipBlock matches pods inside 10.244.0.0/16)".
func (c *CNI) Header() string {
	if !c.IPBlockMatchesPods {
		return "CNI profile: " + c.Profile + " (ipBlock never matches pod addresses)"
	}
	unknown := ""
	if slices.Equal(c.PodCIDRs, []string{"0.0.0.0/0", "::/0"}) {
		unknown = ": pod CIDRs not given"
	}
	return "CNI profile: " + c.Profile + " (ipBlock matches pods inside " + strings.Join(c.PodCIDRs, ", ") + unknown + ")"
}
