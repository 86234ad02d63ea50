package reach

import "github.com/reachdiff/reachdiff/internal/connset"

// ExternalEgress lists what each workload may reach outside the cluster:
// the workload-to-range part of Connections, without the quadratic
// workload pairs. Sorted by source, then range.
func (r *Result) ExternalEgress() []Conn {
	mc := &maskCache{sp: r.Space, m: map[string]connset.Set{}}
	var out []Conn
	r.k.present.each(func(s int) {
		src := Endpoint{Workload: r.Space.Workloads[s]}
		for _, e := range r.externalConns(mc, r.extOut[s]) {
			out = append(out, Conn{Src: src, Dst: e.ep, Conns: e.conns})
		}
	})
	return out
}
