#!/bin/sh
# Hot-list benchmark (make bench): a generated list of 5,000,000 entries
# of which 10,000 are wildcard patterns; import (parse), index load time
# and RSS (parse only, into the store, and matchd's load from the store),
# matching rate and p99 latency for reads with 10 candidates, and
# a retro-match of a 1,000-entry list against 1,000,000 reads.
# HOTLIST_BENCH_SCALE=0.01 shrinks every size for a quick run.
set -e
bin=${top_builddir:-.}/tests/bench/bench-hotlist
scale=${HOTLIST_BENCH_SCALE:-1}
n=$(awk "BEGIN { printf \"%d\", 5000000 * $scale }")
wild=$(awk "BEGIN { printf \"%d\", 10000 * $scale }")
reads=$(awk "BEGIN { printf \"%d\", 1000000 * $scale }")
retro_n=1000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-hotlist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== hot lists: $n entries ($wild wildcards), $reads reads (scale $scale; $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg))"
"$bin" gen "$tmp/list.csv" "$n" "$wild"
echo "import.file_size $(( $(stat -c %s "$tmp/list.csv") / 1048576 )) MB"
"$bin" import "$tmp/list.csv"
# Into the store as alprctl hotlist import does, then the next version
# (1% of the entries changed) against it, then matchd's start.
"$bin" store-import "$tmp/alpr.db" "$tmp/list.csv"
"$bin" gen "$tmp/list.csv" "$n" "$wild" 2
"$bin" store-import "$tmp/alpr.db" "$tmp/list.csv"
rm -f "$tmp/list.csv"
"$bin" store-load "$tmp/alpr.db"
echo "store.file_size $(( $(stat -c %s "$tmp/alpr.db") / 1048576 )) MB"
"$bin" match "$n" "$wild" "$reads"
"$bin" retro "$retro_n" "$reads"

# A reload under reads: the real alpr-matchd on that database (both
# versions), READs one at a time (match-peer pace, HOTLIST_BENCH_READ_RATE
# a second, default 50: two busy cameras give a few reads a second), and a
# third version imported through alprctl: the longest and p99 READ->ACK
# while the import and the index build run aside, next to the same stream
# without a reload.  Needs root (alprctl --offline makes the user).
if [ "$(id -u)" = 0 ]; then
	top=${top_builddir:-.}
	rate=${HOTLIST_BENCH_READ_RATE:-50}
	run=$tmp/run
	mkdir -m 0700 "$run" "$tmp/xdg"
	chmod 0700 "$tmp"
	printf '[general]\nRuntimeDirectory=%s\nStateDirectory=%s\n[alert]\nListen=127.0.0.1:%s\n' \
	    "$run" "$tmp" $((40000 + $$ % 20000)) > "$tmp/alpr.conf"
	C="$top/alprctl -f $tmp/alpr.conf"
	export XDG_RUNTIME_DIR=$tmp/xdg
	ALPR_PASSWORD="bench password 1" $C --offline user add bench --role administrator >/dev/null
	"$top/alpr-matchd" -d -f "$tmp/alpr.conf" > "$tmp/matchd.log" 2>&1 &
	mpid=$!
	trap 'kill $mpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
	i=0
	until grep -q "hot-list index: in use" "$tmp/matchd.log" && [ -S "$run/control.sock" ]; do
		sleep 0.1; i=$((i + 1)); [ $i -lt 1200 ] || { echo "reload: matchd did not start"; exit 1; }
	done
	ALPR_PASSWORD="bench password 1" $C login bench >/dev/null
	$C training ack >/dev/null
	"$bin" gen "$tmp/list3.csv" "$n" "$wild" 3
	(sleep 5; touch "$tmp/stop0") &
	"$top/tests/tools/match-peer" pace "$run/match.sock" 100000000 $rate "$tmp/stop0" > "$tmp/pace0.log"
	"$top/tests/tools/match-peer" pace "$run/match.sock" 200000000 $rate "$tmp/stop" > "$tmp/pace.log" &
	ppid=$!
	sleep 1
	t0=$(date +%s%N)
	$C hotlist import --format delimited --source bench --case 24-000001 \
	    --reason investigation "$tmp/list3.csv" > /dev/null
	t1=$(date +%s%N)
	until grep -q "in use lists=\[bench v3 " "$tmp/matchd.log"; do sleep 0.05; done
	t2=$(date +%s%N)
	sleep 1
	touch "$tmp/stop"
	wait $ppid
	echo "reload.time import $(( (t1 - t0) / 1000000 )) ms, import + index build + swap $(( (t2 - t0) / 1000000 )) ms (matchd $(grep -o 'build_ms=[0-9]*' "$tmp/matchd.log" | tail -1))"
	echo "reload.read_ack during the import and reload ($rate READs/s): $(cat "$tmp/pace.log")"
	echo "reload.read_ack same stream, no reload: $(cat "$tmp/pace0.log")"
	echo "reload.rss $(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' /proc/$mpid/status) after, $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' /proc/$mpid/status) peak"
	kill $mpid
	wait $mpid 2>/dev/null || true
fi
