package cli

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestActionScripts drives the reachdiff binary from
// testdata/action-script/*.txtar as GitHub runs the Action: environment
// variables set in the script, GITHUB_API_URL pointing at a fake GitHub
// started for each script. Every request the fake receives is checked
// (method, path, headers, body) and logged to $WORK/github.log, so a
// script can compare the calls made.
func TestActionScripts(t *testing.T) {
	testdata, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/action-script",
		Setup: func(e *testscript.Env) error {
			gh := newFakeGitHub(t)
			gh.logTo(filepath.Join(e.WorkDir, "github.log"))
			e.Defer(gh.Close)
			e.Setenv("GITHUB_API_URL", gh.URL())
			e.Setenv("TESTDATA", testdata)
			e.Setenv("TOKEN", testToken)
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			for k, v := range map[string]string{
				"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
				"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
			} {
				e.Setenv(k, v)
			}
			return nil
		},
	})
}
