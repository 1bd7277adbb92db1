#!/bin/bash
# smallfiles.sh: cp -r of N files of 4 KiB into a mount of `pithosfs serve` (loopback), timed until the server's
# listing shows all N; per mount, the daemon's CPU per file (utime+stime from /proc/PID/stat), its peak RSS (VmHWM)
# and the mount's HTTP requests by verb (.pithosfs/stats.json). Each argument is one mount, run in the order
# given against one server: label:BINARY[:OPTION=VALUE] for pithosfs (e.g. old:/tmp/pithosfs-old
# new:bin/pithosfs:--async-close-max=1MiB), or rclone (rclone mount --vfs-cache-mode writes, as
# scripts/bench-compare.sh runs it). Alternate builds: on a shared machine only CPU per file compares well.
#
# Usage: scripts/smallfiles.sh N SPEC... (SERVEBIN=binary for the server, default bin/pithosfs; TARGET=swift runs
# against the Swift of SWIFT_AUTH_URL/SWIFT_USER/SWIFT_KEY instead, e.g. after eval "$(scripts/swift-aio.sh env)")
set -u
if [ $# -lt 2 ]; then echo "usage: $0 N label:binary[:option=value]|rclone ..." >&2; exit 2; fi
N=$1; shift
W=$(mktemp -d); mkdir -p $W/serve $W/src
SERVEBIN=${SERVEBIN:-bin/pithosfs}
if [ "${TARGET:-serve}" = swift ]; then
  hdr=$(curl -s -D - -o /dev/null -H "X-Auth-User: $SWIFT_USER" -H "X-Auth-Key: $SWIFT_KEY" "$SWIFT_AUTH_URL")
  SURL=$(echo "$hdr" | awk -F': ' 'tolower($1)=="x-storage-url"{print $2}' | tr -d '\r')
  token=$(echo "$hdr" | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}' | tr -d '\r')
  MOUNTARGS="--url $SWIFT_AUTH_URL --user $SWIFT_USER --token $SWIFT_KEY"
  SPID=""
else
  uuid=be0c0000-0000-4000-8000-000000000001 token=bench-token-0001
  echo "[{\"name\":\"b@example.org\",\"uuid\":\"$uuid\",\"token\":\"$token\"}]" > $W/serve/users.json
  $SERVEBIN --log-level warn serve --listen 127.0.0.1:0 --data $W/serve/data --users $W/serve/users.json > $W/serve.out 2>&1 &
  SPID=$!
  for i in $(seq 100); do grep -q " on http://" $W/serve.out && break; sleep 0.2; done
  BASE=$(grep -o 'http://[0-9.:]*' $W/serve.out | head -1)
  SURL=$BASE/pithos/object-store/v1/$uuid
  MOUNTARGS="--url $BASE/astakos/identity/v2.0 --token $token"
fi
TAG=sf$$
for i in $(seq $N); do head -c 4096 /dev/urandom > $W/src/f$i; done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run=0
for spec in "$@"; do
  run=$((run+1))
  label=${spec%%:*}; rest=${spec#*:}; bin=${rest%%:*}; extra=""; [[ $rest == *:* ]] && extra=${rest#*:}
  c=$TAG-c$run; curl -s -X PUT -H "X-Auth-Token: $token" $SURL/$c >/dev/null
  mnt=$W/mnt$run cache=$W/cache$run; mkdir -p $mnt $cache
  if [[ $label == rclone* ]]; then
    RCLONE_CONFIG_BENCH_TYPE=swift RCLONE_CONFIG_BENCH_STORAGE_URL=$SURL RCLONE_CONFIG_BENCH_AUTH_TOKEN=$token \
      rclone mount bench:$c $mnt --vfs-cache-mode writes --cache-dir $cache --config /dev/null > $W/log$run 2>&1 &
  else
    HOME=$cache $bin --log-level warn mount $MOUNTARGS $extra --cache-dir $cache /$c $mnt > $W/log$run 2>&1 &
  fi
  DPID=$!
  for i in $(seq 100); do mountpoint -q $mnt && break; sleep 0.1; done
  c0=$(cpu $DPID); t0=$(date +%s.%N)
  cp -r $W/src $mnt/d
  t1=$(date +%s.%N)
  while :; do got=$(curl -s -H "X-Auth-Token: $token" "$SURL/$c?prefix=d/&limit=10000" | wc -l); [ $got -ge $N ] && break; sleep 0.05; done
  t2=$(date +%s.%N); c1=$(cpu $DPID)
  hwm=$(awk '/VmHWM/{print $2}' /proc/$DPID/status)
  req=""; [ -f $mnt/.pithosfs/stats.json ] && req=$(python3 -c "import json,sys;d=json.load(open('$mnt/.pithosfs/stats.json'));print(json.dumps(d.get('requests')))" 2>/dev/null)
  printf "%-12s cpu/file %.2f ms  cp %.2fs  until-listed %.2fs  HWM %d MiB  %s\n" $label \
    $(echo "($c1-$c0)*1000/$(getconf CLK_TCK)/$N" | bc -l) $(echo "$t1-$t0" | bc) $(echo "$t2-$t0" | bc) $((hwm/1024)) "$req"
  fusermount3 -u $mnt 2>/dev/null || fusermount3 -u -z $mnt
  wait $DPID 2>/dev/null
done
[ -n "$SPID" ] && { kill $SPID; wait $SPID 2>/dev/null; }
rm -rf $W
