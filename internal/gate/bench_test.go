package gate

import (
	"fmt"
	"testing"
)

// BenchmarkEvaluate_5000 evaluates a change opening 5000 paths across 50
// namespaces, a tenth of them into sensitive namespaces and a tenth to
// undeclared external ranges.
func BenchmarkEvaluate_5000(b *testing.B) {
	var ns []Namespace
	for i := range 50 {
		labels := map[string]string{}
		if i%10 == 0 {
			labels["data-classification"] = "restricted"
		}
		ns = append(ns, Namespace{Name: fmt.Sprintf("ns%d", i), Labels: labels, HasWorkloads: true, DefaultDenyIngress: i%7 != 0, DefaultDenyEgress: true})
	}
	var paths []Path
	for i := range 5000 {
		src, dst := fmt.Sprintf("ns%d", i%50), fmt.Sprintf("ns%d", (i*7)%50)
		p := Path{Src: fmt.Sprintf("%s/w%d[Deployment]", src, i), SrcNamespace: src, Opened: fmt.Sprintf("TCP %d", 1000+i%100)}
		if i%10 == 0 {
			p.Dst, p.External, p.Undeclared = fmt.Sprintf("203.0.%d.0/24", i%256), true, true
		} else {
			p.Dst, p.DstNamespace = fmt.Sprintf("%s/w%d[Deployment]", dst, i+1), dst
		}
		paths = append(paths, p)
	}
	cfg := Default()
	cfg.Acknowledge = []Ack{{Hash: ViolationHash(RuleUndeclaredEgress, paths[0].Src, paths[0].Dst, paths[0].Opened), Reason: "r"}}
	in := Input{Opened: paths, BaseNamespaces: ns[:40], HeadNamespaces: ns}
	b.ReportAllocs()
	for b.Loop() {
		r := Evaluate(cfg, in)
		if len(r.Violations) == 0 {
			b.Fatal("no violations")
		}
	}
}
