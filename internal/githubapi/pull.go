package githubapi

import (
	"context"
	"fmt"
)

// PullRequest is what reachdiff checks about a pull request before posting
// for it from another workflow: its head commit and repositories.
type PullRequest struct {
	Number   int
	State    string // open or closed
	HeadSHA  string
	HeadRepo string // owner/name of the head repository; "" when it was deleted
	BaseRepo string // owner/name of the repository the pull request targets
}

// PullRequest reads pull request pr (GET /repos/{owner}/{repo}/pulls/{pr}).
func (c *Client) PullRequest(ctx context.Context, owner, repo string, pr int) (PullRequest, error) {
	p, _, err := c.gh.PullRequests.Get(ctx, owner, repo, pr)
	if err != nil {
		return PullRequest{}, c.wrap(fmt.Sprintf("get pull request %s/%s#%d", owner, repo, pr), err)
	}
	return PullRequest{
		Number:   p.GetNumber(),
		State:    p.GetState(),
		HeadSHA:  p.GetHead().GetSHA(),
		HeadRepo: p.GetHead().GetRepo().GetFullName(),
		BaseRepo: p.GetBase().GetRepo().GetFullName(),
	}, nil
}
