package reach

import (
	"sort"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
	"github.com/reachdiff/reachdiff/internal/model"
)

// Space is the common frame that one or more clusters are evaluated in:
// stable workload ids over the union of their workloads, port atoms and
// external address atoms split at every boundary any of them mentions.
// Results computed in one Space compare word by word, with no remapping.
type Space struct {
	// Workloads are the keys ("ns/name[Kind]") of every workload of every
	// cluster, sorted; a workload's id is its index.
	Workloads []string
	ids       map[string]int
	// PortAtoms split each protocol's 1-65535 at every port boundary.
	PortAtoms []PortAtom
	// External are the address atoms, IPv4 then IPv6.
	External []ipset.Range
	// ShowIPv6 is false when no cluster or inventory mentions an IPv6 range:
	// IPv6 atoms are then left out of printed results (see package doc).
	ShowIPv6 bool

	allPorts bitset
	// numeric maps a (protocol, lo, hi) range to its atom mask, memoised.
	numeric map[portRange]bitset
}

// PortAtom is a range of ports of one protocol that no rule splits.
type PortAtom struct {
	Protocol connset.Protocol
	Lo, Hi   uint16
}

type portRange struct {
	proto  connset.Protocol
	lo, hi uint16
}

// NewSpace builds the frame for the given clusters. extra adds address
// boundaries from outside the manifests (the sub-processor inventory).
func NewSpace(clusters []*model.Cluster, extra []ipset.Range) *Space {
	s := &Space{ids: map[string]int{}, numeric: map[portRange]bitset{}}
	keys := map[string]bool{}
	var bounds []ipset.Range
	bounds = append(bounds, extra...)
	cuts := [3]map[uint16]bool{{}, {}, {}}
	cut := func(p connset.Protocol, lo, hi uint16) {
		cuts[p][lo] = true // an atom starts at lo
		if hi < 65535 {
			cuts[p][hi+1] = true // and another after hi
		}
	}
	for _, c := range clusters {
		named := map[string]bool{}
		for _, w := range c.Workloads {
			keys[w.Key()] = true
		}
		for _, p := range c.Policies {
			for _, rules := range [][]model.Rule{p.IngressRules, p.EgressRules} {
				for _, r := range rules {
					for _, ps := range r.Ports {
						if ps.Name != "" {
							named[ps.Name] = true
						} else {
							cut(ps.Protocol, ps.Lo, ps.Hi)
						}
					}
					for _, peer := range r.Peers {
						if peer.IPBlock != nil {
							bounds = append(bounds, ipset.RangeOf(peer.IPBlock.CIDR))
							for _, e := range peer.IPBlock.Except {
								bounds = append(bounds, ipset.RangeOf(e))
							}
						}
					}
				}
			}
		}
		// Named ports resolve to container ports: only ports whose name some
		// rule mentions need their own atom.
		for _, w := range c.Workloads {
			for _, cp := range w.Ports {
				if named[cp.Name] {
					cut(cp.Protocol, cp.Port, cp.Port)
				}
			}
		}
	}
	for k := range keys {
		s.Workloads = append(s.Workloads, k)
	}
	sort.Strings(s.Workloads)
	for i, k := range s.Workloads {
		s.ids[k] = i
	}
	for _, b := range bounds {
		if !b.Is4() {
			s.ShowIPv6 = true
		}
	}
	s.External = ipset.Atoms(bounds)
	for p := connset.SCTP; p <= connset.UDP; p++ {
		starts := []uint16{1}
		for v := range cuts[p] {
			if v > 1 {
				starts = append(starts, v)
			}
		}
		sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
		for i, lo := range starts {
			hi := uint16(65535)
			if i+1 < len(starts) {
				hi = starts[i+1] - 1
			}
			s.PortAtoms = append(s.PortAtoms, PortAtom{Protocol: p, Lo: lo, Hi: hi})
		}
	}
	s.allPorts = newBitset(len(s.PortAtoms))
	s.allPorts.fill(len(s.PortAtoms))
	return s
}

// ID returns the id of the workload printed as key.
func (s *Space) ID(key string) (int, bool) {
	id, ok := s.ids[key]
	return id, ok
}

// portMask returns the atoms of protocol p inside lo..hi. The range must be
// a union of atoms (it is, for every range the Space was built from).
func (s *Space) portMask(p connset.Protocol, lo, hi uint16) bitset {
	k := portRange{p, lo, hi}
	if m, ok := s.numeric[k]; ok {
		return m
	}
	m := newBitset(len(s.PortAtoms))
	i := sort.Search(len(s.PortAtoms), func(i int) bool {
		a := s.PortAtoms[i]
		return a.Protocol > p || a.Protocol == p && a.Hi >= lo
	})
	for ; i < len(s.PortAtoms); i++ {
		a := s.PortAtoms[i]
		if a.Protocol != p || a.Lo > hi {
			break
		}
		m.set(i)
	}
	s.numeric[k] = m
	return m
}

// Conns converts an atom mask to a connection set.
func (s *Space) conns(m bitset) connset.Set {
	out := connset.None()
	var cur PortAtom
	open := false
	flush := func() {
		if open {
			out = out.Union(connset.Ports(cur.Protocol, cur.Lo, cur.Hi))
			open = false
		}
	}
	m.each(func(i int) {
		a := s.PortAtoms[i]
		if open && a.Protocol == cur.Protocol && a.Lo == cur.Hi+1 {
			cur.Hi = a.Hi
			return
		}
		flush()
		cur, open = a, true
	})
	flush()
	return out
}

// externalShown reports whether atom i is printed (IPv6 atoms are hidden
// when nothing mentions IPv6).
func (s *Space) externalShown(i int) bool {
	return s.ShowIPv6 || s.External[i].Is4()
}
