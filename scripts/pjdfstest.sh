#!/usr/bin/env bash
# pjdfstest.sh: run pjdfstest (the POSIX filesystem test suite, built from its public source outside this
# repository: nothing of it is kept here) against a mount of `pithosfs serve`, and print the table of
# assertions passed and failed per test directory.
#
# Usage (as root; the suite switches users, so the mount needs --allow-other and default_permissions):
#   scripts/pjdfstest.sh PJDFSTEST_DIR [TEST_DIR...]
# PJDFSTEST_DIR is a built checkout (its `pjdfstest` binary and `tests/`); TEST_DIRs (e.g. chmod open) pick
# some of tests/; default all. PITHOSFS_BIN (default bin/pithosfs, built when missing) is the binary;
# PJD_TIMEOUT (default 300) bounds each .t file in seconds; PJD_LOG keeps every test's TAP output in that file.
# An assertion counts as failed when its "not ok" line is printed or when the file ended before reaching it
# (its plan "1..N" says how many there are).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 PJDFSTEST_DIR [TEST_DIR...]" >&2; exit 2; }
pjd=$(cd "$1" && pwd)
shift
[ -x "$pjd/pjdfstest" ] && [ -d "$pjd/tests" ] || { echo "pjdfstest.sh: $pjd has no built pjdfstest and tests/" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "pjdfstest.sh: run as root (the suite changes users)" >&2; exit 2; }
bin=${PITHOSFS_BIN:-$repo/bin/pithosfs}
[ -x "$bin" ] || (cd "$repo" && go build -o bin/pithosfs ./cmd/pithosfs)
timeout_s=${PJD_TIMEOUT:-300}

work=$(mktemp -d /tmp/pithosfs-pjd.XXXXXX)
chmod 755 "$work"
serve_pid= mount_pid=
cleanup() {
	if mountpoint -q "$work/mnt" 2>/dev/null; then
		[ -n "$mount_pid" ] && kill -TERM "$mount_pid" 2>/dev/null || true
		for _ in $(seq 50); do mountpoint -q "$work/mnt" || break; sleep 0.2; done
		mountpoint -q "$work/mnt" && { fusermount3 -u "$work/mnt" 2>/dev/null || fusermount3 -uz "$work/mnt" || true; }
	fi
	[ -n "$mount_pid" ] && { kill "$mount_pid" 2>/dev/null || true; wait "$mount_pid" 2>/dev/null || true; }
	[ -n "$serve_pid" ] && { kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

cat >"$work/users.json" <<'EOF'
[{"name": "pjd@localhost", "uuid": "0f0f0000-0000-4000-8000-00000000f00f", "token": "token-pjd"}]
EOF
"$bin" --log-level warn serve --listen 127.0.0.1:0 --data "$work/data" --users "$work/users.json" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
url=
for _ in $(seq 150); do
	url=$(sed -n 's/.* on \(http:\/\/[0-9.:]*\).*/\1/p' "$work/serve.out" | head -1)
	[ -n "$url" ] && break
	sleep 0.2
done
[ -n "$url" ] || { echo "pjdfstest.sh: serve did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }

mkdir -p "$work/mnt"
"$bin" --log-level warn mount --url "$url/astakos/identity/v2.0" --token token-pjd --cache-dir "$work/cache" \
	--allow-other "$work/mnt" 2>"$work/mount.err" &
mount_pid=$!
for _ in $(seq 150); do mountpoint -q "$work/mnt" && break; sleep 0.2; done
mountpoint -q "$work/mnt" || { echo "pjdfstest.sh: mount failed:" >&2; cat "$work/mount.err" >&2; exit 1; }
root=$work/mnt/pjd@localhost/pjd
mkdir "$root"

dirs=("$@")
if [ ${#dirs[@]} = 0 ]; then
	for d in "$pjd"/tests/*/; do dirs+=("$(basename "$d")"); done
fi
log=${PJD_LOG:-$work/tap.log}
: >"$log"
total_pass=0 total_fail=0
printf '| %-16s | %6s | %6s | %s\n' "directory" "passed" "failed" "failing assertions (file#number)"
printf '|%s|%s|%s|%s\n' "------------------" "--------" "--------" "---"
for d in "${dirs[@]}"; do
	pass=0 fail=0 which=""
	for t in "$pjd"/tests/"$d"/*.t; do
		[ -e "$t" ] || continue
		out=$(cd "$root" && timeout "$timeout_s" /bin/sh "$t" 2>&1) || true
		printf '### %s/%s\n%s\n' "$d" "$(basename "$t")" "$out" >>"$log"
		plan=$(printf '%s\n' "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p' | head -1)
		# "not ok N # TODO …" is an expected failure (TAP): counted as passed, as prove does.
		ok=$(printf '%s\n' "$out" | grep -c -e '^ok ' -e '^not ok [0-9]* # TODO' || true)
		nok=$(printf '%s\n' "$out" | grep '^not ok ' | grep -vc '^not ok [0-9]* # TODO' || true)
		missing=$(( ${plan:-0} - ok - nok ))
		[ "$missing" -lt 0 ] && missing=0
		pass=$((pass + ok))
		fail=$((fail + nok + missing))
		nums=$(printf '%s\n' "$out" | grep -v '^not ok [0-9]* # TODO' | sed -n 's/^not ok \([0-9]*\).*/\1/p' | tr '\n' ',' | sed 's/,$//')
		[ "$missing" -gt 0 ] && nums="${nums:+$nums,}+$missing not run"
		[ -n "$nums" ] && which="$which $(basename "$t" .t)#$nums"
	done
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	printf '| %-16s | %6d | %6d |%s\n' "$d" "$pass" "$fail" "$which"
done
all=$((total_pass + total_fail))
pct=$(awk -v p="$total_pass" -v a="$all" 'BEGIN { if (a) printf "%.1f", 100 * p / a; else print 0 }')
printf '| %-16s | %6d | %6d | %s%% of %d assertions passed\n' "total" "$total_pass" "$total_fail" "$pct" "$all"
