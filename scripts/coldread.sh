#!/bin/bash
# Cold read of one object through a fresh mount of each pithosfs binary, side by side with one raw GET (curl),
# against one `pithosfs serve` on loopback: throughput, the daemon's CPU during the read (utime+stime from
# /proc/PID/stat) and after it until the object file is in place (the passthrough file's assembly), peak RSS
# (VmHWM), and the cache's counters (fetches, disk reads, blocks streamed/copied into the object file).
# Usage (run it under the bench lock): flock /tmp/pithosfs-bench.lock scripts/coldread.sh BIN [BIN...]
# SIZE_MIB (default 1024), EXTRA (mount options), PPROF=127.0.0.1:PORT (saves a CPU profile of each read to
# $WORK/NAME.cpu, PSECS seconds).
set -euo pipefail
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d /tmp/coldread.XXXX)
UUID=a11ce000-0000-4000-8000-000000000001
echo "[{\"name\":\"alice@example.org\",\"uuid\":\"$UUID\",\"token\":\"token-alice\"}]" > "$WORK/users.json"
"$1" --log-level warn serve --listen 127.0.0.1:0 --data "$WORK/data" --users "$WORK/users.json" > "$WORK/serve.out" 2>&1 &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true; if [ -n "${PPROF:-}" ]; then rm -rf "$WORK/data" "$WORK/big"; echo "profiles in $WORK"; else rm -rf "$WORK"; fi' EXIT
for _ in $(seq 100); do grep -q ' on http://' "$WORK/serve.out" && break; sleep 0.1; done
URL=$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -1)
OBJ=$URL/pithos/object-store/v1/$UUID/bench/big
curl -sf -X PUT -H 'X-Auth-Token: token-alice' "$URL/pithos/object-store/v1/$UUID/bench"
head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/big"
curl -sf -X PUT -H 'X-Auth-Token: token-alice' -H 'Content-Type: application/octet-stream' -T "$WORK/big" "$OBJ" -o /dev/null
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
counters() {
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cache"]; print(" ".join("%s=%s" % (k, c.get(k, "-")) for k in ("fetches","disk_hits","mem_evictions","disk_writes_skipped","object_blocks_streamed","object_blocks_copied","object_files_assembled")))' "$1"
}
for bin in "$@"; do
	name=$(basename "$bin")
	mnt=$WORK/mnt; cache=$WORK/cache; mkdir -p "$mnt" "$cache"
	sync; echo 3 > /proc/sys/vm/drop_caches
	/usr/bin/time -f "%e %U %S" -o "$WORK/curl.time" curl -sfS -o /dev/null -H 'X-Auth-Token: token-alice' "$OBJ"
	read -r cw cu cs < "$WORK/curl.time"
	HOME=$WORK PITHOSFS_PPROF=${PPROF:-} "$bin" --log-level warn mount --url "$URL/astakos/identity/v2.0" --token token-alice \
		--cache-dir "$cache" ${EXTRA:-} "$mnt" 2> "$WORK/mount.err" &
	mpid=$!
	for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
	f=$mnt/alice@example.org/bench/big; stat "$f" > /dev/null
	[ -n "${PPROF:-}" ] && (curl -s "http://$PPROF/debug/pprof/profile?seconds=${PSECS:-3}" > "$WORK/$name.cpu" &)
	c0=$(cpu $mpid); s=$(date +%s.%N); cat "$f" > /dev/null; e=$(date +%s.%N); c1=$(cpu $mpid)
	for _ in $(seq 600); do
		python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cache"]; sys.exit(0 if c["objects_assembling"]==0 and c["object_files_assembled"]>0 else 1)' "$mnt/.pithosfs/stats.json" && break
		sleep 0.1
	done
	c2=$(cpu $mpid); rss=$(awk '/VmHWM/{print $2}' "/proc/$mpid/status")
	python3 -c "w=$e-$s; print('%-24s cold %6.0f MiB/s | curl %6.0f MiB/s, CPU %.2f s | ratio %.2f | daemon CPU: read %.2f s, after it until the object file %.2f s | peak RSS %d MiB' % ('$name', $SIZE_MIB/w, $SIZE_MIB/$cw, $cu+$cs, $cw/w, ($c1-$c0)/100, ($c2-$c1)/100, $rss/1024))"
	echo "    $(counters "$mnt/.pithosfs/stats.json")"
	fusermount3 -u "$mnt"; wait $mpid || true; rm -rf "$cache"
done
