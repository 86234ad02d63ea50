package inventory

import (
	"errors"
	"strings"
)

// An image reference is matched in several spellings, so that one pattern
// covers the registry, tag and digest variants people actually write:
//
//	gcr.io/datadoghq/agent:7.52.0@sha256:...   (as written)
//	gcr.io/datadoghq/agent:7.52.0              (digest dropped)
//	gcr.io/datadoghq/agent                     (repository)
//	datadoghq/agent                            (path without registry)
//
// Docker Hub names are normalised: "nginx", "library/nginx",
// "docker.io/library/nginx" and "index.docker.io/library/nginx" are one image.
//
// Pattern syntax: "*" matches any run of characters except "/", "**" any run
// including "/", "?" one character except "/". A pattern whose first
// component names a registry (it holds a "." or ":", or is "localhost")
// matches the full reference; any other pattern matches the path after the
// registry, or, when it has two or more components, a trailing part of that
// path that starts at a "/" (so "datadog/agent" also matches a mirror such as
// registry.example.com/mirror/datadog/agent). A pattern with a tag (":" in its
// last component) or a digest ("@") is matched against the spellings with a
// tag or digest; any other pattern only against the repository.

// imageRef is a parsed image reference.
type imageRef struct {
	registry string // "docker.io" for Docker Hub
	path     string // "library/nginx" for Docker Hub official images
	tag      string // without ":"
	digest   string // with algorithm, "sha256:..."
}

func parseImageRef(s string) imageRef {
	s = strings.TrimSpace(s)
	var r imageRef
	if name, digest, ok := strings.Cut(s, "@"); ok {
		s, r.digest = name, digest
	}
	if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
		s, r.tag = s[:i], s[i+1:]
	}
	first, rest, hasSlash := strings.Cut(s, "/")
	if hasSlash && isRegistry(first) {
		r.registry, r.path = first, rest
	} else {
		r.registry, r.path = "docker.io", s
	}
	switch r.registry {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		r.registry = "docker.io"
	}
	if r.registry == "docker.io" && !strings.Contains(r.path, "/") {
		r.path = "library/" + r.path
	}
	return r
}

func isRegistry(component string) bool {
	return strings.ContainsAny(component, ".:") || component == "localhost"
}

// spellings returns the forms of the reference a pattern is tried against,
// by (with registry?, with tag or digest?).
func (r imageRef) repository(withRegistry bool) string {
	if withRegistry {
		return r.registry + "/" + r.path
	}
	return r.path
}

func (r imageRef) versioned(base string) []string {
	var out []string
	if r.tag != "" {
		out = append(out, base+":"+r.tag)
	}
	if r.digest != "" {
		out = append(out, base+"@"+r.digest)
		if r.tag != "" {
			out = append(out, base+":"+r.tag+"@"+r.digest)
		}
	}
	return out
}

// imagePattern is a compiled image pattern.
type imagePattern struct {
	text         string
	withRegistry bool
	versioned    bool
	suffix       bool // may match a trailing part of the path
}

func checkImagePattern(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if strings.ContainsAny(s, " \t\n") {
		return errors.New("contains white space")
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return errors.New("has an empty path component")
	}
	return nil
}

func compileImagePattern(s string) imagePattern {
	s = strings.TrimSpace(s)
	p := imagePattern{text: s}
	last := s[strings.LastIndexByte(s, '/')+1:]
	p.versioned = strings.Contains(last, ":") || strings.Contains(s, "@")
	first, _, hasSlash := strings.Cut(s, "/")
	p.withRegistry = hasSlash && isRegistry(first) && !strings.HasPrefix(first, "*")
	if p.withRegistry {
		// Normalise Docker Hub spellings the way references are normalised.
		r := parseImageRef(s)
		p.text = r.registry + "/" + r.path
		if p.versioned {
			if vs := r.versioned(p.text); len(vs) > 0 {
				p.text = vs[len(vs)-1]
			}
		}
		return p
	}
	if hasSlash && strings.HasPrefix(first, "*") && strings.Contains(first, ".") {
		// "*.live.dynatrace.com/linux/oneagent": a registry given by a glob.
		p.withRegistry = true
		return p
	}
	if !hasSlash {
		// A Docker Hub official image: "traefik" is "library/traefik".
		p.text = "library/" + s
	}
	p.suffix = strings.Count(p.text, "/") >= 1
	return p
}

// matchImage reports whether the image reference matches the pattern.
func (p imagePattern) matchImage(ref imageRef) bool {
	bases := []string{ref.repository(p.withRegistry)}
	if !p.withRegistry && p.suffix {
		path := ref.path
		for i := 0; i < len(path); i++ {
			if path[i] == '/' {
				bases = append(bases, path[i+1:])
			}
		}
	}
	if !p.withRegistry && !strings.Contains(ref.path, "/") {
		// Outside Docker Hub a one-component path has no "library/".
		bases = append(bases, "library/"+ref.path)
	}
	for _, b := range bases {
		cands := []string{b}
		if p.versioned {
			cands = ref.versioned(b)
		}
		for _, c := range cands {
			if globMatch(p.text, c) {
				return true
			}
		}
	}
	return false
}

// globMatch matches s against a pattern of "*" (no "/"), "**" (anything) and
// "?" (one character, not "/"). It runs in O(len(pattern)·len(s)).
func globMatch(pattern, s string) bool {
	// The literal text before the first wildcard must start s: that check
	// rejects almost every (pattern, image) pair without the table below.
	lit := strings.IndexAny(pattern, "*?")
	if lit < 0 {
		return pattern == s
	}
	if !strings.HasPrefix(s, pattern[:lit]) {
		return false
	}
	// prev[j] reports whether pattern[:i] matches s[:j].
	prev := make([]bool, len(s)+1)
	cur := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(pattern); {
		c := pattern[i]
		step := 1
		for j := range cur {
			cur[j] = false
		}
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			step = 2
			seen := false
			for j := 0; j <= len(s); j++ {
				seen = seen || prev[j]
				cur[j] = seen
			}
		case c == '*':
			seen := false
			for j := 0; j <= len(s); j++ {
				if j > 0 && s[j-1] == '/' {
					seen = false
				}
				seen = seen || prev[j]
				cur[j] = seen
			}
		case c == '?':
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j-1] && s[j-1] != '/'
			}
		default:
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j-1] && s[j-1] == c
			}
		}
		prev, cur = cur, prev
		i += step
	}
	return prev[len(s)]
}

// namespaceMatch matches a component's namespace pattern ("" = any).
func namespaceMatch(pattern, ns string) bool {
	return pattern == "" || globMatch(pattern, ns)
}
