#!/usr/bin/env bash
# test.sh — what `make test` runs, and CI through .ci/run: the whole set-up, then every test.
#
# Usage: scripts/test.sh [go test arguments]      (default: -race -count=1 -timeout 40m ./...)
#
#   1. scripts/prereqs.sh test: as root installs the Debian packages that are missing (none: no apt-get);
#      otherwise prints the one command to run and stops.
#   2. Swift: with SWIFT_AUTH_URL set, that one is used. Otherwise scripts/swift-aio.sh starts one in a new
#      temporary directory on free ports (a Swift or memcached already running is left alone), while lint runs.
#   3. make lint (gofmt, go vet, staticcheck), then go test.
#   On exit — success, failure, Ctrl-C, TERM — the Swift it started is stopped and its directory removed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO="${GO:-go}"
MAKE="${MAKE:-make}"
t0=$SECONDS

scripts/prereqs.sh test

swift_dir="" swift_start=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$swift_start" ]; then
		# Killing the start half way could leave a server it just spawned: let it finish, then stop everything.
		echo "test.sh: waiting for Swift's start-up to end, to stop it" >&2
		wait "$swift_start" 2>/dev/null || true
	fi
	if [ -n "$swift_dir" ]; then
		scripts/swift-aio.sh stop "$swift_dir" || true
		rm -rf "$swift_dir"
		echo "test.sh: stopped the Swift it started" >&2
	fi
	echo "test.sh: $([ "$rc" = 0 ] && echo passed || echo "failed (exit $rc)") in $((SECONDS - t0))s" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ -z "${SWIFT_AUTH_URL:-}" ]; then
	swift_dir="$(mktemp -d "${TMPDIR:-/tmp}/pithosfs-test-swift.XXXXXX")"
	# Start-up waits up to 10 minutes (not swift-aio's 2): it runs beside lint, and on a loaded machine Swift's
	# Python servers alone were seen to take more than 2 minutes to answer.
	SWIFT_START_TIMEOUT="${SWIFT_START_TIMEOUT:-600}" SWIFT_PORT=0 SWIFT_ACCOUNT_PORT=0 SWIFT_CONTAINER_PORT=0 SWIFT_OBJECT_PORT=0 SWIFT_MEMCACHED_PORT=0 \
		scripts/swift-aio.sh start "$swift_dir" &
	swift_start=$!
else
	echo "test.sh: using the Swift at $SWIFT_AUTH_URL" >&2
fi

"$MAKE" --no-print-directory lint GO="$GO"

if [ -n "$swift_start" ]; then
	wait "$swift_start" || {
		swift_start=""
		echo "test.sh: Swift did not start (logs above)" >&2
		exit 1
	}
	swift_start=""
	eval "$(scripts/swift-aio.sh env "$swift_dir")"
fi

[ "$#" -gt 0 ] || set -- -race -count=1 -timeout 40m ./...
echo "test.sh: $GO test $*" >&2
"$GO" test "$@"
