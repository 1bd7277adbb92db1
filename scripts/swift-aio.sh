#!/usr/bin/env bash
# swift-aio.sh — a real single-node, single-replica OpenStack Swift (tempauth) on 127.0.0.1, for tests and CI.
#
# Usage: scripts/swift-aio.sh [--install] start|stop|status|env [DIR]
#        scripts/swift-aio.sh kill|revive SERVER [DIR]
#
#   start   build (first time) and start memcached, a log sink and the account, container, object and proxy
#           servers under DIR (default /tmp/pithosfs-swift); returns once a real v1.0 auth and an account
#           HEAD succeed. Already running: returns at once.
#   stop    stop the processes this script started in DIR (by their PID files only).
#   status  print each process; exit 0 when everything runs and auth works, 3 when stopped, 1 otherwise.
#   env     print `export SWIFT_AUTH_URL=… SWIFT_USER=… SWIFT_KEY=…` (plus USER2/KEY2, USER3/KEY3) for eval.
#   --install  apt-get install the Debian packages first (needs root; `apt-get update` must have run).
#   kill SERVER / revive SERVER   stop one server (object, object2, container3…) by its PID file / start it
#           again and wait until it answers: outages for fault tests.
#
# Multi-node mode: SWIFT_NODES=3 at start runs three container and three object servers (container, container2,
# container3, object…; node N binds SWIFT_CONTAINER_PORTN / SWIFT_OBJECT_PORTN, default 0 = free ports) with
# devices srv/d1, srv/d2, srv/d3 in 3-replica container and object rings, one zone each (the account ring keeps
# one replica); the other commands read the mode from DIR. Use its own DIR and ports (0): a single-node Swift
# may run beside it.
#
# Environment: SWIFT_PORT (proxy, default 8081 — not 8080, which `pithosfs serve` uses),
# SWIFT_ACCOUNT_PORT (6202), SWIFT_CONTAINER_PORT (6201), SWIFT_OBJECT_PORT (6200),
# SWIFT_MEMCACHED_PORT (11211), SWIFT_START_TIMEOUT (seconds, 120). A port given as 0 is chosen by `start`
# among the free ones (and kept in DIR/etc/ports, which the other commands read): `make test` starts its own
# Swift that way, so a Swift or a memcached already running (systemd's, on 11211) is left alone.
#
# Users (tempauth): test:tester/testing (.admin), test2:tester2/testing2 (.admin), test:tester3/testing3 (no admin).
# Everything lives in DIR: etc/ (configs, rings), srv/d1 (the device), run/ (PID files, log socket), log/.
# All servers bind 127.0.0.1, run one process each (workers = 0) and log to the Unix socket run/log.sock,
# which run/logsink.py copies into log/swift.log.
set -euo pipefail

PACKAGES=(swift swift-proxy swift-account swift-container swift-object python3-swiftclient memcached curl)
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3 # the Swift programs run on the system Python, whatever python3 is first on PATH
SERVERS=(account container object proxy)

die() {
	echo "swift-aio: $*" >&2
	exit 1
}
say() { echo "swift-aio: $*" >&2; }

usage() {
	sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

install=0
args=()
for a in "$@"; do
	case "$a" in
	--install) install=1 ;;
	-h | --help) usage ;;
	*) args+=("$a") ;;
	esac
done
if [ "${#args[@]}" -lt 1 ]; then usage; fi
cmd="${args[0]}"
TARGET="" # the server of kill and revive
if [ "$cmd" = kill ] || [ "$cmd" = revive ]; then
	[ "${#args[@]}" -ge 2 ] || usage
	TARGET="${args[1]}"
	args=("$cmd" "${args[@]:2}")
fi
if [ "${#args[@]}" -gt 2 ]; then usage; fi
DIR="${args[1]:-/tmp/pithosfs-swift}"
[ "$cmd" != start ] || mkdir -p "$DIR"
if [ -d "$DIR" ]; then DIR="$(cd "$DIR" && pwd)"; fi
ETC="$DIR/etc" RUN="$DIR/run" LOG="$DIR/log" DEV="$DIR/srv"

# Ports: what `start` configures comes from the environment; the other commands read what was configured.
PORTS_FILE="$ETC/ports"
if [ "$cmd" != start ] && [ -f "$PORTS_FILE" ]; then
	# shellcheck disable=SC1090
	. "$PORTS_FILE"
else
	PROXY_PORT="${SWIFT_PORT:-8081}"
	ACCOUNT_PORT="${SWIFT_ACCOUNT_PORT:-6202}"
	CONTAINER_PORT="${SWIFT_CONTAINER_PORT:-6201}"
	OBJECT_PORT="${SWIFT_OBJECT_PORT:-6200}"
	MEMCACHED_PORT="${SWIFT_MEMCACHED_PORT:-11211}"
fi
AUTH_URL="http://127.0.0.1:$PROXY_PORT/auth/v1.0"

# Multi-node mode: NODES comes from the ports file (a configured DIR) or SWIFT_NODES; node N > 1 adds the servers
# containerN and objectN on the ports CONTAINER_PORTN and OBJECT_PORTN.
NODES="${NODES:-${SWIFT_NODES:-1}}"
[[ "$NODES" =~ ^[1-9]$ ]] || die "SWIFT_NODES must be 1 to 9"
for ((n = 2; n <= NODES; n++)); do
	for v in CONTAINER_PORT$n OBJECT_PORT$n; do
		e="SWIFT_$v"
		[ -n "${!v:-}" ] || printf -v "$v" '%s' "${!e:-0}"
	done
	SERVERS=("${SERVERS[@]/proxy/}" "container$n" "object$n" proxy)
done
# shellcheck disable=SC2206
SERVERS=(${SERVERS[@]}) # drop the emptied entries
# With several nodes the replicas converge as in a real cluster: each container server has its replicator
# (missing rows are merged over HTTP) and each object server its updater (container updates that failed).
DAEMONS=()
if [ "$NODES" -gt 1 ]; then
	DAEMONS=(container-replicator object-updater)
	for ((n = 2; n <= NODES; n++)); do DAEMONS+=("container$n-replicator" "object$n-updater"); done
fi

port_of() {
	case "$1" in
	container[2-9] | object[2-9])
		local v="${1%[2-9]}"
		v="${v^^}_PORT${1: -1}"
		echo "${!v}"
		;;
	account) echo "$ACCOUNT_PORT" ;;
	container) echo "$CONTAINER_PORT" ;;
	object) echo "$OBJECT_PORT" ;;
	proxy) echo "$PROXY_PORT" ;;
	memcached) echo "$MEMCACHED_PORT" ;;
	esac
}

# ---------------------------------------------------------------- processes

# pid_alive NAME: the PID in run/NAME.pid is alive and still runs something of ours (its command line names DIR).
pid_alive() {
	local f="$RUN/$1.pid" pid
	[ -f "$f" ] || return 1
	pid="$(cat "$f")"
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR" || return 1
}

# running PID: the process exists and is not a zombie (our servers are reaped by whoever adopted them).
running() {
	local state
	state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# listening PORT: something accepts TCP connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# spawn NAME CMD...: run CMD in its own session, output to log/NAME.out, PID to run/NAME.pid.
spawn() {
	local name="$1"
	shift
	setsid "$@" </dev/null >>"$LOG/$name.out" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

all_names() { echo logsink memcached "${SERVERS[@]}" "${DAEMONS[@]}"; }

stop_all() {
	local name pid i
	local -a pids=()
	for name in $(all_names); do
		if pid_alive "$name"; then
			pid="$(cat "$RUN/$name.pid")"
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	for pid in "${pids[@]}"; do
		for ((i = 0; i < 100; i++)); do
			running "$pid" || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	for name in $(all_names); do rm -f "$RUN/$name.pid"; done
}

log_tail() {
	local f
	for f in "$LOG"/*.out "$LOG/swift.log"; do
		[ -s "$f" ] || continue
		echo "---- ${f#"$DIR"/} (last 25 lines)" >&2
		tail -n 25 "$f" >&2
	done
}

# ---------------------------------------------------------------- HTTP checks

# auth_token: print a token for test:tester, or fail.
auth_token() {
	curl -fsS -m 5 -o /dev/null -D - -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$AUTH_URL" 2>/dev/null |
		tr -d '\r' | awk 'tolower($1) == "x-auth-token:" { print $2 }'
}

# ready: every server is healthy, auth works and the account HEAD succeeds.
ready() {
	local s tok
	for s in "${SERVERS[@]}"; do
		curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$(port_of "$s")/healthcheck" 2>/dev/null || return 1
	done
	tok="$(auth_token)" || return 1
	[ -n "$tok" ] || return 1
	curl -fsS -m 5 -o /dev/null -I -H "X-Auth-Token: $tok" "http://127.0.0.1:$PROXY_PORT/v1/AUTH_test" 2>/dev/null
}

# ---------------------------------------------------------------- configuration

write_configs() {
	local user
	user="$(id -un)"
	mkdir -p "$ETC" "$RUN" "$LOG" "$DEV/d1" "$DIR/cache"
	cp "$HERE/swift-aio/logsink.py" "$RUN/logsink.py"
	local common="[DEFAULT]
bind_ip = 127.0.0.1
workers = 0
user = $user
swift_dir = $ETC
devices = $DEV
mount_check = false
recon_cache_path = $DIR/cache
log_address = $RUN/log.sock
log_level = INFO
"
	local kind
	for kind in account container object; do
		cat >"$ETC/$kind-server.conf" <<EOF
${common}bind_port = $(port_of "$kind")
log_name = $kind-server

[pipeline:main]
pipeline = healthcheck $kind-server

[app:$kind-server]
use = egg:swift#$kind

[filter:healthcheck]
use = egg:swift#healthcheck

[$kind-replicator]
[$kind-auditor]
[$kind-updater]
[$kind-reaper]
[$kind-sharder]
[$kind-expirer]
[$kind-reconstructor]
[$kind-sync]
EOF
	done
	local name
	if [ "$NODES" -gt 1 ]; then
		sed -i -e '/^\[container-replicator\]$/a interval = 1' "$ETC/container-server.conf"
		sed -i -e '/^\[object-updater\]$/a interval = 1' "$ETC/object-server.conf"
	fi
	for name in "${SERVERS[@]}"; do
		[[ "$name" == *[2-9] ]] || continue
		sed -e "s/^bind_port = .*/bind_port = $(port_of "$name")/" -e "s/^log_name = .*/log_name = $name-server/" \
			"$ETC/${name%[2-9]}-server.conf" >"$ETC/$name-server.conf"
	done
	cat >"$ETC/proxy-server.conf" <<EOF
${common}bind_port = $PROXY_PORT
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck cache listing_formats bulk tempurl tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
user_test2_tester2 = testing2 .admin
user_test_tester3 = testing3

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:tempurl]
use = egg:swift#tempurl
[filter:copy]
use = egg:swift#copy
[filter:container-quotas]
use = egg:swift#container_quotas
[filter:account-quotas]
use = egg:swift#account_quotas
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
[filter:symlink]
use = egg:swift#symlink
EOF
}

# build_ring KIND PORT: one partition power 8 ring, 1 replica, one device.
build_ring() {
	local kind="$1" port="$2" rc=0
	rm -f "$ETC/$kind.builder" "$ETC/$kind.ring.gz"
	swift-ring-builder "$ETC/$kind.builder" create 8 1 1 >/dev/null
	swift-ring-builder "$ETC/$kind.builder" add "r1z1-127.0.0.1:$port/d1" 1 >/dev/null
	swift-ring-builder "$ETC/$kind.builder" rebalance >/dev/null || rc=$?
	[ "$rc" -le 1 ] || { echo "rebalance of the $kind ring failed ($rc)" >&2; return 1; } # 1 is a warning
}

# build_ring_nodes KIND: a ring of NODES replicas, device dN of node N in zone N.
build_ring_nodes() {
	local kind="$1" n port rc=0
	rm -f "$ETC/$kind.builder" "$ETC/$kind.ring.gz"
	swift-ring-builder "$ETC/$kind.builder" create 8 "$NODES" 1 >/dev/null
	for ((n = 1; n <= NODES; n++)); do
		port="$(port_of "$kind")"
		[ "$n" = 1 ] || port="$(port_of "$kind$n")"
		mkdir -p "$DEV/d$n"
		swift-ring-builder "$ETC/$kind.builder" add "r1z$n-127.0.0.1:$port/d$n" 1 >/dev/null
	done
	swift-ring-builder "$ETC/$kind.builder" rebalance >/dev/null || rc=$?
	[ "$rc" -le 1 ] || { echo "rebalance of the $kind ring failed ($rc)" >&2; return 1; }
}

# build_rings: the three rings, in parallel (each call is mostly Python start-up), unless present for these ports.
build_rings() {
	local stamp
	stamp="PROXY_PORT=$PROXY_PORT ACCOUNT_PORT=$ACCOUNT_PORT CONTAINER_PORT=$CONTAINER_PORT OBJECT_PORT=$OBJECT_PORT MEMCACHED_PORT=$MEMCACHED_PORT"
	local n
	if [ "$NODES" -gt 1 ]; then
		stamp+=" NODES=$NODES"
		for ((n = 2; n <= NODES; n++)); do stamp+=" CONTAINER_PORT$n=$(port_of "container$n") OBJECT_PORT$n=$(port_of "object$n")"; done
	fi
	if [ -f "$PORTS_FILE" ] && [ "$(cat "$PORTS_FILE")" = "$stamp" ] &&
		[ -f "$ETC/account.ring.gz" ] && [ -f "$ETC/container.ring.gz" ] && [ -f "$ETC/object.ring.gz" ]; then
		return 0
	fi
	local -a pids=()
	local kind pid failed=0
	for kind in account container object; do
		if [ "$NODES" -gt 1 ] && [ "$kind" != account ]; then
			build_ring_nodes "$kind" &
		else
			build_ring "$kind" "$(port_of "$kind")" &
		fi
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
	[ "$failed" = 0 ] || die "building the rings failed"
	echo "$stamp" >"$PORTS_FILE"
}

# The ports given as 0: AUTO_PORTS names them. Before the running check they take the values of an earlier
# start in DIR (so a second start finds it running); pick_free_ports replaces those that are not free.
AUTO_PORTS=()
if [ "$cmd" = start ]; then
	node_ports=()
	for ((n = 2; n <= NODES; n++)); do node_ports+=("CONTAINER_PORT$n" "OBJECT_PORT$n"); done
	for v in PROXY_PORT ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT MEMCACHED_PORT "${node_ports[@]}"; do
		[ "${!v}" = 0 ] || continue
		AUTO_PORTS+=("$v")
		if [ -f "$PORTS_FILE" ]; then
			printf -v "$v" '%s' "$(sed -n "s/.*\b$v=\([0-9]*\).*/\1/p" "$PORTS_FILE")"
		fi
	done
	AUTH_URL="http://127.0.0.1:$PROXY_PORT/auth/v1.0"
fi

# pick_free_ports: every port of AUTO_PORTS still unset or in use gets a free one (bound all at once by the
# kernel, so they differ; released just before the servers bind them).
pick_free_ports() {
	local v need=()
	for v in "${AUTO_PORTS[@]}"; do
		if [ -z "${!v}" ] || [ "${!v}" = 0 ] || listening "${!v}"; then need+=("$v"); fi
	done
	[ "${#need[@]}" -gt 0 ] || return 0
	local ports
	# shellcheck disable=SC2207
	ports=($("$PY" -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "${#need[@]}")) || die "could not find free ports"
	local i
	for i in "${!need[@]}"; do printf -v "${need[$i]}" '%s' "${ports[$i]}"; done
	AUTH_URL="http://127.0.0.1:$PROXY_PORT/auth/v1.0"
}

check_prereqs() {
	local p missing=()
	for p in swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder memcached curl setsid; do
		command -v "$p" >/dev/null || missing+=("$p")
	done
	[ -x "$PY" ] || missing+=("$PY")
	[ "${#missing[@]}" = 0 ] || die "missing ${missing[*]}; install with: apt-get install -y --no-install-recommends ${PACKAGES[*]} (or run with --install)"
	[ -f /etc/swift/swift.conf ] || die "/etc/swift/swift.conf is missing (the swift package installs it)"
	"$PY" -c 'import os, sys; p = sys.argv[1] + "/.xattr-probe"; open(p, "w").close(); os.setxattr(p, "user.swift.probe", b"1"); os.unlink(p)' "$DEV/d1" 2>/dev/null ||
		die "$DEV/d1 does not support user xattrs, which the object server needs; give a DIR on ext4/xfs"
}

# ---------------------------------------------------------------- commands

do_start() {
	local t0=$SECONDS name i timeout="${SWIFT_START_TIMEOUT:-120}"
	if [ "$install" = 1 ]; then
		[ "$(id -u)" = 0 ] || die "--install needs root"
		say "installing ${PACKAGES[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
	fi
	mkdir -p "$ETC" "$RUN" "$LOG" "$DEV/d1"
	check_prereqs
	local running=1
	for name in $(all_names); do pid_alive "$name" || running=0; done
	if [ "$running" = 1 ] && ready; then
		say "already running in $DIR (proxy 127.0.0.1:$PROXY_PORT)"
		return 0
	fi
	stop_all # whatever half of it is left
	pick_free_ports
	for name in memcached "${SERVERS[@]}"; do
		! listening "$(port_of "$name")" || die "port 127.0.0.1:$(port_of "$name") ($name) is taken by another process; set SWIFT_*_PORT (see the header of $0), 0 picks a free one"
	done
	write_configs
	build_rings
	: >"$LOG/swift.log"
	spawn logsink "$PY" "$RUN/logsink.py" "$RUN/log.sock" "$LOG/swift.log"
	local mc=(memcached -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -P "$RUN/memcached.daemon-pid")
	[ "$(id -u)" != 0 ] || mc+=(-u root)
	spawn memcached "${mc[@]}"
	for ((i = 0; i < 50; i++)); do [ -S "$RUN/log.sock" ] && break; sleep 0.1; done
	[ -S "$RUN/log.sock" ] || { log_tail; stop_all; die "the log sink did not start"; }
	for name in "${SERVERS[@]}"; do
		spawn "$name" "swift-${name%[2-9]}-server" "$ETC/$name-server.conf"
	done
	for name in "${DAEMONS[@]}"; do
		spawn "$name" "swift-${name//[2-9]/}" "$ETC/${name%-*}-server.conf"
	done
	while ! ready; do
		for name in $(all_names); do
			pid_alive "$name" || { log_tail; stop_all; die "$name exited during start-up (logs in $LOG)"; }
		done
		if ((SECONDS - t0 >= timeout)); then
			log_tail
			stop_all
			die "not ready after ${timeout}s: v1.0 auth or account HEAD at $AUTH_URL failed (logs in $LOG)"
		fi
		sleep 0.3
	done
	say "started in $DIR in $((SECONDS - t0))s; proxy http://127.0.0.1:$PROXY_PORT, auth $AUTH_URL"
}

do_status() {
	local name alive=0 dead=0
	for name in $(all_names); do
		if pid_alive "$name"; then
			echo "$name: running (pid $(cat "$RUN/$name.pid"))"
			alive=$((alive + 1))
		else
			echo "$name: stopped"
			dead=$((dead + 1))
		fi
	done
	if [ "$dead" = 0 ] && ready; then
		echo "swift: ready at $AUTH_URL"
		return 0
	fi
	[ "$alive" = 0 ] && return 3
	return 1
}

# do_kill NAME: stop one server of DIR (a fault test's outage).
do_kill() {
	local name="$1" pid i
	pid_alive "$name" || die "$name is not running in $DIR"
	pid="$(cat "$RUN/$name.pid")"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		running "$pid" || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$RUN/$name.pid"
}

# do_revive NAME: start one stopped server of DIR again and wait until it answers its healthcheck.
do_revive() {
	local name="$1" i
	[ -f "$ETC/$name-server.conf" ] || die "no server $name in $DIR"
	pid_alive "$name" && return 0
	spawn "$name" "swift-${name%[2-9]}-server" "$ETC/$name-server.conf"
	for ((i = 0; i < 600; i++)); do
		curl -fsS -m 3 -o /dev/null "http://127.0.0.1:$(port_of "$name")/healthcheck" 2>/dev/null && return 0
		pid_alive "$name" || { log_tail; die "$name exited during start-up"; }
		sleep 0.1
	done
	die "$name not answering 60s after its start"
}

case "$cmd" in
start) do_start ;;
kill) do_kill "$TARGET" ;;
revive) do_revive "$TARGET" ;;
stop) stop_all ;;
status) do_status ;;
env) echo "export SWIFT_AUTH_URL=$AUTH_URL SWIFT_USER=test:tester SWIFT_KEY=testing SWIFT_USER2=test2:tester2 SWIFT_KEY2=testing2 SWIFT_USER3=test:tester3 SWIFT_KEY3=testing3" ;;
*) usage ;;
esac
