#!/usr/bin/env bash
# bench-compare.sh: pithosfs next to `rclone mount` (--vfs-cache-mode writes), on a real Swift
# (scripts/swift-aio.sh) and on `pithosfs serve`, against raw HTTP. Prints one Markdown table per target.
#
# Usage: scripts/bench-compare.sh [--size-mib N] [--ls-count N] [--small-count N] [--targets "swift serve"]
# Not part of `make test`: it moves several GiB and takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

size=1024 ls=10000 small=2000 targets="swift serve"
while [ $# -gt 0 ]; do
	case "$1" in
	--size-mib) size=$2; shift 2 ;;
	--ls-count) ls=$2; shift 2 ;;
	--small-count) small=$2; shift 2 ;;
	--targets) targets=$2; shift 2 ;;
	*) echo "usage: $0 [--size-mib N] [--ls-count N] [--small-count N] [--targets \"swift serve\"]" >&2; exit 2 ;;
	esac
done

if ! command -v rclone >/dev/null; then
	echo "bench-compare: installing Debian's rclone" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rclone >/dev/null
fi
go build -o bin/pithosfs ./cmd/pithosfs
go build -o bin/benchcompare ./integration/benchcompare

echo "pithosfs $(git describe --always --dirty 2>/dev/null || echo dev), $(rclone version | head -1), $(nproc) cores, $(uname -r)"
for t in $targets; do
	case "$t" in
	swift)
		started=0
		if ! scripts/swift-aio.sh status >/dev/null 2>&1; then
			scripts/swift-aio.sh start >&2
			started=1
		fi
		eval "$(scripts/swift-aio.sh env)"
		bin/benchcompare -target swift -pithosfs bin/pithosfs -size-mib "$size" -ls-count "$ls" -small-count "$small"
		if [ "$started" = 1 ]; then scripts/swift-aio.sh stop >&2; fi
		;;
	serve)
		bin/benchcompare -target serve -pithosfs bin/pithosfs -size-mib "$size" -ls-count "$ls" -small-count "$small"
		;;
	*) echo "bench-compare: unknown target $t" >&2; exit 2 ;;
	esac
done
