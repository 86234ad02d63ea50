package inventory

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// benchInput is an inventory of 100 vendors (one /24 each, TCP 443) and the
// external reach of n workloads: each reaches 20 ranges, a mix of vendor
// ranges and undeclared ones; one in 20 reaches 0.0.0.0/0.
func benchInput(b *testing.B, n int, seed uint64) (*Inventory, []ExternalReach) {
	b.Helper()
	var sb strings.Builder
	sb.WriteString(header)
	for v := 0; v < 100; v++ {
		fmt.Fprintf(&sb, "  - name: Vendor%03d\n    purpose: p\n    endpoints:\n      - cidr: 100.64.%d.0/24\n        ports: [443/TCP]\n", v, v)
	}
	inv, ds := Parse("bench.yaml", []byte(sb.String()))
	if inv == nil {
		b.Fatal(ds)
	}
	rnd := rand.New(rand.NewPCG(seed, 7))
	var reach []ExternalReach
	for w := 0; w < n; w++ {
		name := fmt.Sprintf("ns%d/w%d[Deployment]", w%50, w)
		if w%20 == 0 {
			reach = append(reach, ExternalReach{name, allIPv4, connset.All()})
			continue
		}
		for k := 0; k < 20; k++ {
			var r ipset.Range
			if rnd.IntN(2) == 0 {
				r = ipset.RangeOf(netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, byte(rnd.IntN(100)), 0}), 24))
			} else {
				r = ipset.RangeOf(netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(1 + rnd.IntN(99)), byte(rnd.IntN(256)), 0, 0}), 16))
			}
			reach = append(reach, ExternalReach{name, r, connset.Ports(connset.TCP, 443, 443).Union(connset.Ports(connset.TCP, uint16(8000+rnd.IntN(3)), 8080))})
		}
	}
	return inv, reach
}

func BenchmarkClassify_10000(b *testing.B) {
	inv, reach := benchInput(b, 10000, 1)
	b.ResetTimer()
	for b.Loop() {
		inv.Classify(reach)
	}
}

// BenchmarkDiffReach_10000 diffs two classifications of 10,000 workloads
// where one workload in 100 reaches other ranges at head.
func BenchmarkDiffReach_10000(b *testing.B) {
	inv, base := benchInput(b, 10000, 1)
	_, other := benchInput(b, 10000, 2)
	changed := map[string]bool{}
	for w := 1; w < 10000; w += 100 {
		changed[fmt.Sprintf("ns%d/w%d[Deployment]", w%50, w)] = true
	}
	var head []ExternalReach
	for _, r := range base {
		if !changed[r.Workload] {
			head = append(head, r)
		}
	}
	for _, r := range other {
		if changed[r.Workload] {
			head = append(head, r)
		}
	}
	cb, ch := inv.Classify(base), inv.Classify(head)
	b.ResetTimer()
	for b.Loop() {
		DiffReach(cb, ch)
	}
}
