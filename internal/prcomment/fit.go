package prcomment

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxBody is GitHub's limit on an issue comment body, in characters. Its
// source is the API's own answer to a longer body (testdata/NOTICE names the
// public reports these bodies were copied from):
//
//	POST  {"resource":"IssueComment","code":"unprocessable","field":"data","message":"Body is too long (maximum is 65536 characters)"}
//	PATCH {"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}
//
// Characters, not bytes: the message says characters, and GitHub validates
// the body in Rails, whose length validation counts Unicode code points
// (Ruby's String#length). Len counts the same way (runes). We could not test
// the boundary against the live API from here, hence the margin in SafeLimit.
const MaxBody = 65536

// SafeLimit is the limit to pass to Fit for a comment's visible text: MaxBody
// less room for the marker and metadata that Body.Render adds (under 300
// characters) and a margin for any difference in how characters are counted
// (for example a count in UTF-16 units, where an emoji counts twice).
const SafeLimit = MaxBody - 2048

// Len returns the length of s as GitHub counts a comment body: in Unicode
// characters (runes), not bytes.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Section is one part of a report comment, rendered at decreasing levels of
// detail, for example full tables, then a summary with the top N paths, then
// counts only.
type Section struct {
	// Levels holds the renderings, most detailed first. An empty section is
	// skipped.
	Levels []string
	// More is a Markdown pointer to the full text, such as
	// "[job summary](https://...) and the `reachdiff-report` artifact". It is
	// shown under a section that was shortened and in the note for dropped
	// sections.
	More string
	// Keep marks a section (the heading, the gate verdict) that is never
	// dropped; it can still be shortened to a later level.
	Keep bool
}

// Fit joins the sections into a comment text of at most limit characters (as
// Len counts them). While the text is too long it moves the largest section
// that has a shorter rendering to its next level; when every section is at
// its shortest it drops sections from the end (except Keep ones) and says so;
// only if the kept sections alone are still too long does it cut the text at
// the last line break that fits. Sections are joined with a blank line. Cuts
// happen at section boundaries in all but that last case, and every shortened
// or dropped section leaves a note pointing at its More.
func Fit(sections []Section, limit int) string {
	type part struct {
		s     Section
		level int
		drop  bool
	}
	var parts []*part
	for _, s := range sections {
		if len(s.Levels) > 0 {
			parts = append(parts, &part{s: s})
		}
	}
	render := func(p *part) string {
		t := strings.TrimRight(p.s.Levels[p.level], "\n")
		if p.level > 0 {
			t += "\n\n" + shortenedNote(p.s.More)
		}
		return t
	}
	build := func() string {
		var out []string
		var dropped int
		more := ""
		for _, p := range parts {
			if p.drop {
				dropped++
				if more == "" {
					more = p.s.More
				}
				continue
			}
			out = append(out, render(p))
		}
		if dropped > 0 {
			out = append(out, droppedNote(dropped, more))
		}
		return strings.Join(out, "\n\n") + "\n"
	}
	text := build()
	for Len(text) > limit {
		// Shorten the largest section that can still be shortened.
		var best *part
		bestLen := -1
		for _, p := range parts {
			if p.drop || p.level == len(p.s.Levels)-1 {
				continue
			}
			if n := Len(render(p)); n > bestLen {
				best, bestLen = p, n
			}
		}
		if best != nil {
			best.level++
			text = build()
			continue
		}
		// Drop the last section that may be dropped.
		var victim *part
		for i := len(parts) - 1; i >= 0; i-- {
			if !parts[i].drop && !parts[i].s.Keep {
				victim = parts[i]
				break
			}
		}
		if victim == nil {
			break
		}
		victim.drop = true
		text = build()
	}
	if Len(text) <= limit {
		return text
	}
	more := ""
	if len(parts) > 0 {
		more = parts[0].s.More
	}
	return cut(text, limit, "\n\n"+shortenedNote(more)+"\n")
}

// cut returns a prefix of text ending at a line break, followed by note, of at
// most limit characters in all.
func cut(text string, limit int, note string) string {
	room := limit - Len(note)
	if room < 0 {
		return truncateRunes(note, limit)
	}
	prefix := truncateRunes(text, room)
	if i := strings.LastIndexByte(prefix, '\n'); i >= 0 {
		prefix = prefix[:i]
	}
	return prefix + note
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

func shortenedNote(more string) string {
	if more == "" {
		more = "the job summary"
	}
	return fmt.Sprintf("_Shortened to fit GitHub's %d-character comment limit: full details in %s._", MaxBody, more)
}

func droppedNote(n int, more string) string {
	if more == "" {
		more = "the job summary"
	}
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("_%d more section%s omitted to fit GitHub's %d-character comment limit: full details in %s._", n, s, MaxBody, more)
}
