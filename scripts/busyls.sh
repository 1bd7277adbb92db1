#!/bin/bash
# busyls.sh: ls -l of a directory of N objects on `pithosfs serve` (loopback) through a mount, quiet and while 16
# shell loops write small files into it through the mount (issue 18's "ls -l under 16 busy writers"). Per mount:
# a quiet `ls -l` next to one raw listing request (curl) twice, 8 tries under the writers 0.7 s apart, the
# daemon's CPU over the tries and its peak RSS. Each argument is one mount, label:BINARY, run in order against one
# server (alternate builds). QUIET_ONLY=1 stops after the quiet `ls -l`s. PROF=1 saves a CPU profile of the daemon over the tries to /tmp/busyls-LABEL.pprof.
#
# Usage: scripts/busyls.sh N label:binary ... (SERVEBIN=binary for the server, default bin/pithosfs)
N=$1; shift
W=$(mktemp -d); mkdir -p $W/serve
uuid=be0c0000-0000-4000-8000-000000000001 token=bench-token-0001
echo "[{\"name\":\"b@example.org\",\"uuid\":\"$uuid\",\"token\":\"$token\"}]" > $W/serve/users.json
${SERVEBIN:-bin/pithosfs} --log-level warn serve --listen 127.0.0.1:0 --data $W/serve/data --users $W/serve/users.json > $W/serve.out 2>&1 &
SPID=$!
for i in $(seq 100); do grep -q " on http://" $W/serve.out && break; sleep 0.2; done
BASE=$(grep -o 'http://[0-9.:]*' $W/serve.out | head -1)
SURL=$BASE/pithos/object-store/v1/$uuid
python3 - "$SURL" $token $N <<'PY'
import sys, http.client, urllib.parse, threading
url, tok, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(url)
def conn(): return http.client.HTTPConnection(u.hostname, u.port)
c = conn(); c.request("PUT", u.path + "/c", headers={"X-Auth-Token": tok}); c.getresponse().read()
def work(k):
    c = conn()
    for i in range(k, n, 16):
        c.request("PUT", f"{u.path}/c/ls/o{i:05d}", body=b"x"*100, headers={"X-Auth-Token": tok, "Content-Type": "application/octet-stream"})
        c.getresponse().read()
ts = [threading.Thread(target=work, args=(k,)) for k in range(16)]
[t.start() for t in ts]; [t.join() for t in ts]
PY
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run=0
for spec in "$@"; do
  run=$((run+1)); label=${spec%%:*}; bin=${spec#*:}
  mnt=$W/mnt$run cache=$W/cache$run; mkdir -p $mnt $cache
  PITHOSFS_PPROF=127.0.0.1:6072 HOME=$cache $bin --log-level warn mount --url $BASE/astakos/identity/v2.0 --token $token --cache-dir $cache /c $mnt > $W/log$run 2>&1 &
  DPID=$!
  for i in $(seq 100); do mountpoint -q $mnt && break; sleep 0.1; done
  dir=$mnt/ls
  r0=$(date +%s.%N); curl -s -H "X-Auth-Token: $token" "$SURL/c?format=json&limit=10000&prefix=ls/&delimiter=/" > /dev/null; r1=$(date +%s.%N)
  l0=$(date +%s.%N); ls -l $dir > /dev/null; l1=$(date +%s.%N)
  sleep 6
  r2=$(date +%s.%N); curl -s -H "X-Auth-Token: $token" "$SURL/c?format=json&limit=10000&prefix=ls/&delimiter=/" > /dev/null; r3=$(date +%s.%N)
  l2=$(date +%s.%N); ls -l $dir > /dev/null; l3=$(date +%s.%N)
  printf "%-8s quiet ls -l / raw listing: %.3f/%.3f = %.2f, %.3f/%.3f = %.2f\n" $label $(echo "$l1-$l0" | bc) $(echo "$r1-$r0" | bc) $(echo "($l1-$l0)/($r1-$r0)" | bc -l) $(echo "$l3-$l2" | bc) $(echo "$r3-$r2" | bc) $(echo "($l3-$l2)/($r3-$r2)" | bc -l)
  if [ -n "${QUIET_ONLY:-}" ]; then
    fusermount3 -u $mnt 2>/dev/null || fusermount3 -u -z $mnt; wait $DPID 2>/dev/null; continue
  fi
  WP=()
  for w in $(seq 16); do ( i=0; while [ ! -f $W/stop$run ]; do echo data > $dir/w$w-$i 2>/dev/null; i=$((i+1)); done ) & WP+=($!); done
  sleep 2
  c0=$(cpu $DPID)
  PP=""; if [ -n "${PROF:-}" ]; then curl -s -o /tmp/busyls-$label.pprof "http://127.0.0.1:6072/debug/pprof/profile?seconds=8" & PP=$!; fi
  tries=""
  for t in 1 2 3 4 5 6 7 8; do
    t0=$(date +%s.%N); ls -l $dir > /dev/null; t1=$(date +%s.%N)
    tries="$tries $(echo "$t1-$t0" | bc | sed 's/^\./0./')"
    sleep 0.7
  done
  c1=$(cpu $DPID)
  touch $W/stop$run; wait "${WP[@]}" $PP 2>/dev/null
  n=$(ls $dir | wc -l)
  med=$(echo $tries | tr ' ' '\n' | sort -n | sed -n 4,5p | tr '\n' ' ')
  printf "%-8s tries:%s  median(4th,5th) %s  daemon CPU %.2fs  entries %d  HWM %d MiB\n" $label "$tries" "$med" $(echo "($c1-$c0)/$(getconf CLK_TCK)" | bc -l) $n $(( $(awk '/VmHWM/{print $2}' /proc/$DPID/status) / 1024 ))
  fusermount3 -u $mnt 2>/dev/null || fusermount3 -u -z $mnt
  wait $DPID 2>/dev/null
done
kill $SPID; wait $SPID 2>/dev/null
rm -rf $W
