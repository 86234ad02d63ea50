package oracle

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachdiff/reachdiff/internal/connset"
	"github.com/reachdiff/reachdiff/internal/ipset"
)

const oracleDir = "../../testdata/oracle"

func mustConns(t testing.TB, s string) connset.Set {
	t.Helper()
	c, err := connset.Parse(s)
	if err != nil {
		t.Fatalf("connset.Parse(%q): %v", s, err)
	}
	return c
}

func ext(t testing.TB, s string) Endpoint {
	t.Helper()
	r, err := ipset.ParseRange(s)
	if err != nil {
		t.Fatalf("ipset.ParseRange(%q): %v", s, err)
	}
	return Endpoint{External: r}
}

func wl(name string) Endpoint { return Endpoint{Name: name} }

var cmpOpts = cmp.Options{cmp.Comparer(func(a, b connset.Set) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b ipset.Range) bool { return a == b })}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
	}{
		{"backend/checkout[Deployment]", wl("backend/checkout[Deployment]")},
		{"default/redis-7d4f[ReplicaSet]", wl("default/redis-7d4f[ReplicaSet]")},
		{"blue[udn]/app-blue[StatefulSet]", wl("blue[udn]/app-blue[StatefulSet]")},
		{"{ingress-controller}", wl("{ingress-controller}")},
		{"0.0.0.0-255.255.255.255[External]", ext(t, "0.0.0.0/0")},
		{"10.0.0.0-10.255.255.255[External]", ext(t, "10.0.0.0/8")},
		{"10.0.0.0/8[External]", ext(t, "10.0.0.0/8")},
		{"10.0.0.0/8", ext(t, "10.0.0.0/8")},
		{"0.0.0.0-9.255.255.255", ext(t, "0.0.0.0-9.255.255.255")},
		{"::/0", ext(t, "::/0")},
		{"2001:db8::/32[External]", ext(t, "2001:db8::/32")},
	}
	for _, tt := range tests {
		got, err := ParseEndpoint(tt.in)
		if err != nil {
			t.Errorf("ParseEndpoint(%q) error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
			t.Errorf("ParseEndpoint(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, bad := range []string{"", "frontend", "ns/name", "ns/name[]", "/name[Pod]", "ns/[Pod]", "ns/a b[Pod]",
		"10.0.0.0/33[External]", "10.0.0.9-10.0.0.1[External]", "foo[External]", "ns/name[Pod"} {
		if got, err := ParseEndpoint(bad); err == nil {
			t.Errorf("ParseEndpoint(%q) = %+v, nil; want error", bad, got)
		} else if !strings.Contains(err.Error(), "endpoint") {
			t.Errorf("ParseEndpoint(%q) error = %q; want it to say endpoint", bad, err)
		}
	}
}

func TestEndpointString(t *testing.T) {
	for _, tt := range []struct {
		e    Endpoint
		want string
	}{
		{wl("a/b[Pod]"), "a/b[Pod]"},
		{ext(t, "0.0.0.0-255.255.255.255"), "0.0.0.0/0"},
		{ext(t, "0.0.0.0-9.255.255.255"), "0.0.0.0-9.255.255.255"},
	} {
		if got := tt.e.String(); got != tt.want {
			t.Errorf("(%+v).String() = %q; want %q", tt.e, got, tt.want)
		}
	}
}

func TestParseList(t *testing.T) {
	data := "\na/x[Deployment] => b/y[Deployment] : TCP 80,443,UDP 53\r\n" +
		"0.0.0.0-9.255.255.255[External] => b/y[Deployment] : All Connections\n\n" +
		"{ingress-controller} => b/y[Deployment] : SCTP 1-9002,9004-65535,TCP 8080"
	got, err := ParseList([]byte(data))
	if err != nil {
		t.Fatalf("ParseList error: %v", err)
	}
	want := []Line{
		{wl("a/x[Deployment]"), wl("b/y[Deployment]"), mustConns(t, "TCP 80,443,UDP 53")},
		{ext(t, "0.0.0.0-9.255.255.255"), wl("b/y[Deployment]"), connset.All()},
		{wl("{ingress-controller}"), wl("b/y[Deployment]"), mustConns(t, "SCTP 1-9002,9004-65535,TCP 8080")},
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("ParseList mismatch (-want +got):\n%s", diff)
	}
	if got, err := ParseList(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseList(nil) = %v, %v; want empty, nil", got, err)
	}

	for _, tt := range []struct{ in, want string }{
		{"a/x[Pod] => b/y[Pod] : TCP 80\nPermitted connectivity analyzed in Pod network:", "line 2:"},
		{"a/x[Pod] => b/y[Pod]", "line 1:"},
		{"a/x[Pod] -> b/y[Pod] : TCP 80", "line 1:"},
		{"a/x[Pod] => b/y[Pod] : TCP 0", `"TCP 0"`},
		{"\n\na/x => b/y[Pod] : TCP 80", "line 3: endpoint \"a/x\""},
		{"a/x[Pod] => 10.0.0.0/33 : TCP 80", "line 1: endpoint"},
	} {
		if _, err := ParseList([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseList(%q) error = %v; want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestParseDiff(t *testing.T) {
	data := "Connectivity diff:\n" +
		"diff-type: changed, source: demo/a[DaemonSet], destination: demo/b[DaemonSet], ref1: SCTP 7070,TCP 8080-8081,UDP 9090, ref2: TCP 8081-8082,UDP 9091\n" +
		"diff-type: added, source: 0.0.0.0-255.255.255.255[External], destination: ext/u[Deployment], ref1: No Connections, ref2: All Connections, workloads-diff-info: workload ext/u[Deployment] added"
	got, err := ParseDiff([]byte(data))
	if err != nil {
		t.Fatalf("ParseDiff error: %v", err)
	}
	want := []DiffLine{
		{Kind: "changed", Src: wl("demo/a[DaemonSet]"), Dst: wl("demo/b[DaemonSet]"),
			Before: mustConns(t, "SCTP 7070,TCP 8080-8081,UDP 9090"), After: mustConns(t, "TCP 8081-8082,UDP 9091")},
		{Kind: "added", Src: ext(t, "0.0.0.0/0"), Dst: wl("ext/u[Deployment]"),
			Before: connset.None(), After: connset.All(), Info: "workload ext/u[Deployment] added"},
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("ParseDiff mismatch (-want +got):\n%s", diff)
	}

	csv := "diff-type,source,destination,ref1,ref2,workloads-diff-info\n" +
		"added,default/r[Deployment],default/f[Deployment],No Connections,\"TCP 8080,UDP 53\",\n" +
		"removed,{ingress-controller},default/f[Deployment],TCP 8080,No Connections,workload default/f[Deployment] removed\n"
	got, err = ParseDiff([]byte(csv))
	if err != nil {
		t.Fatalf("ParseDiff(csv) error: %v", err)
	}
	want = []DiffLine{
		{Kind: "added", Src: wl("default/r[Deployment]"), Dst: wl("default/f[Deployment]"),
			Before: connset.None(), After: mustConns(t, "TCP 8080,UDP 53")},
		{Kind: "removed", Src: wl("{ingress-controller}"), Dst: wl("default/f[Deployment]"),
			Before: mustConns(t, "TCP 8080"), After: connset.None(), Info: "workload default/f[Deployment] removed"},
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("ParseDiff(csv) mismatch (-want +got):\n%s", diff)
	}
	if got, err := ParseDiff(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseDiff(nil) = %v, %v; want empty, nil", got, err)
	}

	for _, tt := range []struct{ in, want string }{
		{"Connectivity diff:\nsomething else", "line 2:"},
		{"diff-type: added, source: a/b[Pod], ref1: No Connections, ref2: TCP 80", `missing "destination: "`},
		{"diff-type: added, source: a/b[Pod], destination: c/d[Pod], ref1: No Connections, ref2: TCP 99999", "ref2:"},
		{"diff-type: added, source: a/b, destination: c/d[Pod], ref1: No Connections, ref2: TCP 80", "source: endpoint"},
		{"diff-type: , source: a/b[Pod], destination: c/d[Pod], ref1: No Connections, ref2: TCP 80", "bad diff-type"},
		{"diff-type,source,destination,ref1,ref2,workloads-diff-info\nadded,a/b[Pod],c/d[Pod],No Connections,TCP 0,", "line 2:"},
		{"diff-type,source,destination,ref1,ref2,workloads-diff-info\nadded,a/b[Pod]", "csv"},
		{"diff-type,source,destination,ref1,ref2,info\n", "csv header"},
	} {
		if _, err := ParseDiff([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseDiff(%q) error = %v; want one containing %q", tt.in, err, tt.want)
		}
	}
}

// multinetCases returns the expected/list files of the multinet tier (index.tsv), which hold the
// oracle's multi-network output; reachdiff does not model secondary networks, so ParseList rejects
// them and they are skipped.
func multinetCases(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(oracleDir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make(map[string]bool)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) == 4 && fields[1] == "multinet" && fields[3] != "-" {
			out[filepath.Base(fields[3])] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("index.tsv names no multinet case; the skip list would be empty")
	}
	return out
}

func countPairLines(data []byte) int {
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(l, []byte(" => ")) {
			n++
		}
	}
	return n
}

func countNonBlank(data []byte) int {
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			n++
		}
	}
	return n
}

func TestOracleListFiles(t *testing.T) {
	multinet := multinetCases(t)
	files, err := filepath.Glob(filepath.Join(oracleDir, "expected/list/*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no list files: %v", err)
	}
	parsed := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := ParseList(data)
		if multinet[filepath.Base(f)] {
			// Multi-network output is rejected, naming the line, unless it holds only pairs.
			onlyPairs := countPairLines(data) == countNonBlank(data)
			if (err == nil) != onlyPairs || (err != nil && !strings.HasPrefix(err.Error(), "line ")) {
				t.Errorf("ParseList(%s) = %d lines, %v; want an error naming a line (only pairs: %v)", f, len(lines), err, onlyPairs)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseList(%s): %v", f, err)
			continue
		}
		parsed++
		if got, want := len(lines), countPairLines(data); got != want {
			t.Errorf("ParseList(%s) = %d lines; want %d", f, got, want)
		}
		if diffs := Compare(lines, lines, CompareOptions{}); len(diffs) != 0 {
			t.Errorf("Compare(%s, itself) = %q; want no difference", f, diffs)
		}
		// Re-print every line in reachdiff's notation (CIDRs, no [External]) and compare.
		var buf strings.Builder
		for _, l := range lines {
			buf.WriteString(l.Src.String() + " => " + l.Dst.String() + " : " + l.Conns.String() + "\n")
		}
		again, err := ParseList([]byte(buf.String()))
		if err != nil {
			t.Fatalf("ParseList(reprint of %s): %v", f, err)
		}
		if diff := cmp.Diff(lines, again, cmpOpts); diff != "" {
			t.Errorf("reprint of %s mismatch (-want +got):\n%s", f, diff)
		}
	}
	if want := len(files) - len(multinet); parsed != want {
		t.Errorf("parsed %d list files; want %d (all but the %d multinet ones)", parsed, want, len(multinet))
	}
}

func TestOracleDiffFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(oracleDir, "expected/diff/*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no diff files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := ParseDiff(data)
		if err != nil {
			t.Errorf("ParseDiff(%s): %v", f, err)
			continue
		}
		want := bytes.Count(data, []byte("\ndiff-type: ")) + bytes.Count(data, []byte("\nadded,")) +
			bytes.Count(data, []byte("\nremoved,")) + bytes.Count(data, []byte("\nchanged,"))
		if len(lines) != want {
			t.Errorf("ParseDiff(%s) = %d lines; want %d", f, len(lines), want)
		}
		if diffs := CompareDiff(lines, lines, CompareOptions{}); len(diffs) != 0 {
			t.Errorf("CompareDiff(%s, itself) = %q; want no difference", f, diffs)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := wl("ns/a[Deployment]"), wl("ns/b[Deployment]")
	all := connset.All()
	tcp80 := mustConns(t, "TCP 80")
	whole := []Line{
		{a, ext(t, "0.0.0.0-255.255.255.255"), all},
		{a, b, tcp80},
	}
	tests := []struct {
		name      string
		got, want []Line
		opts      CompareOptions
		diffs     []string
	}{
		{"re-split equal", whole, []Line{
			{a, ext(t, "0.0.0.0-9.255.255.255"), all},
			{a, ext(t, "10.0.0.0-255.255.255.255"), all},
			{a, b, tcp80},
		}, CompareOptions{}, nil},
		{"both split differently", []Line{
			{a, ext(t, "0.0.0.0/1"), all}, {a, ext(t, "128.0.0.0/1"), all}, {a, b, tcp80},
		}, []Line{
			{a, ext(t, "0.0.0.0-9.255.255.255"), all}, {a, ext(t, "10.0.0.0-255.255.255.255"), all}, {a, b, tcp80},
		}, CompareOptions{}, nil},
		{"one atom differs", whole, []Line{
			{a, ext(t, "0.0.0.0-9.255.255.255"), all},
			{a, ext(t, "10.0.0.0/8"), tcp80},
			{a, ext(t, "11.0.0.0-255.255.255.255"), all},
			{a, b, tcp80},
		}, CompareOptions{}, []string{"ns/a[Deployment] => 10.0.0.0/8: got All Connections; want TCP 80"}},
		{"missing atom", whole, []Line{
			{a, ext(t, "0.0.0.0-9.255.255.255"), all},
			{a, b, tcp80},
		}, CompareOptions{}, []string{"ns/a[Deployment] => 10.0.0.0-255.255.255.255: got All Connections; want No Connections"}},
		{"consecutive atoms merged", []Line{
			{a, ext(t, "0.0.0.0/0"), tcp80},
		}, []Line{
			{a, ext(t, "0.0.0.0/2"), all}, {a, ext(t, "64.0.0.0/2"), all}, {a, ext(t, "128.0.0.0/1"), tcp80},
		}, CompareOptions{}, []string{"ns/a[Deployment] => 0.0.0.0/1: got TCP 80; want All Connections"}},
		{"source atoms merged", []Line{
			{ext(t, "0.0.0.0/0"), a, tcp80}, {ext(t, "0.0.0.0/0"), b, tcp80},
		}, []Line{
			{ext(t, "0.0.0.0/1"), a, tcp80}, {ext(t, "128.0.0.0/1"), a, tcp80},
		}, CompareOptions{}, []string{"0.0.0.0/0 => ns/b[Deployment]: got TCP 80; want No Connections"}},
		{"workload pair differs", []Line{{a, b, tcp80}}, []Line{{a, b, mustConns(t, "TCP 80,UDP 53")}, {b, a, all}},
			CompareOptions{}, []string{
				"ns/a[Deployment] => ns/b[Deployment]: got TCP 80; want TCP 80,UDP 53",
				"ns/b[Deployment] => ns/a[Deployment]: got No Connections; want All Connections",
			}},
		{"empty conns dropped", []Line{{a, b, tcp80}, {b, a, connset.None()}}, []Line{{a, b, tcp80}}, CompareOptions{}, nil},
		{"duplicate lines united", []Line{{a, b, tcp80}, {a, b, mustConns(t, "UDP 53")}},
			[]Line{{a, b, mustConns(t, "TCP 80,UDP 53")}}, CompareOptions{}, nil},
		{"ipv6 reported", []Line{{a, ext(t, "0.0.0.0/0"), all}, {a, ext(t, "::/0"), all}},
			[]Line{{a, ext(t, "0.0.0.0/0"), all}}, CompareOptions{},
			[]string{"ns/a[Deployment] => ::/0: got All Connections; want No Connections"}},
		{"ipv6 ignored", []Line{{a, ext(t, "0.0.0.0/0"), all}, {a, ext(t, "::/0"), all}},
			[]Line{{a, ext(t, "0.0.0.0/0"), all}}, CompareOptions{IgnoreIPv6: true}, nil},
		{"v4 and v6 atoms not merged", []Line{{a, ext(t, "0.0.0.0/0"), all}, {a, ext(t, "::/0"), all}},
			nil, CompareOptions{}, []string{
				"ns/a[Deployment] => 0.0.0.0/0: got All Connections; want No Connections",
				"ns/a[Deployment] => ::/0: got All Connections; want No Connections",
			}},
		{"ingress controller reported", []Line{{wl(IngressController), b, tcp80}}, nil, CompareOptions{},
			[]string{"{ingress-controller} => ns/b[Deployment]: got TCP 80; want No Connections"}},
		{"ingress controller ignored", []Line{{wl(IngressController), b, tcp80}}, nil,
			CompareOptions{IgnoreIngressController: true}, nil},
		{"invalid range", []Line{{a, Endpoint{}, tcp80}}, nil, CompareOptions{},
			[]string{"got line 1: destination: invalid external range (first invalid IP, last invalid IP)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.got, tt.want, tt.opts)
			if diff := cmp.Diff(tt.diffs, got); diff != "" {
				t.Errorf("Compare(%v, %v) mismatch (-want +got):\n%s", tt.got, tt.want, diff)
			}
		})
	}
}

// splitExternal splits every external endpoint of ls into its first address and the rest, and,
// when change is true, gives the first such piece No Connections.
func splitExternal(ls []Line, change bool) []Line {
	var out []Line
	changed := false
	for _, l := range ls {
		e := l.Dst
		if !e.IsExternal() {
			e = l.Src
		}
		if !e.IsExternal() || e.External.First == e.External.Last {
			out = append(out, l)
			continue
		}
		head := ipset.Range{First: e.External.First, Last: e.External.First}
		tail := ipset.Range{First: e.External.First.Next(), Last: e.External.Last}
		a, b := l, l
		if l.Dst.IsExternal() {
			a.Dst, b.Dst = Endpoint{External: head}, Endpoint{External: tail}
		} else {
			a.Src, b.Src = Endpoint{External: head}, Endpoint{External: tail}
		}
		if change && !changed {
			a.Conns = connset.None()
			changed = true
		}
		out = append(out, b, a)
	}
	return out
}

func TestCompareResplitOracleFiles(t *testing.T) {
	// Every oracle list with external ranges: cutting each range in two compares equal to the
	// original; removing the connections of one piece gives exactly one mismatch.
	multinet := multinetCases(t)
	files, err := filepath.Glob(filepath.Join(oracleDir, "expected/list/*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if multinet[filepath.Base(f)] {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ParseList(data)
		if err != nil {
			t.Fatalf("ParseList(%s): %v", f, err)
		}
		split := splitExternal(want, false)
		if len(split) == len(want) {
			continue
		}
		checked++
		if diffs := Compare(split, want, CompareOptions{}); len(diffs) != 0 {
			t.Errorf("Compare(re-split %s, %s) = %q; want equal", f, f, diffs)
		}
		diffs := Compare(splitExternal(want, true), want, CompareOptions{})
		if len(diffs) != 1 || !strings.Contains(diffs[0], "/32") || !strings.Contains(diffs[0], "got No Connections") {
			t.Errorf("Compare(re-split %s with one piece emptied, %s) = %q; want one /32 mismatch", f, f, diffs)
		}
		if diffs := Compare(want, want[:len(want)-1], CompareOptions{}); len(diffs) != 1 {
			t.Errorf("Compare(%s, itself minus its last line) = %q; want one difference", f, diffs)
		}
	}
	if checked < 10 {
		t.Errorf("only %d oracle lists have external ranges; want at least 10", checked)
	}
}

func TestCompareDiff(t *testing.T) {
	a, b := wl("ns/a[Deployment]"), wl("ns/b[Deployment]")
	all, none := connset.All(), connset.None()
	tcp80 := mustConns(t, "TCP 80")
	got := []DiffLine{
		{Kind: "added", Src: ext(t, "0.0.0.0/0"), Dst: a, Before: none, After: all},
		{Kind: "changed", Src: a, Dst: b, Before: tcp80, After: all},
	}
	resplit := []DiffLine{
		{Kind: "added", Src: ext(t, "0.0.0.0-9.255.255.255"), Dst: a, Before: none, After: all},
		{Kind: "added", Src: ext(t, "10.0.0.0-255.255.255.255"), Dst: a, Before: none, After: all},
		{Kind: "changed", Src: a, Dst: b, Before: tcp80, After: all},
	}
	if diffs := CompareDiff(got, resplit, CompareOptions{}); len(diffs) != 0 {
		t.Errorf("CompareDiff(%v, %v) = %q; want equal", got, resplit, diffs)
	}
	oneOff := append([]DiffLine(nil), resplit...)
	oneOff[1] = DiffLine{Kind: "added", Src: ext(t, "10.0.0.0-255.255.255.255"), Dst: a, Before: none, After: tcp80}
	want := []string{"10.0.0.0-255.255.255.255 => ns/a[Deployment]: got No Connections -> All Connections; want No Connections -> TCP 80"}
	if diff := cmp.Diff(want, CompareDiff(got, oneOff, CompareOptions{})); diff != "" {
		t.Errorf("CompareDiff one atom off mismatch (-want +got):\n%s", diff)
	}
	missing := []DiffLine{got[0]}
	want = []string{"ns/a[Deployment] => ns/b[Deployment]: got TCP 80 -> All Connections; want No Connections -> No Connections"}
	if diff := cmp.Diff(want, CompareDiff(got, missing, CompareOptions{})); diff != "" {
		t.Errorf("CompareDiff missing line mismatch (-want +got):\n%s", diff)
	}
	badKind := []DiffLine{{Kind: "added", Src: a, Dst: b, Before: tcp80, After: all}}
	want = []string{
		"got line 1 (ns/a[Deployment] => ns/b[Deployment]): diff-type added with ref1 TCP 80, ref2 All Connections",
		"want line 1 (ns/a[Deployment] => ns/b[Deployment]): diff-type added with ref1 TCP 80, ref2 All Connections",
	}
	if diff := cmp.Diff(want, CompareDiff(badKind, badKind, CompareOptions{})); diff != "" {
		t.Errorf("CompareDiff bad kind mismatch (-want +got):\n%s", diff)
	}
	v6 := []DiffLine{{Kind: "removed", Src: a, Dst: ext(t, "::/0"), Before: all, After: none}}
	if diffs := CompareDiff(v6, nil, CompareOptions{IgnoreIPv6: true}); len(diffs) != 0 {
		t.Errorf("CompareDiff(%v, nil, IgnoreIPv6) = %q; want equal", v6, diffs)
	}
	if diffs := CompareDiff(v6, nil, CompareOptions{}); len(diffs) != 1 {
		t.Errorf("CompareDiff(%v, nil) = %q; want one difference", v6, diffs)
	}
}

func FuzzParseList(f *testing.F) {
	f.Add("a/x[Deployment] => b/y[Deployment] : TCP 80,443,UDP 53")
	f.Add("0.0.0.0-9.255.255.255[External] => b/y[Pod] : All Connections\n{ingress-controller} => b/y[Pod] : TCP 8080")
	f.Add("::/0 => a/b[Pod] : SCTP 1-9002,9004-65535")
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := ParseList([]byte(s))
		if err != nil {
			return
		}
		var buf strings.Builder
		for _, l := range lines {
			buf.WriteString(l.Src.String() + " => " + l.Dst.String() + " : " + l.Conns.String() + "\n")
		}
		again, err := ParseList([]byte(buf.String()))
		if err != nil {
			t.Fatalf("ParseList(reprint %q) error: %v", buf.String(), err)
		}
		if diff := cmp.Diff(lines, again, cmpOpts); diff != "" {
			t.Fatalf("ParseList(reprint of %q) mismatch (-want +got):\n%s", s, diff)
		}
		if diffs := Compare(lines, again, CompareOptions{}); len(diffs) != 0 {
			t.Fatalf("Compare(%q, reprint) = %q; want equal", s, diffs)
		}
	})
}

func FuzzParseDiff(f *testing.F) {
	f.Add("Connectivity diff:\ndiff-type: changed, source: a/b[Pod], destination: c/d[Pod], ref1: TCP 80,UDP 53, ref2: TCP 81")
	f.Add("diff-type,source,destination,ref1,ref2,workloads-diff-info\nadded,a/b[Pod],c/d[Pod],No Connections,\"TCP 1,2\",x")
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := ParseDiff([]byte(s))
		if err != nil {
			return
		}
		// A diff compared with itself can only report lines whose kind contradicts their sets.
		for _, d := range CompareDiff(lines, lines, CompareOptions{IgnoreIPv6: true}) {
			if !strings.HasPrefix(d, "got line ") && !strings.HasPrefix(d, "want line ") {
				t.Fatalf("CompareDiff(%q, itself) reported %q", s, d)
			}
		}
	})
}
