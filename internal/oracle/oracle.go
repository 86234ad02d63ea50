// Package oracle reads the expected outputs of np-guard/netpol-analyzer and compares
// reachability results with them semantically (test support).
package oracle

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

// IngressController is the endpoint name of traffic that arrives through an Ingress or Route.
const IngressController = "{ingress-controller}"

// Endpoint is one side of a pair: a workload "ns/name[Kind]", "{ingress-controller}", or an
// external range.
type Endpoint struct {
	Name     string      // workload or "{ingress-controller}"; empty for external
	External ipset.Range // valid when Name == ""
}

// IsExternal reports whether e is an external address range.
func (e Endpoint) IsExternal() bool { return e.Name == "" }

// String prints a workload or the ingress controller as its name and an external range in
// reachdiff's notation (a CIDR when it is one, else first-last) without the [External] suffix.
func (e Endpoint) String() string {
	if e.IsExternal() {
		return e.External.String()
	}
	return e.Name
}

// Line is one allowed pair of an expected/list file.
type Line struct {
	Src, Dst Endpoint
	Conns    connset.Set
}

const externalSuffix = "[External]"

// ParseEndpoint reads "ns/name[Kind]", "{ingress-controller}", "0.0.0.0-255.255.255.255[External]",
// "10.0.0.0/8" (reachdiff prints CIDRs, optionally without the [External] suffix) or "::/0".
// A workload must have the form "namespace/name[Kind]" (the namespace part may itself carry a
// bracketed network, as in the oracle's multi-network output "blue[udn]/app[Pod]").
func ParseEndpoint(s string) (Endpoint, error) {
	if s == IngressController {
		return Endpoint{Name: s}, nil
	}
	if rest, ok := strings.CutSuffix(s, externalSuffix); ok {
		r, err := ipset.ParseRange(rest)
		if err != nil {
			return Endpoint{}, fmt.Errorf("endpoint %q: %w", s, err)
		}
		return Endpoint{External: r}, nil
	}
	if r, err := ipset.ParseRange(s); err == nil {
		return Endpoint{External: r}, nil
	}
	if err := checkWorkload(s); err != nil {
		return Endpoint{}, fmt.Errorf("endpoint %q: %w", s, err)
	}
	return Endpoint{Name: s}, nil
}

// checkWorkload verifies the shape "ns/name[Kind]".
func checkWorkload(s string) error {
	open := strings.LastIndexByte(s, '[')
	if open < 0 || !strings.HasSuffix(s, "]") || open+2 > len(s)-1 {
		return errors.New("want ns/name[Kind], {ingress-controller} or an address range")
	}
	ns, name, ok := strings.Cut(s[:open], "/")
	if !ok || ns == "" || name == "" || strings.ContainsAny(s, " \t,") {
		return errors.New("want ns/name[Kind], {ingress-controller} or an address range")
	}
	return nil
}

// ParseList reads an expected/list file: "SRC => DST : CONNS" lines, blank lines ignored, no
// final newline required. Any other line is an error naming its line number; the oracle's
// multi-network output (headers such as "Permitted connectivity analyzed in ...") is therefore
// rejected, which is right since reachdiff does not model secondary networks.
func ParseList(data []byte) ([]Line, error) {
	var out []Line
	for n, text := range lines(data) {
		if strings.TrimSpace(text) == "" {
			continue
		}
		l, err := parseListLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// lines yields the lines of data with 1-based numbers, without "\n" or "\r\n".
func lines(data []byte) func(yield func(int, string) bool) {
	return func(yield func(int, string) bool) {
		n := 0
		for len(data) > 0 {
			n++
			line := data
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i], data[i+1:]
			} else {
				data = nil
			}
			if !yield(n, string(bytes.TrimSuffix(line, []byte("\r")))) {
				return
			}
		}
	}
}

func parseListLine(text string) (Line, error) {
	src, rest, ok := strings.Cut(text, " => ")
	if !ok {
		return Line{}, fmt.Errorf("%q: want \"SRC => DST : CONNS\"", text)
	}
	dst, conns, ok := strings.Cut(rest, " : ")
	if !ok {
		return Line{}, fmt.Errorf("%q: want \"SRC => DST : CONNS\"", text)
	}
	s, err := ParseEndpoint(strings.TrimSpace(src))
	if err != nil {
		return Line{}, err
	}
	d, err := ParseEndpoint(strings.TrimSpace(dst))
	if err != nil {
		return Line{}, err
	}
	c, err := connset.Parse(conns)
	if err != nil {
		return Line{}, err
	}
	return Line{Src: s, Dst: d, Conns: c}, nil
}

// DiffLine is one line of an expected/diff file.
type DiffLine struct {
	Kind          string // diff-type as written: changed, added, removed, ...
	Src, Dst      Endpoint
	Before, After connset.Set // ref1 (old side) and ref2 (new side)
	Info          string      // workloads-diff-info, "" when absent
}

// ParseDiff reads an expected/diff file in either of the oracle's formats: the text format
// ("Connectivity diff:" then "diff-type: K, source: S, destination: D, ref1: C, ref2: C[,
// workloads-diff-info: I]", fields split on those markers since CONNS contain commas) or the
// CSV format (header "diff-type,source,destination,ref1,ref2,workloads-diff-info"). Empty input
// means no change. Errors name the line.
func ParseDiff(data []byte) ([]DiffLine, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if bytes.HasPrefix(trimmed, []byte("diff-type,")) {
		return parseDiffCSV(data)
	}
	var out []DiffLine
	sawHeader := false
	for n, text := range lines(data) {
		t := strings.TrimSpace(text)
		switch {
		case t == "":
			continue
		case t == "Connectivity diff:" && !sawHeader && len(out) == 0:
			sawHeader = true
			continue
		}
		d, err := parseDiffLine(t)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// diffMarkers are the field separators of a text diff line, in order; the last one is optional.
var diffMarkers = []string{", source: ", ", destination: ", ", ref1: ", ", ref2: ", ", workloads-diff-info: "}

func parseDiffLine(t string) (DiffLine, error) {
	rest, ok := strings.CutPrefix(t, "diff-type: ")
	if !ok {
		return DiffLine{}, fmt.Errorf("%q: want \"diff-type: ...\"", t)
	}
	fields := make([]string, 0, len(diffMarkers)+1)
	for i, m := range diffMarkers {
		before, after, found := strings.Cut(rest, m)
		if !found {
			if i == len(diffMarkers)-1 {
				break
			}
			return DiffLine{}, fmt.Errorf("%q: missing %q", t, strings.TrimPrefix(m, ", "))
		}
		fields = append(fields, before)
		rest = after
	}
	fields = append(fields, rest)
	info := ""
	if len(fields) == 6 {
		info = fields[5]
	}
	return makeDiffLine(fields[0], fields[1], fields[2], fields[3], fields[4], info)
}

func makeDiffLine(kind, src, dst, ref1, ref2, info string) (DiffLine, error) {
	if kind == "" || strings.ContainsAny(kind, " ,") {
		return DiffLine{}, fmt.Errorf("bad diff-type %q", kind)
	}
	d := DiffLine{Kind: kind, Info: info}
	var err error
	if d.Src, err = ParseEndpoint(src); err != nil {
		return DiffLine{}, fmt.Errorf("source: %w", err)
	}
	if d.Dst, err = ParseEndpoint(dst); err != nil {
		return DiffLine{}, fmt.Errorf("destination: %w", err)
	}
	if d.Before, err = connset.Parse(ref1); err != nil {
		return DiffLine{}, fmt.Errorf("ref1: %w", err)
	}
	if d.After, err = connset.Parse(ref2); err != nil {
		return DiffLine{}, fmt.Errorf("ref2: %w", err)
	}
	return d, nil
}

var csvHeader = []string{"diff-type", "source", "destination", "ref1", "ref2", "workloads-diff-info"}

func parseDiffCSV(data []byte) ([]DiffLine, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(csvHeader)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	if !slices.Equal(header, csvHeader) {
		return nil, fmt.Errorf("csv header %q: want %q", header, csvHeader)
	}
	var out []DiffLine
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("csv: %w", err)
		}
		d, err := makeDiffLine(rec[0], rec[1], rec[2], rec[3], rec[4], rec[5])
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, d)
	}
}
