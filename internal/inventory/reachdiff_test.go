package inventory

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// TestSubtractPiecesRandom checks the sweep against a per-address model on
// a 32-address space.
func TestSubtractPiecesRandom(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}) }
	choices := []connset.Set{connset.All(), tcp443, conns("TCP 80,443"), conns("UDP 53"), conns("TCP 1-1000")}
	random := func() []piece {
		var ps []piece
		for i := 0; i < 32; {
			n := 1 + rnd.IntN(6)
			if i+n > 32 {
				n = 32 - i
			}
			if rnd.IntN(3) > 0 {
				ps = append(ps, piece{r: ipset.Range{First: addr(i), Last: addr(i + n - 1)}, conns: choices[rnd.IntN(len(choices))]})
			}
			i += n
		}
		return ps
	}
	at := func(ps []piece, i int) connset.Set {
		c := connset.None()
		for _, p := range ps {
			if p.r.Contains(addr(i)) {
				c = c.Union(p.conns)
			}
		}
		return c
	}
	for iter := 0; iter < 500; iter++ {
		head, base := random(), random()
		got := subtractPieces(head, base)
		for i := 1; i < len(got); i++ {
			if !got[i-1].r.Last.Less(got[i].r.First) {
				t.Fatalf("subtractPieces(%v, %v) = %v: pieces overlap or are unsorted", head, base, got)
			}
		}
		for i := 0; i < 32; i++ {
			want := at(head, i).Subtract(at(base, i))
			if g := at(got, i); !g.Equal(want) {
				t.Fatalf("subtractPieces(%v, %v) at %v = %v; want %v", head, base, addr(i), g, want)
			}
		}
	}
}

func TestReachJSON(t *testing.T) {
	inv := mustParse(t, matchInventory)
	head := inv.Classify([]ExternalReach{{"w", rng("0.0.0.0/0"), tcp443}, {"v", rng("192.0.2.0/24"), conns("TCP 80")}})
	b, err := json.Marshal(DiffReach(Classification{}, head))
	if err != nil {
		t.Fatalf("json.Marshal(DiffReach) error: %v", err)
	}
	want := `{"vendors":[` +
		`{"workload":"w","subprocessor":"Acquirer","change":"newly-reachable","before":"No Connections","after":"TCP 443"},` +
		`{"workload":"w","subprocessor":"PayCo","change":"newly-reachable","before":"No Connections","after":"TCP 443"},` +
		`{"workload":"w","subprocessor":"Stripe","change":"newly-reachable","before":"No Connections","after":"TCP 443"}],` +
		`"undeclared":[{"range":"192.0.2.0/24","workload":"v","conns":"TCP 80"},` +
		`{"range":"any external host","workload":"w","any":"IPv4","conns":"TCP 443"}]}`
	if string(b) != want {
		t.Errorf("json.Marshal(DiffReach) = %s; want %s", b, want)
	}
	b, err = json.Marshal(head.Workloads[1].Vendors[0])
	if err != nil || string(b) != `{"subprocessor":"Acquirer","conns":"TCP 443","ranges":["203.0.113.128/25"]}` {
		t.Errorf("json.Marshal(VendorReach) = %s, %v", b, err)
	}
}
