#!/usr/bin/env bash
# debian-fresh.sh — the README's two commands on a fresh Debian: `make run` (mount, write, read, Ctrl-C) and
# `make test`, in a Debian root built from nothing but Debian's packages. Not part of CI (it takes a while).
#
# Usage: scripts/debian-fresh.sh [--keep] [COMMIT]      (as root; COMMIT defaults to HEAD of this repository)
#
#   1. debootstrap --variant=minbase bookworm (plus git and ca-certificates: "a machine with Go and git") into a
#      new directory under /var/tmp (MIRROR, default http://deb.debian.org/debian).
#   2. The Go toolchain of this machine ($(go env GOROOT)) is bind-mounted read-only at /usr/local/go; this
#      machine's Go module cache is the module proxy (GOPROXY=file://…, read-only): nothing else is fetched.
#   3. The repository is cloned into the root (/root/pithosfs), at COMMIT.
#   4. Set-up, on the network (Debian's mirror): scripts/prereqs.sh test — the first step of make test, which
#      installs what is missing — so the steps after it can run offline.
#   5. In a new network namespace (only its own loopback; nothing can collide with what runs on this machine):
#      make run in the background, a file written and read back through ./mnt, Ctrl-C, the mount gone; then
#      make test, then a check that no listener and no process of the root is left.
#   Each step is timed; the logs (debootstrap, make run, make test) are copied to /var/tmp/pithosfs-debian-last/.
#   The root is removed at the end unless --keep. make is in the root too (make test needs it to start).
set -euo pipefail

keep=0
if [ "${1:-}" = --keep ]; then
	keep=1
	shift
fi
[ "$EUID" = 0 ] || {
	echo "debian-fresh: run as root (debootstrap, chroot, mounts)" >&2
	exit 1
}
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMMIT="$(git -C "$REPO" rev-parse "${1:-HEAD}")"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
GOROOT_HOST="$(go env GOROOT)"
MODCACHE_HOST="$(go env GOMODCACHE)"
T0=$SECONDS

step() { echo "==== [$(date -u +%H:%M:%S) +$((SECONDS - T0))s] $*"; }

command -v debootstrap >/dev/null || {
	step "installing debootstrap on this machine"
	apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

ROOT="$(mktemp -d /var/tmp/pithosfs-debian.XXXXXX)"
cleanup() {
	local rc=$?
	mkdir -p /var/tmp/pithosfs-debian-last
	cp "$ROOT"/root/*.log /var/tmp/pithosfs-debian-last/ 2>/dev/null || true
	if [ "$keep" = 1 ]; then
		echo "debian-fresh: root kept in $ROOT"
	else
		rm -rf --one-file-system "$ROOT"
	fi
	echo "debian-fresh: $([ "$rc" = 0 ] && echo PASSED || echo "FAILED (exit $rc)") in $((SECONDS - T0))s"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "debootstrap bookworm (minbase + git, ca-certificates) into $ROOT"
t=$SECONDS
debootstrap --variant=minbase --include=git,ca-certificates,make bookworm "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 ||
	{
		tail -20 "$ROOT.debootstrap.log"
		exit 1
	}
mv "$ROOT.debootstrap.log" "$ROOT/root/debootstrap.log"
echo "debootstrap: $((SECONDS - t))s, $(du -sh --one-file-system "$ROOT" | cut -f1)"

step "cloning the repository at $COMMIT"
git clone -q --no-hardlinks "$REPO" "$ROOT/root/pithosfs"
git -C "$ROOT/root/pithosfs" checkout -q "$COMMIT"
mkdir -p "$ROOT/usr/local/go" "$ROOT/opt/gomodcache"

# in_root NET SCRIPT: run SCRIPT with bash in the root, in private mount and PID namespaces (the bind mounts
# vanish with it, ps sees only its processes); NET=isolated adds a new network namespace with its loopback up.
in_root() {
	local net="$1" script="$2" flags=(--mount --propagation private --pid --fork)
	[ "$net" != isolated ] || flags+=(--net)
	unshare "${flags[@]}" bash -euo pipefail -c '
		root="$1" goroot="$2" modcache="$3" net="$4" script="$5"
		[ "$net" != isolated ] || ip link set lo up
		mount -t proc proc "$root/proc"
		mount -t sysfs sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs tmpfs "$root/tmp"
		mount --bind -o ro "$goroot" "$root/usr/local/go"
		mount --bind -o ro "$modcache" "$root/opt/gomodcache"
		[ "$net" = isolated ] || cp /etc/resolv.conf "$root/etc/resolv.conf"
		exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
			PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			GOTOOLCHAIN=local GOPROXY=file:///opt/gomodcache/cache/download GOSUMDB=off GOFLAGS=-modcacherw \
			/bin/bash -euo pipefail -c "cd /root/pithosfs; $script"
	' in_root "$ROOT" "$GOROOT_HOST" "$MODCACHE_HOST" "$net" "$script"
}

step "set-up on the network: scripts/prereqs.sh test (what make test runs first)"
t=$SECONDS
in_root network 'go version; git --version; scripts/prereqs.sh test; scripts/prereqs.sh test && echo "prereqs: all present now"'
echo "prereqs: $((SECONDS - t))s"

step "make run in an isolated network namespace: mount, write, read, Ctrl-C"
t=$SECONDS
in_root isolated '
	setsid make run >/root/run.log 2>&1 &
	pid=$!
	for i in $(seq 600); do grep -q "pithosfs: mounted" /root/run.log && break; kill -0 $pid 2>/dev/null || break; sleep 1; done
	cat /root/run.log
	grep -q "pithosfs: mounted" /root/run.log || { echo "make run did not mount"; exit 1; }
	ls -a mnt/
	mkdir -p mnt/demo@localhost/fresh
	echo "hello from a fresh Debian" >mnt/demo@localhost/fresh/hello.txt
	got="$(cat mnt/demo@localhost/fresh/hello.txt)"
	[ "$got" = "hello from a fresh Debian" ] || { echo "read back: $got"; exit 1; }
	echo "wrote and read back: $got"
	kill -INT -- -$pid
	wait $pid || true
	tail -3 /root/run.log
	if grep -qs " $PWD/mnt " /proc/mounts; then echo "still mounted after Ctrl-C"; exit 1; fi
	echo "unmounted after Ctrl-C"
'
echo "make run smoke: $((SECONDS - t))s"

step "make test in an isolated network namespace"
t=$SECONDS
in_root isolated '
	set +e
	make test >/root/test.log 2>&1
	rc=$?
	set -e
	grep -E "^(ok|FAIL|--- FAIL|panic|test.sh|prereqs|swift-aio)" /root/test.log || true
	echo "== after make test (exit $rc): TCP listeners in this namespace, processes left"
	awk '"'"'NR > 1 && $4 == "0A" { print "listening:", $2 }'"'"' /proc/net/tcp /proc/net/tcp6
	left=0
	for p in /proc/[0-9]*; do
		case "${p#/proc/}" in "$$" | "$BASHPID" | 1) continue ;; esac # this shell, and the first process of the namespace
		cmd="$(tr "\0" " " <"$p/cmdline" 2>/dev/null || true)"
		case "$cmd" in *swift-*|*memcached*|*logsink*|*"pithosfs mount"*|*"pithosfs serve"*|*.test\ *) echo "left: ${p#/proc/} $cmd"; left=1 ;; esac
	done
	[ "$left" = 0 ] && echo "no process left"
	[ "$left" = 0 ] || rc=1
	exit $rc
'
echo "make test: $((SECONDS - t))s"
step "done"
