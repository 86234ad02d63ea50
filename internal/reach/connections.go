package reach

import (
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// Endpoint is one end of a connection: a workload, a domain name, or an
// external range.
type Endpoint struct {
	// Workload is the workload's key ("ns/name[Kind]"); empty for external.
	Workload string
	// Domain is a DNS name or pattern that a Cilium toFQDNs or a
	// ClusterNetworkPolicy domainNames peer names (its addresses are
	// unknown); empty otherwise.
	Domain string
	// External is the address range when Workload and Domain are empty.
	External ipset.Range
}

// DomainSuffix marks a domain endpoint when printed: "api.stripe.com[FQDN]".
const DomainSuffix = "[FQDN]"

// String prints a workload key, a domain with DomainSuffix, or an address
// range (a CIDR when it is one).
func (e Endpoint) String() string {
	switch {
	case e.Workload != "":
		return e.Workload
	case e.Domain != "":
		return e.Domain + DomainSuffix
	}
	return e.External.String()
}

// IsExternal reports whether the endpoint is outside the cluster: an
// address range or a domain.
func (e Endpoint) IsExternal() bool { return e.Workload == "" }

// IsDomain reports whether the endpoint is a domain name.
func (e Endpoint) IsDomain() bool { return e.Domain != "" }

// IsRange reports whether the endpoint is an external address range.
func (e Endpoint) IsRange() bool { return e.Workload == "" && e.Domain == "" }

// Conn is one allowed ordered pair and what it allows.
type Conn struct {
	Src, Dst Endpoint
	Conns    connset.Set
}

// maskCache converts atom masks to connection sets once per distinct mask.
type maskCache struct {
	sp *Space
	m  map[string]connset.Set
}

func (c *maskCache) conns(m bitset) connset.Set {
	key := maskKey(m)
	if s, ok := c.m[key]; ok {
		return s
	}
	s := c.sp.conns(m)
	c.m[key] = s
	return s
}

func maskKey(m bitset) string {
	b := make([]byte, 0, len(m)*8)
	for _, w := range m {
		for i := 0; i < 8; i++ {
			b = append(b, byte(w>>(8*i)))
		}
	}
	return string(b)
}

// Connections lists every allowed pair, sorted by source then destination.
// Adjacent external atoms with the same connections are merged into one
// range.
func (r *Result) Connections() []Conn {
	mc := &maskCache{sp: r.Space, m: map[string]connset.Set{}}
	var out []Conn
	k := r.k
	buf := newBitset(len(r.Space.PortAtoms))
	k.present.each(func(d int) {
		dst := Endpoint{Workload: r.Space.Workloads[d]}
		for _, c := range r.in[d] {
			c.Peers.each(func(s int) {
				if m := r.pairMask(s, d, buf); m != nil {
					out = append(out, Conn{Src: Endpoint{Workload: r.Space.Workloads[s]}, Dst: dst, Conns: mc.conns(m)})
				}
			})
		}
		for _, e := range r.externalConns(mc, r.extIn[d]) {
			out = append(out, Conn{Src: e.ep, Dst: dst, Conns: e.conns})
		}
	})
	k.present.each(func(s int) {
		src := Endpoint{Workload: r.Space.Workloads[s]}
		for _, e := range r.externalConns(mc, r.extOut[s]) {
			out = append(out, Conn{Src: src, Dst: e.ep, Conns: e.conns})
		}
	})
	SortConns(out)
	return out
}

type extConn struct {
	ep    Endpoint
	conns connset.Set
}

// externalConns expands an external row to merged ranges.
func (r *Result) externalConns(mc *maskCache, row Row) []extConn {
	if len(row) == 0 {
		return nil
	}
	sp := r.Space
	var out []extConn
	var cur bitset
	var curRange ipset.Range
	flush := func() {
		if cur != nil {
			out = append(out, extConn{Endpoint{External: curRange}, mc.conns(cur)})
			cur = nil
		}
	}
	for i, atom := range sp.External {
		if !sp.externalShown(i) {
			flush()
			continue
		}
		m := row.maskOf(i)
		if m == nil {
			flush()
			continue
		}
		if cur != nil && cur.equal(m) && curRange.Last.Next() == atom.First {
			curRange.Last = atom.Last
			continue
		}
		flush()
		cur, curRange = m, atom
	}
	flush()
	return out
}

// SortConns sorts by source, then destination, workloads before ranges by
// their printed form.
func SortConns(cs []Conn) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if as, bs := a.Src.String(), b.Src.String(); as != bs {
			return as < bs
		}
		return a.Dst.String() < b.Dst.String()
	})
}
