package githubapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePatch(t *testing.T) {
	tests := []struct {
		patch   string
		want    []LineRange
		wantErr bool
	}{
		{"", nil, false},
		{"@@ -0,0 +1,2 @@\n+a\n+b", []LineRange{{1, 2}}, false},
		{"@@ -10,4 +10,3 @@ func f() {\n ctx\n-gone\n-gone2\n+new\n ctx", []LineRange{{10, 12}}, false},
		{"@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file", []LineRange{{1, 1}}, false},
		{"@@ -1,2 +1,2 @@\n a\n-b\n+c\n@@ -20,2 +20,3 @@\n x\n+y\n z", []LineRange{{1, 2}, {20, 22}}, false},
		{"@@ -1,3 +1,3 @@\n a\n\n c", []LineRange{{1, 3}}, false},
		{"@@ nonsense @@\n+a", nil, true},
		{"@@ -1,1 +x,1 @@\n+a", nil, true},
		{"+a before any hunk", nil, true},
		{"@@ -1 +1 @@\n?what", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePatch(tt.patch)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePatch(%q) error = %v; want error %v", tt.patch, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePatch(%q) = %v; want %v", tt.patch, got, tt.want)
		}
	}
}

// TestListPRFiles reads real multi-hunk patches. Each hunk header +c,d must
// yield exactly lines c..c+d-1.
func TestListPRFiles(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/repos/o/r/pulls/3/files", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("per_page"); got != "100" {
			t.Errorf("per_page = %q; want 100", got)
		}
		reply(w, 200, fixture(t, "pulls-files.stapler-4f260c56.json"))
	})
	got, err := f.client("/").ListPRFiles(context.Background(), "o", "r", 3)
	if err != nil {
		t.Fatalf("ListPRFiles: %v", err)
	}
	want := []PRFile{
		{Path: ".mvn/extensions.xml", Status: "added", Lines: []LineRange{{1, 7}}},
		{Path: ".mvn/maven.config", Status: "added", Lines: []LineRange{{1, 2}}},
		{Path: "pom.xml", Status: "modified", Lines: []LineRange{{9, 15}, {37, 43}, {84, 93}, {285, 425}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListPRFiles() mismatch (-want +got):\n%s", diff)
	}
	for line, want := range map[int]bool{8: false, 9: true, 15: true, 16: false, 93: true, 94: false, 285: true, 425: true, 426: false} {
		if got := got[2].Commentable(line); got != want {
			t.Errorf("pom.xml Commentable(%d) = %v; want %v", line, got, want)
		}
	}
}

func TestCreateReview(t *testing.T) {
	f := newFake(t)
	f.handle("GET", "/repos/o/r/pulls/3/files", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, fixture(t, "pulls-files.stapler-4f260c56.json"))
	})
	f.handle("POST", "/repos/o/r/pulls/3/reviews", func(w http.ResponseWriter, r *http.Request) {
		checkBody(t, r, `{"commit_id":"head1","body":"reachdiff: 1 path opened","event":"COMMENT",
			"comments":[{"path":"pom.xml","line":10,"side":"RIGHT","body":"opens TCP 443"}]}`)
		reply(w, 200, fixture(t, "pull-request-review.json"))
	})
	comments := []ReviewComment{
		{Path: "pom.xml", Line: 10, Body: "opens TCP 443"},
		{Path: "pom.xml", Line: 20, Body: "outside the diff"},
		{Path: "deploy/netpol.yaml", Line: 1, Body: "file not in the PR"},
	}
	dropped, err := f.client("/").CreateReview(context.Background(), "o", "r", 3, "head1", "reachdiff: 1 path opened", comments)
	if err != nil {
		t.Fatalf("CreateReview: %v", err)
	}
	if diff := cmp.Diff(comments[1:], dropped); diff != "" {
		t.Errorf("CreateReview() dropped mismatch (-want +got):\n%s", diff)
	}

	// Nothing inside the diff and no body: nothing posted.
	dropped, err = f.client("/").CreateReview(context.Background(), "o", "r", 3, "head1", "", comments[1:])
	if err != nil || len(dropped) != 2 {
		t.Errorf("CreateReview(outside only) = %v, %v; want both dropped", dropped, err)
	}
	if n := f.count("POST", "/repos/o/r/pulls/3/reviews"); n != 1 {
		t.Errorf("reviews posted = %d; want 1", n)
	}
}
