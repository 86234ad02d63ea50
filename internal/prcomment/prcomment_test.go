package prcomment

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Minute)
	t2 = t0.Add(2 * time.Minute)
)

func body(tag, sha string, at time.Time, hash, text string) string {
	return Body{Tag: tag, Meta: Meta{HeadSHA: sha, RunAt: at, DeltaHash: hash}, Text: text}.Render()
}

func TestRenderParseRoundTrip(t *testing.T) {
	in := Body{Tag: "prod", Meta: Meta{HeadSHA: "abc", RunAt: t1, DeltaHash: "3f9a"}, Text: "## reachdiff\n\n--> <!-- tricky -->\n"}
	got, ok := Parse("prod", in.Render())
	if !ok {
		t.Fatalf("Parse(Render(%v)) not ours", in)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Parse(Render(x)) mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(in.Render(), "<!-- reachdiff:prod -->\n") {
		t.Errorf("Render() = %q; want marker first", in.Render())
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, tag, body string
		ok              bool
	}{
		{"ours", "default", body("", "a", t0, "h", "x"), true},
		{"crlf", "default", strings.ReplaceAll(body("", "a", t0, "h", "x"), "\n", "\r\n"), true},
		{"other tag", "prod", body("staging", "a", t0, "h", "x"), false},
		{"quoted in the middle", "default", "> see\n<!-- reachdiff:default -->\nold", false},
		{"prefix of longer tag", "prod", "<!-- reachdiff:prod-eu -->\nx", false},
		{"marker only", "default", "<!-- reachdiff:default -->", true},
		{"no meta", "default", "<!-- reachdiff:default -->\nhello", true},
	}
	for _, tt := range tests {
		if _, ok := Parse(tt.tag, tt.body); ok != tt.ok {
			t.Errorf("%s: Parse(%q, %q) ok = %v; want %v", tt.name, tt.tag, tt.body, ok, tt.ok)
		}
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeUpdate, "update": ModeUpdate, "new": ModeNew, " hide-and-new ": ModeHideAndNew, "off": ModeOff} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseMode("sticky"); err == nil || !strings.Contains(err.Error(), "sticky") {
		t.Errorf("ParseMode(sticky) error = %v; want one naming the value", err)
	}
}

func TestDecide(t *testing.T) {
	desired := Body{Meta: Meta{HeadSHA: "head2", RunAt: t1, DeltaHash: "d2"}, Text: "new report\n"}
	same := Body{Meta: Meta{HeadSHA: "head2", RunAt: t0, DeltaHash: "d2"}, Text: "new report\n"}.Render()
	older := body("", "head1", t0, "d1", "old report\n")
	newer := body("", "head3", t2, "d3", "newest report\n")
	foreign := Comment{ID: 1, Author: "alice", Body: "LGTM, but see:\n<!-- reachdiff:default -->\nquoted", CreatedAt: t0}
	otherTag := Comment{ID: 2, Body: body("staging", "head1", t0, "d1", "x"), CreatedAt: t0}

	type want struct {
		kind   Kind
		target int64
		hide   []int64
		extra  []int64
	}
	tests := []struct {
		name     string
		existing []Comment
		mode     Mode
		want     want
	}{
		{"none: create", nil, ModeUpdate, want{kind: Create}},
		{"only others' comments: create", []Comment{foreign, otherTag}, ModeUpdate, want{kind: Create}},
		{"ours older: update", []Comment{foreign, {ID: 10, Body: older, CreatedAt: t0}}, ModeUpdate, want{kind: Update, target: 10}},
		{"empty mode means update", []Comment{{ID: 10, Body: older}}, "", want{kind: Update, target: 10}},
		{"identical: skip", []Comment{{ID: 10, Body: same}}, ModeUpdate, want{kind: Skip, target: 10}},
		{"identical in mode new: skip", []Comment{{ID: 10, Body: same}}, ModeNew, want{kind: Skip, target: 10}},
		{"newer run wrote it: skip", []Comment{{ID: 10, Body: newer}}, ModeUpdate, want{kind: Skip, target: 10}},
		{"newer run, hide-and-new: skip", []Comment{{ID: 10, Body: newer}}, ModeHideAndNew, want{kind: Skip, target: 10}},
		{"off", []Comment{{ID: 10, Body: older}}, ModeOff, want{kind: Skip}},
		{"new mode", []Comment{{ID: 10, Body: older}}, ModeNew, want{kind: Create, extra: []int64{10}}},
		{"hide-and-new hides all of ours", []Comment{{ID: 10, Body: older, CreatedAt: t0}, {ID: 11, Body: body("", "h", t0.Add(-time.Hour), "x", "y"), CreatedAt: t0}, foreign},
			ModeHideAndNew, want{kind: Create, hide: []int64{10, 11}}},
		{"duplicates: update newest by run time, report others",
			[]Comment{{ID: 30, Body: body("", "h", t0.Add(-time.Hour), "x", "a"), CreatedAt: t0}, {ID: 20, Body: older, CreatedAt: t0}, {ID: 25, Body: "<!-- reachdiff:default -->\nno meta", CreatedAt: t0}},
			ModeUpdate, want{kind: Update, target: 20, extra: []int64{30, 25}}},
		{"duplicates without meta: newest by creation then id",
			[]Comment{{ID: 5, Body: "<!-- reachdiff:default -->\na", CreatedAt: t0}, {ID: 7, Body: "<!-- reachdiff:default -->\nb", CreatedAt: t1}, {ID: 6, Body: "<!-- reachdiff:default -->\nc", CreatedAt: t1}},
			ModeUpdate, want{kind: Update, target: 7, extra: []int64{6, 5}}},
		{"same run retried with new text: update", []Comment{{ID: 10, Body: body("", "head2", t1, "d1", "partial\n")}}, ModeUpdate, want{kind: Update, target: 10}},
	}
	ids := func(cs []Comment) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tt := range tests {
		a := Decide(tt.existing, desired, tt.mode)
		got := want{kind: a.Kind, hide: ids(a.Hide), extra: ids(a.Extra)}
		if a.Target != nil {
			got.target = a.Target.ID
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("%s: Decide(%d comments, %v) = %+v (%s); want %+v\n%s", tt.name, len(tt.existing), tt.mode, got, a.Reason, tt.want, diff)
		}
		if a.Reason == "" {
			t.Errorf("%s: Decide gave no reason", tt.name)
		}
	}
}

func table(rows int, prefix string) string {
	var b strings.Builder
	b.WriteString("| source | destination | opened |\n|---|---|---|\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "| %s/app-%04d[Deployment] | 0.0.0.0/0 | TCP 443 |\n", prefix, i)
	}
	return b.String()
}

func TestFit(t *testing.T) {
	head := Section{Levels: []string{"## reachdiff: 2 paths opened"}, Keep: true}
	small := Section{Levels: []string{"full A", "summary A", "counts A"}, More: "[job summary](u)"}
	big := Section{Levels: []string{strings.Repeat("x", 500), "summary B", "counts B"}, More: "[job summary](u)"}
	tests := []struct {
		name     string
		sections []Section
		limit    int
		contains []string
		absent   []string
	}{
		{"fits unchanged", []Section{head, small}, 1000, []string{"full A", "## reachdiff"}, []string{"Shortened"}},
		{"largest shortened first", []Section{head, small, big}, 300, []string{"full A", "summary B", "Shortened", "[job summary](u)"}, []string{"xxxx"}},
		{"down to counts", []Section{head, {Levels: []string{strings.Repeat("y", 400), strings.Repeat("z", 300), "counts C"}, More: "L"}}, 250, []string{"counts C", "full details in L"}, []string{"zzz"}},
		{"drops from the end, keeps Keep", []Section{head, {Levels: []string{strings.Repeat("p", 200)}, More: "M1"}, {Levels: []string{strings.Repeat("q", 200)}, More: "M2"}}, 330, []string{"## reachdiff", "ppp", "1 more section omitted", "M2"}, []string{"qqq"}},
		{"kept alone too long: cut at a line", []Section{{Levels: []string{strings.Repeat("line\n", 100)}, Keep: true, More: "K"}}, 200, []string{"line\n", "full details in K"}, nil},
	}
	for _, tt := range tests {
		got := Fit(tt.sections, tt.limit)
		if Len(got) > tt.limit {
			t.Errorf("%s: Len(Fit(..., %d)) = %d; want <= %d", tt.name, tt.limit, Len(got), tt.limit)
		}
		for _, s := range tt.contains {
			if !strings.Contains(got, s) {
				t.Errorf("%s: Fit(..., %d) = %q; want it to contain %q", tt.name, tt.limit, got, s)
			}
		}
		for _, s := range tt.absent {
			if strings.Contains(got, s) {
				t.Errorf("%s: Fit(..., %d) = %q; want no %q", tt.name, tt.limit, got, s)
			}
		}
	}
}

func TestFitTinyLimit(t *testing.T) {
	for _, limit := range []int{0, 1, 10, 50, 120} {
		got := Fit([]Section{{Levels: []string{strings.Repeat("é\n", 500)}, Keep: true}}, limit)
		if Len(got) > limit {
			t.Errorf("Len(Fit(..., %d)) = %d; want <= %d", limit, Len(got), limit)
		}
	}
}

// A 70,000-character report (three overlays of about 23,000 characters of
// tables each) degrades and stays under GitHub's limit once rendered.
func TestFit70000(t *testing.T) {
	var sections []Section
	sections = append(sections, Section{Levels: []string{"## reachdiff: 1350 paths opened, 0 closed"}, Keep: true})
	for _, ov := range []string{"prod", "staging", "dev"} {
		full := "### " + ov + "\n\n" + table(450, ov) // ~23.5k chars each
		sections = append(sections, Section{
			Levels: []string{full, "### " + ov + "\n\n" + table(20, ov) + "\n…and 430 more paths", "### " + ov + ": 450 paths opened"},
			More:   "the [job summary](https://github.com/o/r/actions/runs/1) and the `reachdiff-report` artifact",
		})
	}
	var total int
	for _, s := range sections {
		total += Len(s.Levels[0])
	}
	if total < 70000 {
		t.Fatalf("test report is %d characters; want >= 70000", total)
	}
	text := Fit(sections, SafeLimit)
	rendered := Body{Tag: "prod-staging-dev", Meta: Meta{HeadSHA: strings.Repeat("a", 40), RunAt: t0, DeltaHash: "0123456789abcdef"}, Text: text}.Render()
	if Len(rendered) > MaxBody || len(rendered) > MaxBody {
		t.Errorf("rendered comment is %d runes, %d bytes; want <= %d", Len(rendered), len(rendered), MaxBody)
	}
	// Two full tables fit (46k) and the third is shortened, not dropped.
	if n := strings.Count(text, "Shortened to fit"); n != 1 {
		t.Errorf("Fit(70k report) shortened %d sections; want 1\n%s", n, text[len(text)-500:])
	}
	for _, ov := range []string{"prod", "staging", "dev"} {
		if !strings.Contains(text, "### "+ov) {
			t.Errorf("Fit(70k report) lost overlay %s", ov)
		}
	}
	if !strings.Contains(text, "actions/runs/1") {
		t.Errorf("Fit(70k report) has no link to the job summary")
	}
}

// Fit counts characters, not bytes: 900 "✅" (2,700 bytes) fit a 1,000-character limit.
func TestFitCountsRunes(t *testing.T) {
	check := strings.Repeat("✅", 900)
	got := Fit([]Section{{Levels: []string{check, "counts"}}}, 1000)
	if !strings.Contains(got, check) {
		t.Errorf("Fit(900 runes, 1000) shortened the section: %d runes, %d bytes", Len(got), len(got))
	}
	if Len(got) > 1000 || len(got) <= 1000 {
		t.Errorf("Fit(900 runes, 1000) = %d runes, %d bytes; want <= 1000 runes and > 1000 bytes", Len(got), len(got))
	}
}
