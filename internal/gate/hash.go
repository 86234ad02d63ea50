package gate

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sort"
	"strings"
)

// Hashes are acknowledgement keys that live in users' repositories (config
// entries) and on their PRs (labels), so their inputs and encoding are part
// of the contract: changing anything here invalidates every recorded
// acknowledgement. The golden hashes in hash_test.go guard it.
//
// A violation hash covers (rule, src, dst, opened): it stays valid while
// unrelated paths change, and stops matching as soon as that path opens
// something else (other ports or protocols). The delta hash covers the whole
// sorted set of opened paths: it acknowledges everything a PR opens at
// once, and any change to that set (a new push opening something else)
// invalidates it.

// hashDomain separates our hashes from any other use of SHA-256 on the
// same strings; the v1 suffix is the hash format version.
const hashDomain = "reachdiff-gate-v1"

func shortHash(kind string, fields ...string) string {
	h := sha256.New()
	h.Write([]byte(hashDomain))
	h.Write([]byte{0})
	h.Write([]byte(kind))
	for _, f := range fields {
		// NUL cannot occur in printed endpoints or CONNS notation, so the
		// encoding is unambiguous.
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))[:HashLen]
}

// ViolationHash returns the acknowledgement hash of a violation of rule on
// the path src -> dst opening opened.
func ViolationHash(rule, src, dst, opened string) string {
	return shortHash("violation", rule, src, dst, opened)
}

// DeltaHash returns the acknowledgement hash of a whole set of opened
// paths. The order of paths does not matter, and repeated paths count once.
func DeltaHash(paths []Path) string {
	lines := make([]string, 0, len(paths))
	for _, p := range paths {
		lines = append(lines, p.Src+"\x00"+p.Dst+"\x00"+p.Opened)
	}
	sort.Strings(lines)
	lines = slices.Compact(lines)
	return shortHash("delta", strings.Join(lines, "\n"))
}
