// Package prcomment decides what to do with reachdiff's sticky pull request
// comment and fits its body under GitHub's size limit; it makes no API calls.
package prcomment

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Comment is an existing issue comment on the pull request, as listed by the
// GitHub API. Only the fields the policy needs are kept.
type Comment struct {
	ID        int64     // REST id, used to edit the comment
	NodeID    string    // GraphQL node id, used to minimise (hide) the comment
	Author    string    // login of the comment's author
	Body      string    // raw Markdown body
	URL       string    // html_url, shown to the user
	CreatedAt time.Time // creation time reported by GitHub
}

// Meta is the metadata reachdiff embeds in its comment in a hidden HTML
// comment, so that later runs can tell which run wrote it.
type Meta struct {
	HeadSHA   string    `json:"head"`
	RunAt     time.Time `json:"run"`   // start of the run that wrote the body; passed in, never read from a clock
	DeltaHash string    `json:"delta"` // hash of the reachability delta the body shows
}

// Body is the comment reachdiff wants on the pull request.
type Body struct {
	Tag  string // comment tag: one sticky comment per tag (per overlay set)
	Meta Meta
	Text string // visible Markdown, usually the output of Fit
}

// Marker returns the hidden marker that starts every reachdiff comment with
// the given tag. An empty tag means "default".
func Marker(tag string) string {
	if tag == "" {
		tag = "default"
	}
	return "<!-- reachdiff:" + tag + " -->"
}

const metaPrefix = "<!-- reachdiff-meta "
const metaSuffix = " -->"

// Render returns the full comment body: the marker, the metadata comment and
// the visible text, in that order.
func (b Body) Render() string {
	meta, _ := json.Marshal(struct {
		HeadSHA   string `json:"head"`
		RunAt     string `json:"run"`
		DeltaHash string `json:"delta"`
	}{b.Meta.HeadSHA, b.Meta.RunAt.UTC().Format(time.RFC3339Nano), b.Meta.DeltaHash})
	// json.Marshal escapes <, > and & so the metadata cannot close the HTML comment.
	return Marker(b.Tag) + "\n" + metaPrefix + string(meta) + metaSuffix + "\n" + b.Text
}

// Parse reads back a comment body written by Render for the given tag. ok is
// false when the body does not start with the tag's marker (someone else's
// comment, or one that merely quotes the marker). A missing or damaged
// metadata line leaves Meta zero.
func Parse(tag, body string) (b Body, ok bool) {
	marker := Marker(tag)
	rest, found := strings.CutPrefix(strings.ReplaceAll(body, "\r\n", "\n"), marker+"\n")
	if !found {
		if strings.ReplaceAll(body, "\r\n", "\n") == marker {
			return Body{Tag: tag}, true
		}
		return Body{}, false
	}
	b.Tag = tag
	if strings.HasPrefix(rest, metaPrefix) {
		line, after, _ := strings.Cut(rest, "\n")
		raw := strings.TrimSuffix(strings.TrimPrefix(line, metaPrefix), metaSuffix)
		var m struct {
			HeadSHA   string `json:"head"`
			RunAt     string `json:"run"`
			DeltaHash string `json:"delta"`
		}
		if err := json.Unmarshal([]byte(raw), &m); err == nil {
			b.Meta.HeadSHA, b.Meta.DeltaHash = m.HeadSHA, m.DeltaHash
			if t, err := time.Parse(time.RFC3339Nano, m.RunAt); err == nil {
				b.Meta.RunAt = t
			}
			rest = after
		}
	}
	b.Text = rest
	return b, true
}

// Mode is the user's comment input: how reachdiff treats its earlier comment.
type Mode string

// The comment modes of the action's `comment` input.
const (
	ModeUpdate     Mode = "update"       // edit the sticky comment in place (default)
	ModeNew        Mode = "new"          // post a new comment each time the report changes
	ModeHideAndNew Mode = "hide-and-new" // minimise the old comments, then post a new one
	ModeOff        Mode = "off"          // post nothing
)

// ParseMode validates a comment mode; the empty string is ModeUpdate.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.TrimSpace(s)); m {
	case "":
		return ModeUpdate, nil
	case ModeUpdate, ModeNew, ModeHideAndNew, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("comment mode %q: want update, new, hide-and-new or off", s)
}

// Kind is what the caller must do with the API.
type Kind string

// The kinds of Action.
const (
	Skip   Kind = "skip"   // do nothing: see Action.Reason
	Create Kind = "create" // post a new comment (after minimising Action.Hide, if any)
	Update Kind = "update" // edit Action.Target in place
)

// Action is the outcome of Decide.
type Action struct {
	Kind   Kind
	Target *Comment  // for Update: the comment to edit; for Skip: the comment that made us skip, if any
	Hide   []Comment // comments to minimise before creating (mode hide-and-new)
	Extra  []Comment // our other comments with the same marker (duplicates from a race or an old bug), left alone
	Reason string    // one line for the log
}

// Decide applies the comment policy. It finds our comments (those whose body
// starts with desired's marker; others' comments are ignored even when they
// quote the marker), then:
//   - mode off: skip;
//   - the newest of ours shows the same report (same text, head SHA and delta
//     hash; the run time is ignored): skip;
//   - the newest of ours was written by a later run (by the embedded run time):
//     skip, so an older run never overwrites a newer one;
//   - otherwise update the newest in place (update), create a new one (new),
//     or minimise all of ours and create a new one (hide-and-new).
//
// When several comments carry our marker the newest is used and the others are
// reported in Action.Extra (or hidden, in hide-and-new).
func Decide(existing []Comment, desired Body, mode Mode) Action {
	if mode == "" {
		mode = ModeUpdate
	}
	if mode == ModeOff {
		return Action{Kind: Skip, Reason: "comment mode is off"}
	}
	type ours struct {
		c Comment
		b Body
	}
	var mine []ours
	for _, c := range existing {
		if b, ok := Parse(desired.Tag, c.Body); ok {
			mine = append(mine, ours{c, b})
		}
	}
	if len(mine) == 0 {
		return Action{Kind: Create, Reason: "no earlier reachdiff comment with marker " + Marker(desired.Tag)}
	}
	// Newest first: by embedded run time, then creation time, then id.
	sort.SliceStable(mine, func(i, j int) bool {
		a, b := mine[i], mine[j]
		if !a.b.Meta.RunAt.Equal(b.b.Meta.RunAt) {
			return a.b.Meta.RunAt.After(b.b.Meta.RunAt)
		}
		if !a.c.CreatedAt.Equal(b.c.CreatedAt) {
			return a.c.CreatedAt.After(b.c.CreatedAt)
		}
		return a.c.ID > b.c.ID
	})
	newest := mine[0].c
	nb := mine[0].b
	var extra []Comment
	for _, o := range mine[1:] {
		extra = append(extra, o.c)
	}
	if !nb.Meta.RunAt.IsZero() && nb.Meta.RunAt.After(desired.Meta.RunAt) {
		return Action{Kind: Skip, Target: &newest, Extra: extra,
			Reason: fmt.Sprintf("comment %d was written by a newer run (%s > %s)", newest.ID,
				nb.Meta.RunAt.UTC().Format(time.RFC3339), desired.Meta.RunAt.UTC().Format(time.RFC3339))}
	}
	if nb.Text == desired.Text && nb.Meta.HeadSHA == desired.Meta.HeadSHA && nb.Meta.DeltaHash == desired.Meta.DeltaHash {
		return Action{Kind: Skip, Target: &newest, Extra: extra,
			Reason: fmt.Sprintf("comment %d already shows this report", newest.ID)}
	}
	switch mode {
	case ModeNew:
		return Action{Kind: Create, Extra: append([]Comment{newest}, extra...), Reason: "mode new: posting a new comment"}
	case ModeHideAndNew:
		return Action{Kind: Create, Hide: append([]Comment{newest}, extra...), Reason: "mode hide-and-new: hiding earlier comments"}
	}
	return Action{Kind: Update, Target: &newest, Extra: extra, Reason: fmt.Sprintf("updating comment %d", newest.ID)}
}
