package actionenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// SummaryLimit is GitHub's limit on one step's job summary: "$GITHUB_STEP_SUMMARY
// [...] The maximum size of the job summary for a step is 1 MiB" (GitHub
// Docs, "Workflow commands for GitHub Actions", Adding a job summary). A larger
// file is not shown and the step gets an error annotation instead.
const SummaryLimit = 1 << 20

// Writer writes a step's results: outputs ($GITHUB_OUTPUT), the job summary
// ($GITHUB_STEP_SUMMARY) and workflow commands (annotations, on out). Unlike
// go-githubactions' helpers it returns errors instead of panicking.
type Writer struct {
	getenv func(string) string
	out    io.Writer
	// SummaryLimit is the byte budget of the step summary file; zero means
	// SummaryLimit (the package constant).
	SummaryLimit int
}

// NewWriter returns a Writer that finds the files through a's environment and
// prints workflow commands to out (the step's standard output).
func NewWriter(a *githubactions.Action, out io.Writer) *Writer {
	return &Writer{getenv: a.Getenv, out: out}
}

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// SetOutputs appends the outputs to $GITHUB_OUTPUT, in key order, each as a
// multi-line "name<<DELIM" block whose delimiter does not occur in the value.
func (w *Writer) SetOutputs(outputs map[string]string) error {
	path := w.getenv("GITHUB_OUTPUT")
	if path == "" {
		return errors.New("set outputs: GITHUB_OUTPUT is not set")
	}
	keys := make([]string, 0, len(outputs))
	for k := range outputs {
		if !outputName.MatchString(k) {
			return fmt.Errorf("set outputs: bad output name %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := outputs[k]
		delim := "reachdiff_EOF"
		for i := 1; strings.Contains(v, delim); i++ {
			delim = "reachdiff_EOF_" + strconv.Itoa(i)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", k, delim, v, delim)
	}
	if err := appendFile(path, b.String()); err != nil {
		return fmt.Errorf("set outputs: %w", err)
	}
	return nil
}

// AppendSummary appends markdown to $GITHUB_STEP_SUMMARY within the step's
// 1 MiB budget (what the file already holds counts). Markdown that does not
// fit is cut before the last Markdown heading that fits (a section
// boundary), or at a line break when even the first section is too long, and
// a note saying so is added. It reports whether it cut.
func (w *Writer) AppendSummary(markdown string) (truncated bool, err error) {
	path := w.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return false, errors.New("job summary: GITHUB_STEP_SUMMARY is not set")
	}
	limit := w.SummaryLimit
	if limit <= 0 {
		limit = SummaryLimit
	}
	used := 0
	if fi, err := os.Stat(path); err == nil {
		used = int(fi.Size())
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("job summary: %w", err)
	}
	text, truncated := fitSummary(markdown, limit-used)
	if text == "" && markdown != "" {
		return true, fmt.Errorf("job summary: %s already holds %d of %d bytes; nothing more fits", path, used, limit)
	}
	if err := appendFile(path, text); err != nil {
		return truncated, fmt.Errorf("job summary: %w", err)
	}
	return truncated, nil
}

// fitSummary returns markdown, or a prefix of it ending at a section
// boundary plus a note, of at most room bytes.
func fitSummary(markdown string, room int) (string, bool) {
	if len(markdown) <= room {
		return markdown, false
	}
	// The note for "total of total" is the longest the note can be.
	budget := room - len(summaryNote(len(markdown), len(markdown)))
	if budget <= 0 {
		return "", true
	}
	cut := -1
	// Section boundaries: the start of every line that is a Markdown heading.
	for i := 0; i < len(markdown) && i <= budget; {
		if i > 0 && markdown[i] == '#' {
			cut = i
		}
		j := strings.IndexByte(markdown[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if cut <= 0 {
		cut = strings.LastIndexByte(markdown[:budget], '\n') + 1
	}
	if cut <= 0 {
		return "", true
	}
	prefix := strings.TrimRight(markdown[:cut], "\n")
	return prefix + summaryNote(len(prefix), len(markdown)), true
}

func summaryNote(shown, total int) string {
	return fmt.Sprintf("\n\n> [!NOTE]\n> reachdiff cut this summary to fit GitHub's 1 MiB job summary limit (%d of %d bytes shown). The full report is in the JSON report artifact.\n", shown, total)
}

func appendFile(path, s string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = f.WriteString(s)
	return err
}

// Annotate prints a workflow command that GitHub shows as an annotation:
// "::warning file=F,line=N,title=T::message". level is notice, warning or
// error. An empty file, a line below 1 or an empty title is left out.
// Values are escaped as GitHub requires: %, \r and \n in the message;
// additionally : and , in properties.
func (w *Writer) Annotate(level, file string, line int, title, message string) error {
	switch level {
	case "notice", "warning", "error":
	default:
		return fmt.Errorf("annotate: level %q: want notice, warning or error", level)
	}
	var props []string
	if file != "" {
		props = append(props, "file="+escapeProperty(file))
		if line > 0 {
			props = append(props, "line="+strconv.Itoa(line))
		}
	}
	if title != "" {
		props = append(props, "title="+escapeProperty(title))
	}
	cmd := "::" + level
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	cmd += "::" + escapeData(message) + "\n"
	if _, err := io.WriteString(w.out, cmd); err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	return nil
}

// escapeData escapes a workflow command's message (actions/toolkit
// command.ts escapeData).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a workflow command's property value (actions/toolkit
// command.ts escapeProperty).
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
