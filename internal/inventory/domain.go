package inventory

import (
	"sort"
	"strings"
)

// DomainOwners lists the vendors whose FQDN endpoints cover a domain that
// a policy names (Cilium toFQDNs, ClusterNetworkPolicy domainNames): an
// endpoint equal to it, or an endpoint "*.example.com" when the domain is
// below example.com ("api.example.com", "*.eu.example.com").
func (inv *Inventory) DomainOwners(domain string) []Ownership {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	return inv.ownersBy(func(ep Endpoint) bool { return ep.FQDN != "" && fqdnCovers(ep.FQDN, domain) })
}

// fqdnCovers reports whether an inventory FQDN (a name, or "*.suffix")
// covers every name the policy's domain stands for.
func fqdnCovers(declared, domain string) bool {
	if declared == domain {
		return true
	}
	suffix, ok := strings.CutPrefix(declared, "*")
	if !ok || !strings.HasPrefix(suffix, ".") {
		return false
	}
	// The part of the domain left of the suffix must be non-empty; a
	// pattern there ("*.eu" in "*.eu.example.com") stays below it.
	return len(domain) > len(suffix) && strings.HasSuffix(domain, suffix)
}

// addDomainVendors adds to vs the vendors that own the domains a workload
// reaches (on their declared ports), merged with those it reaches by
// address.
func (inv *Inventory) addDomainVendors(vs []VendorReach, reach []DomainReach) []VendorReach {
	at := map[string]int{}
	for i, v := range vs {
		at[v.Subprocessor] = i
	}
	for _, r := range reach {
		for _, o := range inv.DomainOwners(r.Domain) {
			in := r.Conns.Intersect(o.Ports)
			if in.IsEmpty() {
				continue
			}
			if i, ok := at[o.Subprocessor]; ok {
				vs[i].Conns = vs[i].Conns.Union(in)
				continue
			}
			at[o.Subprocessor] = len(vs)
			vs = append(vs, VendorReach{Subprocessor: o.Subprocessor, Conns: in})
		}
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].Subprocessor < vs[j].Subprocessor })
	return vs
}
