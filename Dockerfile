# reachdiff as a GitHub Docker container action (action.yml: runs.image: Dockerfile).
#
# Stage 1 builds a static binary; stage 2 is Alpine with git, because
# reachdiff reads the base and head revisions from git objects
# (`git ls-tree` / `git cat-file --batch`), and a distroless image has no git.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so the module download is cached across source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible paths (-trimpath), no VCS stamping (.git is
# not in the build context: see .dockerignore).
ENV CGO_ENABLED=0
RUN go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/reachdiff ./cmd/reachdiff

FROM alpine:3.22

# git for reading revisions; ca-certificates for the GitHub API over TLS.
RUN apk add --no-cache git ca-certificates

# safe.directory: the runner mounts the checked-out repository at
# /github/workspace, owned by the runner's user. Since 2.35.2, git refuses to
# read a repository owned by another uid ("detected dubious ownership") unless
# it is listed in safe.directory, which happens on self-hosted runners whose
# user is not uid 1001 (below). The setting is in the system config
# (/etc/gitconfig) because the runner replaces $HOME (/github/home). '*' is
# acceptable here: the container only sees the repository the workflow
# checked out, and reachdiff only reads git objects (no hooks, no checkout).
RUN git config --system --add safe.directory '*'

# Non-root user with uid 1001: the uid of the "runner" user on GitHub-hosted
# runners, which owns the workspace and the files behind GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY. With any other non-root uid the action could not write
# its outputs, summary and report (this is why GitHub's docs ask Docker
# actions to run as root). On a self-hosted runner whose user has another uid
# see docs/github-action.md.
RUN adduser -D -H -u 1001 -s /sbin/nologin reachdiff

COPY --from=build /out/reachdiff /usr/local/bin/reachdiff
USER 1001
ENTRYPOINT ["/usr/local/bin/reachdiff"]
