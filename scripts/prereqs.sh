#!/usr/bin/env bash
# prereqs.sh — the Debian packages `make run` and `make test` need, installed when missing.
#
# Usage: scripts/prereqs.sh run|test
#
#   run   fuse3 (fusermount3), for mounting.
#   test  also gcc and libc6-dev (go test -race needs cgo), OpenStack Swift and its client, memcached,
#         attr, rsync, curl, git (the end-to-end tests run these tools or test against them).
#
# Everything present: prints nothing and exits 0 (no apt-get). Something missing: as root, runs
# `apt-get update` and `apt-get install` of what is missing; otherwise prints the one command to run and
# exits 1. Probes are the files the packages install, so it also works where dpkg does not know them.
set -euo pipefail

# package:probe — a probe is a command name, or a path when it starts with /.
RUN_PKGS=(fuse3:fusermount3)
TEST_PKGS=(
	"${RUN_PKGS[@]}"
	gcc:gcc
	libc6-dev:/usr/include/stdio.h
	swift:swift-ring-builder
	swift:/etc/swift/swift.conf
	swift-proxy:swift-proxy-server
	swift-account:swift-account-server
	swift-container:swift-container-server
	swift-object:swift-object-server
	python3-swiftclient:swift
	memcached:memcached
	attr:getfattr
	rsync:rsync
	curl:curl
	git:git
)

case "${1:-}" in
run) wanted=("${RUN_PKGS[@]}") ;;
test) wanted=("${TEST_PKGS[@]}") ;;
*)
	sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac

present() {
	case "$1" in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
	esac
}

missing=()
for w in "${wanted[@]}"; do
	pkg="${w%%:*}" probe="${w#*:}"
	present "$probe" && continue
	case " ${missing[*]} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done
[ "${#missing[@]}" -gt 0 ] || exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$EUID" != 0 ]; then
	echo "prereqs: missing Debian packages: ${missing[*]}" >&2
	echo "prereqs: run this, then make $1 again:" >&2
	echo "    sudo apt-get update && sudo $cmd" >&2
	exit 1
fi
command -v apt-get >/dev/null || {
	echo "prereqs: missing ${missing[*]} and no apt-get here; install them with your package manager" >&2
	exit 1
}
echo "prereqs: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
t0=$SECONDS
apt-get update -qq
# Where systemd runs, installing memcached starts its service on 11211: make test starts its own on a free port.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "prereqs: installed in $((SECONDS - t0))s" >&2
