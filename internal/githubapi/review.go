package githubapi

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-github/v62/github"
)

// LineRange is an inclusive range of line numbers in the head version of a file.
type LineRange struct{ First, Last int }

// PRFile is a file changed by a pull request, with the head-side lines that
// its diff shows (added and context lines): the only lines a review comment
// may point at.
type PRFile struct {
	Path   string
	Status string      // added, removed, modified, renamed, ...
	Lines  []LineRange // sorted, merged; empty when GitHub sent no patch (binary or too large)
}

// Commentable reports whether line (head side) is inside the file's diff.
func (f PRFile) Commentable(line int) bool {
	i := sort.Search(len(f.Lines), func(i int) bool { return f.Lines[i].Last >= line })
	return i < len(f.Lines) && f.Lines[i].First <= line
}

// ParsePatch returns the head-side lines that a unified diff patch (the
// `patch` field of a pull request file) shows: added ("+") and context (" ")
// lines of every hunk. Removed lines exist only on the base side.
func ParsePatch(patch string) ([]LineRange, error) {
	var out []LineRange
	add := func(n int) {
		if k := len(out); k > 0 && out[k-1].Last+1 == n {
			out[k-1].Last = n
			return
		}
		out = append(out, LineRange{n, n})
	}
	line, inHunk := 0, false
	lines := strings.Split(patch, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "@@"):
			start, err := hunkStart(l)
			if err != nil {
				return nil, fmt.Errorf("patch line %d: %w", i+1, err)
			}
			line, inHunk = start, true
		case !inHunk:
			if l != "" {
				return nil, fmt.Errorf("patch line %d: %q before the first hunk header", i+1, l)
			}
		case strings.HasPrefix(l, "+"), strings.HasPrefix(l, " "):
			add(line)
			line++
		case l == "":
			// GitHub trims a patch's final newline; a bare empty line inside a
			// hunk is a context line whose leading space was lost.
			if i != len(lines)-1 {
				add(line)
				line++
			}
		case strings.HasPrefix(l, "-"), strings.HasPrefix(l, `\`):
			// base side only, or "\ No newline at end of file"
		default:
			return nil, fmt.Errorf("patch line %d: unexpected %q", i+1, l)
		}
	}
	return out, nil
}

// hunkStart reads the head-side start line from "@@ -a,b +c,d @@ ...".
func hunkStart(h string) (int, error) {
	f := strings.Fields(h)
	if len(f) < 3 || !strings.HasPrefix(f[2], "+") {
		return 0, fmt.Errorf("bad hunk header %q", h)
	}
	s, _, _ := strings.Cut(strings.TrimPrefix(f[2], "+"), ",")
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad hunk header %q", h)
	}
	return n, nil
}

// ListPRFiles returns the files of pull request pr with their commentable
// lines, 100 files a page. (GitHub lists at most 3,000 files.)
func (c *Client) ListPRFiles(ctx context.Context, owner, repo string, pr int) ([]PRFile, error) {
	opts := &github.ListOptions{PerPage: 100}
	var out []PRFile
	for {
		page, resp, err := c.gh.PullRequests.ListFiles(ctx, owner, repo, pr, opts)
		if err != nil {
			return nil, c.wrap(fmt.Sprintf("list files of %s/%s#%d", owner, repo, pr), err)
		}
		for _, f := range page {
			lines, err := ParsePatch(f.GetPatch())
			if err != nil {
				return nil, fmt.Errorf("list files of %s/%s#%d: %s: %w", owner, repo, pr, f.GetFilename(), err)
			}
			out = append(out, PRFile{Path: f.GetFilename(), Status: f.GetStatus(), Lines: lines})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// ReviewComment is an inline review comment on a head-side line.
type ReviewComment struct {
	Path string
	Line int
	Body string
}

// InDiff splits comments into those on lines inside the pull request's diff
// and the others, keeping order.
func InDiff(files []PRFile, comments []ReviewComment) (inside, outside []ReviewComment) {
	byPath := make(map[string]PRFile, len(files))
	for _, f := range files {
		byPath[f.Path] = f
	}
	for _, rc := range comments {
		if f, ok := byPath[rc.Path]; ok && f.Commentable(rc.Line) {
			inside = append(inside, rc)
		} else {
			outside = append(outside, rc)
		}
	}
	return inside, outside
}

// CreateReview posts a COMMENT review on commitSHA of pull request pr, with
// the inline comments that fall inside the pull request's diff. GitHub
// rejects a whole review (422 "Pull request review thread line must be part
// of the diff") if one comment is outside it, so the others are returned as
// dropped, for the caller to show as annotations. Nothing is posted when no
// comment is inside the diff and body is empty.
func (c *Client) CreateReview(ctx context.Context, owner, repo string, pr int, commitSHA, body string, comments []ReviewComment) (dropped []ReviewComment, err error) {
	files, err := c.ListPRFiles(ctx, owner, repo, pr)
	if err != nil {
		return nil, err
	}
	inside, outside := InDiff(files, comments)
	if len(inside) == 0 && body == "" {
		return outside, nil
	}
	req := &github.PullRequestReviewRequest{Event: github.String("COMMENT")}
	if commitSHA != "" {
		req.CommitID = github.String(commitSHA)
	}
	if body != "" {
		req.Body = github.String(body)
	}
	for _, rc := range inside {
		req.Comments = append(req.Comments, &github.DraftReviewComment{
			Path: github.String(rc.Path), Line: github.Int(rc.Line), Side: github.String("RIGHT"), Body: github.String(rc.Body),
		})
	}
	if _, _, err := c.gh.PullRequests.CreateReview(ctx, owner, repo, pr, req); err != nil {
		return outside, c.wrap(fmt.Sprintf("create review on %s/%s#%d", owner, repo, pr), err)
	}
	return outside, nil
}
